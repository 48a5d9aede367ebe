import Foundation
import Logging
import Testing
@testable import OTP

/// A real Erlang node for the distribution tests: `erl -sname <name>@localhost` running
/// Tests/erlang/interop_peer.erl, on 127.0.0.1 only, with the tests' cookie. `make test` installs
/// erlang-base; EPMD is started here when none runs (bound to 127.0.0.1).
final class ErlangPeer: @unchecked Sendable {
    static let cookie = "swift-otp-interop-cookie"
    let name: String
    private let pid: pid_t
    private let lock = NSLock()
    private var stopped = false

    /// Compiles the peer module once per test run.
    private static let moduleDirectory: String = {
        let directory = NSTemporaryDirectory() + "swift-otp-erlang-\(getpid())"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("erlang/interop_peer.erl").path
        let status = run("/usr/bin/erlc", ["-o", directory, source])
        precondition(status == 0, "erlc failed on \(source)")
        return directory
    }()

    /// Runs `tool` to completion; its exit status.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) -> Int32 {
        let pid = spawn(tool, arguments)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status >> 8) & 0xFF
    }

    /// Starts `tool` (posix_spawn: no Foundation child monitoring, so stopping is a plain kill and waitpid)
    /// with output discarded and EPMD bound to 127.0.0.1.
    static func spawn(_ tool: String, _ arguments: [String]) -> pid_t {
        // Nor any other descriptor (swift test's event pipes): every one above 2 is closed on exec.
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            if let fd = Int32(entry), fd > 2 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        // No descriptor of the test process is inherited: an Erlang node left behind by a crashed test
        // run must not keep `swift test`'s output pipes open (it would wait for them forever).
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let argv = ([tool] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var environment = ProcessInfo.processInfo.environment
        environment["ERL_EPMD_ADDRESS"] = "127.0.0.1"
        environment["ERL_CRASH_DUMP_SECONDS"] = "0"  // a peer killed by a test writes no erl_crash.dump
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, tool, &actions, nil, argv, envp)
        precondition(status == 0, "cannot start \(tool): \(status)")
        return pid
    }

    /// EPMD on 127.0.0.1 (a running one is kept).
    static func ensureEPMD() {
        run("/usr/bin/epmd", ["-daemon", "-address", "127.0.0.1"])
    }

    /// `tickTime`: the node's `net_ticktime` in seconds (Erlang's default is 60). `elixir`: an Elixir node
    /// (Debian's `elixir`, `elixir --sname`) running the same control server, which can also evaluate
    /// Elixir code (`{elixir, Code}`). `tls`: an `-ssl_dist_optfile` (`TestPKI`): the node runs
    /// `-proto_dist inet_tls`.
    init(name: String, tickTime: Int? = nil, elixir: Bool = false, tls: String? = nil) throws {
        Self.ensureEPMD()
        self.name = "\(name)_\(getpid())@localhost"
        let erlFlags = ["-pa", Self.moduleDirectory, "-kernel", "inet_dist_use_interface", "{127,0,0,1}"]
            + (tickTime.map { ["-kernel", "net_ticktime", "\($0)"] } ?? [])
            + (tls.map { ["-proto_dist", "inet_tls", "-ssl_dist_optfile", $0] } ?? [])
        if elixir {
            pid = Self.spawn("/usr/bin/elixir", [
                "--sname", self.name, "--cookie", Self.cookie, "--erl", (["-noinput"] + erlFlags).joined(separator: " "),
                "-e", ":ok = :interop_peer.start(\(getpid())); Process.sleep(:infinity)",
            ])
            return
        }
        pid = Self.spawn("/usr/bin/erl", [
            "-sname", self.name, "-setcookie", Self.cookie, "-noinput",
        ] + erlFlags + [
            // The node halts by itself when this test process is gone (however it ended).
            "-eval", "ok = interop_peer:start(\(getpid()))",
        ])
    }

    /// Freezes the node (SIGSTOP): it answers nothing, not even ticks, until `resume`.
    func suspend() { kill(pid, SIGSTOP) }
    func resume() { kill(pid, SIGCONT) }

    /// Kills the node (idempotent).
    func stop() {
        lock.withLock {
            guard !stopped else { return }
            stopped = true
            kill(pid, SIGCONT)
            kill(pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
    }

    deinit { stop() }

    /// The peer's `control` server, as a remote pid of `node`.
    func control(on node: Node) -> PID { PID.remote(.name("control", node: name)) }
    func echo() -> PID { PID.remote(.name("echo", node: name)) }
}

/// A swift-otp node running on its own thread and joined to the cluster.
func clusterNode(_ name: String, cookie: String = ErlangPeer.cookie, logger: Logger = quietLogger,
                 tickTime: Duration = .seconds(60), adjust: (inout DistributionOptions) -> Void = { _ in }) async throws -> Node {
    let node = Node(configuration: NodeConfiguration(logger: logger))
    node.startLoop()
    var options = DistributionOptions(name: swiftName(name), cookie: .value(cookie), tickTime: tickTime)
    adjust(&options)
    try await node.startDistribution(options)
    return node
}

/// A node name unique to this test run (names of an earlier run may still be registered while it ends).
func swiftName(_ name: String) -> String { "\(name)_\(getpid())@localhost" }

/// An Erlang peer and a swift-otp node connected to it.
func connectedPair(_ peerName: String, _ nodeName: String) async throws -> (ErlangPeer, Node) {
    let peer = try ErlangPeer(name: peerName)
    let node = try await clusterNode(nodeName)
    try await connect(node, to: peer)
    return (peer, node)
}

func stop(_ peer: ErlangPeer, _ node: Node) {
    shutdown(node)
    peer.stop()
}

/// On a node: `reports`, a process that records what Erlang processes report to it, and `agent`, a
/// process the test drives (`spawnAgent`), with their pids as other nodes see them.
struct Observers {
    let reports = Log<Envelope<Term>>()
    let log = Log<Envelope<Term>>()
    let reporter: PID
    let agent: PID
    let reporterExternal: ExternalPID
    let agentExternal: ExternalPID

    init(on node: Node) async throws {
        reporter = try await spawnTermCollector(node, name: "reports", into: reports)
        agent = try await spawnAgent(node, name: "agent", into: log)
        let (reporter, agent) = (reporter, agent)
        (reporterExternal, agentExternal) = try await node.perform {
            ($0.externalPID(for: reporter)!, $0.externalPID(for: agent)!)
        }
    }
}

/// Stops the node; its thread closes it (connections, EPMD registration, listener) on the way out.
func shutdown(_ node: Node) {
    node.stopLoop()
    node.join()
}

/// Runs the control command on the peer and returns its answer.
func command(_ node: Node, _ peer: ErlangPeer, _ term: Term, timeout: Timeout = .seconds(10)) async throws -> Term {
    try await node.call(remote: peer.control(on: node), term, as: Term.self, timeout: timeout)
}

/// Connects to the peer, retrying while it boots (EPMD learns its name, then `interop_peer:start()` runs).
func connect(_ node: Node, to peer: ErlangPeer) async throws {
    for _ in 0..<200 {
        if try await node.connect(to: peer.name),
           (try? await node.call(remote: peer.control(on: node), Term.atom("nodes"), as: Term.self)) != nil {
            return
        }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("could not connect to \(peer.name)")
}

/// Waits (polling, 10 s at most) until `condition` holds; real network tests need real time to pass. The
/// condition may await (a node's state through `perform`): it never blocks a thread of the cooperative pool.
func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
    for _ in 0..<1000 {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("timed out waiting for \(what)")
}

/// Spawns a process that records every term it receives; registered as `name`.
func spawnTermCollector(_ node: Node, name: String, into log: Log<Envelope<Term>>) async throws -> PID {
    try await node.perform { node in
        let address = try node.spawn(of: Term.self) { _ in
            .receive { envelope, _ in
                log.append(envelope)
                return .same
            }
        }
        try node.register(name, address.pid)
        return address.pid
    }
}

/// A Swift process driven by the test with terms: `{link, Pid}`, `{unlink, Pid}`, `{monitor, Pid}`,
/// `{trap_exit, Bool}`, `{exit, Reason}`; everything it receives (messages, `DOWN`s, `EXIT`s) is recorded.
func spawnAgent(_ node: Node, name: String, into log: Log<Envelope<Term>>) async throws -> PID {
    try await node.perform { node in
        let address = try node.spawn(of: Term.self) { _ in
            .receive { envelope, process in
                log.append(envelope)
                guard case .message(let term) = envelope, let e = term.tupleElements, e.count == 2 else { return .same }
                let node = process.currentNode
                switch (e[0], e[1]) {
                case (.atom("link"), .pid(let p)): process.link(node.pid(for: p))
                case (.atom("unlink"), .pid(let p)): process.unlink(node.pid(for: p))
                case (.atom("monitor"), .pid(let p)): _ = process.monitor(node.pid(for: p))
                case (.atom("trap_exit"), let flag): _ = process.trapExits(flag == .true)
                case (.atom("exit"), let reason): return .exit(ExitReason(term: reason))
                default: break
                }
                return .same
            }
        }
        try node.register(name, address.pid)
        return address.pid
    }
}

/// Sends a term to a local process from the test.
func tell(_ node: Node, _ pid: PID, _ term: Term) async throws {
    try await node.perform { node in try node.send(term, to: pid) }
}

extension Log where Entry == Envelope<Term> {
    var messages: [Term] { entries.compactMap(\.message) }
    var downs: [Down] { entries.compactMap { if case .down(let d) = $0 { return d } else { return nil } } }
    var exits: [ExitSignal] { entries.compactMap { if case .exit(let x) = $0 { return x } else { return nil } } }
}

/// The pid in Erlang's `{ok, Pid}` answer, or `nil` for any other answer (the test then fails on it).
func okPid(_ answer: Term) -> ExternalPID? {
    guard case .tuple(let e) = answer, e.count == 2, e[0] == .atom("ok"), case .pid(let pid) = e[1] else { return nil }
    return pid
}
