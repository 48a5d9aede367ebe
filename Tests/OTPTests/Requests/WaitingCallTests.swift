import Testing
@testable import OTP

/// A call from a closure process that has to wait — its server busy, slow or gone — stores a response
/// wait (`ProcessContext.receiveResponse`) instead of running its continuation at once, as a call to an
/// idle server does. These pin that path's outcomes: the reply, each failure naming its server, a typed
/// reply, and `.same` returning to the receive in force.
@Suite("Calls that wait")
struct WaitingCallTests {
    @Test("A call to a busy server waits for its turn; the reply reaches the continuation, and .same goes back to the receive")
    func replyAfterWaiting() throws {
        let node = makeNode()
        let server = try node.start(Counter.self, 40)
        let events = Log<String>()
        let caller = try node.spawn(of: Command.self) { _ in
            .receive { envelope, process in
                guard case .message(.value(let n)) = envelope else { return .same }
                // Queued first, more than one turn's 64 messages: the server's turn, run at once for the
                // call, ends before the request, so the call waits.
                for _ in 0..<100 { process.cast(server, .add(0)) }
                process.cast(server, .add(n))
                return try process.call(server, .get) { result, _ in
                    events.append("reply \(try result.get())")
                    return .same
                }
            }
        }
        try node.send(.value(1), to: caller)
        try node.send(.value(2), to: caller)  // taken by the receive in force after the first call
        node.runUntilIdle()
        #expect(events.entries == ["reply 41", "reply 43"])
        #expect(node.statistics.callsServedInline == 0)
        #expect(node.isAlive(caller.pid))
    }

    @Test("A server that exits before answering: serverExited names it, with its reason")
    func serverExits() throws {
        let node = makeNode()
        let server = try node.start(Counter.self, 0)
        let serverPID = try #require(server.pid)
        let outcome = Log<String>()
        try node.spawn(of: Never.self) { process in
            process.cast(server, .crash)  // handled before the call: the server exits with the call queued
            return try process.call(server, .get) { result, _ in
                outcome.append("\(result)")
                return .exit(.normal)
            }
        }
        node.runUntilIdle()
        let expected = Result<Int, CallError>.failure(
            .serverExited(serverPID, reason: .error(TestFailure(text: "crash in cast"))))
        #expect(outcome.entries == ["\(expected)"])
    }

    @Test("A server that never answers in time: timeout names it, on the manual clock")
    func timesOut() throws {
        let node = makeNode()
        let server = try node.start(Delayer.self, 10_000)
        let serverPID = try #require(server.pid)
        let outcome = Log<String>()
        try node.spawn(of: Never.self) { process in
            try process.call(server, .slow, timeout: .milliseconds(100)) { result, _ in
                outcome.append("\(result)")
                return .exit(.normal)
            }
        }
        node.runUntilIdle()
        node.advance(by: 99)
        #expect(outcome.entries.isEmpty)
        node.advance(by: 1)
        #expect(outcome.entries == ["\(Result<String, CallError>.failure(.timeout(serverPID)))"])
    }

    @Test("A request to a process already gone: noProcess names it (its DOWN is the response)")
    func noProcess() throws {
        let node = makeNode()
        let server = try node.start(Counter.self, 0)
        let serverPID = try #require(server.pid)
        node.exit(serverPID, reason: .kill)
        node.runUntilIdle()
        let outcome = Log<String>()
        try node.spawn(of: Never.self) { process in
            let id = try process.sendRequest(ServerRef<Counter>(pid: serverPID), .get).get()
            return process.receiveResponse(id) { result, _ in
                outcome.append("\(result)")
                return .exit(.normal)
            }
        }
        node.runUntilIdle()
        #expect(outcome.entries == ["\(Result<Int, CallError>.failure(.noProcess(serverPID)))"])
    }

    @Test("A typed request that waits: the continuation gets the reply's own type")
    func typedReply() throws {
        let node = makeNode()
        let store = try node.start(TypedStore())
        let outcome = Log<String>()
        try node.spawn(of: Never.self) { process in
            try process.ask(store, { .set("a", "1", $0) }) { _, process in
                let id = try process.sendRequest(store, { .get("a", $0) }).get()
                return process.receiveResponse(id) { value, _ in
                    outcome.append("\(String(describing: try value.get()))")
                    return .exit(.normal)
                }
            }
        }
        node.runUntilIdle()
        #expect(outcome.entries == ["Optional(\"1\")"])
    }
}
