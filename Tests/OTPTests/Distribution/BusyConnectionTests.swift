import Testing
@testable import OTP

@Suite("A connection's send buffer is bounded (busy limit, maximumQueuedBytes)", .serialized)
struct BusyConnectionTests {
    /// Just under a fragment: each goes out whole.
    static let chunk = Term.binary([UInt8](repeating: 7, count: 60 << 10))
    /// Four fragments' worth.
    static let big = Term.binary([UInt8](repeating: 9, count: 256 << 10))

    /// Sends `message` to `target` until a send is refused, in one job (nothing reaches the socket
    /// meanwhile): how many went, the refusal, and `refusedBusy` then.
    static func sendUntilRefused(_ node: Node, _ message: Term, to target: PID) async throws
        -> (Int, ProcessError?, UInt64) {
        try await node.perform { node -> (Int, ProcessError?, UInt64) in
            var sent = 0
            do throws(ProcessError) {
                for _ in 0..<100 {
                    try node.send(message, to: target)
                    sent += 1
                }
            } catch {
                return (sent, error, node.statistics.refusedBusy)
            }
            return (sent, nil, node.statistics.refusedBusy)
        }
    }

    @Test("Past the busy limit a send is refused with ProcessError.busy; once the peer has read, sends go out again")
    func busyLimit() async throws {
        let (peer, node) = try await connectedPair("busy_peer", "busy_swift")
        defer { stop(peer, node) }
        let echo = peer.echo()
        // 60 KiB frames (61,5xx bytes each) queue on the socket; the 19th finds more than 1 MiB.
        let (sent, refusal, refused) = try await Self.sendUntilRefused(node, Self.chunk, to: echo)
        #expect(sent == 18)
        guard case .busy(let pid, let queued)? = refusal else {
            Issue.record("expected busy, got \(String(describing: refusal))")
            return
        }
        #expect(pid == echo)
        #expect(queued > 1 << 20 && queued < (1 << 20) + (64 << 10))
        #expect(refused == 1)
        // The peer reads; the connection is still up and takes messages again.
        try await eventually("the queue drained") {
            (try? await node.perform { try $0.send(Self.chunk, to: echo) }) != nil
        }
        #expect(try await node.perform { $0.nodes() } == [peer.name])
    }

    @Test("Big messages wait in fragments: past the busy limit of those a big send is refused, a small one still goes")
    func busyWithFragments() async throws {
        let (peer, node) = try await connectedPair("busy_frag_peer", "busy_frag_swift")
        defer { stop(peer, node) }
        let echo = peer.echo()
        // The first 256 KiB message puts two fragments on the socket (128 KiB) and keeps the rest; each next
        // one waits whole. After five, more than 1 MiB waits in fragments.
        let (sent, refusal, refused) = try await Self.sendUntilRefused(node, Self.big, to: echo)
        #expect(sent == 5)
        guard case .busy(_, let waiting)? = refusal else {
            Issue.record("expected busy, got \(String(describing: refusal))")
            return
        }
        #expect(waiting > 1 << 20 && waiting < (1 << 20) + (256 << 10))
        #expect(refused == 1)
        // A small message overtakes the fragments: the socket holds 128 KiB, under the limit.
        try await node.perform { try $0.send(Self.chunk, to: echo) }
        try await eventually("the fragments drained") {
            (try? await node.perform { try $0.send(Self.big, to: echo) }) != nil
        }
        #expect(try await node.perform { $0.statistics.fragmentedSent } == 6)
    }

    @Test("A peer that stops reading loses its connection past maximumQueuedBytes: noconnection for monitors")
    func hardCap() async throws {
        let peer = try ErlangPeer(name: "cap_peer")
        let node = try await clusterNode("cap_swift") { options in
            options.busyLimit = 64 << 20
            options.maximumQueuedBytes = 2 << 20
        }
        defer { stop(peer, node) }
        try await connect(node, to: peer)
        let log = Log<Envelope<Term>>()
        let agent = try await spawnAgent(node, name: "agent", into: log)
        let echoPID = try await command(node, peer, .tuple([.atom("whereis"), .atom("echo")]))
        guard case .pid(let echoExternal) = echoPID else {
            Issue.record("no echo pid: \(echoPID)")
            return
        }
        try await tell(node, agent, .tuple([.atom("monitor"), .pid(echoExternal)]))
        peer.suspend()
        let echo = peer.echo()
        _ = try await node.perform { node -> Int in
            var sent = 0
            for _ in 0..<40 { if (try? node.send(Self.chunk, to: echo)) != nil { sent += 1 } }
            return sent
        }
        try await eventually("the monitor's noconnection") {
            log.entries.contains { if case .down(let down) = $0 { return down.reason == .noconnection } else { return false } }
        }
        peer.resume()
    }
}
