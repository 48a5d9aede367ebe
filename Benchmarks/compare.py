#!/usr/bin/env python3
"""`make compare`: swift-otp, Erlang/OTP (one scheduler and default), Swift actors and otpylib, side by side.

Runs every system in this one invocation on this machine, then writes
  - Benchmarks/results/latest.json  {"workloads": {name: {"unit": u, "swift-otp": x, "erlang": y, ...}}}
  - docs/benchmarks.md              one table per workload, ratios to Erlang with one scheduler, targets
  - docs/benchmarks-ratios.svg      a bar chart of swift-otp's ratios, generated here
  - README.md's headline figures (between its "figures" markers)
Usage: python3 Benchmarks/compare.py [--quick]
       python3 Benchmarks/compare.py --readme          README's figures from the results file alone
       python3 Benchmarks/compare.py --report          docs/benchmarks.md, its chart and README's figures from it
       python3 Benchmarks/compare.py --check-readme    fail unless README's figures are the results file's
"""
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "Benchmarks")
QUICK = "--quick" in sys.argv

# Workloads in display order: (name, title, better) — better is "lower" for times and sizes. A name ending in
# `_struct` is the struct-behaviour twin of the workload without it (which is written as the guides teach:
# closure processes, `process.call`); Erlang has one form, so both are compared with the same Erlang figure.
WORKLOADS = [
    ("call_round_trip", "GenServer call round trip from a closure process with process.call (5 s timeout)", "lower"),
    ("call_round_trip_struct", "GenServer call round trip from a struct behaviour (5 s timeout)", "lower"),
    ("call_round_trip_typed", "GenServer call round trip, a request with its own reply type (process.ask)", "lower"),
    ("call_queued_0", "GenServer call from a process (process.call), empty mailbox", "lower"),
    ("call_queued_10k", "GenServer call from a process with 10,000 unrelated messages queued", "lower"),
    ("call_queued_100k", "GenServer call from a process with 100,000 unrelated messages queued", "lower"),
    ("selective_receive", "selective receive passing over 10,000 queued messages, per message passed", "lower"),
    ("cast", "GenServer cast from a process (casts, then one call to sync)", "lower"),
    ("ping_pong", "send/receive ping-pong, closure processes", "lower"),
    ("ping_pong_struct", "send/receive ping-pong, struct behaviours", "lower"),
    ("spawn", "spawn a closure process that waits in receive: time", "lower"),
    ("spawn_struct", "spawn a struct behaviour that waits in receive: time", "lower"),
    ("spawn_memory", "spawn a closure process that waits in receive: memory", "lower"),
    ("spawn_struct_memory", "spawn a struct behaviour that waits in receive: memory", "lower"),
    ("genserver_start", "start a GenServer from a process (synchronous init): time", "lower"),
    ("genserver_memory", "start a GenServer: memory", "lower"),
    ("ring", "ring of 10,000 processes (struct behaviours), per hop", "lower"),
    ("fan_in", "fan-in: 1,000 closure processes x process.call on one server", "higher"),
    ("fan_in_struct", "fan-in: 1,000 struct behaviours x calls on one server", "higher"),
    ("timeouts", "100k callers, 1 ms call timeout, server never replies", "lower"),
    ("timeouts_stray", "stray messages after those timeouts", "lower"),
    ("timers_arm_cancel", "timers armed then cancelled", "lower"),
    ("timers_fire", "timers fired", "lower"),
]

# Targets: ratio of swift-otp to Erlang (one scheduler), and the direction. The guide-style forms carry the
# targets: they are what users run.
TARGETS = {
    "call_round_trip": ("<=", 0.1), "cast": ("<=", 0.1), "ping_pong": ("<=", 0.08), "spawn": ("<=", 0.1),
    "spawn_memory": ("<=", 0.15), "genserver_start": ("<=", 0.15), "genserver_memory": ("<=", 0.2),
    "ring": ("<=", 0.1), "fan_in": (">=", 10.0), "timeouts": ("<=", 1.0),
}


# Every core: swift-otp's NodeGroup beside Erlang with one scheduler and with its default (one per core).
# (name, title, better, Erlang workload, the Erlang run it is compared with). Scaling rows come in pairs:
# `_1loop` against `+S 1:1`, `_nloops` (one loop per core) against the default schedulers.
GROUP_WORKLOADS = [
    ("cross_ping_pong", "ping-pong between processes of two loops (Erlang: bound to two schedulers)", "lower",
     "cross_ping_pong", "erlang-default"),
    ("cross_call", "process.call to a server of another loop (Erlang: bound to two schedulers)", "lower",
     "cross_call", "erlang-default"),
    ("cross_send", "messages streamed to a process of another loop, both loops busy", "lower",
     "cross_send", "erlang-default"),
    ("scale_pairs_1loop", "16 independent ping-pong pairs, 1 loop", "higher", "scale_pairs", "erlang"),
    ("scale_pairs_nloops", "16 independent ping-pong pairs, a loop per core", "higher", "scale_pairs", "erlang-default"),
    ("scale_servers_1loop", "16 GenServers, each with its own caller, 1 loop", "higher", "scale_servers", "erlang"),
    ("scale_servers_nloops", "16 GenServers, each with its own caller, a loop per core", "higher", "scale_servers",
     "erlang-default"),
    ("scale_partitioned_1loop", "64 keys partitioned: each key's server and caller on the key's loop, 1 loop",
     "higher", "scale_partitioned", "erlang"),
    ("scale_partitioned_nloops", "64 keys partitioned: each key's server and caller on the key's loop, a loop "
     "per core", "higher", "scale_partitioned", "erlang-default"),
    ("scale_routed_1loop", "64 keys routed: a server per key on the key's loop, callers in blocks over the loops, "
     "1 loop", "higher", "scale_routed", "erlang"),
    ("scale_routed_nloops", "64 keys routed: a server per key on the key's loop, callers in blocks over the loops "
     "((N-1)/N of the calls cross loops), a loop per core", "higher", "scale_routed", "erlang-default"),
    ("skynet_1loop", "SkyNet: 1M processes in a 10-ary tree, 1 loop", "lower", "skynet", "erlang"),
    ("skynet_nloops", "SkyNet: 1M processes in a 10-ary tree, a loop per core", "lower", "skynet", "erlang-default"),
    ("fan_in_group", "fan-in: 1,000 callers spread over every loop, one server", "higher", "fan_in", "erlang-default"),
]


