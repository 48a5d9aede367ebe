import Testing
@testable import OTP

@Suite("Send and receive")
struct SendReceiveTests {
    @Test("messages from one sender arrive in send order, for each sender pair")
    func fifoPerSenderPair() throws {
        let node = makeNode()
        let log = Log<Envelope<[Int]>>()
        let sink = try spawnCollector(node, into: log)
        for sender in 0..<3 {
            try node.spawn(of: Never.self) { process in
                for seq in 0..<100 { try process.send([sender, seq], to: sink) }
                return .exit(.normal)
            }
        }
        node.runUntilIdle()
        let received = log.entries.compactMap(\.message)
        #expect(received.count == 300)
        for sender in 0..<3 {
            #expect(received.filter { $0[0] == sender }.map { $0[1] } == Array(0..<100))
        }
    }

    @Test("selective receive takes the first match and keeps the others queued in order")
    func selectiveReceive() throws {
        let node = makeNode()
        let log = Log<String>()
        let target = try node.spawn(of: String.self) { _ in
            // First wait only for "b", then take everything in order.
            .receive(matching: { $0.message == "b" }) { envelope, _ in
                log.append("first:\(envelope.message!)")
                return .receive { envelope, _ in
                    log.append(envelope.message!)
                    return .same
                }
            }
        }
        for word in ["a", "c", "b", "d"] { try node.send(word, to: target) }
        node.runUntilIdle()
        #expect(log.entries == ["first:b", "a", "c", "d"])
    }

    @Test("a selective wait re-scans only new messages and wakes when a match arrives")
    func selectiveWaitWakesOnMatch() throws {
        let node = makeNode()
        let log = Log<Int>()
        let target = try node.spawn(of: Int.self) { _ in
            .receive(matching: { ($0.message ?? 0) > 100 }) { envelope, _ in
                log.append(envelope.message!)
                return .exit(.normal)
            }
        }
        try node.send(1, to: target)
        try node.send(2, to: target)
        node.runUntilIdle()
        #expect(log.entries.isEmpty)
        #expect(node.processInfo(target.pid)?.status == .waiting)
        #expect(node.processInfo(target.pid)?.mailboxLength == 2)
        try node.send(500, to: target)
        node.runUntilIdle()
        #expect(log.entries == [500])
        #expect(!node.isAlive(target.pid))
    }

    @Test("receive with a timeout runs the after branch when nothing arrives in time")
    func receiveTimeout() throws {
        let node = makeNode()
        let log = Log<String>()
        _ = try node.spawn(of: Int.self) { _ in
            .receive(timeout: .milliseconds(50), after: { _ in
                log.append("timeout")
                return .exit(.normal)
            }) { _, _ in
                log.append("message")
                return .exit(.normal)
            }
        }
        node.runUntilIdle()
        node.advance(by: 49)
        #expect(log.entries == [])
        node.advance(by: 1)
        #expect(log.entries == ["timeout"])
        #expect(node.statistics.pendingTimers == 0)
    }

    @Test("after a selective receive times out, the next receive sees the messages that stayed queued")
    func receiveAfterSelectiveTimeout() throws {
        let node = makeNode()
        let log = Log<String>()
        let target = try node.spawn(of: Int.self) { _ in
            .receive(matching: { $0.message == 0 }, timeout: .milliseconds(300), after: { _ in
                log.append("timeout")
                return .receive { envelope, _ in
                    log.append("got \(envelope.message!)")
                    return .same
                }
            }) { _, _ in .same }
        }
        node.runUntilIdle()
        for i in 1...3 { try node.send(i, to: target) }
        node.runUntilIdle()
        #expect(log.entries.isEmpty)
        node.advance(by: .milliseconds(300))
        #expect(log.entries == ["timeout", "got 1", "got 2", "got 3"])
    }

    @Test("a message before the timeout cancels the receive timer")
    func messageBeatsTimeout() throws {
        let node = makeNode()
        let log = Log<String>()
        let target = try node.spawn(of: Int.self) { _ in
            .receive(timeout: .milliseconds(50), after: { _ in
                log.append("timeout")
                return .exit(.normal)
            }) { envelope, _ in
                log.append("got \(envelope.message!)")
                return .receive { _, _ in .same }
            }
        }
        node.runUntilIdle()
        #expect(node.statistics.pendingTimers == 1)
        node.advance(by: 10)
        try node.send(7, to: target)
        node.runUntilIdle()
        #expect(node.statistics.pendingTimers == 0)
        node.advance(by: 100)
        #expect(log.entries == ["got 7"])
    }

    @Test("timeout zero polls: a queued match is taken, otherwise the after branch runs at once")
    func poll() throws {
        let node = makeNode()
        let log = Log<String>()
        let target = try node.spawn(of: Int.self) { _ in
            .receive(matching: { $0.message == 1 }) { _, _ in
                // Now poll twice: the first finds 2 queued, the second finds nothing.
                .receive(timeout: .zero, after: { _ in
                    log.append("empty")
                    return .exit(.normal)
                }) { envelope, _ in
                    log.append("polled \(envelope.message!)")
                    return .same
                }
            }
        }
        try node.send(2, to: target)
        try node.send(1, to: target)
        node.runUntilIdle()
        #expect(log.entries == ["polled 2", "empty"])
        #expect(node.now == 0)
    }

