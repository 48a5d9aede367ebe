import Testing
@testable import OTP

/// The timer wheel tested directly, without a node: exact firing times on every level and across the
/// clamp, FIFO order for one deadline (also across a cascade), cancellation and reference reuse, chains,
/// and a seeded model of 20,000 random operations.
@Suite("TimerWheel")
struct TimerWheelTests {
    /// A fake payload: an address the wheel stores and hands back, never dereferenced.
    private static func payload(_ n: Int) -> UnsafeMutableRawPointer { UnsafeMutableRawPointer(bitPattern: n * 16)! }

    /// Runs the wheel up to `time`; returns each fired timer's `target` with the wheel's time when it fired.
    private static func run(_ wheel: inout TimerWheel, upTo time: UInt64) -> [(target: UInt64, at: UInt64)] {
        var fired: [(UInt64, UInt64)] = []
        var due: [TimerWheel.Expired] = []
        while wheel.expireNext(upTo: time, into: &due) {
            fired += due.map { ($0.target, wheel.now) }
            due.removeAll()
        }
        return fired
    }

    @Test("Each timer fires at its deadline exactly, on every level, at level boundaries and past the clamp")
    func exactDeadlines() {
        var wheel = TimerWheel(now: 0)
        let deadlines: [UInt64] = [1, 2, 63, 64, 65, 127, 4_095, 4_096, 4_097, 262_143, 262_144, 300_001,
                                   16_777_216, 1 << 30, (1 << 36) - 1, (1 << 36) + 1_000, 3 << 36]
        for (i, deadline) in deadlines.enumerated() {
            _ = wheel.arm(deadline: deadline, clock: 0, kind: .receiveTimeout, target: UInt64(i), payload: nil)
        }
        #expect(wheel.count == deadlines.count)
        let fired = Self.run(&wheel, upTo: 4 << 36)
        #expect(fired.map(\.target) == deadlines.indices.map(UInt64.init))
        #expect(fired.map(\.at) == deadlines)
        #expect(wheel.count == 0 && wheel.nextTick() == nil)
        wheel.destroy { _ in }
    }

    @Test("A deadline that is not in the future fires at the next tick")
    func pastDeadline() {
        var wheel = TimerWheel(now: 0)
        _ = Self.run(&wheel, upTo: 500)
        _ = wheel.arm(deadline: 100, clock: 500, kind: .message, target: 1, payload: nil)
        let fired = Self.run(&wheel, upTo: 1_000)
        #expect(fired.map(\.at) == [501])
        wheel.destroy { _ in }
    }

    @Test("Timers with one deadline fire in the order they were armed, also when some came through a cascade")
    func fifoAcrossCascade() {
        var wheel = TimerWheel(now: 0)
        // Armed at time 0, deadline 200 lands on level 1; armed later, the same deadline lands on level 0.
        _ = wheel.arm(deadline: 200, clock: 0, kind: .message, target: 1, payload: nil)
        _ = wheel.arm(deadline: 200, clock: 0, kind: .message, target: 2, payload: nil)
        _ = wheel.arm(deadline: 150, clock: 0, kind: .message, target: 0, payload: nil)
        let early = Self.run(&wheel, upTo: 190)
        #expect(early.map(\.target) == [0])
        _ = wheel.arm(deadline: 200, clock: 190, kind: .message, target: 3, payload: nil)
        _ = wheel.arm(deadline: 200, clock: 190, kind: .message, target: 4, payload: nil)
        let fired = Self.run(&wheel, upTo: 300)
        #expect(fired.map(\.target) == [1, 2, 3, 4])
        #expect(fired.allSatisfy { $0.at == 200 })
        wheel.destroy { _ in }
    }

