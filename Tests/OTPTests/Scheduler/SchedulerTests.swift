import Testing
@testable import OTP

@Suite("Scheduler")
struct SchedulerTests {
    @Test("a busy process yields after its budget; two busy processes alternate in turns of 64")
    func fairTurns() throws {
        let node = makeNode()
        let order = Log<Character>()
        func worker(_ tag: Character) throws -> Address<Int> {
            try node.spawn(of: Int.self) { _ in
                .receive { _, _ in
                    order.append(tag)
                    return .same
                }
            }
        }
        let a = try worker("a")
        let b = try worker("b")
        node.runUntilIdle()
        for i in 0..<200 { try node.send(i, to: a) }
        for i in 0..<200 { try node.send(i, to: b) }
        node.runUntilIdle()
        let expected = Array(repeating: "a", count: 64) + Array(repeating: "b", count: 64)
            + Array(repeating: "a", count: 64) + Array(repeating: "b", count: 64)
            + Array(repeating: "a", count: 64) + Array(repeating: "b", count: 64)
            + Array(repeating: "a", count: 8) + Array(repeating: "b", count: 8)
        #expect(String(order.entries) == expected.joined())
    }

    @Test("a process that always has work does not starve a newly spawned one (its sends count toward its budget)")
    func noStarvation() throws {
        let node = makeNode()
        let log = Log<String>()
        var spins = 0
        let spinner = try node.spawn(of: Int.self) { _ in
            .receive { _, process in
                spins += 1
                if spins < 10_000 { try process.send(0, to: process.address) }
                return .same
            }
        }
        try node.send(0, to: spinner)
        try node.spawn(of: Int.self) { _ in
            log.append("ran at spin \(spins)")
            return .exit(.normal)
        }
        node.runUntilIdle()
        #expect(log.entries == ["ran at spin 32"])  // 32 messages handled + 32 sent = the budget of 64
        #expect(spins == 10_000)
    }

    @Test("sends count toward the turn budget: a process that fans out yields, and its receiver keeps up")
    func sendsCountTowardTheBudget() throws {
        let node = makeNode()
        let order = Log<String>()
        let sink = try node.spawn(of: Int.self) { _ in
            .receive { _, process in
                order.append("sink")
                return .same
            }
        }
        // Each message makes the broadcaster send 20: after four (84 units) it has used its budget of 64.
        let broadcaster = try node.spawn(of: Int.self) { _ in
            .receive { envelope, process in
                order.append("broadcast \(envelope.message!)")
                for i in 0..<20 { try process.send(i, to: sink) }
                return .same
            }
        }
        node.runUntilIdle()
        for i in 0..<6 { try node.send(i, to: broadcaster) }
        node.runUntilIdle()
        // The sink then takes its own turn of 64 before the broadcaster finishes (without counting sends:
        // all six broadcasts, then 120 sinks).
        let expected = ["broadcast 0", "broadcast 1", "broadcast 2", "broadcast 3"] + Array(repeating: "sink", count: 64)
            + ["broadcast 4", "broadcast 5"] + Array(repeating: "sink", count: 56)
        #expect(order.entries == expected)
    }

    @Test("a handler that floods a mailbox lends its receiver a turn each 64 sends past 256 queued; order is kept")
    func floodLendsTurns() throws {
        let node = makeNode()
        let received = Log<Int>()
        let receiver = try node.spawn(of: Int.self) { _ in
            .receive { envelope, _ in
                received.append(envelope.message!)
                return .same
            }
        }
        node.runUntilIdle()
        var longest = 0
        try node.spawn(of: Never.self) { process in
            for i in 0..<10_000 {
                try process.send(i, to: receiver)
                longest = max(longest, process.currentNode.processInfo(receiver.pid)!.mailboxLength)
            }
            return .exit(.normal)
        }
        node.runUntilIdle()
        #expect(longest == 255)  // 256 at the push that lends a turn; without lent turns: 10,000
        // The first at the 256th send, then one each 64 sends: (10,000 - 256) / 64 + 1.
        #expect(node.statistics.lentTurns == 153)
        #expect(received.entries == Array(0..<10_000))
    }

    @Test("a receiver that exits in a lent turn: the sender goes on, later sends are dropped, the loop is intact")
    func lentTurnExit() throws {
        let node = makeNode()
        let receiver = try node.spawn(of: Int.self) { _ in
            .receive { envelope, _ in envelope.message == 300 ? .exit(.custom("enough")) : .same }
        }
        let watcher = Log<ExitReason>()
        try node.spawn(of: Never.self) { process in
            _ = process.monitor(receiver.pid)
            return .receive { envelope, _ in
                if case .down(let down) = envelope { watcher.append(down.reason) }
                return .exit(.normal)
            }
        }
        node.runUntilIdle()
        let sent = Log<Int>()
        let sender = try node.spawn(of: Never.self) { process in
            for i in 0..<1_000 { try process.send(i, to: receiver) }
            sent.append(1_000)
            return .exit(.normal)
        }
        node.runUntilIdle()
        #expect(sent.entries == [1_000])
        #expect(watcher.entries == [.custom("enough")])
        #expect(!node.isAlive(receiver.pid) && !node.isAlive(sender.pid))
        // Lent at sends 256, 320, 384, 448 and 512, each turn taking 64 messages; in the fifth it takes
        // message 300 and exits, so the 488 sends after the 512th find no process.
        #expect(node.statistics.lentTurns == 5)
        #expect(node.statistics.droppedToDeadProcesses == 488)
    }

    @Test("a linked sender whose receiver crashes in a lent turn exits with it once its handler returns")
    func lentTurnCrashReachesLinkedSender() throws {
        let node = makeNode()
        let receiver = try node.spawn(of: Int.self) { _ in
            .receive { envelope, _ in
                if envelope.message == 300 { throw TestFailure(text: "boom") }
                return .same
            }
        }
        node.runUntilIdle()
        let progress = Log<String>()
        let sender = try node.spawn(of: Never.self) { process in
            process.link(receiver.pid)
            for i in 0..<1_000 { try process.send(i, to: receiver) }
            progress.append("handler finished")  // the exit signal waits for the callback to return
            return .receive { _, _ in
                progress.append("never")
                return .same
            }
        }
        node.runUntilIdle()
        #expect(progress.entries == ["handler finished"])
        #expect(!node.isAlive(receiver.pid) && !node.isAlive(sender.pid))
    }

    @Test("a custom ProcessBehavior runs allocation-free state machines")
    func structBehaviour() throws {
        struct Counter: ProcessBehavior {
            var total = 0
            let results: Log<Int>
            mutating func receive(_ envelope: consuming Envelope<Int>, _ process: ProcessContext<Int>) throws -> Next {
                guard case .message(let n) = envelope else { return .receive }
                if n < 0 {
                    results.append(total)
                    return .exit(.normal)
                }
                total += n
                return .receive
            }
        }
        let node = makeNode()
        let results = Log<Int>()
        let counter = try node.spawn(Counter(results: results))
        for i in 1...100 { try node.send(i, to: counter) }
        try node.send(-1, to: counter)
        node.runUntilIdle()
        #expect(results.entries == [5050])
    }
}
