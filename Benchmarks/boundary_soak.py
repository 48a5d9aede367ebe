#!/usr/bin/env python3
"""`make soak-boundary`: the memory-growth and stall cases of the distribution boundary, against a release
`otp-demo --node` on 127.0.0.1, with its resident size read from /proc before and after each case.

1. short-lived callers: N Erlang processes, each born for one gen_server:call to the demo's `counter`;
2. half-sent handshakes: M sockets, each sending a handshake length prefix of 65,535 and 32 KiB of body,
   then silent sockets up to the pending-handshake bound, held past `setupTime`;
3. a 100 MB binary to a name nobody registered (dropped and logged), while a second Erlang process
   times a call that waits behind it.

Writes Benchmarks/results/boundary-soak.json and the table between the markers in docs/reliability.md.
Every peer is on 127.0.0.1; every wait has a deadline; the demo and the Erlang nodes are stopped at the end.
"""
import json, os, re, socket, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEMO = sys.argv[1]  # or --docs: only rewrite the table from the results file
CALLERS = int(os.environ.get("OTP_SOAK_CALLERS", "200000"))
SOCKETS = int(os.environ.get("OTP_SOAK_SOCKETS", "2000"))
BIG = int(os.environ.get("OTP_SOAK_BIG_BYTES", str(100_000_000)))
TAG = str(os.getpid())
NODE = f"soak_{TAG}@localhost"
COOKIE = f"soak-{TAG}"


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def erl(name, code, timeout):
    """Runs `code` on a fresh Erlang node and returns what it printed."""
    result = subprocess.run(
        ["erl", "-sname", f"{name}_{TAG}@localhost", "-setcookie", COOKIE, "-noshell", "-eval", code],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "ERL_CRASH_DUMP_SECONDS": "0"})
    return result.stdout.strip()


