import Foundation
import Testing
@testable import OTP

/// A GenServer reachable from Erlang: `gen_server:call({counter, 'swift@localhost'}, {add, N})`.
struct RemoteCounter: GenServer {
    enum Call: TermDecodable {
        case add(Int)
        case get
        case crash
        case never

        init(term: Term) throws(TermConversionError) {
            if let e = term.tupleElements, e.count == 2, e[0] == .atom("add"), let n = e[1].intValue {
                self = .add(n)
                return
            }
            switch term {
            case .atom("get"): self = .get
            case .atom("crash"): self = .crash
            case .atom("never"): self = .never
            default: throw .mismatch(expected: "{add, N} | get | crash | never", got: term)
            }
        }
    }
    typealias Reply = Int
    typealias Cast = Int

    var count: Int

    mutating func handleCall(_ request: Call, from caller: Caller<Int>, _ server: ServerContext<Self>) throws
        -> ServerResult<Self>
    {
        switch request {
        case .add(let n):
            count += n
            return .reply(count)
        case .get: return .reply(count)
        case .crash: throw RemoteExit(.atom("asked_to_crash"))
        case .never: return .noReply
        }
    }

    mutating func handleCast(_ message: Int, _ server: ServerContext<Self>) throws -> ServerResult<Self> {
        count += message
        return .noReply
    }
}

private func startCounter(_ node: Node, name: String = "counter") async throws {
    _ = try await node.start(RemoteCounter.self, RemoteCounter(count: 0), options: StartOptions(name: name))
}

private func ok(_ term: Term) -> Term { .tuple([.atom("ok"), term]) }

private func exited(_ term: Term) -> Term { .tuple([.atom("exit"), term]) }

@Suite("Distribution against a real Erlang node", .serialized)
struct ErlangInteropTests {
    @Test("net_adm:ping from Erlang answers pong; both nodes list each other")
    func ping() async throws {
        let (peer, node) = try await connectedPair("ping_peer", "swift_ping")
        defer { stop(peer, node) }
        #expect(try await command(node, peer, .tuple([.atom("ping"), .atom(swiftName("swift_ping"))])) == .atom("pong"))
        #expect(try await command(node, peer, .atom("nodes")) == .list([.atom(swiftName("swift_ping"))]))
        #expect(try await node.perform { $0.connectedNodes() } == [peer.name])
        // A node that does not exist: pang.
        #expect(try await command(node, peer, .tuple([.atom("ping"), .atom("nobody@localhost")])) == .atom("pang"))
    }

