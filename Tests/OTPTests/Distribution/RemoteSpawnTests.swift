import Testing
@testable import OTP

@Suite("Swift spawns processes on other nodes (spawn_request)", .serialized)
struct RemoteSpawnTests {
    @Test("Spawn on Erlang, linked and monitored: its pid, its messages, its output through the Swift node, its exit")
    func spawnLinkedAndMonitored() async throws {
        let captured = CapturedLog()
        let peer = try ErlangPeer(name: "rspawn_peer")
        let node = try await clusterNode("rspawn_swift", logger: captured.logger)
        defer { stop(peer, node) }
        try await connect(node, to: peer)
        let log = Log<Envelope<Term>>()
        let outcomes = Log<Result<RemoteSpawned, RPCError>>()
        let peerName = peer.name
        let spawner = try await node.perform { node in
            try node.spawn(of: Term.self) { process in
                _ = process.trapExits(true)
                let me = Term.pid(process.currentNode.externalPID(for: process.pid)!)
                return try process.spawn(on: peerName, "interop_peer", "spawned",
                                         [me, .binary(Array("hello from erlang".utf8))], options: [.link, .monitor]) { outcome, _ in
                    outcomes.append(outcome)
                    return .receive { envelope, _ in
                        log.append(envelope)
                        return .same
                    }
                }
            }.pid
        }
        try await eventually("the spawn's outcome and two reports") { outcomes.count == 1 && log.messages.count == 2 }
        guard case .success(let spawned)? = outcomes.entries.first, let monitor = spawned.monitor else {
            Issue.record("expected a pid and a monitor, got \(outcomes.entries)")
            return
        }
        let (child, parent) = try await node.perform { ($0.externalPID(for: spawned.pid)!, $0.externalPID(for: spawner)!) }
        #expect(child.node == peer.name)
        // It runs with this node's group leader: its io:format went to the Swift node's log, and returned ok.
        #expect(log.messages == [.tuple([.atom("spawned"), .pid(child), .true]), .tuple([.atom("printed"), .atom("ok")])])
        #expect(captured.records.entries.contains { $0.message == "io" && $0.metadata["text"] == "hello from erlang" })
        // Erlang sees the link; messages reach the process.
        #expect(try await command(node, peer, .tuple([.atom("links"), .pid(child)])) == .list([.pid(parent)]))
        try await node.perform { try $0.send(Term.tuple([.atom("echo"), .integer(42)]), to: spawned.pid) }
        try await eventually("the echo") { log.messages.count == 3 }
        #expect(log.messages.last == .tuple([.atom("echoed"), .integer(42)]))
        // It exits: the link's EXIT and the monitor's DOWN, once each.
        try await node.perform { try $0.send(Term.tuple([.atom("exit_with"), .atom("boom")]), to: spawned.pid) }
        try await eventually("EXIT and DOWN") { log.count == 5 }
        try await Task.sleep(for: .milliseconds(50))
        let signals = log.entries.dropFirst(3)
        #expect(signals.contains(.exit(ExitSignal(from: spawned.pid, reason: ExitReason(term: .atom("boom"))))))
        #expect(signals.contains(.down(Down(monitor: monitor, pid: spawned.pid, reason: ExitReason(term: .atom("boom"))))))
        #expect(log.count == 5)
    }

