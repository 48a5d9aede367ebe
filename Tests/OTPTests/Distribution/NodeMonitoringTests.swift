import Testing
@testable import OTP

@Suite("Node monitoring: monitorNode, node events, nodes()", .serialized)
struct NodeMonitoringTests {
    /// A process that watches `peer` (`monitorNode`, twice) or subscribes to node events, recording each
    /// event as `mon: …` or `sub: …`; `.demonitor(node)` removes one watch.
    func spawnWatcher(_ node: Node, _ peer: String, subscribe: Bool = false, into log: Log<String>) async throws -> PID {
        try await node.perform { node in
            try node.spawn(of: AnyEvent.self) { process in
                if subscribe {
                    process.subscribeNodeEvents { .subscribed($0) }
                } else {
                    process.monitorNode(peer) { .watched($0) }
                    process.monitorNode(peer) { .watched($0) }
                }
                return .receive { envelope, process in
                    switch envelope.message {
                    case .watched(let event): log.append("mon: \(event)")
                    case .subscribed(let event): log.append("sub: \(event)")
                    case .demonitor(let peer): log.append("demonitor: \(process.demonitorNode(peer))")
                    case nil: break
                    }
                    return .same
                }
            }.pid
        }
    }

    @Test("A Swift process sees nodeup and nodedown; each monitorNode gets one nodedown; demonitorNode removes one")
    func swiftWatchesErlang() async throws {
        let peer = try ErlangPeer(name: "nm_peer")
        let node = try await clusterNode("nm_swift")
        defer { stop(peer, node) }
        let log = Log<String>()
        let subscriber = try await spawnWatcher(node, peer.name, subscribe: true, into: log)
        try await connect(node, to: peer)
        try await eventually("nodeup") { log.entries.contains("sub: {nodeup, \(peer.name)}") }
        let watcher = try await spawnWatcher(node, peer.name, into: log)
        #expect(try await node.perform { $0.nodes() } == [peer.name])
        #expect(try await node.perform { $0.nodes(.hidden) } == [])
        #expect(try await node.perform { $0.nodes(.connected) } == [peer.name])
        try await node.perform { node in try node.send(AnyEvent.demonitor(peer.name), to: watcher) }
        try await eventually("demonitor answered") { log.entries.contains("demonitor: true") }
        peer.stop()
        try await eventually("nodedown") { log.entries.count == 4 }
        #expect(log.entries == [
            "sub: {nodeup, \(peer.name)}", "demonitor: true",
            "mon: {nodedown, \(peer.name)}", "sub: {nodedown, \(peer.name)}",
        ])
        #expect(try await node.perform { $0.nodes() } == [])
        // The watcher's entries go with it.
        try await node.perform { $0.exit(watcher, reason: .kill); $0.exit(subscriber, reason: .kill) }
        try await eventually("watches removed") { try await node.perform { $0.cluster.nodeWatches.isEmpty } }
    }

    @Test("monitorNode of a node that cannot be reached: nodedown at once; subscribers hear nothing")
    func unreachable() async throws {
        let node = try await clusterNode("nm_alone")
        defer { shutdown(node) }
        let log = Log<String>()
        let absent = swiftName("nm_absent")
        _ = try await spawnWatcher(node, absent, into: log)
        try await eventually("both nodedowns") { log.entries.count == 2 }
        #expect(log.entries == ["mon: {nodedown, \(absent)}", "mon: {nodedown, \(absent)}"])
    }

    @Test("On a group: a process of loop 1 watches a node that loop 0 holds the connection to")
    func groupLoop() async throws {
        let peer = try ErlangPeer(name: "nm_peer3")
        let group = NodeGroup(loops: 2, configuration: NodeConfiguration(logger: quietLogger))
        group.startLoops()
        defer { group.stopLoops(); group.join(); peer.stop() }
        try await group.startDistribution(DistributionOptions(name: swiftName("nm_group"), cookie: .value(ErlangPeer.cookie)))
        try await connect(group.loops[0], to: peer)
        let log = Log<String>()
        _ = try await spawnWatcher(group.loops[1], peer.name, into: log)
        _ = try await spawnWatcher(group.loops[1], peer.name, subscribe: true, into: log)
        let absent = swiftName("nm_absent2")
        _ = try await spawnWatcher(group.loops[1], absent, into: log)
        try await eventually("the unreachable node's nodedowns") { log.entries.count == 2 }
        peer.stop()
        try await eventually("nodedowns") { log.entries.count == 5 }
        #expect(log.entries.sorted() == [
            "mon: {nodedown, \(absent)}", "mon: {nodedown, \(absent)}",
            "mon: {nodedown, \(peer.name)}", "mon: {nodedown, \(peer.name)}", "sub: {nodedown, \(peer.name)}",
        ])
    }

    @Test("Erlang's monitor_node on a Swift node sees nodedown when it goes away; async code gets node events")
    func erlangWatchesSwift() async throws {
        let peer = try ErlangPeer(name: "nm_peer2")
        let driver = try await clusterNode("nm_driver")
        let watched = try await clusterNode("nm_watched")
        defer { stop(peer, driver) }
        let events = try await driver.nodeEvents()
        try await connect(driver, to: peer)
        let watchedName = try #require(try await watched.perform { $0.nodeName })
        #expect(try await command(driver, peer, .tuple([.atom("ping"), .atom(watchedName)])) == .atom("pong"))
        #expect(try await command(driver, peer, .tuple([.atom("watch_node"), .atom(watchedName)])) == .atom("ok"))
        shutdown(watched)
        try await eventually("Erlang's nodedown") {
            try await command(driver, peer, .atom("node_events"))
                == .list([.tuple([.atom("nodedown"), .atom(watchedName)])])
        }
        var iterator = events.makeAsyncIterator()
        #expect(await iterator.next() == .up(peer.name))
    }
}

/// The watcher's message type, reachable from the test for `demonitor`.
typealias AnyEvent = NodeMonitoringTestsEvent
enum NodeMonitoringTestsEvent { case watched(NodeEvent), subscribed(NodeEvent), demonitor(String) }