def main():
    env = {**os.environ, "ERLANG_COOKIE": COOKIE}
    demo = subprocess.Popen([DEMO, "--node", NODE, "--node-seconds", "900"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    results = {}
    try:
        port = None
        deadline = time.time() + 60
        while time.time() < deadline and port is None:
            line = demo.stdout.readline()
            match = re.search(r"is in the cluster \(port (\d+)\)", line)
            if match:
                port = int(match.group(1))
        if port is None:
            sys.exit("soak-boundary: the demo did not join the cluster")
        # Warm up: one connection and a few calls, so the figures below are growth, not start-up.
        erl("warm", f"gen_server:call({{counter, '{NODE}'}}, get, 5000), halt().", 60)
        base = rss_kib(demo.pid)

        # 1. Short-lived callers.
        started = time.time()
        out = erl("callers", f"""
            Node = '{NODE}', Self = self(),
            Loop = fun L(0) -> ok;
                       L(K) -> spawn(fun() -> gen_server:call({{counter, Node}}, {{add, 1}}, 10000), Self ! done end),
                               receive done -> ok after 10000 -> exit(timeout) end, L(K - 1) end,
            Loop({CALLERS}), io:format("~p~n", [gen_server:call({{counter, Node}}, get, 10000)]), halt().""", 1200)
        results["callers"] = {"calls": CALLERS, "seconds": round(time.time() - started, 1),
                              "counter": out, "rss_before_kib": base, "rss_after_kib": rss_kib(demo.pid)}

        # 2. Half-sent handshakes, then silent sockets held past the setup time.
        before = rss_kib(demo.pid)
        refused = 0
        for wave in range(0, SOCKETS, 200):
            batch = []
            for _ in range(min(200, SOCKETS - wave)):
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
                s.sendall(b"\xff\xff" + b"A" * 32768)
                batch.append(s)
            for s in batch:
                s.settimeout(5)
                try:
                    if s.recv(1) == b"":
                        refused += 1
                except (ConnectionResetError, socket.timeout):
                    refused += 1
                s.close()
        silent = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(200)]
        held = rss_kib(demo.pid)
        time.sleep(8)  # past the default setupTime of 7 s
        closed = 0
        for s in silent:
            s.settimeout(1)
            try:
                if s.recv(1) == b"":
                    closed += 1
            except (ConnectionResetError, socket.timeout):
                pass
            s.close()
        ping = erl("after_flood", f"io:format(\"~p~n\", [net_adm:ping('{NODE}')]), halt().", 60)
        results["handshakes"] = {"half_sent": SOCKETS, "refused": refused, "silent": len(silent),
                                 "silent_closed_after_setup_time": closed, "rss_before_kib": before,
                                 "rss_with_silent_kib": held, "rss_after_kib": rss_kib(demo.pid), "ping": ping}

        # 3. A large message to nobody, with a call timed behind it.
        before = rss_kib(demo.pid)
        out = erl("big", f"""
            Node = '{NODE}', Self = self(),
            Bin = binary:copy(<<"A">>, {BIG}),
            T0 = erlang:monotonic_time(microsecond),
            {{nobody, Node}} ! Bin,
            spawn(fun() -> gen_server:call({{counter, Node}}, get, 60000),
                           Self ! {{called, erlang:monotonic_time(microsecond) - T0}} end),
            receive {{called, Us}} -> io:format("~p~n", [Us]) after 60000 -> io:format("timeout~n") end,
            halt().""", 300)
        time.sleep(1)
        results["big_message"] = {"bytes": BIG, "call_behind_it_ms": round(int(out) / 1000) if out.isdigit() else out,
                                  "rss_before_kib": before, "rss_after_kib": rss_kib(demo.pid),
                                  "peak_rss_kib": rss_kib(demo.pid, "VmHWM")}
    finally:
        demo.terminate()
        try:
            demo.wait(timeout=10)
        except subprocess.TimeoutExpired:
            demo.kill()

    os.makedirs(os.path.join(ROOT, "Benchmarks", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "Benchmarks", "results", "boundary-soak.json"), "w") as f:
        json.dump(results, f, indent=2)
    write_docs(results)
    print(json.dumps(results, indent=2))


def mib(kib):
    return f"{kib / 1024:.1f} MiB"


def write_docs(r):
    c, h, b = r["callers"], r["handshakes"], r["big_message"]
    table = "\n".join([
        "| case | what happened | resident size |",
        "|---|---|---|",
        f"| {c['calls']:,} gen_server:calls, each from a new short-lived Erlang process | all answered in {c['seconds']} s (counter {c['counter']}) | {mib(c['rss_before_kib'])} before, {mib(c['rss_after_kib'])} after |",
        f"| {h['half_sent']:,} callers sending a 65,535-byte handshake length and 32 KiB | {h['refused']:,} closed at once | {mib(h['rss_before_kib'])} before |",
        f"| then {h['silent']} silent callers, held past `setupTime` (7 s) | the first 64 (`maximumPendingHandshakes`) wait, the rest are closed at once; all {h['silent_closed_after_setup_time']} closed by the node after 8 s; a new peer's ping: {h['ping']} | {mib(h['rss_with_silent_kib'])} while held, {mib(h['rss_after_kib'])} after |",
        f"| a {b['bytes'] / 1e6:.0f} MB binary to a name nobody registered (dropped, logged to 200 characters) | a call sent right behind it answered after {b['call_behind_it_ms']} ms | {mib(b['rss_before_kib'])} before, {mib(b['rss_after_kib'])} after, peak {mib(b['peak_rss_kib'])} |",
    ])
    path = os.path.join(ROOT, "docs", "reliability.md")
    text = open(path).read()
    start, end = "<!-- boundary-soak:start -->", "<!-- boundary-soak:end -->"
    text = text[:text.index(start) + len(start)] + "\n" + table + "\n" + text[text.index(end):]
    open(path, "w").write(text)


if __name__ == "__main__":
    if DEMO == "--docs":
        with open(os.path.join(ROOT, "Benchmarks", "results", "boundary-soak.json")) as f:
            write_docs(json.load(f))
    else:
        main()
