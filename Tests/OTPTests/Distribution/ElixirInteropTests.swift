import OTPExamples
import Testing
@testable import OTP

@Suite("An Elixir node against a swift-otp node", .serialized)
struct ElixirInteropTests {
    /// Evaluates Elixir `code` on the peer and returns its value.
    func elixir(_ node: Node, _ peer: ErlangPeer, _ code: String) async throws -> Term {
        try await command(node, peer, .tuple([.atom("elixir"), .binary(Array(code.utf8))]))
    }

    @Test("GenServer.call, send, :rpc.call, Node.spawn and :pg from Elixir")
    func fromElixir() async throws {
        let peer = try ErlangPeer(name: "ex_peer", elixir: true)
        let node = try await clusterNode("ex_swift")
        defer { stop(peer, node) }
        let (groups, member) = try await node.perform { node -> (ProcessGroups, PID) in
            let groups = try node.startProcessGroups()
            let member = try node.spawn(of: Term.self) { _ in .receive { _, _ in .same } }.pid
            try groups.join("swift_room", member)
            return (groups, member)
        }
        try await connect(node, to: peer)
        let reports = Log<Envelope<Term>>()
        _ = try await spawnTermCollector(node, name: "reports", into: reports)
        _ = try await node.start(ClusterCounter(), options: StartOptions(name: "counter"))
        try await node.perform { node in
            try node.export("calc", "add", .typed { (a: Int, b: Int) in a + b })
            try node.exportSpawn("chat", "session", chatSession)  // RPCTests.swift
        }
        let swift = try #require(try await node.perform { $0.nodeName })
        #expect(try await elixir(node, peer, "GenServer.call({:counter, :\"\(swift)\"}, {:add, 5})") == .integer(5))
        #expect(try await elixir(node, peer, "GenServer.cast({:counter, :\"\(swift)\"}, :reset)") == .atom("ok"))
        #expect(try await elixir(node, peer, "GenServer.call({:counter, :\"\(swift)\"}, :get)") == .integer(0))
        #expect(try await elixir(node, peer, "send({:reports, :\"\(swift)\"}, {:hello, \"from elixir\"})")
                == .tuple([.atom("hello"), .binary(Array("from elixir".utf8))]))
        try await eventually("the message from Elixir") {
            reports.messages == [.tuple([.atom("hello"), .binary(Array("from elixir".utf8))])]
        }
        #expect(try await elixir(node, peer, ":rpc.call(:\"\(swift)\", :calc, :add, [2, 3])") == .integer(5))
        #expect(try await elixir(node, peer, """
            pid = Node.spawn(:"\(swift)", :chat, :session, [:bob])
            send(pid, {self(), :hi})
            receive do
              {:reply, r} -> r
            after
              5000 -> :timeout
            end
            """) == .tuple([.atom("bob"), .atom("hi")]))
        // :pg both ways: Elixir sees the Swift member, Swift sees the one Elixir joins.
        let memberWire = try await node.perform { Term.pid($0.externalPID(for: member)!) }
        try await eventually("Elixir sees the Swift member") {
            try await elixir(node, peer, ":pg.get_members(:pg, :swift_room)") == .list([memberWire])
        }
        #expect(try await elixir(node, peer, ":pg.join(:pg, :elixir_room, self())") == .atom("ok"))
        try await eventually("Swift sees the Elixir member") {
            try await node.perform { _ in groups.members("elixir_room").count } == 1
        }
        // Swift calls Elixir's own functions by rpc.
        #expect(try await node.rpc(peer.name, "Elixir.String", "upcase", [.binary(Array("swift".utf8))], as: String.self)
                == "SWIFT")
    }
}
