import Testing
@testable import OTP

/// `chat:session/1` for other nodes' spawns: a process that answers `{From, Msg}` with
/// `{reply, {Arg, Msg}}` and exits.
let chatSession = SpawnFactory(arity: 1) { arguments, node in
    let argument = arguments[0]
    return try node.spawn(of: Term.self) { _ in
        .receive { envelope, process in
            guard case .tuple(let e)? = envelope.message, e.count == 2, case .pid(let from) = e[0] else { return .same }
            try process.send(Term.tuple([.atom("reply"), .tuple([argument, e[1]])]), to: process.currentNode.pid(for: from))
            return .exit(.normal)
        }
    }.pid
}

/// A Swift error that is no `RPCFailure`.
struct LedgerClosed: Error, CustomStringConvertible {
    var description: String { "the ledger is closed" }
}

@Suite("rpc with real Erlang nodes, both directions", .serialized)
struct RPCTests {
    /// Exports the test's functions on `node`; `casts` records what `calc:note/1` was cast.
    func exportCalc(_ node: Node, casts: Log<String>) async throws {
        try await node.export("calc", "add", .typed { (a: Int, b: Int) in a + b })
        try await node.export("calc", "echo", RPCFunction(arity: 1) { (arguments: [Term]) in arguments[0] })
        try await node.export("calc", "fail", RPCFunction.typed { () throws -> Int in throw RPCFailure.error(.atom("boom")) })
        try await node.export("calc", "quit", RPCFunction.typed { () throws -> Int in throw RPCFailure.exit(.atom("bye")) })
        try await node.export("calc", "toss", RPCFunction.typed { () throws -> Int in throw RPCFailure.thrown(.atom("ball")) })
        try await node.export("calc", "closed", RPCFunction.typed { () throws -> Int in throw LedgerClosed() })
        try await node.export("calc", "later", RPCFunction.typed { (text: String) async throws -> String in
            try await Task.sleep(for: .milliseconds(5))
            return text.uppercased()
        })
        try await node.export("calc", "note", RPCFunction.typed { (text: String) -> Bool in
            casts.append(text)
            return true
        })
    }

    func rpc(_ node: Node, _ peer: ErlangPeer, _ function: String, _ arguments: [Term]) async throws -> Term {
        let swift = try #require(try await node.perform { $0.nodeName })
        return try await command(node, peer, .tuple([.atom("rpc"), .atom(swift), .atom("calc"), .atom(function),
                                                     .list(arguments), .integer(Self.rpcMilliseconds)]),
                                 timeout: Self.commandTimeout)
    }

    /// The deadline Erlang's `rpc:call`/`erpc:call` get here, and the test's own wait for the peer's answer
    /// beyond it. Generous: the answers take milliseconds, but `make test-asan` runs every suite at once on
    /// two cores, where an exported `async` function (`later`) once waited more than 5 s for a thread of the
    /// cooperative pool. A wrong answer still fails at once; a lost one at the deadline.
    static let rpcMilliseconds = 30_000
    static let commandTimeout: Timeout = .seconds(40)

    static func badRPC(_ exit: Term) -> Term { .tuple([.atom("badrpc"), .tuple([.atom("EXIT"), exit])]) }
    static func frame(_ function: String, _ arity: Term) -> Term {
        .list([.tuple([.atom("calc"), .atom(function), arity, .list([])])])
    }

