import Testing
@testable import OTP

/// Counts live instances, so a test can see that the buffer destroys exactly what it holds.
private final class Tracked {
    nonisolated(unsafe) static var live = 0
    let value: Int
    init(_ value: Int) { self.value = value; Tracked.live += 1 }
    deinit { Tracked.live -= 1 }
}

/// The ring buffer behind every mailbox and the run queue, tested directly (after SwiftNIO's
/// CircularBufferTests): FIFO order across wrap-around and growth, the limit, removal from the middle
/// from either side, and that every element is destroyed exactly once.
@Suite("RingBuffer", .serialized)
struct RingBufferTests {
    @Test("Allocates nothing until the first push, then grows by doubling from 4")
    func lazyAllocation() {
        var buffer = RingBuffer<Int>(limit: 100)
        let empty = buffer.popFirst()
        #expect(buffer.allocatedBytes == 0 && buffer.isEmpty && empty == nil)
        let first = buffer.push(1)
        #expect(first && buffer.allocatedBytes == 4 * MemoryLayout<Int>.stride)
        var accepted = 0
        for i in 2...5 where buffer.push(i) { accepted += 1 }
        #expect(accepted == 4 && buffer.allocatedBytes == 8 * MemoryLayout<Int>.stride)
        let popped = (0..<5).compactMap { _ in buffer.popFirst() }
        #expect(popped == [1, 2, 3, 4, 5])
        buffer.releaseStorage()
        #expect(buffer.allocatedBytes == 0)
    }

    @Test("last and removeLast across wrap-around: the newest element, destroyed once; the rest in order")
    func newestElement() {
        Tracked.live = 0
        var buffer = RingBuffer<Tracked>(limit: .max)
        #expect(buffer.last == nil)
        for i in 0..<6 { buffer.forcePush(Tracked(i)) }
        for _ in 0..<5 { _ = buffer.popFirst() }  // head at 5 of 8
        for i in 6..<9 { buffer.forcePush(Tracked(i)) }  // wraps: 5, 6, 7 | 8
        #expect(buffer.last?.value == 8)
        buffer.removeLast()
        #expect(Tracked.live == 3 && buffer.last?.value == 7)
        buffer.removeLast()
        buffer.removeLast()
        #expect(buffer.last?.value == 5 && buffer.count == 1 && Tracked.live == 1)
        buffer.removeLast()
        #expect(buffer.last == nil && buffer.isEmpty && Tracked.live == 0)
    }

    @Test("FIFO across wrap-around and growth in the middle of a wrapped buffer")
    func wrapAroundAndGrowth() {
        var buffer = RingBuffer<Int>(limit: .max)
        var expected: [Int] = []
        var next = 0
        // Push 3, pop 2, repeatedly: the head walks around a small buffer, then it grows while wrapped.
        for _ in 0..<50 {
            for _ in 0..<3 {
                let pushed = buffer.push(next)
                #expect(pushed)
                expected.append(next)
                next += 1
            }
            for _ in 0..<2 {
                let value = buffer.popFirst()
                #expect(value == expected.removeFirst())
            }
        }
        #expect(buffer.count == expected.count)
        while let value = buffer.popFirst() { #expect(value == expected.removeFirst()) }
        #expect(expected.isEmpty)
        buffer.releaseStorage()
    }

    @Test("push refuses beyond the limit; forcePush does not")
    func limit() {
        var buffer = RingBuffer<Int>(limit: 3)
        let three = [1, 2, 3].map { buffer.push($0) }
        #expect(three == [true, true, true])
        let fourth = buffer.push(4)
        #expect(!fourth)
        buffer.forcePush(5)
        #expect(buffer.count == 4)
        let popped = (0..<4).compactMap { _ in buffer.popFirst() }
        #expect(popped == [1, 2, 3, 5])
        let again = buffer.push(6)
        #expect(again)
        buffer.releaseStorage()
    }

    @Test("remove(at:) and removeAll(where:) keep the others in order, shifting either side, against a model")
    func removalMatchesAModel() {
        var random = SplitMix64(seed: 42)
        var buffer = RingBuffer<Int>(limit: .max)
        var model: [Int] = []
        var next = 0
        for _ in 0..<20_000 {
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<5:
                let pushed = buffer.push(next)
                #expect(pushed)
                model.append(next)
                next += 1
            case 5..<7:
                let popped = buffer.popFirst()
                #expect(popped == (model.isEmpty ? nil : model.removeFirst()))
            case 7..<9 where !model.isEmpty:
                let index = Int.random(in: 0..<model.count, using: &random)
                let removed = buffer.remove(at: index)
                #expect(removed == model.remove(at: index))
            default:
                let modulus = Int.random(in: 2...5, using: &random)
                let removed = buffer.removeAll { $0 % modulus == 0 }
                let before = model.count
                model.removeAll { $0 % modulus == 0 }
                #expect(removed == before - model.count)
            }
            #expect(buffer.count == model.count)
        }
        #expect((0..<model.count).map { buffer.slot($0).pointee } == model)
        buffer.releaseStorage()
    }

    @Test("Every element is destroyed exactly once: popped, removed, or by releaseStorage")
    func lifetimes() {
        Tracked.live = 0
        do {
            var buffer = RingBuffer<Tracked>(limit: .max)
            for i in 0..<100 { _ = buffer.push(Tracked(i)) }
            #expect(Tracked.live == 100)
            _ = buffer.popFirst()           // 0
            _ = buffer.remove(at: 10)       // 11 (near the head: the older side shifts)
            _ = buffer.remove(at: 80)       // 82 (near the tail: the newer side shifts)
            let removed = buffer.removeAll { $0.value % 10 == 0 }  // 10, 20, ..., 90
            #expect(removed == 9)
            #expect(buffer.count == 88 && Tracked.live == 88)
            buffer.releaseStorage()
            #expect(Tracked.live == 0)
        }
    }
}
