import Testing
@testable import OTP

@Suite("Timers")
struct TimerTests {
    @Test("sendAfter delivers exactly when the manual clock reaches the deadline")
    func sendAfterFiresOnTime() throws {
        let node = makeNode()
        let log = Log<UInt64>()
        let target = try node.spawn(of: String.self) { process in
            .receive { _, process in
                log.append(process.currentNode.now)
                return .same
            }
        }
        try node.sendAfter(.milliseconds(100), "tick", to: target)
        node.advance(by: 99)
        #expect(log.entries == [])
        node.advance(by: 1)
        #expect(log.entries == [100])
        #expect(node.statistics.pendingTimers == 0)
    }

    @Test("a wait that ends in the drain that began it files no timer; one still waiting is filed with its deadline")
    func deferredWaitTimers() throws {
        let node = makeNode()
        let server = try node.start(Counter.self, 0)
        let results = Log<Int>()
        func calls(_ process: ProcessContext<Int>, _ left: Int) throws -> Step<Int> {
            guard left > 0 else { return .exit(.normal) }
            return try process.call(server, .add(1), timeout: .seconds(5)) { result, process in
                results.append(try result.get())
                return try calls(process, left - 1)
            }
        }
        try node.spawn(of: Int.self) { process in try calls(process, 100) }
        node.runUntilIdle()
        #expect(results.entries == Array(1...100))
        #expect(node.timers.wheel.entryHighWater == 0)  // 100 timed waits, not one timer filed
        // A wait still on when its drain ends gets its timer, counted from when it began.
        node.advance(by: 7)
        let log = Log<UInt64>()
        try node.spawn(of: Int.self) { _ in
            .receive(timeout: .milliseconds(50), after: { process in
                log.append(process.currentNode.now)
                return .exit(.normal)
            }) { _, _ in .same }
        }
        node.runUntilIdle()
        #expect(node.statistics.pendingTimers == 1)
        node.advance(by: 49)
        #expect(log.entries == [])
        node.advance(by: 1)
        #expect(log.entries == [57])
    }

    @Test("timers with one deadline fire in the order they were armed, also across cascades")
    func sameDeadlineFiresInArmOrder() throws {
        let node = makeNode()
        let log = Log<Envelope<Int>>()
        let target = try spawnCollector(node, into: log)
        // 1 and 2 start in higher wheel levels and cascade down; 3 and 4 are armed close to the same
        // deadline, straight into lower levels; 5 lands last in the same tick.
        try node.sendAfter(.milliseconds(5_130), 1, to: target)
        try node.sendAfter(.milliseconds(5_130), 2, to: target)
        node.advance(by: 5_000)
        try node.sendAfter(.milliseconds(130), 3, to: target)
        node.advance(by: 100)
        try node.sendAfter(.milliseconds(30), 4, to: target)
        try node.sendAfter(.milliseconds(30), 5, to: target)
        node.advance(by: 30)
        #expect(log.entries.compactMap(\.message) == [1, 2, 3, 4, 5])
    }

    @Test("cancel before firing returns the time left and the message never arrives")
    func cancelBeforeFiring() throws {
        let node = makeNode()
        let log = Log<Envelope<String>>()
        let target = try spawnCollector(node, into: log)
        let ref = try node.sendAfter(.seconds(10), "late", to: target)
        node.advance(by: 4_000)
        #expect(node.readTimer(ref) == 6_000)
        #expect(node.cancelTimer(ref) == 6_000)
        #expect(node.readTimer(ref) == nil)
        #expect(node.cancelTimer(ref) == nil)
        node.advance(by: 60_000)
        #expect(log.entries.isEmpty)
        #expect(node.statistics.pendingTimers == 0)
    }

    @Test("cancel after firing returns nil and the message was delivered once")
    func cancelAfterFiring() throws {
        let node = makeNode()
        let log = Log<Envelope<String>>()
        let target = try spawnCollector(node, into: log)
        let ref = try node.sendAfter(.milliseconds(5), "on time", to: target)
        node.advance(by: 5)
        #expect(node.cancelTimer(ref) == nil)
        #expect(node.readTimer(ref) == nil)
        #expect(log.entries == [.message("on time")])
    }

    @Test("a timer to a name resolves the name when it fires; an unregistered name drops it")
    func sendAfterToName() throws {
        let node = makeNode()
        let log = Log<Envelope<String>>()
        try node.sendAfter(.milliseconds(10), "first", to: "later")
        try node.sendAfter(.milliseconds(30), "second", to: "later")
        node.advance(by: 20)  // "first" fires while nobody is registered
        try spawnCollector(node, into: log, options: SpawnOptions(name: "later"))
        node.advance(by: 20)
        #expect(log.entries == [.message("second")])
    }

    @Test("timers addressed to a process are cancelled when it exits")
    func timersCancelledOnExit() throws {
        let node = makeNode()
        let target = try spawnIdler(node)
        for i in 0..<10 { try node.sendAfter(.seconds(Int64(i + 1)), .value(i), to: target) }
        #expect(node.statistics.pendingTimers == 10)
        try node.send(.exit(.normal), to: target)
        node.runUntilIdle()
        #expect(node.statistics.pendingTimers == 0)
    }