    @Test("a negative receive timeout makes the process exit with invalidTimeout")
    func negativeTimeout() throws {
        let reports = Reports()
        let node = makeNode(reports: reports)
        let log = Log<Envelope<Never>>()
        let watcher = try spawnCollector(node, into: log)
        let bad = try node.spawn(of: Int.self) { _ in .receive(timeout: .milliseconds(-1)) { _, _ in .same } }
        let ref = node.monitor(bad.pid, by: watcher.pid)
        node.runUntilIdle()
        #expect(log.entries == [.down(Down(monitor: ref, pid: bad.pid,
                                           reason: .error(ProcessError.invalidTimeout("-1 ms is negative"))))])
    }

    @Test("a full mailbox refuses the send with mailboxFull naming the pid; nothing is dropped silently")
    func mailboxFull() throws {
        let node = makeNode()
        let target = try spawnIdler(node, options: SpawnOptions(mailboxCapacity: 2))
        // The idler has not run yet; its mailbox takes two messages.
        try node.send(.value(1), to: target)
        try node.send(.value(2), to: target)
        #expect(throws: ProcessError.mailboxFull(target.pid, capacity: 2)) {
            try node.send(.value(3), to: target)
        }
        #expect(node.statistics.refusedMailboxFull == 1)
        #expect(node.statistics.delivered == 2)
        node.runUntilIdle()
        try node.send(.value(4), to: target)  // drained: room again
        #expect(node.processInfo(target.pid)?.mailboxLength == 1)
    }

    @Test("a sender process learns of a full mailbox and can react")
    func fullMailboxReportedToSenderProcess() throws {
        let node = makeNode()
        let target = try spawnIdler(node, options: SpawnOptions(mailboxCapacity: 1))
        let outcomes = Log<String>()
        try node.spawn(of: Never.self) { process in
            for i in 0..<3 {
                do throws(ProcessError) {
                    try process.send(.value(i), to: target)
                    outcomes.append("ok \(i)")
                } catch {
                    outcomes.append("\(error)")
                }
            }
            return .exit(.normal)
        }
        node.runUntilIdle()
        #expect(outcomes.entries == ["ok 0", "mailbox of \(target.pid) is full (1 messages)",
                                     "mailbox of \(target.pid) is full (1 messages)"])
    }

    @Test("sending to a dead pid succeeds and is counted as dropped")
    func sendToDeadPid() throws {
        let node = makeNode()
        let target = try spawnIdler(node)
        try node.send(.exit(.normal), to: target)
        node.runUntilIdle()
        #expect(!node.isAlive(target.pid))
        try node.send(.value(1), to: target)
        try node.send(Command.value(2), to: target.pid)
        #expect(node.statistics.droppedToDeadProcesses == 2)
    }

    @Test("sending to an unknown name throws unknownName; a wrong type throws wrongMessageType")
    func sendByName() throws {
        let node = makeNode()
        #expect(throws: ProcessError.unknownName("nobody")) { try node.send(1, to: "nobody") }
        let log = Log<Envelope<Int>>()
        let target = try spawnCollector(node, into: log, options: SpawnOptions(name: "ints"))
        try node.send(5, to: "ints")
        #expect(throws: ProcessError.wrongMessageType(target.pid, expected: "String", accepted: "Int")) {
            try node.send("five", to: "ints")
        }
        #expect(throws: ProcessError.wrongMessageType(target.pid, expected: "String", accepted: "Int")) {
            try node.send("five", to: target.pid)
        }
        node.runUntilIdle()
        #expect(log.entries == [.message(5)])
    }

    @Test("a process whose body throws exits with the error as its reason and is reported")
    func throwingBody() throws {
        let reports = Reports()
        let node = makeNode(reports: reports)
        let log = Log<Envelope<Never>>()
        let watcher = try spawnCollector(node, into: log)
        let failing = try node.spawn(of: Int.self) { _ in
            .receive { _, _ in throw TestFailure(text: "boom") }
        }
        let ref = node.monitor(failing.pid, by: watcher.pid)
        try node.send(1, to: failing)
        node.runUntilIdle()
        #expect(log.entries == [.down(Down(monitor: ref, pid: failing.pid, reason: .error(TestFailure(text: "boom"))))])
        #expect(reports.crashes == [.error(TestFailure(text: "boom"))])
    }

    @Test("statistics count received and sent messages per process")
    func perProcessCounters() throws {
        let node = makeNode()
        let log = Log<Envelope<Int>>()
        let sink = try spawnCollector(node, into: log)
        let sender = try node.spawn(of: Never.self) { process in
            for i in 0..<5 { try process.send(i, to: sink) }
            return .receive { _, _ in .same }
        }
        node.runUntilIdle()
        #expect(node.processInfo(sender.pid)?.messagesSent == 5)
        #expect(node.processInfo(sink.pid)?.messagesReceived == 5)
        #expect(node.processInfo(sink.pid)?.messagesSent == 0)
    }
}