    @Test("Erlang calls and casts a Swift GenServer by name: replies, noproc, a crash, a timeout")
    func erlangCallsSwift() async throws {
        let (peer, node) = try await connectedPair("caller_peer", "swift_server")
        defer { stop(peer, node) }
        try await startCounter(node)
        let counter = Term.tuple([.atom("counter"), .atom(swiftName("swift_server"))])
        func call(_ request: Term, timeout: Int = 2000) async throws -> Term {
            try await command(node, peer, .tuple([.atom("call"), counter, request, .integer(timeout)]))
        }
        #expect(try await call(.tuple([.atom("add"), .integer(5)])) == ok(.integer(5)))
        #expect(try await call(.tuple([.atom("add"), .integer(-2)])) == ok(.integer(3)))
        #expect(try await command(node, peer, .tuple([.atom("cast"), counter, .integer(10)])) == .ok)
        #expect(try await call(.atom("get")) == ok(.integer(13)))
        // A request that does not decode is dropped (and logged); the caller times out, the server lives on.
        #expect(try await call(.atom("nonsense"), timeout: 200) == exited(.atom("timeout")))
        #expect(try await call(.atom("never"), timeout: 200) == exited(.atom("timeout")))
        #expect(try await call(.atom("get")) == ok(.integer(13)))
        // A name nobody registered: noproc, as between Erlang nodes.
        let nobody = Term.tuple([.atom("nobody"), .atom(swiftName("swift_server"))])
        #expect(try await command(node, peer, .tuple([.atom("call"), nobody, .atom("get"), .integer(1000)]))
            == exited(.atom("noproc")))
        // The server crashes: the caller exits with the server's reason.
        #expect(try await call(.atom("crash")) == exited(.atom("asked_to_crash")))
        #expect(try await node.perform { $0.registeredPID("counter") == nil })
    }

    @Test("A Swift process calls an Erlang gen_server: reply, timeout, crash, noproc, unknown node")
    func swiftCallsErlang() async throws {
        let (peer, node) = try await connectedPair("echo_peer", "swift_client")
        defer { stop(peer, node) }
        let echo = peer.echo()
        let request = Term.tuple([.atom("echo"), .map([.init(.atom("k"), .string("v"))])])
        #expect(try await node.call(remote: echo, request, as: Term.self) == .map([.init(.atom("k"), .string("v"))]))
        await #expect(throws: CallError.timeout(echo)) {
            try await node.call(remote: echo, Term.tuple([.atom("sleep"), .integer(500)]), as: Term.self,
                                timeout: .milliseconds(100))
        }
        // The late reply (the server answers after its 500 ms) is dropped and counted, as a local one.
        try await eventually("the late reply") {
            (try? await node.perform { $0.statistics.ignoredReplies }) == 1
        }
        // A reply that does not decode as the caller's type is a typed error.
        await #expect(throws: CallError.self) {
            try await node.call(remote: echo, Term.tuple([.atom("echo"), .atom("x")]), as: Int.self)
        }
        let nobody = node.remote("nobody", on: peer.name)
        await #expect(throws: CallError.noProcess(nobody)) {
            try await node.call(remote: nobody, Term.atom("get"), as: Term.self)
        }
        await #expect(throws: CallError.serverExited(echo, reason: .custom("crashed_on_request"))) {
            try await node.call(remote: echo, Term.atom("crash"), as: Term.self)
        }
        let unknownNode = node.remote("echo", on: "nobody@localhost")
        await #expect(throws: CallError.serverExited(unknownNode, reason: .noconnection)) {
            try await node.call(remote: unknownNode, Term.atom("get"), as: Term.self)
        }
    }

    @Test("Messages both ways: to a registered name, to a pid, a cast from Swift forwarded back")
    func messages() async throws {
        let (peer, node) = try await connectedPair("msg_peer", "swift_msg")
        defer { stop(peer, node) }
        let log = Log<Envelope<Term>>()
        let collector = try await spawnTermCollector(node, name: "collector", into: log)
        // Erlang sends to {collector, Node}.
        let byName = Term.tuple([.atom("collector"), .atom(swiftName("swift_msg"))])
        #expect(try await command(node, peer, .tuple([.atom("send"), byName, .atom("hello")])) == .ok)
        // A Swift cast to the Erlang echo server, which forwards to the collector's pid.
        let external = try await node.perform { $0.externalPID(for: collector)! }
        try await node.perform { node in
            try node.cast(remote: node.remote("echo", on: peer.name),
                          Term.tuple([.atom("forward"), .pid(external), .tuple([.atom("n"), .integer(1)])]))
        }
        try await eventually("two messages") { log.count == 2 }
        #expect(log.messages == [.atom("hello"), .tuple([.atom("n"), .integer(1)])])
        // A message the collector's type cannot take is impossible here (Term takes all); a send to a
        // dead Swift pid is dropped, as in Erlang, and counted.
        let dropped = try await node.perform { $0.statistics.droppedToDeadProcesses }
        let deadPid = Term.pid(ExternalPID(node: swiftName("swift_msg"), id: 9999, serial: 0, creation: external.creation))
        #expect(try await command(node, peer, .tuple([.atom("send"), deadPid, .atom("lost")])) == .ok)
        try await eventually("the drop counted") {
            (try? await node.perform { $0.statistics.droppedToDeadProcesses }) == dropped + 1
        }
    }

    @Test("Links: an Erlang process linked to a Swift one sees its exit; a Swift process sees an Erlang exit")
    func links() async throws {
        let (peer, node) = try await connectedPair("link_peer", "swift_link")
        defer { stop(peer, node) }
        let observers = try await Observers(on: node)
        let (reports, agent) = (observers.reports, observers.agent)
        let (agentExt, reporterExt) = (observers.agentExternal, observers.reporterExternal)

        // Erlang links to the agent; the agent exits with `boom`; the Erlang linker traps it.
        let started = try await command(node, peer, .tuple([.atom("link_to"), .pid(agentExt), .pid(reporterExt)]))
        guard case .tuple(let okLinker) = started, okLinker.count == 2, case .pid(let linker) = okLinker[1] else {
            Issue.record("link_to answered \(started)")
            return
        }
        try await eventually("linked") { reports.count == 1 }
        try await node.perform { node in
            #expect(node.processInfo(agent)?.links == [node.pid(for: linker)])
        }
        try await tell(node, agent, .tuple([.atom("exit"), .atom("boom")]))
        try await eventually("linked exit reported") { reports.count == 2 }
        #expect(reports.messages.last == .tuple([.atom("linked_exit"), .pid(linker), .pid(agentExt), .atom("boom")]))

        // A trapping Swift agent linked to the Erlang linker gets its EXIT with the reason.
        let log2 = Log<Envelope<Term>>()
        let agent2 = try await spawnAgent(node, name: "agent2", into: log2)
        try await tell(node, agent2, .tuple([.atom("trap_exit"), .true]))
        try await tell(node, agent2, .tuple([.atom("link"), .pid(linker)]))
        try await eventually("link established") {
            (try? await command(node, peer, .tuple([.atom("is_alive"), .pid(linker)]))) == .true
                && log2.count == 2
        }
        try await Task.sleep(for: .milliseconds(100))  // LINK travels before the exit request
        _ = try await command(node, peer, .tuple([.atom("send"), .pid(linker), .tuple([.atom("exit_with"), .atom("bye")])]))
        try await eventually("EXIT from Erlang") { !log2.exits.isEmpty }
        let linkerPid = try await node.perform { $0.pid(for: linker) }
        #expect(log2.exits == [ExitSignal(from: linkerPid, reason: .custom("bye"))])
    }

    @Test("Unlink (UNLINK_ID) stops exit propagation; exit/2 works both ways, kill included")
    func unlinkAndExit2() async throws {
        let (peer, node) = try await connectedPair("exit_peer", "swift_exit")
        defer { stop(peer, node) }
        let observers = try await Observers(on: node)
        let log = observers.log
        try await tell(node, observers.agent, .tuple([.atom("trap_exit"), .true]))
        // An Erlang process linked to the reporter (it traps exits and stays alive).
        let answer = try await command(node, peer, .tuple([.atom("link_to"), .pid(observers.reporterExternal),
                                                           .pid(observers.reporterExternal)]))
        let erlangPid = try #require(okPid(answer), "Erlang answered \(answer)")
        let remote = try await node.perform { $0.pid(for: erlangPid) }
        // The agent links, then unlinks; the Erlang process then exits: no EXIT reaches the agent.
        let linksInErlang = Term.tuple([.atom("links"), .pid(erlangPid)])
        try await tell(node, observers.agent, .tuple([.atom("link"), .pid(erlangPid)]))
        try await eventually("linked on both sides") {
            guard case .list(let links)? = try? await command(node, peer, linksInErlang) else { return false }
            return Set(links) == [.pid(observers.reporterExternal), .pid(observers.agentExternal)]
        }
        try await tell(node, observers.agent, .tuple([.atom("unlink"), .pid(erlangPid)]))
        try await eventually("unlinked on both sides") {
            (try? await command(node, peer, linksInErlang)) == .list([.pid(observers.reporterExternal)])
        }
        #expect(try await node.perform { $0.processInfo(observers.agent)?.links } == [])
        // exit/2 from Erlang to the trapping agent: an EXIT message from the control process.
        _ = try await command(node, peer, .tuple([.atom("exit"), .pid(observers.agentExternal), .atom("go_away")]))
        try await eventually("EXIT from exit/2") { log.exits.count == 1 }
        #expect(log.exits.first?.reason == .custom("go_away"))
        // exit/2 from Swift with kill: the trapping Erlang process dies anyway.
        try await node.perform { node in node.exit(remote, reason: .kill, from: observers.agent) }
        try await eventually("killed") {
            (try? await command(node, peer, .tuple([.atom("is_alive"), .pid(erlangPid)]))) == .false
        }
        // Its death reached the reporter it was linked to, but not the agent, which had unlinked.
        try await Task.sleep(for: .milliseconds(100))
        #expect(log.exits.count == 1)
    }

    @Test("Monitors: Erlang monitors a Swift process; a Swift process monitors an Erlang one that is killed")
    func monitors() async throws {
        let (peer, node) = try await connectedPair("mon_peer", "swift_mon")
        defer { stop(peer, node) }
        let observers = try await Observers(on: node)
        let (reports, agent) = (observers.reports, observers.agent)
        let (agentExt, reporterExt) = (observers.agentExternal, observers.reporterExternal)

        let answer = try await command(node, peer, .tuple([.atom("watch"), .pid(agentExt), .pid(reporterExt)]))
        guard case .tuple(let okWatcher) = answer, case .pid(let watcher) = okWatcher[1] else {
            Issue.record("watch answered \(answer)")
            return
        }
        try await eventually("watching") { reports.count == 1 }
        try await tell(node, agent, .tuple([.atom("exit"), .tuple([.atom("shutdown"), .string("done")])]))
        try await eventually("DOWN in Erlang") { reports.count == 2 }
        #expect(reports.messages.last == .tuple([.atom("down"), .pid(watcher), .tuple([.atom("shutdown"), .string("done")])]))

        // Erlang's watcher has exited by now; a monitor on it from Swift is noproc at once.
        let log2 = Log<Envelope<Term>>()
        let agent2 = try await spawnAgent(node, name: "agent2", into: log2)
        try await tell(node, agent2, .tuple([.atom("monitor"), .pid(watcher)]))
        try await eventually("noproc DOWN") { log2.downs.count == 1 }
        #expect(log2.downs.first?.reason == .noproc)

        // A live Erlang process, monitored from Swift, killed.
        let answer2 = try await command(node, peer, .tuple([.atom("link_to"), .pid(reporterExt), .pid(reporterExt)]))
        let victim = try #require(okPid(answer2), "Erlang answered \(answer2)")
        try await tell(node, agent2, .tuple([.atom("monitor"), .pid(victim)]))
        try await Task.sleep(for: .milliseconds(100))
        #expect(try await command(node, peer, .tuple([.atom("kill"), .pid(victim)])) == .ok)
        try await eventually("killed DOWN") { log2.downs.count == 2 }
        let victimPid = try await node.perform { $0.pid(for: victim) }
        #expect(log2.downs.last?.pid == victimPid)
        #expect(log2.downs.last?.reason == .killed)
    }

    @Test("A dropped connection: monitors get DOWN noconnection, trapping linked processes EXIT noconnection")
    func droppedConnection() async throws {
        let (peer, node) = try await connectedPair("drop_peer", "swift_drop")
        defer { stop(peer, node) }
        let observers = try await Observers(on: node)
        let (log, agent) = (observers.log, observers.agent)
        let reporterExt = observers.reporterExternal
        let answer = try await command(node, peer, .tuple([.atom("link_to"), .pid(reporterExt), .pid(reporterExt)]))
        let remote = try #require(okPid(answer), "Erlang answered \(answer)")
        try await tell(node, agent, .tuple([.atom("trap_exit"), .true]))
        try await tell(node, agent, .tuple([.atom("monitor"), .pid(remote)]))
        try await tell(node, agent, .tuple([.atom("link"), .pid(remote)]))
        try await Task.sleep(for: .milliseconds(100))
        // The connection drops while the command is answered: the call itself sees noconnection.
        await #expect(throws: CallError.serverExited(peer.control(on: node), reason: .noconnection)) {
            try await command(node, peer, .tuple([.atom("disconnect"), .atom(swiftName("swift_drop"))]))
        }
        try await eventually("DOWN and EXIT") { log.downs.count == 1 && log.exits.count == 1 }
        let remotePid = try await node.perform { $0.pid(for: remote) }
        #expect(log.downs.first?.reason == .noconnection)
        #expect(log.exits.first == ExitSignal(from: remotePid, reason: .noconnection))
        // Not asserted: that the node is disconnected now. The peer's answer to `disconnect` is a send to
        // this node, which reconnects (Erlang auto-connects on send), so that depends on timing.
    }

    @Test("A call to {Name, node()} or to one of the node's own pids is a local call, its reply decoded as asked")
    func callToOwnName() async throws {
        let (peer, node) = try await connectedPair("self_peer", "swift_self")
        defer { stop(peer, node) }
        try await startCounter(node)
        let own = try #require(try await node.perform { $0.nodeName })
        let counter = PID.remote(.name("counter", node: own))
        #expect(try await node.call(remote: counter, Term.tuple([.atom("add"), .integer(2)]), as: Int.self) == 2)
        #expect(try await node.call(remote: counter, Term.atom("get"), as: Term.self) == .integer(2))
        // One of its own pids, in the form other nodes see it.
        let external = try await node.perform { node in node.externalPID(for: node.whereis("counter")!)! }
        #expect(try await node.call(remote: PID.remote(.pid(external)), Term.tuple([.atom("add"), .integer(1)]),
                                    as: Int.self) == 3)
        // No such name here: noproc at once, not noconnection; no connection to itself was made.
        let nobody = PID.remote(.name("nobody", node: own))
        await #expect(throws: CallError.noProcess(nobody)) {
            try await node.call(remote: nobody, Term.atom("get"), as: Int.self)
        }
        #expect(try await node.perform { $0.connectedNodes() } == [peer.name])
        // A timed-out local call leaves nothing behind, and a crash is serverExited as for any call.
        await #expect(throws: CallError.timeout(try await node.perform { $0.whereis("counter")! })) {
            try await node.call(remote: counter, Term.atom("never"), as: Int.self, timeout: .milliseconds(50))
        }
        #expect(try await node.perform { $0.pendingExternalCalls } == 0)
    }

    @Test("Large messages: a 1 MB binary each way and a term nested 1,000 deep")
    func largeMessages() async throws {
        let (peer, node) = try await connectedPair("big_peer", "swift_big")
        defer { stop(peer, node) }
        let binary = try await command(node, peer, .tuple([.atom("binary"), .integer(1 << 20)]))
        #expect(binary == .binary([UInt8](repeating: 7, count: 1 << 20)))
        let payload = Term.binary((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        #expect(try await node.call(remote: peer.echo(), Term.tuple([.atom("echo"), payload]), as: Term.self) == payload)
        var deep = Term.list([])
        for _ in 0..<1000 { deep = .list([deep]) }
        #expect(try await command(node, peer, .tuple([.atom("deep"), .integer(1000)])) == deep)
        #expect(try await node.call(remote: peer.echo(), Term.tuple([.atom("echo"), deep]), as: Term.self) == deep)
    }

    @Test("Two swift-otp nodes and an Erlang node in one cluster")
    func threeNodes() async throws {
        let peer = try ErlangPeer(name: "tri_peer")
        defer { peer.stop() }
        let a = try await clusterNode("swift_a")
        defer { shutdown(a) }
        let b = try await clusterNode("swift_b")
        defer { shutdown(b) }
        try await startCounter(b)
        try await connect(a, to: peer)
        try await connect(b, to: peer)
        // Swift A calls the Swift GenServer on B through the distribution protocol.
        let counter = a.remote("counter", on: swiftName("swift_b"))
        #expect(try await a.call(remote: counter, Term.tuple([.atom("add"), .integer(2)]), as: Int.self) == 2)
        // Erlang calls the same server.
        let byName = Term.tuple([.atom("counter"), .atom(swiftName("swift_b"))])
        #expect(try await command(a, peer, .tuple([.atom("call"), byName, .tuple([.atom("add"), .integer(3)]), .integer(1000)]))
            == ok(.integer(5)))
        #expect(try await a.perform { $0.connectedNodes() } == [peer.name, swiftName("swift_b")].sorted())
        #expect(try await command(a, peer, .atom("nodes")) == .list([.atom(swiftName("swift_a")), .atom(swiftName("swift_b"))]))
    }

    @Test("A wrong cookie: refused both ways, logged, and the cookie never appears in the log")
    func wrongCookie() async throws {
        let peer = try ErlangPeer(name: "cookie_peer")
        defer { peer.stop() }
        let driver = try await clusterNode("swift_driver")
        defer { shutdown(driver) }
        try await connect(driver, to: peer)
        let captured = CapturedLog()
        let node = try await clusterNode("swift_cookie", cookie: "not-the-cookie", logger: captured.logger)
        defer { shutdown(node) }
        var text: String { captured.records.entries.map { "\($0.message) \($0.metadata)" }.joined(separator: "\n") }
        // Erlang calls the node with the wrong cookie: this node finds the digest wrong and refuses.
        #expect(try await command(driver, peer, .tuple([.atom("ping"), .atom(swiftName("swift_cookie"))])) == .atom("pang"))
        // This node calls Erlang: Erlang finds our digest wrong and hangs up.
        #expect(try await node.connect(to: peer.name) == false)
        let refusals = captured.records.entries.filter { $0.metadata["error"]?.contains("cookie digest does not match") == true }
        #expect(refusals.count == 2)
        #expect(!text.contains("not-the-cookie"))
        #expect(!text.contains(ErlangPeer.cookie))
        #expect(try await node.perform { $0.connectedNodes() } == [])
    }
}