    @Test("a timer for a dead pid is cancelled at once, as in Erlang")
    func timerForDeadPid() throws {
        let node = makeNode()
        let target = try spawnIdler(node)
        try node.send(.exit(.normal), to: target)
        node.runUntilIdle()
        let ref = try node.sendAfter(.milliseconds(10), .value(1), to: target)
        #expect(node.readTimer(ref) == nil)
        #expect(node.statistics.pendingTimers == 0)
    }

    @Test("timers of several processes stay with their owners when some are cancelled, fired or orphaned")
    func chainsStaySeparate() throws {
        let node = makeNode()
        let log = Log<Envelope<Command>>()
        let keeper = try spawnCollector(node, into: log)
        let leaver = try spawnIdler(node)
        let keep1 = try node.sendAfter(.milliseconds(10), .value(1), to: keeper)
        _ = try node.sendAfter(.milliseconds(20), .value(2), to: leaver)
        _ = try node.sendAfter(.milliseconds(30), .value(3), to: keeper)
        _ = try node.sendAfter(.milliseconds(40), .value(4), to: leaver)
        #expect(node.cancelTimer(keep1) == 10)
        try node.send(.exit(.normal), to: leaver)
        node.runUntilIdle()
        #expect(node.statistics.pendingTimers == 1)
        node.advance(by: 100)
        #expect(log.entries == [.message(.value(3))])
        #expect(node.statistics.pendingTimers == 0)
    }

    @Test("negative and infinite timer times are refused with invalidTimeout")
    func invalidTimes() throws {
        let node = makeNode()
        let target = try spawnIdler(node)
        #expect(throws: ProcessError.invalidTimeout("-5 ms is negative")) {
            try node.sendAfter(.milliseconds(-5), .value(1), to: target)
        }
        #expect(throws: ProcessError.invalidTimeout("a timer needs a finite time")) {
            try node.sendAfter(.infinity, .value(1), to: target)
        }
        #expect(node.statistics.pendingTimers == 0)
    }

    @Test("a timer of 0 ms fires at the next tick, not inside the current one")
    func zeroTimer() throws {
        let node = makeNode()
        let log = Log<Envelope<String>>()
        let target = try spawnCollector(node, into: log)
        try node.sendAfter(.zero, "soon", to: target)
        node.runUntilIdle()
        #expect(log.entries == [])
        node.advance(by: 1)
        #expect(log.entries == [.message("soon")])
    }

    @Test("timers across every wheel level fire exactly at their deadlines, in order")
    func wheelLevels() throws {
        let node = makeNode(capacity: 1_000_000)
        let log = Log<(UInt64, UInt64)>()
        let target = try node.spawn(of: UInt64.self) { _ in
            .receive { envelope, process in
                log.append((envelope.message!, process.currentNode.now))
                return .same
            }
        }
        var rng = SplitMix64(seed: 0x5eed)
        var deadlines: [UInt64] = []
        // Deadlines spread over 1 ms .. 2^38 ms: all six levels and beyond the wheel's span.
        for i in 0..<5_000 {
            let bits = UInt64(i % 39)
            let deadline = 1 + rng.next() % (UInt64(1) << max(bits, 1))
            deadlines.append(deadline)
            try node.sendAfter(.milliseconds(Int64(deadline)), deadline, to: target)
        }
        node.advance(by: UInt64(1) << 39)
        let fired = log.entries
        #expect(fired.count == deadlines.count)
        #expect(fired.allSatisfy { $0.0 == $0.1 })
        #expect(fired.map(\.1) == deadlines.sorted())
    }

    @Test("one million pending timers: half cancelled, the rest fire in deadline order")
    func millionTimers() throws {
        let node = makeNode(capacity: 2_000_000)
        var count = 0
        var last: UInt64 = 0
        var ordered = true
        let target = try node.spawn(of: UInt32.self) { _ in
            .receive { envelope, process in
                count += 1
                let now = process.currentNode.now
                if now < last { ordered = false }
                last = now
                return .same
            }
        }
        node.runUntilIdle()
        var rng = SplitMix64(seed: 42)
        var refs: [TimerRef] = []
        refs.reserveCapacity(1_000_000)
        for i in 0..<1_000_000 {
            refs.append(try node.sendAfter(.milliseconds(Int64(1 + rng.next() % 10_000)), UInt32(i), to: target))
        }
        #expect(node.statistics.pendingTimers == 1_000_000)
        var cancelled = 0
        for ref in refs.enumerated() where ref.offset % 2 == 0 {
            if node.cancelTimer(ref.element) != nil { cancelled += 1 }
        }
        #expect(cancelled == 500_000)
        #expect(node.statistics.pendingTimers == 500_000)
        node.advance(by: 10_001)
        #expect(count == 500_000)
        #expect(ordered)
        #expect(node.statistics.pendingTimers == 0)
    }
}

/// A small deterministic generator, so any failing sequence can be replayed from its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