# The scaling workloads: `Compare` measures each on one loop and on every loop in side-by-side pairs and
# gives the median of the pairs' ratios as `<stem>_scaling`, which the scaling rows report; beside them,
# `machine_scaling`: the same for threads doing nothing but integer arithmetic, the VM's own ceiling.
SCALING_STEMS = ("scale_pairs", "scale_servers", "scale_partitioned", "scale_routed")


# How many times each workload runs on each side (the median is kept). The VM these figures come from has
# slow phases tens of seconds long, in which one run's first workloads measured 1.5x their usual times.
RUNS = 3


def erlang_name(name):
    """The Erlang workload a swift-otp workload is compared with (a struct twin shares its guide form's)."""
    return name.replace("_struct", "").replace("_typed", "")


SYSTEMS = ["swift-otp", "erlang", "erlang-default", "swift-actors", "otpylib"]
LABELS = {"swift-otp": "swift-otp", "erlang": "Erlang/OTP, 1 scheduler", "erlang-default": "Erlang/OTP, default",
          "swift-actors": "Swift actors", "otpylib": "otpylib (Python)"}


def log(text):
    print(f"[compare] {text}", file=sys.stderr, flush=True)


def run(command, cwd=None, timeout=1800):
    return subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True, timeout=timeout).stdout


def swift_binary():
    """Builds the Swift side (release) and returns the path of its `Compare` tool."""
    log("building swift-otp's Compare tool (release)")
    run(["swift", "build", "-c", "release", "--product", "Compare"], cwd=BENCH)
    return os.path.join(run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=BENCH).strip(), "Compare")


def erlang_build():
    """Compiles the Erlang side; `None` when Erlang is not installed."""
    if not shutil.which("erl") or not shutil.which("erlc"):
        log("erl not found: skipping Erlang (make compare installs erlang-base)")
        return None
    build = tempfile.mkdtemp(prefix="otp-bench-erl-")
    run(["erlc", "-o", build, os.path.join(BENCH, "erlang", "otp_bench.erl")])
    return build


# Erlang's two runs: one scheduler, and its default (one per core).
ERLANG_SYSTEMS = (("erlang", ["+S", "1:1"]), ("erlang-default", []))


def erlang_round(build, system, flags):
    """One run of the Erlang workloads (`main`, then `group`, prefixed `group:`) under `flags`."""
    mode = "quick" if QUICK else "full"
    flags = flags + ["+P", "4000000"]  # room for the 1M spawned processes
    figures = {}
    for entry in ("main", "group"):
        output = run(["erl", "-noshell"] + flags + ["-pa", build, "-eval", f"otp_bench:{entry}([{mode}])",
                                                    "-s", "init", "stop"])
        prefix = "group:" if entry == "group" else ""
        figures.update({prefix + key: value for key, value in json.loads(output.strip().splitlines()[-1]).items()})
    return figures


def measured_systems():
    """swift-otp and Erlang (one scheduler, and default) in `RUNS` rounds, each round one run of every
    side, and the median of the rounds kept per workload: the sides are measured in the same minutes, so a
    slow phase of the machine lands on both rather than on whichever ran then. Swift actors, which no
    target compares, come from the first round."""
    binary, build = swift_binary(), erlang_build()
    quick = ["--quick"] if QUICK else []
    names = [name for name, _, _ in WORKLOADS] + [name for name, _, _, _, _ in GROUP_WORKLOADS] + ["machine_scaling"]
    runs = {"swift-otp": []}
    results = {}
    for round_ in range(RUNS):
        log(f"round {round_ + 1} of {RUNS}: swift-otp" + (", Erlang (one scheduler, default)" if build else ""))
        if round_ == 0:
            first = json.loads(run([binary] + quick))  # with Swift actors
            results["swift-actors"] = first.get("swift-actors", {})
            runs["swift-otp"].append(first["swift-otp"])
        else:
            runs["swift-otp"].append(json.loads(run([binary, "--only", ",".join(names)] + quick))["swift-otp"])
        for system, flags in ERLANG_SYSTEMS if build else ():
            runs.setdefault(system, []).append(erlang_round(build, system, flags))
        # A few headline figures of the round, so that a round caught in a slow phase shows in the log.
        log("  " + ", ".join(f"{system} {name} {system_runs[-1][name]['value']:.0f}"
                              for system, system_runs in runs.items()
                              for name in ("call_round_trip", "ping_pong") if name in system_runs[-1]))
    for system, system_runs in runs.items():
        results[system] = medians(system_runs)
    return results


def medians(runs):
    """One result per workload from several runs' results: the median of its values."""
    merged = {}
    for name in runs[0]:
        values = [r[name] for r in runs if name in r]
        merged[name] = {"unit": values[0]["unit"], "value": median([v["value"] for v in values])}
    return merged