    @Test("Refusals: an unreachable node, an invalid name, an option Erlang refuses; a function Erlang lacks spawns and dies of undef")
    func refusals() async throws {
        let (peer, node) = try await connectedPair("spawn_err_peer", "spawn_err_swift")
        defer { stop(peer, node) }
        let peerName = peer.name
        let log = Log<Envelope<Term>>()
        let outcomes = Log<Result<RemoteSpawned, RPCError>>()
        _ = try await node.perform { node in
            try node.spawn(of: Term.self) { process in
                try process.spawn(on: "nobody_\(peerName)", "m", "f", []) { outcome, process in
                    outcomes.append(outcome)
                    return try process.spawn(on: peerName, "", "f", []) { outcome, process in
                        outcomes.append(outcome)
                        return try process.spawn(on: peerName, "no_such_module", "f", [.integer(1)], options: .monitor) { outcome, _ in
                            outcomes.append(outcome)
                            return .receive { envelope, _ in
                                log.append(envelope)
                                return .same
                            }
                        }
                    }
                }
            }.pid
        }
        try await eventually("three outcomes and a DOWN") { outcomes.count == 3 && log.count == 1 }
        let results = outcomes.entries
        #expect(results.first.map { if case .failure(.nodeDown("nobody_\(peerName)")) = $0 { true } else { false } } == true)
        #expect(results.dropFirst().first.map { if case .failure(.invalidName("", _)) = $0 { true } else { false } } == true)
        guard case .success(let spawned) = results.last, let monitor = spawned.monitor,
              case .down(let down)? = log.entries.first else {
            Issue.record("expected a spawn and its DOWN, got \(results) and \(log.entries)")
            return
        }
        #expect(down.monitor == monitor && down.pid == spawned.pid)
        #expect(down.reason.term.tupleElements?.first == .atom("undef"))
    }

    @Test("The group leader answers the io protocol: output to the log, formatting, input refused")
    func ioProtocol() {
        var written: [String] = []
        func answer(_ request: Term) -> Term { Distribution.answer(request) { written.append($0) } }
        let bin = { (text: String) in Term.binary(Array(text.utf8)) }
        #expect(answer(.tuple([.atom("put_chars"), .atom("unicode"), bin("plain\n")])) == .atom("ok"))
        #expect(answer(.tuple([.atom("put_chars"), .atom("unicode"),
                               .list([.integer(104), .list([bin("i"), .integer(0x263A)])])])) == .atom("ok"))
        let format = Term.tuple([.atom("put_chars"), .atom("unicode"), .atom("io_lib"), .atom("format"),
                                 .list([.list("n=~p s=~s w=~w ~5.2f~~~n".unicodeScalars.map { .integer(Int($0.value)) }),
                                        .list([.tuple([.atom("a"), .integer(1)]), bin("txt"), .atom("x"), .float(1.5)])])])
        #expect(answer(format) == .atom("ok"))
        #expect(answer(.tuple([.atom("requests"), .list([.tuple([.atom("put_chars"), bin("1")]),
                                                         .tuple([.atom("put_chars"), bin("2")])])])) == .atom("ok"))
        #expect(written == ["plain\n", "hi\u{263A}", "n={a, 1} s=txt w=x 1.5~\n", "1", "2"])
        #expect(answer(.tuple([.atom("get_line"), .atom("unicode"), bin("> ")])) == .tuple([.atom("error"), .atom("enotsup")]))
        #expect(answer(.tuple([.atom("put_chars"), .atom("unicode"), .pid(ExternalPID(node: "a@h", id: 1, serial: 0, creation: 1))]))
            == .tuple([.atom("error"), .atom("put_chars")]))
        #expect(written.count == 5)
    }

    @Test("From async code: Node.spawn(on:) answers the pid; the process runs and can be sent to")
    func fromAsyncCode() async throws {
        let (peer, node) = try await connectedPair("spawn_async_peer", "spawn_async_swift")
        defer { stop(peer, node) }
        let log = Log<Envelope<Term>>()
        let collector = try await spawnTermCollector(node, name: "collector", into: log)
        let me = try await node.perform { Term.pid($0.externalPID(for: collector)!) }
        let pid = try await node.spawn(on: peer.name, "interop_peer", "spawned", [me, .binary(Array("quiet".utf8))])
        try await eventually("its reports") { log.messages.count == 2 }
        try await node.perform { try $0.send(Term.tuple([.atom("echo"), .atom("x")]), to: pid) }
        try await eventually("the echo") { log.messages.count == 3 }
        #expect(log.messages.last == .tuple([.atom("echoed"), .atom("x")]))
        await #expect(throws: RPCError.nodeDown("nobody@localhost")) {
            _ = try await node.spawn(on: "nobody@localhost", "m", "f", [])
        }
    }
}
