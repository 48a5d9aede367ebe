import Testing
@testable import OTP

/// A request's owner (the seam the async facade uses): records how each request ended, as the call race
/// (`Node.endRequest`) decided it.
private final class RaceRecorder: MonitorOwner {
    let requester: PID
    let server: PID
    var outcomes: [String] = []

    init(requester: PID, server: PID) {
        self.requester = requester
        self.server = server
    }

    func monitorEnded(_ ref: Ref, _ event: MonitorEvent, on node: Node) {
        let result = node.endRequest(RequestID<Int>(ref: ref, server: server), of: requester, RequestEnding(event))
        outcomes.append("\(result)")
    }
}

/// Requests whose outcome goes to an owner instead of the requester's mailbox: the first of reply,
/// server exit, deadline and the requester's exit is told once, the request is closed by the race, and
/// nothing reaches the requester's mailbox.
@Suite("Request owners and the call race")
struct RequestOwnerTests {
    /// A requester, a server that never answers on its own, a request between them handed to a recorder.
    private func setUp(_ node: Node, deadline: UInt64?) throws -> (RaceRecorder, Ref) {
        let requester = try spawnIdler(node).pid
        let server = try spawnIdler(node).pid
        node.runUntilIdle()
        let ref = node.openRequest(from: requester, to: server)
        let recorder = RaceRecorder(requester: requester, server: server)
        #expect(node.deliverOutcome(of: ref, to: recorder, deadline: deadline))
        return (recorder, ref)
    }

    private func assertClosed(_ node: Node, _ recorder: RaceRecorder) {
        #expect(node.statistics.monitors == 0)
        #expect(node.statistics.pendingTimers == 0)
        #expect(node.processInfo(recorder.requester)?.mailboxLength == 0)
    }

    @Test("The reply wins: told once, the deadline never filed, a second reply dropped and counted")
    func replyFirst() throws {
        let node = makeNode()
        let (recorder, ref) = try setUp(node, deadline: 100)
        #expect(node.reply(to: Caller<Int>(pid: recorder.requester, ref: ref), 42))
        #expect(recorder.outcomes == ["success(42)"])
        assertClosed(node, recorder)
        #expect(!node.reply(to: Caller<Int>(pid: recorder.requester, ref: ref), 43))
        #expect(node.statistics.ignoredReplies == 1)
        node.advance(by: 200)
        #expect(recorder.outcomes == ["success(42)"])
        // Answered before a drain ended: its deadline was never filed in the timer wheel.
        #expect(node.timers.wheel.entryHighWater == 0)
    }

    @Test("The deadline wins at its millisecond exactly; a late reply is dropped")
    func deadlineFirst() throws {
        let node = makeNode()
        let (recorder, ref) = try setUp(node, deadline: 100)
        node.advance(by: 99)
        #expect(recorder.outcomes.isEmpty)
        node.advance(by: 1)
        #expect(recorder.outcomes == ["failure(call to \(recorder.server) timed out)"])
        assertClosed(node, recorder)
        #expect(!node.reply(to: Caller<Int>(pid: recorder.requester, ref: ref), 1))
        #expect(recorder.outcomes.count == 1)
    }

    @Test("The server's exit wins: serverExited with its reason, no DOWN in the requester's mailbox")
    func serverExitFirst() throws {
        let node = makeNode()
        let (recorder, _) = try setUp(node, deadline: nil)
        node.exit(recorder.server, reason: .kill)
        #expect(recorder.outcomes == ["failure(server \(recorder.server) exited during the call: killed)"])
        assertClosed(node, recorder)
    }

    @Test("The requester's exit ends the request: the owner learns that nothing will answer")
    func requesterExit() throws {
        let node = makeNode()
        let (recorder, _) = try setUp(node, deadline: 5_000)
        node.exit(recorder.requester, reason: .kill)
        #expect(recorder.outcomes == ["failure(the node stopped before the call completed)"])
        #expect(node.statistics.monitors == 0 && node.statistics.pendingTimers == 0)
        node.advance(by: 10_000)
        #expect(recorder.outcomes.count == 1)
    }

    @Test("A request to a server that was already gone has no owner to give: deliverOutcome says so")
    func serverAlreadyGone() throws {
        let node = makeNode()
        let requester = try spawnIdler(node).pid
        let server = try spawnIdler(node).pid
        node.exit(server, reason: .kill)
        let ref = node.openRequest(from: requester, to: server)
        let recorder = RaceRecorder(requester: requester, server: server)
        #expect(!node.deliverOutcome(of: ref, to: recorder, deadline: 100))
        // The requester ends it itself, as the facade does: noproc, and the queued DOWN is flushed.
        let result = node.endRequest(RequestID<Int>(ref: ref, server: server), of: requester, .down(.noproc))
        #expect("\(result)" == "failure(process \(server) is not alive (noproc))")
        node.runUntilIdle()
        #expect(node.processInfo(requester)?.mailboxLength == 0 && node.statistics.monitors == 0)
    }

    @Test("abandon: the caller gives up; a reply that comes later is dropped and counted, nothing is queued")
    func abandon() throws {
        let node = makeNode()
        let server = try spawnIdler(node).pid
        let log = Log<String>()
        let caller = try node.spawn(of: Int.self) { process in
            let id = RequestID<Int>(ref: process.currentNode.openRequest(from: process.pid, to: server), server: server)
            process.abandon(id)
            process.abandon(id)  // a second time does nothing
            log.append("\(process.currentNode.reply(to: Caller<Int>(pid: process.pid, ref: id.ref), 7))")
            return .receive { envelope, _ in
                log.append("received \(envelope)")
                return .same
            }
        }
        node.runUntilIdle()
        #expect(log.entries == ["false"])
        #expect(node.statistics.ignoredReplies == 1 && node.statistics.monitors == 0)
        #expect(node.processInfo(caller.pid)?.mailboxLength == 0)
    }
}
