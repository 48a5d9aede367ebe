import Testing
@testable import OTP

/// The channel between two loops on its own, on one thread: what goes in comes out once, in order, across
/// the ring's laps and its overflow, and nothing is left alive when it goes.
@Suite("Loop channels")
struct LoopChannelTests {
    /// A payload that records its release.
    final class Token: Sendable {
        let id: UInt64, freed: Log<UInt64>
        init(_ id: UInt64, freed: Log<UInt64>) { (self.id, self.freed) = (id, freed) }
        deinit { freed.append(id) }
    }

    /// Pushes item `id` (its reference and its token both say `id`); returns what `push` returned.
    func push(_ id: UInt64, into channel: LoopChannel, freed: Log<UInt64>) -> Bool {
        let pid = PID(node: 1, index: 0, serial: 0)
        var item: Transit? = Transit(.message, to: pid, from: pid, ref: Ref(rawValue: id), carrying: Token(id, freed: freed))
        return channel.push { $0.initialize(to: item.take()!) }
    }

    /// Drains what is published; returns the references in the order handed over (each item destroyed).
    func drain(_ channel: LoopChannel) -> (ids: [UInt64], producerWaits: Bool) {
        var ids: [UInt64] = []
        let waits = channel.drain { slot in
            ids.append(slot.pointee.ref.rawValue)
            slot.move().discard()
        }
        return (ids, waits)
    }

    @Test("Items come out once, in push order, through many laps of the ring, its overflow and partial drains")
    func orderThroughLapsAndOverflow() {
        let freed = Log<UInt64>()
        let capacity = UInt64(LoopChannel.capacity)
        let channel = LoopChannel(overflowLimit: 100)
        #expect(channel.isEmpty)
        #expect(drain(channel).ids.isEmpty)
        // A full ring, then 100 more in the overflow; the next is refused and destroyed at once.
        for id in 0..<capacity + 100 { #expect(push(id, into: channel, freed: freed)) }
        #expect(channel.hasOverflow && channel.nextNumber == LoopChannel.capacity + 100)
        #expect(!push(999_999, into: channel, freed: freed))
        #expect(freed.entries == [999_999])
        // The ring's items; the producer waits for room.
        let first = drain(channel)
        #expect(first.ids == Array(0..<capacity) && first.producerWaits)
        #expect(channel.taken == LoopChannel.capacity && channel.isEmpty)
        channel.flush()  // the overflow moves in behind them
        #expect(!channel.hasOverflow && !channel.isEmpty)
        #expect(drain(channel).ids == Array(capacity..<capacity + 100))
        // Laps of uneven batches: each slot is reused many times, each time for a later position.
        var next = capacity + 100, expected = next
        for batch: UInt64 in [700, 1, 1_023, 1_024, 333, 900] {
            for _ in 0..<batch {
                #expect(push(next, into: channel, freed: freed))
                next += 1
            }
            #expect(drain(channel).ids == Array(expected..<next))
            expected = next
        }
        #expect(channel.isEmpty && channel.taken == Int(next) && channel.nextNumber == Int(next))
        #expect(freed.entries.count == Int(next) + 1)  // every item handed over was destroyed, and the refused one
    }

    @Test("A channel that goes with items undrained, in its ring and its overflow, destroys each of them once")
    func undrainedItemsDestroyed() {
        let freed = Log<UInt64>()
        do {
            let channel = LoopChannel(overflowLimit: 10)
            for id: UInt64 in 0..<600 { _ = push(id, into: channel, freed: freed) }
            #expect(drain(channel).ids == Array(0..<600))
            for id: UInt64 in 600..<(600 + UInt64(LoopChannel.capacity) + 5) { _ = push(id, into: channel, freed: freed) }
            #expect(channel.hasOverflow)
        }
        #expect(freed.entries.count == 600 + LoopChannel.capacity + 5)
        #expect(Set(freed.entries).count == freed.entries.count)
    }
}