@Suite("Distribution: connections under stress", .serialized)
struct ConnectionRobustnessTests {
    @Test("A malformed frame, then an oversized one, from a peer close that connection; the node carries on")
    func badFrames() async throws {
        let captured = CapturedLog()
        let a = try await clusterNode("swift_sender")
        defer { shutdown(a) }
        let b = try await clusterNode("swift_victim", logger: captured.logger)
        defer { shutdown(b) }
        try await startCounter(b)
        let victim = swiftName("swift_victim")
        let garbage: [[UInt8]] = [
            [0, 0, 0, 6, 112, 131, 104, 9, 97, 1],  // a tuple claiming 9 elements, holding 1
            [0, 0, 0, 3, 131, 106, 0],  // no pass-through byte
            [0x7F, 0xFF, 0xFF, 0xFF],  // a 2 GB frame
        ]
        for (index, frame) in garbage.enumerated() {
            #expect(try await a.connect(to: victim))
            try await a.perform { node in node.distribution?.connections[victim]?.stream?.write(frame) }
            try await eventually("disconnect \(index)") {
                (try? await a.perform { $0.connectedNodes() }) == []
            }
            // The victim still answers, over a new connection.
            let counter = a.remote("counter", on: victim)
            #expect(try await a.call(remote: counter, Term.tuple([.atom("add"), .integer(1)]), as: Int.self) == index + 1)
        }
        let violations = captured.records.entries.filter { $0.metadata["error"]?.hasPrefix("protocol violation by") == true }
        #expect(violations.count == 3)
        #expect(violations.last?.metadata["error"]?.contains("exceeds the limit") == true)
    }