# Distribution on loopback: who calls (or sends to) whom. Ratios are to Erlang calling Erlang; those of the
# TLS pairs (both nodes on TLS distribution: Erlang's inet_tls_dist, swift-otp's OTPTLS) to Erlang calling
# Erlang over TLS.
DIST_PAIRS = [("erlang", "erlang"), ("swift-otp", "erlang"), ("erlang", "swift-otp"), ("swift-otp", "swift-otp"),
              ("swift-otp (no busy wait)", "erlang"), ("swift-otp (no fragments)", "erlang"),
              ("erlang (TLS)", "erlang (TLS)"), ("swift-otp (TLS)", "erlang (TLS)"), ("erlang (TLS)", "swift-otp (TLS)"),
              ("swift-otp (TLS)", "swift-otp (TLS)")]
TLS_BASE = "erlang (TLS) -> erlang (TLS)"


def base_pair(pair):
    """The pair a distribution pair's ratios are to."""
    return TLS_BASE if "(TLS)" in pair else "erlang -> erlang"


def make_certificates(directory):
    """A CA and one node certificate (P-256, for localhost) for the TLS pairs, with the openssl command."""
    def openssl(*arguments):
        subprocess.run(["openssl"] + list(arguments), cwd=directory, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    openssl("req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
            "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=bench CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "node.key", "-out", "node.csr", "-subj", "/CN=bench node")
    with open(os.path.join(directory, "node.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n")
    openssl("x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1",
            "-extfile", "node.ext", "-out", "node.pem")
    options = os.path.join(directory, "ssl_dist.conf")
    files = ", ".join(f'{{{key}, "{os.path.join(directory, name)}"}}'
                      for key, name in (("certfile", "node.pem"), ("keyfile", "node.key"), ("cacertfile", "ca.pem")))
    with open(options, "w") as f:
        f.write(f"[{{server, [{files}, {{verify, verify_peer}}, {{fail_if_no_peer_cert, true}}]}},\n"
                f" {{client, [{files}, {{verify, verify_peer}}]}}].\n")
    return options
DIST_COOKIE = "swift-otp-bench"


def median(values):
    values = sorted(values)
    return values[len(values) // 2]


def distribution_pairs():
    """Remote call round trip and message throughput between nodes on 127.0.0.1: each pair of a swift-otp or
    Erlang client and a swift-otp or Erlang server, three runs each (the median is kept)."""
    if not shutil.which("erl") or not shutil.which("epmd"):
        log("erl not found: skipping the distribution workloads")
        return {}
    build = tempfile.mkdtemp(prefix="otp-bench-dist-")
    run(["erlc", "-o", build, os.path.join(BENCH, "erlang", "dist_bench.erl")])
    run(["swift", "build", "-c", "release", "--product", "DistBench"], cwd=BENCH)
    dist_bench = os.path.join(run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=BENCH).strip(), "DistBench")
    env = dict(os.environ, ERL_EPMD_ADDRESS="127.0.0.1")
    subprocess.run(["epmd", "-daemon"], env=env, check=True)
    tag = os.getpid()
    names = {"erlang": f"bench_erl_{tag}@localhost", "swift-otp": f"bench_swift_{tag}@localhost",
             "erlang (TLS)": f"bench_erl_tls_{tag}@localhost", "swift-otp (TLS)": f"bench_swift_tls_{tag}@localhost"}
    calls, messages = (2000, 20000) if QUICK else (20000, 200000)
    pki = tempfile.mkdtemp(prefix="otp-bench-pki-")
    erlang_tls = ["-proto_dist", "inet_tls", "-ssl_dist_optfile", make_certificates(pki)]
    tls_env = dict(env, DIST_BENCH_TLS=pki)
    servers = [
        subprocess.Popen(["erl", "-sname", names["erlang"], "-setcookie", DIST_COOKIE, "-noinput", "-pa", build,
                          "-kernel", "inet_dist_use_interface", "{127,0,0,1}", "-eval", "dist_bench:serve()"],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([dist_bench, "serve", names["swift-otp"], DIST_COOKIE], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen(["erl", "-sname", names["erlang (TLS)"], "-setcookie", DIST_COOKIE, "-noinput", "-pa", build,
                          "-kernel", "inet_dist_use_interface", "{127,0,0,1}"] + erlang_tls
                         + ["-eval", "dist_bench:serve()"],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([dist_bench, "serve", names["swift-otp (TLS)"], DIST_COOKIE], env=tls_env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]
    results = {}
    try:
        log("distribution: remote calls and sends between Erlang and swift-otp nodes on loopback")
        for number, (client, server) in enumerate(DIST_PAIRS):
            figures = []
            for attempt in range(3 if not QUICK else 1):
                name = f"bench_client_{tag}_{number}_{attempt}@localhost"
                if client.startswith("erlang"):
                    command = ["erl", "-sname", name, "-setcookie", DIST_COOKIE, "-noinput", "-pa", build]
                    command += (erlang_tls if "(TLS)" in client else []) + [
                        "-eval", f"dist_bench:client(['{names[server]}', '{calls}', '{messages}'])"]
                else:
                    command = [dist_bench, "client", name, DIST_COOKIE, names[server], str(calls), str(messages)]
                client_env = dict(env, DIST_BENCH_BUSY_WAIT_US="0") if "no busy wait" in client else env
                if "no fragments" in client:
                    client_env = dict(env, DIST_BENCH_FRAGMENTS="0")
                if "(TLS)" in client:
                    client_env = tls_env
                output = subprocess.run(command, env=client_env, capture_output=True, text=True, timeout=300).stdout
                lines = [line for line in output.splitlines() if line.startswith("{")]
                if lines:
                    figures.append(json.loads(lines[-1]))
            if figures:
                results[f"{client} -> {server}"] = {
                    "call_us": median([f["call_ns"] for f in figures]) / 1000,
                    "rpc_us": median([f["rpc_ns"] for f in figures]) / 1000,
                    "messages_per_s": median([f["messages_per_s"] for f in figures]),
                }
                for key in ("big_ms", "small_p99_us", "idle_p99_us"):
                    if all(key in f for f in figures):
                        results[f"{client} -> {server}"][key] = median([f[key] for f in figures])
                for key in ("spawn_ns", "pg_broadcast_ns"):
                    if all(key in f for f in figures):
                        results[f"{client} -> {server}"][key.replace("_ns", "_us")] = median([f[key] for f in figures]) / 1000
    finally:
        shutil.rmtree(pki, ignore_errors=True)
        for server in servers:
            server.kill()
            server.wait()
    return results


def otpylib_system():
    venv = os.path.join(BENCH, ".venv-otpylib")
    python = os.path.join(venv, "bin", "python")
    try:
        if not os.path.exists(python):
            log("creating a virtual environment for otpylib")
            run([sys.executable, "-m", "venv", venv])
        run([python, "-m", "pip", "install", "-q", "otpylib"], timeout=300)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        log(f"otpylib could not be installed from PyPI, skipping it: {error}")
        return {}
    log("running otpylib")
    try:
        output = run([python, os.path.join(BENCH, "otpylib", "otpylib_bench.py")] + (["--quick"] if QUICK else []),
                     timeout=900)
        return {"otpylib": json.loads(output.strip().splitlines()[-1])}
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, ValueError) as error:
        log(f"otpylib failed, skipping it: {error}")
        return {}


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = ""
    try:
        with open("/proc/meminfo") as meminfo:
            kb = int(next(line.split()[1] for line in meminfo if line.startswith("MemTotal")))
            memory = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    swift = run(["swift", "--version"]).splitlines()[0]
    erl = ""
    if shutil.which("erl"):
        erl = run(["erl", "-noshell", "-eval", "io:format(\"~s\", [erlang:system_info(otp_release)]), halt()."])
    return f"{os.cpu_count()} x {model}{memory}, {platform.system()} {platform.release()}; {swift}; Erlang/OTP {erl}"


def ratio(value, erlang):
    return value / erlang if erlang else None


def fmt(value):
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def svg(ratios):
    """A horizontal bar chart of swift-otp / Erlang ratios on a log scale (1 = as fast as Erlang)."""
    import math
    width, left, bar, gap = 760, 260, 18, 8
    height = 40 + len(ratios) * (bar + gap)
    lo, hi = -3.0, 2.0  # 10^-3 .. 10^2
    x = lambda r: left + (math.log10(max(min(r, 10 ** hi), 10 ** lo)) - lo) / (hi - lo) * (width - left - 20)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
             f'font-size="12">', f'<text x="10" y="18" font-weight="bold">swift-otp / Erlang (1 scheduler), log scale; '
             f'left of the line is better (right for fan-in)</text>']
    one = x(1.0)
    for i, (name, value) in enumerate(ratios):
        y = 30 + i * (bar + gap)
        start, end = sorted((one, x(value)))
        parts.append(f'<text x="10" y="{y + 13}">{name}</text>')
        parts.append(f'<rect x="{start:.1f}" y="{y}" width="{max(end - start, 1):.1f}" height="{bar}" fill="#4a7bd0"/>')
        label = end + 4 if value >= 1 else start - 6
        anchor = "start" if value >= 1 else "end"
        parts.append(f'<text x="{label:.1f}" y="{y + 13}" text-anchor="{anchor}">{fmt(value)}x</text>')
    parts.append(f'<line x1="{one:.1f}" y1="26" x2="{one:.1f}" y2="{height - 4}" stroke="black"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


README = os.path.join(ROOT, "README.md")
README_BEGIN = "<!-- figures: generated by Benchmarks/compare.py from Benchmarks/results/latest.json -->"
README_END = "<!-- end of figures -->"


def duration(ns):
    if ns is None:
        return "—"
    if ns < 1000:
        return f"{ns:.0f} ns"
    if ns < 1_000_000:
        return f"{ns / 1000:.2g} µs" if ns < 10_000 else f"{ns / 1000:.0f} µs"
    return f"{ns / 1e6:.3g} ms"


def size(value):
    return "—" if value is None else f"{value:,.0f} B" if value < 1024 else f"{value / 1024:.1f} KB"


def readme_block(results):
    """README's headline table, from a results file (so the figures cannot drift from `make compare`'s)."""
    workloads, distribution = results.get("workloads", {}), results.get("distribution", {})

    def get(name, system):
        return workloads.get(name, {}).get(system)

    rows = [("GenServer call from a process", "call_round_trip", duration),
            ("ping-pong round trip", "ping_pong", duration),
            ("spawn a process that waits", "spawn", duration),
            ("memory of a waiting process", "spawn_memory", size),
            ("start a GenServer", "genserver_start", duration)]
    lines = [README_BEGIN,
             "| one core, this machine, real libuv loop | swift-otp, as the guides write it | swift-otp, struct "
             "behaviours | Erlang/OTP (`+S 1:1`) |", "|---|---|---|---|"]
    for title, name, show in rows:
        twin = get(name + "_struct", "swift-otp") if name != "spawn_memory" else get("spawn_struct_memory", "swift-otp")
        lines.append(f"| {title} | {show(get(name, 'swift-otp'))} | {show(twin)} | {show(get(name, 'erlang'))} |")
    ours, theirs = distribution.get("swift-otp -> swift-otp"), distribution.get("erlang -> erlang")
    if ours and theirs:
        lines.append(f"| remote `gen_server:call` between two nodes on loopback | {ours['call_us']:.0f} µs | — | "
                     f"{theirs['call_us']:.0f} µs |")
    lines += ["", "Every figure is from `make compare` on this machine (`docs/benchmarks.md`: one invocation, each "
              "figure the median of three runs); "
              "`Benchmarks/compare.py` writes this table and the chart from `Benchmarks/results/latest.json`.",
              "", "![swift-otp's time and memory as a fraction of Erlang/OTP's, per workload (lower is better)]"
              "(docs/benchmarks-ratios.svg)", README_END]
    return "\n".join(lines)


def readme_with(block):
    with open(README) as f:
        text = f.read()
    begin, end = text.index(README_BEGIN), text.index(README_END) + len(README_END)
    return text[:begin] + block + text[end:]


def check_readme():
    """`--check-readme` (make test): README's figures are the ones the results file gives."""
    with open(os.path.join(BENCH, "results", "latest.json")) as f:
        expected = readme_with(readme_block(json.load(f)))
    with open(README) as f:
        if f.read() != expected:
            sys.exit("README.md's figures differ from Benchmarks/results/latest.json: run "
                     "`python3 Benchmarks/compare.py --readme` (or `make compare`)")
    log("README.md's figures match Benchmarks/results/latest.json")


def main():
    if "--check-readme" in sys.argv:
        return check_readme()
    if "--report" in sys.argv:
        with open(os.path.join(BENCH, "results", "latest.json")) as f:
            return write_report(json.load(f))
    if "--readme" in sys.argv:
        with open(os.path.join(BENCH, "results", "latest.json")) as f:
            block = readme_block(json.load(f))
        text = readme_with(block)
        with open(README, "w") as out:
            out.write(text)
        return
    figures = {}
    figures.update(measured_systems())
    figures.update(otpylib_system())
    distribution = distribution_pairs()
    workloads = {}
    for name, _, _ in WORKLOADS:
        entry = {}
        for system in SYSTEMS:
            figure = figures.get(system, {}).get(erlang_name(name) if system.startswith("erlang") else name)
            if figure:
                entry["unit"] = figure["unit"]
                entry[system] = round(figure["value"], 3)
        if entry:
            workloads[name] = entry
    for name, _, _, erlang, _ in GROUP_WORKLOADS:
        entry = {}
        ours = figures.get("swift-otp", {}).get(name)
        if ours:
            entry["unit"] = ours["unit"]
            entry["swift-otp"] = round(ours["value"], 3)
        for system in ("erlang", "erlang-default"):
            # fan-in's Erlang figure is the same-node workload's (its callers spread over the schedulers)
            figure = figures.get(system, {}).get("group:" + erlang) or (
                figures.get(system, {}).get(erlang) if erlang == "fan_in" else None)
            if figure:
                entry[system] = round(figure["value"], 3)
        if entry:
            workloads[name] = entry
    for name in [stem + "_scaling" for stem in SCALING_STEMS] + ["machine_scaling"]:
        # the scaling rows' ratios of side-by-side runs, and the machine's own (no Erlang counterpart)
        ours = figures.get("swift-otp", {}).get(name)
        if ours:
            workloads[name] = {"unit": ours["unit"], "swift-otp": round(ours["value"], 3)}
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    results = {"generated": date, "machine": machine(), "quick": QUICK, "workloads": workloads,
               "distribution": distribution}
    os.makedirs(os.path.join(BENCH, "results"), exist_ok=True)
    with open(os.path.join(BENCH, "results", "latest.json"), "w") as out:
        json.dump(results, out, indent=2)
        out.write("\n")
    write_report(results)


def write_report(results):
    """docs/benchmarks.md, its chart and README's figures, from one results file's figures."""
    workloads, distribution = results["workloads"], results["distribution"]
    date = results.get("generated", "an earlier run")
    quick = results.get("quick", QUICK)
    lines = ["# Benchmarks: swift-otp beside Erlang/OTP, Swift actors and otpylib", "",
             f"Generated by `make compare{' QUICK=1' if quick else ''}` on {date}.", "",
             f"Machine: {results.get('machine') or machine()}.", "",
             "Every system ran in the same invocation on the same machine; ratios are to Erlang/OTP with one "
             "scheduler (`erl +S 1:1`). Each swift-otp and Erlang figure is the median of three rounds, each "
             "round one run of swift-otp and of both Erlang configurations in turn, so that a slow phase of "
             "the machine falls on both sides (Swift actors and otpylib: one run). For times and sizes lower is "
             "better; for fan-in (calls/s) higher is better. Raw figures: `Benchmarks/results/latest.json`. The Swift side is "
             "`Benchmarks/Tools/Compare`: swift-otp on the real libuv loop and clock, as users run a node "
             "(`Node()` + `run(until: .idle)`); where a workload has a struct twin, the plain one is written as the "
             "guides teach (closure processes, `process.call`) and the twin as `ProcessBehavior` structs, both "
             "against the same Erlang figure. The Erlang side is `Benchmarks/erlang/otp_bench.erl`; otpylib is "
             "`Benchmarks/otpylib/otpylib_bench.py` (calls by registered name: otpylib 0.5.18 cannot call by pid).",
             "", "![ratios](benchmarks-ratios.svg)", "", "## Targets", "",
             "| workload | target (swift-otp / Erlang) | measured | met |", "|---|---|---|---|"]
    chart = []
    for name, title, _ in WORKLOADS:
        entry = workloads.get(name, {})
        r = ratio(entry.get("swift-otp"), entry.get("erlang")) if "swift-otp" in entry and "erlang" in entry else None
        if r is not None and name != "timeouts_stray" and not name.endswith(("_struct", "_struct_memory", "_typed")):
            chart.append((name, r))
        if name in TARGETS:
            op, bound = TARGETS[name]
            met = r is not None and (r <= bound if op == "<=" else r >= bound)
            lines.append(f"| {title} | {op} {bound}x | {fmt(r)}x | {'yes' if met else 'no'} |")
    skip = workloads.get("selective_receive", {}).get("swift-otp")
    if skip is not None:
        lines.append(f"| selective receive, per queued message passed over | <= 10 ns | {fmt(skip)} ns | "
                     f"{'yes' if skip <= 10 else 'no'} |")
    stray = workloads.get("timeouts_stray", {}).get("swift-otp")
    lines.append(f"| stray messages after 100k timeouts | 0 | {fmt(stray)} | {'yes' if stray == 0 else 'no'} |")
    queued, empty = (workloads.get(n, {}).get("swift-otp") for n in ("call_queued_100k", "call_queued_0"))
    if queued and empty:
        lines.append(f"| call from a process with 100,000 messages queued vs none (receive mark) | <= 2x | "
                     f"{fmt(queued / empty)}x | {'yes' if queued / empty <= 2 else 'no'} |")
    for guide, twin, title in (("call_round_trip", "call_round_trip_struct", "call round trip"),
                               ("ping_pong", "ping_pong_struct", "ping-pong"), ("spawn", "spawn_struct", "spawn"),
                               ("fan_in", "fan_in_struct", "fan-in (time per call)")):
        a, b = workloads.get(guide, {}).get("swift-otp"), workloads.get(twin, {}).get("swift-otp")
        if a and b:
            r = b / a if guide == "fan_in" else a / b
            lines.append(f"| {title}: closure form (guides) vs struct form | <= 1.5x | {fmt(r)}x | "
                         f"{'yes' if r <= 1.5 else 'no'} |")
    typed, classic = (workloads.get(n, {}).get("swift-otp") for n in ("call_round_trip_typed", "call_round_trip"))
    if typed and classic:
        lines.append(f"| call with a typed request vs the classic request and reply enum | <= 1.1x | "
                     f"{fmt(typed / classic)}x | {'yes' if typed / classic <= 1.1 else 'no'} |")
    otp_call = workloads.get("call_round_trip", {})
    if "swift-actors" in otp_call:
        met = otp_call["swift-otp"] <= otp_call["swift-actors"]
        lines.append(f"| in-loop call vs an actor method call from a Task | <= 1x | "
                     f"{fmt(otp_call['swift-otp'] / otp_call['swift-actors'])}x | {'yes' if met else 'no'} |")
    base = distribution.get("erlang -> erlang")
    for pair, key, title, op in (("swift-otp -> erlang", "call_us", "remote call, swift-otp calling Erlang", "<="),
                                 ("erlang -> swift-otp", "call_us", "remote call, Erlang calling swift-otp", "<="),
                                 ("swift-otp -> erlang", "rpc_us", "rpc:call, swift-otp calling Erlang", "<="),
                                 ("erlang -> swift-otp", "rpc_us", "rpc:call, Erlang calling swift-otp", "<="),
                                 ("swift-otp -> erlang", "messages_per_s", "messages/s, swift-otp to Erlang", ">="),
                                 ("erlang -> swift-otp", "messages_per_s", "messages/s, Erlang to swift-otp", ">="),
                                 ("swift-otp -> erlang", "spawn_us", "remote spawn_monitor and its DOWN, swift-otp on Erlang", "<="),
                                 ("erlang -> swift-otp", "spawn_us", "remote spawn_monitor and its DOWN, Erlang on swift-otp", "<="),
                                 ("swift-otp -> swift-otp", "pg_broadcast_us",
                                  "pg broadcast to 100 members on another node and their answers, swift-otp to swift-otp", "<="),
                                 ("swift-otp (TLS) -> erlang (TLS)", "call_us", "remote call over TLS, swift-otp calling Erlang", "<="),
                                 ("erlang (TLS) -> swift-otp (TLS)", "call_us", "remote call over TLS, Erlang calling swift-otp", "<="),
                                 ("swift-otp (TLS) -> erlang (TLS)", "messages_per_s", "messages/s over TLS, swift-otp to Erlang", ">="),
                                 ("erlang (TLS) -> swift-otp (TLS)", "messages_per_s", "messages/s over TLS, Erlang to swift-otp", ">=")):
        base = distribution.get(base_pair(pair))
        if base and pair in distribution and key in distribution[pair] and key in base:
            r = distribution[pair][key] / base[key]
            met = r <= 1.0 if op == "<=" else r >= 1.0
            versus = "Erlang to Erlang over TLS" if "(TLS)" in pair else "Erlang to Erlang"
            lines.append(f"| {title} (loopback) vs {versus} | {op} 1x | {fmt(r)}x | {'yes' if met else 'no'} |")
    ours, theirs = distribution.get("swift-otp -> swift-otp", {}), distribution.get("erlang -> erlang", {})
    if "small_p99_us" in ours and "small_p99_us" in theirs:
        r = ours["small_p99_us"] / theirs["small_p99_us"]
        lines.append(f"| small calls' p99 beside 10 MB calls on the same connection, swift-otp to swift-otp vs Erlang "
                     f"to Erlang | <= 1x | {fmt(r)}x | {'yes' if r <= 1 else 'no'} |")
    fragmented, whole = (distribution.get(p, {}) for p in ("swift-otp -> erlang", "swift-otp (no fragments) -> erlang"))
    if "small_p99_us" in fragmented and "small_p99_us" in whole:
        r = fragmented["small_p99_us"] / whole["small_p99_us"]
        lines.append(f"| small calls' p99 beside 10 MB calls, swift-otp to Erlang: with fragments vs without (a small "
                     f"call does not wait for the big message) | <= 0.5x | {fmt(r)}x | {'yes' if r <= 0.5 else 'no'} |")
    cores = os.cpu_count()
    cross = workloads.get("cross_send", {}).get("swift-otp")
    if cross is not None:
        lines.append(f"| every core: a message to a process of another loop, both loops busy | <= 250 ns | "
                     f"{fmt(cross)} ns | {'yes' if cross <= 250 else 'no'} |")
    for stem, title, target in (("scale_pairs", "16 ping-pong pairs", 1.8),
                                ("scale_servers", "16 servers with their callers", 1.8),
                                ("scale_partitioned", "key-partitioned calls (all work for a key on its loop)", 1.8),
                                ("scale_routed", "calls routed to the key's loop from every loop", None)):
        one, many = (workloads.get(stem + s, {}).get("swift-otp") for s in ("_1loop", "_nloops"))
        # The ratio of side-by-side pairs of runs (`Compare.swift`, `scalingRuns`), where the tool gave one.
        scaling = workloads.get(stem + "_scaling", {}).get("swift-otp") or (many / one if one and many else None)
        if one and many:
            erl_one, erl_many = (workloads.get(stem + s, {}).get(e) for s, e in (("_1loop", "erlang"),
                                                                                  ("_nloops", "erlang-default")))
            erl = f"; Erlang default vs `+S 1:1`: {fmt(erl_many / erl_one)}x" if erl_one and erl_many else ""
            goal, met = (f">= {target}x", "yes" if scaling >= target else "no") if target else ("reported", "—")
            lines.append(f"| every core: {title}, {cores} loops vs 1{erl} | {goal} | {fmt(scaling)}x | {met} |")
    machine = workloads.get("machine_scaling", {}).get("swift-otp")
    if machine is not None:
        lines.append(f"| every core: this machine's own ceiling for the rows above, {cores} threads of independent integer "
                     f"arithmetic vs 1 (nothing shared; side-by-side pairs) | reported | {fmt(machine)}x | — |")
    group_fan_in = workloads.get("fan_in_group", {})
    if "swift-otp" in group_fan_in and "erlang-default" in group_fan_in:
        r = group_fan_in["swift-otp"] / group_fan_in["erlang-default"]
        lines.append(f"| every core: fan-in with callers on every loop vs Erlang's default | >= 10x | {fmt(r)}x | "
                     f"{'yes' if r >= 10 else 'no'} |")
    lines += ["", "The async facade against its floor (the bare inbox + continuation round trip, measured in the same "
              "process) is in `make bench` (`Benchmarks/Benchmarks/Core/FacadeBenchmarks.swift`).", ""]
    for name, title, better in WORKLOADS:
        entry = workloads.get(name)
        if not entry:
            continue
        lines += [f"## {title}", "", f"Unit: {entry['unit']} ({better} is better).", "",
                  "| system | figure | ratio to Erlang (1 scheduler) |", "|---|---|---|"]
        for system in SYSTEMS:
            if system in entry:
                lines.append(f"| {LABELS[system]} | {fmt(entry[system])} | "
                             f"{fmt(ratio(entry[system], entry.get('erlang')))}x |" if entry.get("erlang")
                             else f"| {LABELS[system]} | {fmt(entry[system])} | — |")
        lines.append("")
    group_rows = [(name, title, better, erlang_run) for name, title, better, _, erlang_run in GROUP_WORKLOADS
                  if name in workloads]
    if group_rows:
        lines += ["## Every core: a NodeGroup", "",
                  f"swift-otp's `NodeGroup` (docs/multicore.md): one loop per core ({cores} here), each on its own "
                  "thread, busy-waiting 50 µs before sleeping as Erlang's schedulers do; Erlang with one scheduler "
                  "(`+S 1:1`) and with its default (one per core). Each row's ratio is to the Erlang run named in "
                  "it. Same-loop figures are the tables above. Swift side: `Benchmarks/Workloads/GroupForms.swift`; "
                  "Erlang side: `otp_bench:group/1`. Each figure is the median of three runs." + (
                      " In each run the scaling workloads (`scale_…`) run in five side-by-side pairs, one loop and "
                      "every loop in turns, the median of each form kept; the scaling rows above give the median "
                      "of the pairs' own ratios (`…_scaling` in the results file), so that the two figures of a "
                      "ratio come from the same second of this VM, whose speed moves by tens of percent between "
                      "runs." if any(stem + "_scaling" in workloads for stem in SCALING_STEMS) else ""), "",
                  "| workload | unit | swift-otp | Erlang `+S 1:1` | Erlang default | ratio (to) |", "|---|---|---|---|---|---|"]
        for name, title, better, erlang_run in group_rows:
            entry = workloads[name]
            r = ratio(entry.get("swift-otp"), entry.get(erlang_run)) if "swift-otp" in entry else None
            label = "default" if erlang_run == "erlang-default" else "`+S 1:1`"
            lines.append(f"| {title} | {entry['unit']} ({better} is better) | {fmt(entry.get('swift-otp'))} | "
                         f"{fmt(entry.get('erlang'))} | {fmt(entry.get('erlang-default'))} | {fmt(r)}x ({label}) |")
        lines.append("")
    if distribution:
        lines += ["## Distribution on loopback (Erlang's distribution protocol)", "",
                  "A client node calls `bench_echo` on a server node (`gen_server:call`, one at a time: microseconds "
                  "per round trip, lower is better), then sends it plain messages from one process and ends with one "
                  "call (messages per second, higher is better); `rpc:call` round trips to `dist_bench:ping/0` (an "
                  "exported Swift function on a swift-otp server; Erlang's `rpc`/`erpc` from an Erlang client, "
                  "`process.rpc` from a swift-otp one). Both nodes on 127.0.0.1, median of three runs; "
                  "ratios to Erlang calling Erlang. Erlang side: `Benchmarks/erlang/dist_bench.erl`, default flags "
                  "(its schedulers busy-wait before sleeping); swift-otp side: `Benchmarks/Tools/DistBench`, with "
                  "`NodeConfiguration.busyWait` of 50 µs, and once without it. The *(TLS)* rows run both nodes on "
                  "TLS distribution (Erlang's `-proto_dist inet_tls`, swift-otp's `OTPTLS`; a P-256 certificate "
                  "each, peers verified), their ratios to Erlang calling Erlang over TLS.", "",
                  "| client -> server | call round trip (µs) | ratio | rpc round trip (µs) | ratio | messages/s | ratio |",
                  "|---|---|---|---|---|---|---|"]
        for client, server in DIST_PAIRS:
            pair = f"{client} -> {server}"
            if pair in distribution:
                entry = distribution[pair]
                base = distribution.get(base_pair(pair))
                call_ratio = ratio(entry["call_us"], base["call_us"]) if base else None
                rpc = entry.get("rpc_us")
                rpc_ratio = ratio(rpc, base.get("rpc_us")) if base and rpc and base.get("rpc_us") else None
                send_ratio = ratio(entry["messages_per_s"], base["messages_per_s"]) if base else None
                lines.append(f"| {pair} | {fmt(entry['call_us'])} | {fmt(call_ratio)}x | {fmt(rpc)} | {fmt(rpc_ratio)}x | "
                             f"{fmt(entry['messages_per_s'])} | {fmt(send_ratio)}x |")
        lines.append("")
        def pairs_measuring(key):
            return [(f"{c} -> {s}", distribution[f"{c} -> {s}"]) for c, s in DIST_PAIRS
                    if key in distribution.get(f"{c} -> {s}", {})]
        spawn_pairs = pairs_measuring("spawn_us")
        if spawn_pairs:
            lines += ["### Remote spawns and pg broadcasts", "",
                      "Then the client spawns `dist_bench:spawned/0` (a process that ends at once) on the server "
                      "with `spawn_monitor/4` (`process.spawn(on:options: .monitor)` from swift-otp), one at a "
                      "time, each waited for until its `DOWN`; and, with pg's default scope on both nodes, sends "
                      "one message to each of the 100 members of `bench_group` on the server and waits for all "
                      "100 answers, round after round. Microseconds, lower is better; ratios to Erlang calling "
                      "Erlang (over TLS for the *(TLS)* rows).", "",
                      "| client -> server | spawn and DOWN (µs) | ratio | pg broadcast round (µs) | ratio |",
                      "|---|---|---|---|---|"]
            for pair, entry in spawn_pairs:
                base = distribution.get(base_pair(pair))
                spawn_ratio = ratio(entry["spawn_us"], base.get("spawn_us")) if base and base.get("spawn_us") else None
                pg = entry.get("pg_broadcast_us")
                pg_ratio = ratio(pg, base.get("pg_broadcast_us")) if base and pg and base.get("pg_broadcast_us") else None
                lines.append(f"| {pair} | {fmt(entry['spawn_us'])} | {fmt(spawn_ratio)}x | {fmt(pg)} | {fmt(pg_ratio)}x |")
            lines.append("")
        big_pairs = pairs_measuring("big_ms")
        if big_pairs:
            lines += ["### A 10 MB message among small calls", "",
                      "After the figures above, the client makes 2,000 small calls alone (their p99: *alone*), then "
                      "calls carrying a 10 MB binary to a second server of the same node (`bench_sink`) while another "
                      "of its processes keeps calling `bench_echo` on the same connection (their p99: *beside*). "
                      "With fragments (every Erlang node, and swift-otp by default) the big message goes in 64 KiB "
                      "pieces and small messages pass between them; *no fragments* is a swift-otp client with "
                      "`DistributionOptions.fragments` off, so every message travels whole. Median of three runs; "
                      "milliseconds and microseconds, lower is better.", "",
                      "| client -> server | 10 MB call (ms) | small call p99 beside it (µs) | small call p99 alone (µs) |",
                      "|---|---|---|---|"]
            for pair, entry in big_pairs:
                lines.append(f"| {pair} | {fmt(entry['big_ms'])} | {fmt(entry['small_p99_us'])} | "
                             f"{fmt(entry['idle_p99_us'])} |")
            lines.append("")
    with open(os.path.join(ROOT, "docs", "benchmarks.md"), "w") as out:
        out.write("\n".join(lines))
    with open(os.path.join(ROOT, "docs", "benchmarks-ratios.svg"), "w") as out:
        out.write(svg(chart))
    readme = readme_with(readme_block({"workloads": workloads, "distribution": distribution}))
    with open(README, "w") as out:
        out.write(readme)
    log("wrote docs/benchmarks.md, docs/benchmarks-ratios.svg, README.md's figures and Benchmarks/results/latest.json")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
