import Testing
@testable import OTP

/// A swift-otp node and an Erlang peer with a `FaultProxy` between them, and what Erlang guarantees when
/// the connection fails: `nodedown` to watchers, `noconnection` for links and monitors on both sides, a
/// pending call that ends once, nothing delivered twice or lost once delivered, and a new connection on
/// the next message, whose messages arrive in order.
@Suite("Partitions and faults between a swift-otp node and Erlang", .serialized)
struct PartitionTests {
    /// The node's side of a scenario: `watcher` traps exits, hears node events and records everything it
    /// receives; `{call, Pid}` makes it call Pid (which never answers), the outcome recorded in `calls`.
    struct Harness {
        let peer: ErlangPeer
        let proxy: FaultProxy
        let node: Node
        let log = Log<Envelope<Term>>()
        let calls = Log<String>()
        let watcher: PID

        /// `tickTime` (seconds) on both nodes: each ticks every quarter of it, so a quiet connection lasts;
        /// a stalled one ends after it.
        init(_ name: String, tickTime: Int = 60) async throws {
            peer = try ErlangPeer(name: "fault_\(name)_peer", tickTime: tickTime)
            proxy = try FaultProxy(peerName: peer.name)
            let epmdPort = proxy.epmdPort
            node = try await clusterNode("fault_\(name)_swift", tickTime: .seconds(tickTime)) { $0.epmdPort = epmdPort }
            try await connect(node, to: peer)
            let (log, calls) = (log, calls)
            watcher = try await node.perform { node in
                try node.spawn(of: Term.self) { process in
                    _ = process.trapExits(true)
                    process.subscribeNodeEvents { event in
                        if case .up = event { return .tuple([.atom("node_event"), .atom("up")]) }
                        return .tuple([.atom("node_event"), .atom("down")])
                    }
                    return Self.watch(log, calls)
                }.pid
            }
        }

        static func watch(_ log: Log<Envelope<Term>>, _ calls: Log<String>) -> Step<Term> {
            .receive { envelope, process in
                log.append(envelope)
                guard case .message(.tuple(let e)) = envelope, e.count == 2, case .pid(let target) = e[1] else { return .same }
                let pid = process.currentNode.pid(for: target)
                switch e[0] {
                case .atom("monitor"): _ = process.monitor(pid)
                case .atom("call"):
                    return try process.call(remote: pid, Term.atom("hello"), as: Term.self, timeout: .seconds(30)) { outcome, _ in
                        calls.append("\(outcome)")
                        return watch(log, calls)
                    }
                default: break
                }
                return .same
            }
        }

        func external(_ pid: PID) async throws -> Term {
            try await node.perform { .pid($0.externalPID(for: pid)!) }
        }

        /// An Erlang process linked to the watcher (trapping exits), monitored by it and called by it (never
        /// answering); an Erlang process monitoring the watcher. Both report into the peer's `reports`
        /// table (a report sent to this node would be lost with the connection). Returns the linked one.
        func tieUp() async throws -> ExternalPID {
            let me = try await external(watcher), reporter = Term.atom("ets")
            guard case .tuple(let l) = try await command(node, peer, .tuple([.atom("link_to"), me, reporter])),
                  case .pid(let linker) = l[1] else { throw FaultProxy.ProxyError("no linker") }
            _ = try await command(node, peer, .tuple([.atom("watch"), me, reporter]))
            try await tell(node, watcher, .tuple([.atom("monitor"), .pid(linker)]))
            try await tell(node, watcher, .tuple([.atom("call"), .pid(linker)]))
            // Both went out before this command's request on the same connection: Erlang has them.
            _ = try await command(node, peer, .atom("nodes"))
            return linker
        }

        /// What a broken connection must have done on this node: one `DOWN` and one `EXIT` with
        /// `noconnection` from the linked process, the call ended once, one `nodedown`.
        func expectBroken(_ linker: ExternalPID) async throws {
            let pid = try await node.perform { $0.pid(for: linker) }
            try await eventually("noconnection everywhere") {
                log.downs.count == 1 && log.exits.count == 1 && calls.count == 1 && events.contains("down")
            }
            #expect(log.downs.map(\.reason) == [.noconnection] && log.downs.first?.pid == pid)
            #expect(log.exits == [ExitSignal(from: pid, reason: .noconnection)])
            #expect(calls.entries.count == 1 && calls.entries.first?.contains("noconnection") == true)
            #expect(events == ["down"])
        }

        /// The node events the watcher heard, as "up" / "down".
        var events: [String] {
            log.messages.compactMap { term -> String? in
                guard case .tuple(let e) = term, e.first == .atom("node_event"), case .atom(let text) = e[1] else { return nil }
                return text
            }
        }

        /// Numbered messages to the peer's `sink`, which keeps them; the first one after a failure connects
        /// again.
        func sendNumbered(_ numbers: ClosedRange<Int>) async throws {
            let sink = node.remote("sink", on: peer.name)
            try await node.perform { node in
                for n in numbers { try node.send(Term.integer(n), to: sink) }
            }
        }

        /// What the sink has, in order (a call over the connection, which it makes if needed).
        func sunk() async throws -> [Term] {
            guard case .list(let messages) = try await command(node, peer, .atom("sunk")) else { return [] }
            return messages
        }

        func numbers() async throws -> [Int] { try await sunk().compactMap(\.intValue) }