    @Test("Backpressure: a full mailbox pauses the connection instead of dropping; every message arrives, in order")
    func fullMailbox() async throws {
        let captured = CapturedLog()
        let a = try await clusterNode("swift_fast")
        defer { shutdown(a) }
        let b = try await clusterNode("swift_slow", logger: captured.logger)
        defer { shutdown(b) }
        let log = Log<Int>()
        // A process with room for 5 messages that reads nothing for 300 ms, then everything.
        try await b.perform { node in
            let address = try node.spawn(of: Term.self, options: SpawnOptions(mailboxCapacity: 5)) { _ in
                .receive(matching: { _ in false }, timeout: .milliseconds(300), after: { _ in
                    .receive { envelope, _ in
                        if case .message(let term) = envelope, let n = term.intValue { log.append(n) }
                        return .same
                    }
                }) { _, _ in .same }
            }
            try node.register("slow", address.pid)
        }
        let slow = swiftName("swift_slow")
        a.execute { node in
            for i in 1...50 { try? node.send(Term.integer(i), to: node.remote("slow", on: slow)) }
        }
        try await eventually("all 50") { log.count == 50 }
        #expect(log.entries == Array(1...50))
        #expect(try await b.perform { $0.statistics.refusedMailboxFull } == 0)
        #expect(!captured.records.entries.contains { $0.message.contains("dropped") })
    }

