import Testing
@testable import OTP

@Suite("GenServer: calls, casts and replies")
struct GenServerCallTests {
    @Test("start, call, cast and info on a counter; a name works wherever a reference does")
    func counter() throws {
        let node = makeNode()
        let counter = try node.start(Counter.self, 0, options: StartOptions(name: "counter"))
        #expect(try node.call(counter, .get) == 0)
        #expect(try node.call(counter, .add(5)) == 5)
        #expect(node.cast(counter, .add(2)) == .delivered)
        let byName: ServerRef<Counter> = .named("counter")
        #expect(try node.call(byName, .get) == 7)
        try node.send(.add(1), to: byName)
        #expect(try node.call(counter, .get) == 8)
        let stats = try node.statistics(of: byName)
        #expect(stats.calls == 4 && stats.casts == 1 && stats.infos == 1 && stats.repliesOut == 4)
    }

    @Test("noproc for an unknown name or a dead server, at once")
    func noproc() throws {
        let node = makeNode()
        #expect(throws: CallError.unknownName("ghost")) { try node.call(ServerRef<Counter>.named("ghost"), .get) }
        let counter = try node.start(Counter.self, 0)
        try node.stop(counter)
        #expect(throws: CallError.noProcess(counter.pid!)) { try node.call(counter, .get) }
        #expect(node.now == 0)
    }

    @Test("a call from a process to a pid of another node fails with noProcess at once; a request gets its DOWN")
    func callToAnotherNodesPid() throws {
        let node = makeNode()
        let elsewhere = ServerRef<Counter>(pid: PID(node: node.number &+ 7, index: 1, serial: 1))
        let log = Log<String>()
        try node.spawn(of: Never.self) { process in
            let request = try process.sendRequest(elsewhere, .get).get()
            return try process.call(elsewhere, .get) { result, process in
                log.append("call: \(result)")
                return process.receiveResponse(request) { result, _ in
                    log.append("request: \(result)")
                    return .exit(.normal)
                }
            }
        }
        node.runUntilIdle()
        let pid = elsewhere.pid!
        #expect(log.entries == ["call: \(Result<Int, CallError>.failure(.noProcess(pid)))",
                                "request: \(Result<Int, CallError>.failure(.noProcess(pid)))"])
        #expect(node.statistics.monitors == 0)
    }

    @Test("a server calling itself gets callingSelf")
    func callingSelf() throws {
        let node = makeNode()
        let counter = try node.start(Counter.self, 1)
        let events = Log<String>()
        try node.replaceState(counter) { state in
            var state = state
            state.events = events
            return state
        }
        #expect(try node.call(counter, .callOther(counter)) == -1)
        #expect(events.entries == ["process \(counter.pid!) called itself"])
    }

    @Test("call timeout: the caller gets timeout, the server keeps running, the late reply never arrives")
    func callTimeout() throws {
        let node = makeNode()
        let delayer = try node.start(Delayer.self, 20)
        let log = Log<String>()
        let caller = try node.spawn(of: Int.self) { process in
            try process.call(delayer, .slow, timeout: .milliseconds(5)) { result, _ in
                log.append("\(result)")
                return .receive(timeout: .seconds(1), after: { _ in
                    log.append("mailbox stayed empty")
                    return .exit(.normal)
                }) { envelope, _ in
                    log.append("stray \(envelope)")
                    return .exit(.normal)
                }
            }
        }
        node.runUntilIdle()
        node.advance(by: 5)
        #expect(log.entries == ["failure(call to \(delayer.pid!) timed out)"])
        node.advance(by: 15)  // the server replies now, to a request that is gone
        #expect(node.processInfo(caller.pid)?.mailboxLength == 0)
        #expect(try node.call(delayer, .pending) == "0")
        node.advance(by: 1_000)
        #expect(log.entries.last == "mailbox stayed empty")
        #expect(node.statistics.ignoredReplies == 2)
        #expect(node.statistics.monitors == 0)
    }

    @Test("a delayed reply arrives after other messages; the second reply is ignored and counted")
    func delayedReply() throws {
        let node = makeNode()
        let delayer = try node.start(Delayer.self, 20)
        let state = try node.getState(delayer)
        let started = node.now
        #expect(try node.call(delayer, .slow, timeout: .seconds(1)) == "done")
        #expect(node.now - started == 20)
        #expect(state.delivered.entries == [true, false])
        #expect(node.statistics.ignoredReplies == 1)
    }

    @Test("a server that crashes mid-call gives the caller the crash reason and a crash report")
    func crashDuringCall() throws {
        let reports = Reports()
        let node = makeNode(reports: reports)
        let counter = try node.start(Counter.self, 3, options: StartOptions(name: "crashy"))
        #expect(throws: CallError.serverExited(counter.pid!, reason: .error(TestFailure(text: "crash in call")))) {
            try node.call(counter, .crash)
        }
        #expect(!node.isAlive(counter.pid!))
        #expect(node.whereis("crashy") == nil)
        let crash = reports.log.entries.compactMap { entry -> String? in
            if case .serverCrash = entry { return entry.description }
            return nil
        }
        #expect(crash.count == 1)
        #expect(crash.first?.hasPrefix("crash report: server \(counter.pid!) (crashy) terminating: "
            + "reason error(TestFailure: crash in call); last message: call crash from <0.") == true)
        #expect(crash.first?.hasSuffix("; state: count=3") == true)
    }

    @Test("a full mailbox refuses a call with mailboxFull and a cast reports it")
    func fullMailbox() throws {
        let node = makeNode()
        let counter = try node.start(Counter.self, 0, options: StartOptions(mailboxCapacity: 1))
        try node.suspend(counter)
        #expect(node.cast(counter, .add(1)) == .delivered)
        #expect(node.cast(counter, .add(1)) == .mailboxFull(counter.pid!, capacity: 1))
        #expect(throws: CallError.mailboxFull(counter.pid!, capacity: 1)) { try node.call(counter, .get) }
        try node.resume(counter)
        #expect(try node.call(counter, .get) == 1)
        #expect(node.cast(ServerRef<Counter>.named("nobody"), .add(1)) == .unknownName("nobody"))
    }

    @Test("a server calls another server inside a handler and continues with the reply")
    func nestedCall() throws {
        let node = makeNode()
        let a = try node.start(Counter.self, 10)
        let b = try node.start(Counter.self, 32)
        #expect(try node.call(a, .callOther(b)) == 42)
    }

    @Test("a plain process's other messages stay queued in order while it waits for a reply")
    func callerKeepsOtherMessages() throws {
        let node = makeNode()
        let counter = try node.start(Counter.self, 7)
        let log = Log<String>()
        let client = try node.spawn(of: String.self) { process in
            try process.call(counter, .get) { result, _ in
                log.append("reply \(try result.get())")
                return .receive { envelope, _ in
                    log.append(envelope.message!)
                    return .same
                }
            }
        }
        try node.send("first", to: client)
        try node.send("second", to: client)
        node.runUntilIdle()
        #expect(log.entries == ["reply 7", "first", "second"])
    }
}
