import Testing
@testable import OTP

/// A supervised server that records its terminate and the EXIT messages it is given.
private struct LinkProbe: GenServer {
    typealias Argument = Log<String>
    let log: Log<String>

    static func initialize(_ log: Log<String>, _ server: ServerContext<LinkProbe>) throws -> Initialization<LinkProbe> {
        .ok(LinkProbe(log: log))
    }

    mutating func handleInfo(_ message: InfoMessage<Never>, _ server: ServerContext<LinkProbe>) throws
        -> ServerResult<LinkProbe>
    {
        if case .exit(let signal) = message { log.append("EXIT \(signal.reason)") }
        return .noReply
    }

    mutating func terminate(_ reason: ExitReason, _ server: ServerContext<LinkProbe>) throws {
        log.append("terminate \(reason)")
    }
}

/// Erlang's link semantics for supervised servers, improved in one place: the parent's (the
/// supervisor's) exit signal stops a server in order — `terminate` runs — whether or not it traps exits;
/// a signal from any other process follows Erlang's rules exactly unless the server traps exits itself.
@Suite("Supervised servers follow Erlang's link semantics")
struct SupervisedLinkTests {
    private func start(trapping: Bool, shutdown: ShutdownPolicy = .timeout(.seconds(5)))
        throws -> (Node, ServerRef<Supervisor>, Log<String>, PID)
    {
        let node = supervisionNode()
        let log = Log<String>()
        let spec = SupervisorSpec(intensity: RestartIntensity(maxRestarts: 10, period: .seconds(5)), children: [
            .server("probe", LinkProbe.self, log, shutdown: shutdown, trapExits: trapping),
        ])
        let supervisor = try node.start(Supervisor.self, spec)
        return (node, supervisor, log, try node.child(supervisor, "probe"))
    }

    @Test("The supervisor's shutdown runs terminate, trapping or not", arguments: [false, true])
    func parentShutdown(trapping: Bool) throws {
        let (node, supervisor, log, _) = try start(trapping: trapping)
        try node.terminateChild(supervisor, id: "probe")
        #expect(log.entries == ["terminate shutdown"])
        #expect(try node.whichChildren(supervisor).first?.pid == nil)
    }

    @Test("The supervisor's kill (brutal kill) ends it without terminate, trapping or not", arguments: [false, true])
    func parentKill(trapping: Bool) throws {
        let (node, supervisor, log, pid) = try start(trapping: trapping, shutdown: .brutalKill)
        try node.terminateChild(supervisor, id: "probe")
        #expect(log.entries.isEmpty && !node.isAlive(pid))
    }

    @Test("The supervisor killed: its exit signal through the link runs terminate(killed), trapping or not",
          arguments: [false, true])
    func parentDiesAbnormally(trapping: Bool) throws {
        let (node, supervisor, log, pid) = try start(trapping: trapping)
        node.exit(supervisor.pid!, reason: .kill)
        node.runUntilIdle()
        #expect(log.entries == ["terminate killed"])
        #expect(!node.isAlive(pid))
    }

    @Test("A linked stranger's crash ends a server that does not trap (no terminate; restarted), and is an EXIT message to one that does",
          arguments: [false, true])
    func strangerCrash(trapping: Bool) throws {
        let (node, supervisor, log, pid) = try start(trapping: trapping)
        let stranger = try spawnIdler(node).pid
        node.link(stranger, pid)
        node.crash(stranger, reason: .custom("boom"))
        if trapping {
            #expect(log.entries == ["EXIT boom"] && node.isAlive(pid))
            #expect(try node.child(supervisor, "probe") == pid)
        } else {
            #expect(log.entries.isEmpty && !node.isAlive(pid))
            #expect(try node.child(supervisor, "probe") != pid)  // restarted
        }
    }

    @Test("exit(server, shutdown) from a stranger ends a server that does not trap; one that traps gets EXIT",
          arguments: [false, true])
    func strangerShutdown(trapping: Bool) throws {
        let (node, supervisor, log, pid) = try start(trapping: trapping)
        let stranger = try spawnIdler(node).pid
        node.exit(pid, reason: .shutdown, from: stranger)
        node.runUntilIdle()
        if trapping {
            #expect(log.entries == ["EXIT shutdown"] && node.isAlive(pid))
        } else {
            #expect(log.entries.isEmpty && !node.isAlive(pid))
            #expect(try node.child(supervisor, "probe") != pid)  // permanent: restarted
        }
    }

    @Test("exit(server, normal) from a stranger is ignored by a server that does not trap; one that traps gets EXIT",
          arguments: [false, true])
    func strangerNormal(trapping: Bool) throws {
        let (node, _, log, pid) = try start(trapping: trapping)
        let stranger = try spawnIdler(node).pid
        node.exit(pid, reason: .normal, from: stranger)
        node.runUntilIdle()
        #expect(node.isAlive(pid))
        #expect(log.entries == (trapping ? ["EXIT normal"] : []))
    }

    @Test("A server started linked from a plain process: the parent's crash runs terminate without trapping")
    func plainParent() throws {
        let node = makeNode()
        let log = Log<String>()
        let server = Log<PID>()
        let parent = try node.spawn(of: Command.self) { process in
            try process.startServer(LinkProbe.self, log, options: StartOptions(link: true)) { result, _ in
                server.append(try result.get().server.pid!)
                return .receive { _, _ in .exit(.custom("parent failed")) }
            }
        }
        node.runUntilIdle()
        let pid = try #require(server.entries.first)
        try node.send(.value(1), to: parent)
        node.runUntilIdle()
        #expect(log.entries == ["terminate parent failed"] && !node.isAlive(pid))
    }
}