    @Test("{Name, node()}: a send to a name on this very node is a local send")
    func ownNodeName() async throws {
        let node = try await clusterNode("swift_self")
        defer { shutdown(node) }
        let log = Log<Envelope<Term>>()
        _ = try await spawnTermCollector(node, name: "collector", into: log)
        let own = swiftName("swift_self")
        try await node.perform { node in try node.send(Term.atom("hi"), to: node.remote("collector", on: own)) }
        try await eventually("the local delivery") { log.count == 1 }
        #expect(log.messages == [.atom("hi")])
        #expect(try await node.perform { $0.connectedNodes() } == [])
    }

    @Test("Simultaneous connect: two nodes sending to each other at once keep one connection, nothing is lost")
    func simultaneousConnect() async throws {
        for round in 0..<5 {
            let a = try await clusterNode("swift_sim_a\(round)")
            let b = try await clusterNode("swift_sim_b\(round)")
            let logA = Log<Envelope<Term>>(), logB = Log<Envelope<Term>>()
            _ = try await spawnTermCollector(a, name: "collector", into: logA)
            _ = try await spawnTermCollector(b, name: "collector", into: logB)
            let (nameA, nameB) = (swiftName("swift_sim_a\(round)"), swiftName("swift_sim_b\(round)"))
            // Posted back to back: each loop connects to the other at about the same moment.
            a.execute { node in
                for i in 1...3 { try? node.send(Term.integer(i), to: node.remote("collector", on: nameB)) }
            }
            b.execute { node in
                for i in 1...3 { try? node.send(Term.integer(i), to: node.remote("collector", on: nameA)) }
            }
            try await eventually("both deliveries, round \(round)") { logA.count == 3 && logB.count == 3 }
            #expect(logA.messages == [.integer(1), .integer(2), .integer(3)])
            #expect(logB.messages == [.integer(1), .integer(2), .integer(3)])
            #expect(try await a.perform { $0.connectedNodes() } == [nameB])
            #expect(try await b.perform { $0.connectedNodes() } == [nameA])
            shutdown(a)
            shutdown(b)
        }
    }

