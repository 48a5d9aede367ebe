import Testing
@testable import OTP

@Suite("Process groups interoperating with Erlang's pg", .serialized)
struct ProcessGroupsTests {
    @Test("Members join and leave on both sides; a node's members go with its connection")
    func withErlang() async throws {
        let peer = try ErlangPeer(name: "pg_peer")
        let node = try await clusterNode("pg_swift")
        defer { shutdown(node); peer.stop() }
        let changes = Log<String>()
        // The scope starts before the peer is connected: it discovers the peer's scope when it comes up.
        let (groups, member, watcher) = try await node.perform { node -> (ProcessGroups, PID, PID) in
            let groups = try node.startProcessGroups()
            let member = try node.spawn(of: Term.self) { _ in .receive { _, _ in .same } }.pid
            try groups.join("workers", member)
            let watcher = try node.spawn(of: GroupChange.self) { _ in
                .receive { envelope, _ in
                    if let change = envelope.message { changes.append("\(change)") }
                    return .same
                }
            }
            _ = groups.subscribe(watcher, to: .atom("workers")) { $0 }
            return (groups, member, watcher.pid)
        }
        try await connect(node, to: peer)
        let memberWire = try await node.perform { Term.pid($0.externalPID(for: member)!) }
        try await eventually("Erlang sees the Swift member") {
            try await command(node, peer, .tuple([.atom("pg_members"), .atom("workers")])) == .list([memberWire])
        }
        // An Erlang member: Swift sees it.
        let erlangMember = try await command(node, peer, .tuple([.atom("pg_join"), .atom("workers")]))
        guard case .pid(let erlangExternal) = erlangMember else {
            Issue.record("no pid: \(erlangMember)")
            return
        }
        let erlangPID = try await node.perform { $0.pid(for: erlangExternal) }
        try await eventually("Swift sees the Erlang member") {
            try await node.perform { _ in Set(groups.members("workers")) } == [member, erlangPID]
        }
        #expect(try await node.perform { _ in groups.localMembers("workers") } == [member])
        #expect(try await node.perform { _ in groups.whichGroups() } == [.atom("workers")])
        // The Swift member exits: Erlang sees it leave.
        try await node.perform { $0.exit(member, reason: .kill) }
        try await eventually("Erlang sees the Swift member leave") {
            try await command(node, peer, .tuple([.atom("pg_members"), .atom("workers")])) == .list([erlangMember])
        }
        // The Erlang node goes away: its member goes with it.
        peer.stop()
        try await eventually("the Erlang member gone") { try await node.perform { _ in groups.members("workers") }.isEmpty }
        #expect(changes.entries == [
            "joined(workers, [\(erlangPID)])", "left(workers, [\(member)])", "left(workers, [\(erlangPID)])",
        ])
        _ = watcher
    }

    @Test("Two swift-otp nodes share a scope; leave, join errors and a second scope name")
    func betweenSwiftNodes() async throws {
        let a = try await clusterNode("pg_a")
        let b = try await clusterNode("pg_b")
        defer { shutdown(a); shutdown(b) }
        let bName = try #require(try await b.perform { $0.nodeName })
        #expect(try await a.connect(to: bName))
        let groupsA = try await a.perform { try $0.startProcessGroups(scope: "rooms") }
        let groupsB = try await b.perform { try $0.startProcessGroups(scope: "rooms") }
        let (one, two) = try await a.perform { node -> (PID, PID) in
            let one = try node.spawn(of: Term.self) { _ in .receive { _, _ in .same } }.pid
            let two = try node.spawn(of: Term.self) { _ in .receive { _, _ in .same } }.pid
            try groupsA.join("lobby", one)
            try groupsA.join("lobby", two)
            try groupsA.join("lobby", two)
            return (one, two)
        }
        try await eventually("b sees a's members") { try await b.perform { _ in groupsB.members("lobby").count } == 3 }
        #expect(try await a.perform { _ in groupsA.leave("lobby", two) })
        #expect(try await a.perform { _ in groupsA.leave("lobby", one) })
        #expect(try await a.perform { _ in groupsA.leave("lobby", one) } == false)
        try await eventually("b sees the leaves") { try await b.perform { _ in groupsB.members("lobby").count } == 1 }
        await #expect(throws: ProcessError.nameTaken("rooms", by: try await b.perform { $0.whereis("rooms")! })) {
            _ = try await b.perform { try $0.startProcessGroups(scope: "rooms") }
        }
        // After the node leaves the cluster the scope still works locally (nothing is sent).
        #expect(try await a.perform { node -> Int in
            node.stopDistribution()
            let solo = try node.spawn(of: Term.self) { _ in .receive { _, _ in .same } }.pid
            try groupsA.join("solo", solo)
            return groupsA.members("solo").count
        } == 1)
        let remote = b.remote("x", on: "elsewhere@localhost")
        await #expect(throws: ProcessError.otherNode(remote)) { try await b.perform { _ in try groupsB.join("lobby", remote) } }
    }
}
