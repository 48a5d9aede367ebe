import Testing
@testable import OTP

/// A reply wait starts at its request's receive mark (Erlang's receive marker): it skips the messages
/// queued before the request, and still finds its response whatever the process took or flushed between
/// making the request and waiting for it. (How fast: `make bench`, "call round trip ... messages queued".)
@Suite("Receive marks")
struct ReceiveMarkTests {
    @Test("Calls from a process with 10,000 queued messages are answered, in order, and leave the queue as it was")
    func longMailbox() throws {
        let node = makeNode()
        let server = try node.start(Counter.self, 0)
        let results = Log<Int>()
        let caller = try node.spawn(of: Command.self) { process in
            .receive { _, process in  // the first message starts the calls; the rest stay queued
                try Self.call(50, server, process, results)
            }
        }
        for i in 0...10_000 { try node.send(Command.value(i), to: caller) }
        node.runUntilIdle()
        #expect(results.entries == Array(1...50))
        #expect(node.processInfo(caller.pid)?.mailboxLength == 10_000)
    }

    private static func call(_ remaining: Int, _ server: ServerRef<Counter>, _ process: ProcessContext<Command>,
                             _ results: Log<Int>) throws -> Step<Command> {
        guard remaining > 0 else { return .receive(matching: { _ in false }) { _, _ in .same } }
        return try process.call(server, .add(1)) { result, process in
            results.append(try result.get())
            return try Self.call(remaining - 1, server, process, results)
        }
    }

    @Test("The response is found after the process took and flushed messages between the request and the wait")
    func messagesTakenBetweenRequestAndWait() throws {
        let node = makeNode()
        let server = try node.start(Counter.self, 7)
        let dead = try spawnIdler(node).pid
        node.exit(dead, reason: .kill)
        let outcome = Log<String>()
        let caller = try node.spawn(of: Command.self) { process in
            // A DOWN queued before the request (flushed later), then the request.
            let stale = process.monitor(dead)
            let id = try process.sendRequest(server, .get).get()
            return .receive(matching: { if case .message = $0 { return true } else { return false } }) { envelope, process in
                // Take one queued message (from before the mark) and flush the stale DOWN, then wait.
                outcome.append("took \(envelope.message.map { "\($0)" } ?? "?")")
                _ = process.demonitor(stale, flush: true)
                return process.receiveResponse(id) { result, _ in
                    outcome.append("reply \(try result.get())")
                    return .exit(.normal)
                }
            }
        }
        try node.send(.value(1), to: caller)
        try node.send(.value(2), to: caller)
        node.runUntilIdle()
        #expect(outcome.entries == ["took value(1)", "reply 7"])
        #expect(!node.isAlive(caller.pid))
    }

    @Test("A GenServer awaiting another server's reply with a long mailbox gets it, and then its queued calls in order")
    func serverAwaitWithLongMailbox() throws {
        let node = makeNode()
        let other = try node.start(Counter.self, 5)
        let server = try node.start(Counter.self, 1)
        // Casts queued on `server`, then a call that makes it await `other`, then casts queued behind the
        // call: they wait in the server's mailbox while it awaits, and its scan skips them.
        for _ in 0..<2_000 { node.cast(server, .add(1)) }
        let answer = Log<Int>()
        _ = try node.spawn(of: Never.self) { process in
            let step = try process.call(server, .callOther(ServerRef(pid: other.pid!))) { result, _ in
                answer.append(try result.get())
                return .exit(.normal)
            }
            for _ in 0..<2_000 { process.cast(server, .add(1)) }
            return step
        }
        node.runUntilIdle()
        #expect(answer.entries == [5 + 2_001])
        #expect(try node.call(server, .get) == 4_001)
    }

    /// A caller that counts how many queued messages its waits look at.
    private struct CountingCaller: ProcessBehavior {
        typealias Message = Int
        let server: ServerRef<Counter>
        let examined: Log<Int>
        var remaining: Int
        var request: RequestID<Int>?

        mutating func start(_ process: ProcessContext<Int>) throws -> Next { try issue(process) }

        func accepts(_ envelope: borrowing Envelope<Int>) -> Bool {
            examined.append(1)
            guard let request else { return true }
            return envelope.isResponse(to: request.ref)
        }

        var awaitedReference: Ref? { request?.ref }

        mutating func receive(_ envelope: consuming Envelope<Int>, _ process: ProcessContext<Int>) throws -> Next {
            _ = try process.check(envelope, for: request!)!.get()
            remaining -= 1
            return remaining == 0 ? .exit(.normal) : try issue(process)
        }

        mutating func issue(_ process: ProcessContext<Int>) throws -> Next {
            request = try process.sendRequest(server, .get).get()
            return .receive
        }
    }

    @Test("Each wait looks at its response only, not at the 1,000 messages queued before it")
    func waitsLookAtTheResponseOnly() throws {
        let node = makeNode()
        let server = try node.start(Counter.self, 0)
        let examined = Log<Int>()
        let caller = try node.spawn(CountingCaller(server: server, examined: examined, remaining: 20))
        for i in 0..<1_000 { try node.send(i, to: caller) }
        node.runUntilIdle()
        #expect(!node.isAlive(caller.pid))
        #expect(examined.count == 20)  // one per call: its own reply (a full scan would be 20 x 1,001)
    }
}
