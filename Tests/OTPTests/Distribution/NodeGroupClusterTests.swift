import Foundation
import Testing
@testable import OTP

/// A `NodeGroup` in a cluster is one Erlang node: processes of every loop are reachable from a real Erlang
/// node and reach it — calls, messages, links and monitors both ways, for a process of loop 1 while loop 0
/// holds the connection.
@Suite("Node groups in a cluster: one Erlang node", .serialized)
struct NodeGroupClusterTests {
    /// A group of two loops on their threads, in the cluster as `name`, connected to `peer`.
    func clusterGroup(_ name: String, peer: ErlangPeer) async throws -> NodeGroup {
        let group = NodeGroup(loops: 2, configuration: NodeConfiguration(logger: quietLogger))
        group.startLoops()
        try await group.startDistribution(DistributionOptions(name: swiftName(name), cookie: .value(ErlangPeer.cookie),
                                                              tickTime: .seconds(60)))
        try await connect(group.loops[0], to: peer)
        return group
    }

    /// Stops the group's loops, then the peer.
    func stop(_ group: NodeGroup, _ peer: ErlangPeer) {
        group.stopLoops()
        group.join()
        peer.stop()
    }

    /// A process of `node` that records what Erlang reports to it, registered as `reports`, and its wire pid.
    func reporter(on node: Node, into reports: Log<Envelope<Term>>) async throws -> ExternalPID {
        let reporter = try await spawnTermCollector(node, name: "reports", into: reports)
        return try #require(try await node.perform { $0.externalPID(for: reporter) })
    }

    /// How many links the Erlang process `pid` has (nil when the peer does not answer).
    func linkCount(_ pid: ExternalPID, on node: Node, _ peer: ErlangPeer) async -> Int? {
        guard case .list(let links)? = try? await command(node, peer, .tuple([.atom("links"), .pid(pid)])) else { return nil }
        return links.count
    }