    @Test("Cancel returns the deadline and payload once; a fired or cancelled reference names nothing again")
    func cancelAndReferences() {
        var wheel = TimerWheel(now: 0)
        let a = wheel.arm(deadline: 50, clock: 0, kind: .message, target: 1, payload: Self.payload(1))
        let b = wheel.arm(deadline: 60, clock: 0, kind: .message, target: 2, payload: nil)
        #expect(wheel.deadline(of: a) == 50)
        let cancelled = wheel.cancel(a)
        #expect(cancelled?.deadline == 50 && cancelled?.payload == Self.payload(1))
        #expect(wheel.cancel(a) == nil && wheel.deadline(of: a) == nil && wheel.count == 1)
        // The freed slot is reused with a new serial: the old reference still names nothing.
        let c = wheel.arm(deadline: 70, clock: 0, kind: .message, target: 3, payload: nil)
        #expect(c != a && UInt32(truncatingIfNeeded: c.rawValue) == UInt32(truncatingIfNeeded: a.rawValue))
        #expect(wheel.cancel(a) == nil && wheel.deadline(of: c) == 70)
        let fired = Self.run(&wheel, upTo: 100)
        #expect(fired.map(\.target) == [2, 3])
        #expect(wheel.deadline(of: b) == nil && wheel.cancel(c) == nil)
        wheel.destroy { _ in }
    }

    @Test("cancelChain cancels exactly its own timers and returns each payload once")
    func chains() {
        var wheel = TimerWheel(now: 0)
        let chain = wheel.makeChain()
        let other = wheel.makeChain()
        for i in 1...3 {
            _ = wheel.arm(deadline: UInt64(10 * i), clock: 0, kind: .message, target: UInt64(i),
                          payload: Self.payload(i), chain: chain)
        }
        _ = wheel.arm(deadline: 15, clock: 0, kind: .message, target: 9, payload: Self.payload(9), chain: other)
        _ = wheel.arm(deadline: 25, clock: 0, kind: .receiveTimeout, target: 8, payload: nil)
        // One of the chained timers fires first: it leaves the chain.
        let first = Self.run(&wheel, upTo: 10)
        #expect(first.map(\.target) == [1])
        var released: [UnsafeMutableRawPointer] = []
        wheel.cancelChain(chain) { released.append($0) }
        #expect(released.sorted { $0 < $1 } == [Self.payload(2), Self.payload(3)])
        #expect(wheel.count == 2)
        let rest = Self.run(&wheel, upTo: 100)
        #expect(rest.map(\.target) == [9, 8])
        var leftover: [UnsafeMutableRawPointer] = []
        wheel.destroy { leftover.append($0) }
        #expect(leftover.isEmpty)
    }

    @Test("destroy hands back the payload of every timer still armed")
    func destroyReleasesPayloads() {
        var wheel = TimerWheel(now: 0)
        for i in 1...5 {
            _ = wheel.arm(deadline: UInt64(i) * 1_000, clock: 0, kind: .message, target: 0, payload: Self.payload(i))
        }
        _ = Self.run(&wheel, upTo: 2_000)
        var released: [UnsafeMutableRawPointer] = []
        wheel.destroy { released.append($0) }
        #expect(released.sorted { $0 < $1 } == [3, 4, 5].map(Self.payload))
    }

    @Test("20,000 random arms, cancels and advances agree with a model: same timers, same times, same order")
    func matchesAModel() {
        var random = SplitMix64(seed: 7)
        var wheel = TimerWheel(now: 0)
        var model: [UInt64: (deadline: UInt64, ref: TimerRef)] = [:]  // by arm sequence number
        var sequence: UInt64 = 0
        for _ in 0..<20_000 {
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<5:
                let span: UInt64 = [64, 4_096, 300_000, 1 << 37][Int.random(in: 0..<4, using: &random)]
                let deadline = wheel.now + UInt64.random(in: 0...span, using: &random)
                let ref = wheel.arm(deadline: deadline, clock: wheel.now, kind: .message, target: sequence, payload: nil)
                model[sequence] = (max(deadline, wheel.now + 1), ref)
                sequence += 1
            case 5..<7:
                guard let (id, entry) = model.randomElement(using: &random) else { continue }
                let cancelled = wheel.cancel(entry.ref)
                #expect(cancelled?.deadline == entry.deadline)
                model[id] = nil
            default:
                let target = wheel.now + UInt64.random(in: 0...5_000, using: &random)
                let fired = Self.run(&wheel, upTo: target)
                let due = model.filter { $0.value.deadline <= target }
                    .sorted { ($0.value.deadline, $0.key) < ($1.value.deadline, $1.key) }
                #expect(fired.map(\.target) == due.map(\.key))
                #expect(fired.map(\.at) == due.map(\.value.deadline))
                for id in due.map(\.key) { model[id] = nil }
            }
            #expect(wheel.count == model.count)
        }
        wheel.destroy { _ in }
    }
}