        /// After a heal: the node connects again on the next message; messages arrive once, in order; the
        /// Erlang side saw `noconnection` for its link and monitor too.
        func expectRecovery(_ linker: ExternalPID, after earlier: Int = 0) async throws {
            try await sendNumbered(101...200)
            try await eventually("100 messages after the reconnection") { try await numbers().count == earlier + 100 }
            #expect(try await numbers().dropFirst(earlier) == Array(101...200)[...])
            try await eventually("Erlang's reports") {
                guard case .list(let reports) = try await command(node, peer, .atom("reports")) else { return false }
                return reports.count >= 4
            }
            guard case .list(let reports) = try await command(node, peer, .atom("reports")) else { return }
            let me = try await external(watcher)
            #expect(reports.contains(.tuple([.atom("linked_exit"), .pid(linker), me, .atom("noconnection")])))
            #expect(reports.contains { $0.tupleElements?.first == .atom("down") && $0.tupleElements?.last == .atom("noconnection") })
            #expect(events == ["down", "up"])
            #expect(proxy.accepted >= 2)  // a new connection (a retry, when the peer had not seen the old one close yet)
        }

        func stop() {
            shutdown(node)
            proxy.stop()
            peer.stop()
        }
    }

    @Test("A cut connection: noconnection for links and monitors both sides, the call ends once; then in order")
    func cut() async throws {
        let h = try await Harness("cut")
        defer { h.stop() }
        let linker = try await h.tieUp()
        h.proxy.cut()
        try await h.expectBroken(linker)
        try await h.expectRecovery(linker)
    }

    @Test("A stall (partition): the tick timeout ends the connection; after it heals, the nodes connect again")
    func stall() async throws {
        let h = try await Harness("stall", tickTime: 2)
        defer { h.stop() }
        let linker = try await h.tieUp()
        h.proxy.set(.stall)
        try await h.expectBroken(linker)
        h.proxy.set(.pass)
        try await h.expectRecovery(linker)
    }

    @Test("Bytes dropped in flight: the corrupted connection is closed, nothing is delivered twice, then in order")
    func drop() async throws {
        let h = try await Harness("drop", tickTime: 2)
        defer { h.stop() }
        let linker = try await h.tieUp()
        h.proxy.set(.drop)
        try await h.sendNumbered(1000...1010)  // lost with the connection
        try await h.expectBroken(linker)
        h.proxy.set(.pass)
        try await h.expectRecovery(linker)
        #expect(try await !h.numbers().contains { $0 >= 1000 })
    }

    @Test("Delays keep order; a cut in the middle of a big message: what came before arrives once, the message never")
    func delayThenCutMidFrame() async throws {
        let h = try await Harness("midframe")
        defer { h.stop() }
        let linker = try await h.tieUp()
        h.proxy.set(.delay(milliseconds: 20))
        try await h.sendNumbered(1...20)
        try await eventually("20 delayed messages") { try await h.numbers().count == 20 }
        #expect(try await h.numbers() == Array(1...20))
        // 30 more, then a 1 MB message cut 100 KB into it (after the 30 small frames, a few KB).
        h.proxy.set(.cutAfter(bytes: 100_000))
        let sink = h.node.remote("sink", on: h.peer.name)
        try await h.node.perform { node in
            for n in 21...50 { try node.send(Term.integer(n), to: sink) }
            try node.send(Term.binary([UInt8](repeating: 1, count: 1 << 20)), to: sink)
        }
        try await h.expectBroken(linker)
        try await h.expectRecovery(linker, after: 50)
        let sunk = try await h.sunk()
        #expect(sunk.prefix(50) == Array(1...50).map { Term.integer($0) }[...])
        #expect(sunk.allSatisfy { $0.intValue != nil })  // the cut message never arrived
    }

    @Test("A peer restarted under the same name is a new node: its old pids are dead (noproc), new ones differ")
    func newCreation() async throws {
        let (peer, node) = try await connectedPair("creation_peer", "creation_swift")
        defer { stop(peer, node) }
        guard case .pid(let oldEcho) = try await command(node, peer, .tuple([.atom("whereis"), .atom("echo")])) else {
            Issue.record("no echo")
            return
        }
        peer.stop()
        try await eventually("the old peer gone") { try await node.perform { $0.nodes() }.isEmpty }
        let again = try ErlangPeer(name: "creation_peer")
        defer { again.stop() }
        #expect(again.name == peer.name)
        try await connect(node, to: again)
        guard case .pid(let newEcho) = try await command(node, again, .tuple([.atom("whereis"), .atom("echo")])) else {
            Issue.record("no echo")
            return
        }
        #expect(newEcho.creation != oldEcho.creation && newEcho != oldEcho)
        let log = Log<Envelope<Term>>()
        let agent = try await spawnAgent(node, name: "agent", into: log)
        try await tell(node, agent, .tuple([.atom("trap_exit"), .true]))
        try await tell(node, agent, .tuple([.atom("monitor"), .pid(oldEcho)]))
        try await tell(node, agent, .tuple([.atom("link"), .pid(oldEcho)]))
        try await eventually("DOWN and EXIT for the old pid") { log.downs.count == 1 && log.exits.count == 1 }
        let old = try await node.perform { $0.pid(for: oldEcho) }
        #expect(log.downs.first?.reason == .noproc && log.downs.first?.pid == old)
        #expect(log.exits == [ExitSignal(from: old, reason: .noproc)])
        // A message to the old pid goes nowhere; the new echo answers.
        try await node.perform { try $0.send(Term.atom("lost"), to: old) }
        #expect(try await node.call(remote: again.echo(), Term.tuple([.atom("echo"), .atom("new")]), as: Term.self) == .atom("new"))
    }
}
