import Testing
@testable import OTP

@Suite("multiCall and abcast across a cluster", .serialized)
struct RemoteMultiCallTests {
    @Test("The same name on several nodes: each node's reply or error by node name")
    func remoteNames() async throws {
        let (peer, node) = try await connectedPair("mc_peer", "mc_swift")
        defer { stop(peer, node) }
        let absent = swiftName("mc_absent")
        let replies = await node.multiCall("echo", Term.tuple([.atom("echo"), .integer(42)]), as: Term.self,
                                           on: [peer.name, absent], timeout: Timeout.seconds(5))
        #expect(replies[peer.name].flatMap { try? $0.get() } == .integer(42))
        #expect(replies.count == 2)
        let absentEcho = PID.remote(.name("echo", node: absent))
        #expect(replies[absent].map { "\($0)" } == "\(Result<Term, CallError>.failure(.serverExited(absentEcho, reason: .noconnection)))")
        let missing = await node.multiCall("no_such_name", Term.atom("x"), as: Term.self, on: [peer.name])
        let nobody = PID.remote(.name("no_such_name", node: peer.name))
        #expect(missing[peer.name].map { "\($0)" } == "\(Result<Term, CallError>.failure(.noProcess(nobody)))")
        let refusals = try await node.abcast("echo", Term.atom("ignored"), on: [peer.name])
        #expect(refusals.isEmpty)
    }
}