    @Test("Ticks: a peer silent for the tick time is disconnected; its monitors see noconnection")
    func tickTimeout() async throws {
        // Both sides with a 2 s tick time (each ticks every half second when idle).
        let peer = try ErlangPeer(name: "frozen_peer", tickTime: 2)
        defer { peer.stop() }
        let captured = CapturedLog()
        let node = try await clusterNode("swift_ticks", logger: captured.logger, tickTime: .seconds(2))
        defer { shutdown(node) }
        let log = Log<Envelope<Term>>()
        let agent = try await spawnAgent(node, name: "agent", into: log)
        try await connect(node, to: peer)
        // An Erlang process to monitor (a watcher of the agent: alive as long as the agent is).
        let agentExt = try await node.perform { $0.externalPID(for: agent)! }
        let answer = try await command(node, peer, .tuple([.atom("watch"), .pid(agentExt), .pid(agentExt)]))
        let remote = try #require(okPid(answer), "Erlang answered \(answer)")
        try await tell(node, agent, .tuple([.atom("monitor"), .pid(remote)]))
        // Idle but alive: ticks keep the connection up beyond the tick time.
        try await Task.sleep(for: .seconds(3))
        #expect(try await node.perform { $0.connectedNodes() } == [peer.name])
        #expect(log.downs.isEmpty)
        peer.suspend()
        try await eventually("DOWN noconnection") { log.downs.count == 1 }
        #expect(log.downs.first?.reason == .noconnection)
        #expect(try await node.perform { $0.connectedNodes() } == [])
        #expect(captured.records.entries.contains { $0.metadata["error"]?.contains("net_tick_timeout") == true })
        peer.resume()
    }
}