    @Test("Erlang calls a server of loop 1 by name and by pid and sends to a process there; a process of loop 1 calls Erlang and sends to it")
    func callsAndMessagesBothWays() async throws {
        let peer = try ErlangPeer(name: "group_call_peer")
        let group = try await clusterGroup("swift_group_call", peer: peer)
        defer { stop(group, peer) }
        let (loop0, loop1) = (group.loops[0], group.loops[1])
        let counter = try await loop1.start(RemoteCounter.self, RemoteCounter(count: 0), options: StartOptions(name: "counter"))
        let nodeName = Term.atom(swiftName("swift_group_call"))
        #expect(try await loop1.perform { $0.nodeName } == swiftName("swift_group_call"))
        #expect(try await group.connectedNodes() == [peer.name])
        #expect(try await group.connect(to: peer.name))
        // By name: the name is the group's, the server on loop 1.
        #expect(try await command(loop0, peer, .tuple([.atom("call"), .tuple([.atom("counter"), nodeName]),
                                                       .tuple([.atom("add"), .integer(2)]), .integer(5_000)]))
                == .tuple([.atom("ok"), .integer(2)]))
        // By pid: the wire pid of a process of loop 1 names it (index × 2 + 1), and maps back to it.
        let serverPID = counter.pid!
        let wire = try #require(try await loop1.perform { $0.externalPID(for: serverPID) })
        #expect(wire.id % 2 == 1 && wire.node == swiftName("swift_group_call"))
        #expect(try await loop0.perform { $0.pid(for: wire) } == serverPID)
        #expect(try await command(loop0, peer, .tuple([.atom("call"), .pid(wire), .atom("get"), .integer(5_000)]))
                == .tuple([.atom("ok"), .integer(2)]))
        // A call the server never answers: the caller times out and demonitors its alias, and loop 1 forgets
        // the call (loop 0 sends the DEMONITOR on to the loop that holds it).
        #expect(try await command(loop0, peer, .tuple([.atom("call"), .tuple([.atom("counter"), nodeName]), .atom("never"),
                                                       .integer(100)])) == .tuple([.atom("exit"), .atom("timeout")]))
        #expect(try await loop1.perform { node in node.snapshot().processes.first { $0.pid == serverPID }?.messagesIn } == 3)  // add, get, never
        try await eventually("the abandoned call forgotten") {
            let here = try? await loop1.perform { $0.cluster.relayedCalls.isEmpty && $0.cluster.relayedCallsByAlias.isEmpty }
            let there = try? await loop0.perform { $0.distribution?.relayedAliases.isEmpty }
            return here == true && there == true
        }
        // A message from Erlang to a process of loop 1.
        let log = Log<Envelope<Term>>()
        let collector = try await spawnTermCollector(loop1, name: "collector", into: log)
        let collectorWire = try #require(try await loop1.perform { $0.externalPID(for: collector) })
        #expect(try await command(loop0, peer, .tuple([.atom("send"), .pid(collectorWire), .atom("hello")])) == .atom("ok"))
        try await eventually("the message on loop 1") { log.messages == [.atom("hello")] }
        // A process of loop 1 calls Erlang's echo server (its reply comes back to loop 1 through loop 0),
        // then sends Erlang's control server a cast that forwards a message back to the collector.
        let replies = Log<String>()
        try await loop1.perform { node in
            try node.spawn(of: Never.self) { process in
                try process.call(remote: peer.echo(), Term.tuple([.atom("echo"), .integer(7)]), as: Term.self) { result, process in
                    replies.append("\(try result.get())")
                    try process.currentNode.send(Term.tuple([.atom("$gen_cast"), .tuple([.atom("forward"), .pid(collectorWire), .atom("back")])]),
                                                 to: peer.control(on: process.currentNode))
                    return .exit(.normal)
                }
            }
        }
        try await eventually("the echo's reply") { replies.count == 1 }
        #expect(replies.entries == ["7"])
        try await eventually("the forwarded message") { log.messages == [.atom("hello"), .atom("back")] }
        #expect(try await loop1.perform { $0.statistics.monitors } == 0)  // the call's monitor went with it
    }

    @Test("Links and monitors between Erlang and a process of loop 1: exits and DOWNs both ways")
    func linksAndMonitors() async throws {
        let peer = try ErlangPeer(name: "group_link_peer")
        let group = try await clusterGroup("swift_group_link", peer: peer)
        defer { stop(group, peer) }
        let (loop0, loop1) = (group.loops[0], group.loops[1])
        let reports = Log<Envelope<Term>>()
        let reporterWire = try await reporter(on: loop0, into: reports)
        let log = Log<Envelope<Term>>()
        let agent = try await spawnAgent(loop1, name: "agent", into: log)
        let agentWire = try #require(try await loop1.perform { $0.externalPID(for: agent) })

        // Erlang monitors the agent of loop 1 and links to it; the agent exits: DOWN and EXIT in Erlang.
        let watched = try await command(loop0, peer, .tuple([.atom("watch"), .pid(agentWire), .pid(reporterWire)]))
        let watcher = try #require(okPid(watched), "watch answered \(watched)")
        let linked = try await command(loop0, peer, .tuple([.atom("link_to"), .pid(agentWire), .pid(reporterWire)]))
        let linker = try #require(okPid(linked), "link_to answered \(linked)")
        try await eventually("watching and linked") { reports.count == 2 }
        try await eventually("the link on loop 1") {
            (try? await loop1.perform { node in node.processInfo(agent)?.links == [node.pid(for: linker)] }) == true
        }
        try await tell(loop1, agent, .tuple([.atom("exit"), .atom("boom")]))
        try await eventually("DOWN and EXIT in Erlang") { reports.count == 4 }
        let after = Array(reports.messages.suffix(2))
        #expect(after.contains(.tuple([.atom("down"), .pid(watcher), .atom("boom")])))
        #expect(after.contains(.tuple([.atom("linked_exit"), .pid(linker), .pid(agentWire), .atom("boom")])))

        // A trapping agent of loop 1 links to the Erlang linker and monitors it; the linker exits: EXIT and DOWN.
        let log2 = Log<Envelope<Term>>()
        let agent2 = try await spawnAgent(loop1, name: "agent2", into: log2)
        try await tell(loop1, agent2, .tuple([.atom("trap_exit"), .true]))
        try await tell(loop1, agent2, .tuple([.atom("link"), .pid(linker)]))
        try await tell(loop1, agent2, .tuple([.atom("monitor"), .pid(linker)]))
        try await eventually("link established") { await linkCount(linker, on: loop0, peer) == 1 }
        _ = try await command(loop0, peer, .tuple([.atom("send"), .pid(linker), .tuple([.atom("exit_with"), .atom("bye")])]))
        try await eventually("EXIT and DOWN on loop 1") { log2.exits.count == 1 && log2.downs.count == 1 }
        let linkerPID = try await loop1.perform { $0.pid(for: linker) }
        #expect(log2.exits == [ExitSignal(from: linkerPID, reason: .custom("bye"))])
        #expect(log2.downs.first?.reason == .custom("bye"))
        #expect(try await loop1.perform { $0.statistics.monitors } == 0)
    }

    @Test("The connection drops: links, monitors and a pending call of loop 1 end with noconnection")
    func nodedown() async throws {
        let peer = try ErlangPeer(name: "group_down_peer")
        let group = try await clusterGroup("swift_group_down", peer: peer)
        defer { stop(group, peer) }
        let (loop0, loop1) = (group.loops[0], group.loops[1])
        let reports = Log<Envelope<Term>>()
        let reporterWire = try await reporter(on: loop0, into: reports)
        // An Erlang process for the agent of loop 1 to link to and monitor.
        let started = try await command(loop0, peer, .tuple([.atom("link_to"), .pid(reporterWire), .pid(reporterWire)]))
        let linker = try #require(okPid(started), "link_to answered \(started)")
        let log = Log<Envelope<Term>>()
        let agent = try await spawnAgent(loop1, name: "agent", into: log)
        try await tell(loop1, agent, .tuple([.atom("trap_exit"), .true]))
        try await tell(loop1, agent, .tuple([.atom("link"), .pid(linker)]))
        try await tell(loop1, agent, .tuple([.atom("monitor"), .pid(linker)]))
        // A call from loop 1 that Erlang's echo server answers only after the connection is gone.
        let outcomes = Log<String>()
        try await loop1.perform { node in
            try node.spawn(of: Never.self) { process in
                try process.call(remote: peer.echo(), Term.tuple([.atom("sleep"), .integer(60_000)]), as: Term.self,
                                 timeout: .seconds(30)) { result, _ in
                    outcomes.append("\(result)")
                    return .exit(.normal)
                }
            }
        }
        try await eventually("link established") { await linkCount(linker, on: loop0, peer) == 2 }  // reporter, agent
        try await Task.sleep(for: .milliseconds(100))  // the call's request travels before the cut
        // Erlang drops the connection (the answer to this command is lost with it).
        _ = try? await command(loop0, peer, .tuple([.atom("disconnect"), .atom(swiftName("swift_group_down"))]))
        try await eventually("noconnection on loop 1") { log.exits.count == 1 && log.downs.count == 1 && outcomes.count == 1 }
        let linkerPID = try await loop1.perform { $0.pid(for: linker) }
        #expect(log.exits == [ExitSignal(from: linkerPID, reason: .noconnection)])
        #expect(log.downs.first?.reason == .noconnection)
        #expect(outcomes.entries.first?.contains("noconnection") == true, "\(outcomes.entries)")
        #expect(try await loop1.perform { $0.statistics.monitors } == 0)
    }

    @Test("A call from another node that a server of loop 1 has not answered ends when that node goes down")
    func unansweredCallsEndWithTheirNode() async throws {
        let peer = try ErlangPeer(name: "group_pending_peer")
        let group = try await clusterGroup("swift_group_pending", peer: peer)
        defer { stop(group, peer) }
        let (loop0, loop1) = (group.loops[0], group.loops[1])
        _ = try await loop1.start(RemoteCounter.self, RemoteCounter(count: 0), options: StartOptions(name: "counter"))
        // Erlang's control server calls the counter with a request it never answers (a minute's timeout): a
        // process of loop 0 asks it to, without waiting.
        let request = Term.tuple([.atom("call"), .tuple([.atom("counter"), .atom(swiftName("swift_group_pending"))]),
                                  .atom("never"), .integer(60_000)])
        try await loop0.perform { node in
            try node.spawn(of: Never.self) { process in
                try process.call(remote: peer.control(on: process.currentNode), request, as: Term.self,
                                 timeout: .seconds(120)) { _, _ in .exit(.normal) }
            }
        }
        try await eventually("the call held on loop 1") { (try? await loop1.perform { $0.cluster.relayedCalls.count }) == 1 }
        group.stopDistribution()  // every connection closes: the calls from that node end
        try await eventually("the call forgotten") { (try? await loop1.perform { $0.cluster.relayedCalls.isEmpty }) == true }
        #expect(try await loop0.perform { $0.nodeName } == nil)
    }
}