    @Test("Erlang's rpc:call and rpc:cast reach exported Swift functions, with Erlang's error shapes")
    func erlangCallsSwift() async throws {
        let (peer, node) = try await connectedPair("rpc_peer", "rpc_swift")
        defer { stop(peer, node) }
        let casts = Log<String>()
        try await exportCalc(node, casts: casts)
        #expect(try await rpc(node, peer, "add", [.integer(2), .integer(3)]) == .integer(5))
        #expect(try await rpc(node, peer, "echo", [.tuple([.atom("a"), .list([.integer(1)])])])
                == .tuple([.atom("a"), .list([.integer(1)])]))
        #expect(try await rpc(node, peer, "later", [.binary(Array("abc".utf8))]) == .binary(Array("ABC".utf8)))
        // An argument that does not decode, a missing arity, and each way to fail.
        #expect(try await rpc(node, peer, "add", [.atom("x"), .integer(3)])
                == Self.badRPC(.tuple([.atom("function_clause"), Self.frame("add", .integer(2))])))
        #expect(try await rpc(node, peer, "add", [.integer(1)])
                == Self.badRPC(.tuple([.atom("undef"), Self.frame("add", .list([.integer(1)]))])))
        #expect(try await rpc(node, peer, "fail", []) == Self.badRPC(.tuple([.atom("boom"), Self.frame("fail", .integer(0))])))
        #expect(try await rpc(node, peer, "quit", []) == Self.badRPC(.atom("bye")))
        #expect(try await rpc(node, peer, "toss", []) == .atom("ball"))
        #expect(try await rpc(node, peer, "closed", []) == Self.badRPC(.tuple([
            .tuple([.atom("swift_error"), .binary(Array("LedgerClosed: the ledger is closed".utf8))]),
            Self.frame("closed", .integer(0)),
        ])))
        let swift = try #require(try await node.perform { $0.nodeName })
        #expect(try await command(node, peer, .tuple([.atom("rpc_cast"), .atom(swift), .atom("calc"), .atom("note"),
                                                      .list([.binary(Array("hi".utf8))])])) == .true)
        try await eventually("the cast ran") { casts.entries == ["hi"] }
        // Removed: the function is no longer there.
        #expect(try await node.perform { $0.unexport("calc", "add", arity: 2) })
        #expect(try await rpc(node, peer, "add", [.integer(2), .integer(3)])
                == Self.badRPC(.tuple([.atom("undef"), Self.frame("add", .list([.integer(2), .integer(3)]))])))
    }

    @Test("erpc:call's exception classes, and a remote spawn of a function the node does not have")
    func erpcFromErlang() async throws {
        let (peer, node) = try await connectedPair("erpc_peer", "erpc_swift")
        defer { stop(peer, node) }
        try await exportCalc(node, casts: Log())
        let swift = try #require(try await node.perform { $0.nodeName })
        let before = try await node.perform { $0.statistics.live }
        func erpc(_ function: String, _ arguments: [Term]) async throws -> Term {
            try await command(node, peer, .tuple([.atom("erpc"), .atom(swift), .atom("calc"), .atom(function),
                                                  .list(arguments), .integer(Self.rpcMilliseconds)]),
                              timeout: Self.commandTimeout)
        }
        #expect(try await erpc("add", [.integer(20), .integer(22)]) == .tuple([.atom("ok"), .integer(42)]))
        #expect(try await erpc("later", [.binary(Array("x".utf8))]) == .tuple([.atom("ok"), .binary(Array("X".utf8))]))
        #expect(try await erpc("fail", []) == .tuple([.atom("error"),
                                                     .tuple([.atom("exception"), .atom("boom"), Self.frame("fail", .integer(0))])]))
        #expect(try await erpc("quit", []) == .tuple([.atom("exit"), .tuple([.atom("exception"), .atom("bye")])]))
        #expect(try await erpc("toss", []) == .tuple([.atom("throw"), .atom("ball")]))
        #expect(try await erpc("add", [.integer(1)]) == .tuple([.atom("error"), .tuple([
            .atom("exception"), .atom("undef"), Self.frame("add", .list([.integer(1)])),
        ])]))
        let spawned = try await command(node, peer, .tuple([.atom("spawn_monitor"), .atom(swift), .atom("lists"),
                                                             .atom("seq"), .list([.integer(1), .integer(2)])]))
        #expect(spawned == .tuple([.atom("down"), .tuple([.atom("undef"), .list([.tuple([
            .atom("lists"), .atom("seq"), .list([.integer(1), .integer(2)]), .list([]),
        ])])])]))
        // Every process spawned for a request has exited.
        try await eventually("the request processes gone") { try await node.perform { $0.statistics.live } == before }
    }

    @Test("Erlang's spawn/4 on a Swift node starts the process a registered factory makes")
    func spawnFactories() async throws {
        let (peer, node) = try await connectedPair("spawn_peer", "spawn_swift")
        defer { stop(peer, node) }
        try await node.perform { node in
            try node.exportSpawn("chat", "session", chatSession)
            try node.exportSpawn("chat", "broken", SpawnFactory(arity: 0) { _, _ in throw RPCFailure.error(.atom("boom")) })
        }
        let swift = try #require(try await node.perform { $0.nodeName })
        #expect(try await command(node, peer, .tuple([.atom("spawn_call"), .atom(swift), .atom("chat"), .atom("session"),
                                                      .list([.atom("alice")]), .atom("hello")]))
                == .tuple([.tuple([.atom("alice"), .atom("hello")]), .atom("normal")]))
        #expect(try await command(node, peer, .tuple([.atom("spawn_monitor"), .atom(swift), .atom("chat"), .atom("broken"), .list([])]))
                == .tuple([.atom("down"), .tuple([.atom("boom"), Self.stackOf("chat", "broken", .integer(0))])]))
    }

    static func stackOf(_ module: String, _ function: String, _ arity: Term) -> Term {
        .list([.tuple([.atom(module), .atom(function), arity, .list([])])])
    }

    @Test("Swift calls Erlang functions by rpc: typed results and typed errors")
    func swiftCallsErlang() async throws {
        let (peer, node) = try await connectedPair("rpc_peer2", "rpc_swift2")
        defer { stop(peer, node) }
        #expect(try await node.rpc(peer.name, "lists", "reverse", [.list([.integer(1), .integer(2), .integer(3)])],
                                   as: [Int].self) == [3, 2, 1])
        #expect(try await node.rpc(peer.name, "erlang", "node", [], as: String.self) == peer.name)
        await #expect(throws: RPCError.failed(peer.name, reason: .tuple([.atom("EXIT"), .atom("stop_here")]))) {
            _ = try await node.rpc(peer.name, "erlang", "exit", [.atom("stop_here")], as: Term.self)
        }
        do {
            _ = try await node.rpc(peer.name, "no_such_module", "f", [], as: Term.self)
            Issue.record("an undefined function returned")
        } catch {
            guard case .failed(peer.name, let reason) = error, case .tuple(let exit) = reason, exit.count == 2,
                  case .tuple(let undef) = exit[1], undef.first == .atom("undef") else {
                Issue.record("unexpected \(error)")
                return
            }
        }
        await #expect(throws: RPCError.wrongResultType(peer.name, .mismatch(expected: "Int", got: .atom(peer.name)))) {
            _ = try await node.rpc(peer.name, "erlang", "node", [], as: Int.self)
        }
        await #expect(throws: RPCError.timeout(peer.name)) {
            _ = try await node.rpc(peer.name, "timer", "sleep", [.integer(2_000)], as: Term.self, timeout: .milliseconds(100))
        }
        let absent = swiftName("rpc_absent")
        await #expect(throws: RPCError.nodeDown(absent)) {
            _ = try await node.rpc(absent, "erlang", "node", [], as: Term.self)
        }
        await #expect(throws: RPCError.invalidName("", reason: "an atom cannot be empty")) {
            _ = try await node.rpc(peer.name, "", "node", [], as: Term.self)
        }
    }

    @Test("rpc between two swift-otp nodes, from a process, and to the node itself")
    func swiftToSwift() async throws {
        let first = try await clusterNode("rpc_a")
        let second = try await clusterNode("rpc_b")
        defer { shutdown(first); shutdown(second) }
        try await exportCalc(second, casts: Log())
        let target = try #require(try await second.perform { $0.nodeName })
        #expect(try await first.rpc(target, "calc", "add", [.integer(40), .integer(2)], as: Int.self) == 42)
        #expect(try await second.rpc(target, "calc", "later", [.binary(Array("own".utf8))], as: String.self) == "OWN")
        await #expect(throws: RPCError.failed(target, reason: .tuple([.atom("EXIT"), .atom("bye")]))) {
            _ = try await first.rpc(target, "calc", "quit", [], as: Int.self)
        }
        let outcome = Log<String>()
        _ = try await first.perform { node in
            try node.spawn(of: Term.self) { process in
                try process.rpc(target, "calc", "add", [.integer(1), .integer(1)], as: Int.self) { result, _ in
                    outcome.append("\(result)")
                    return .exit(.normal)
                }
            }
        }
        try await eventually("the process's rpc answered") { outcome.entries == ["success(2)"] }
        #expect(try await second.perform { $0.exportedFunctions }.contains("calc:add/2"))
    }
}
