import CLibUV
import Synchronization

/// A single-producer, single-consumer queue between two loops of a `NodeGroup`: every message and signal
/// that one loop sends to processes of another travels through the channel of that (source, destination)
/// pair, so what one process sends to another arrives in send order, signals included (Erlang's per-pair
/// order).
///
/// A fixed ring of `Transit` slots. The producer writes a slot, then publishes it by storing `tail` with
/// release ordering; the consumer loads `tail` with acquire ordering, so the slot's contents are visible
/// before it reads them, moves the items out and hands the slots back by storing `head` with release
/// ordering, which the producer loads with acquire ordering before it writes those slots again. Each index
/// has one writer, so no read-modify-write is needed: a push is one store and, when the producer's cached
/// view of `head` says the ring is full, one load.
///
/// When the ring is full the producer keeps items in its own `overflow` (order kept: while it holds
/// anything, every push goes behind it) and moves them into the ring at its next `flush`; the consumer
/// asks for that flush (`producerWaiting`) when it frees slots. The overflow is bounded by `overflowLimit`;
/// beyond it a push is refused, and the sender is told, as for a full mailbox.
///
/// Thread: `push`, `flush` and the `overflow` on the source loop; `drain` on the destination loop; `head`
/// and `tail` are the only state both touch. Each published index lives on a cache line of its own, and
/// each side's private copies on another (lines 128 bytes apart, against the neighbouring-line prefetch):
/// the consumer polling `tail` never takes away the line the producer reads its own indices from, and
/// the reverse.
///
/// Cache lines, not instructions, are what an item costs between two cores: a slot the producer writes was
/// last read by the consumer's core, and one the consumer reads was just written by the producer's. So
/// each side asks for the next slot's lines ahead of time (`otp_prefetch_write` after a push, for the slot
/// the next push fills; `otp_prefetch_read` in a drain, for the item after the one handed over): the
/// transfer overlaps the work between two items instead of stalling the next one.
///
/// Cost: a push is the item written in its slot, one atomic store and a prefetch, no allocation while the
/// ring has room; a drain stores `head` once; the ring is 1,024 items (120 KiB), made on the channel's
/// first use.
final class LoopChannel {
    static let capacity = 1024
    private static let mask = capacity - 1

    private let slots: UnsafeMutablePointer<Transit>
    /// The consumer's lines: `head`, the next slot the consumer reads, published (written by the consumer
    /// only); 128 bytes on, the consumer's own copy of it.
    private let consumerSide: UnsafeMutableRawPointer
    /// The producer's lines: `tail`, the next slot the producer writes, published (written by the producer
    /// only); 128 bytes on, the producer's own copy of it and its cached view of `head`.
    private let producerSide: UnsafeMutableRawPointer
    /// Set by the producer while its overflow holds items; the consumer clears it and wakes the producer's
    /// loop after draining, so the overflow moves in without the producer polling.
    let producerWaiting = Atomic<Bool>(false)
    /// The producer's items beyond a full ring (`@exclusivity(unchecked)`: one thread, one access at a time).
    @exclusivity(unchecked) private var overflow: RingBuffer<Transit>

    private static let lineBytes = 128
    /// Each side: its published index on the first line, its private copies on the second.
    private static let sideBytes = 2 * lineBytes

    private var head: UnsafeMutablePointer<Atomic<Int>> { consumerSide.assumingMemoryBound(to: Atomic<Int>.self) }
    private var tail: UnsafeMutablePointer<Atomic<Int>> { producerSide.assumingMemoryBound(to: Atomic<Int>.self) }
    private var consumerHead: Int {
        get { consumerSide.load(fromByteOffset: Self.lineBytes, as: Int.self) }
        set { consumerSide.storeBytes(of: newValue, toByteOffset: Self.lineBytes, as: Int.self) }
    }
    private var producerTail: Int {
        get { producerSide.load(fromByteOffset: Self.lineBytes, as: Int.self) }
        set { producerSide.storeBytes(of: newValue, toByteOffset: Self.lineBytes, as: Int.self) }
    }
    private var cachedHead: Int {
        get { producerSide.load(fromByteOffset: Self.lineBytes + 8, as: Int.self) }
        set { producerSide.storeBytes(of: newValue, toByteOffset: Self.lineBytes + 8, as: Int.self) }
    }

    init(overflowLimit: Int) {
        slots = .allocate(capacity: Self.capacity)
        overflow = RingBuffer(limit: max(overflowLimit, 1))
        consumerSide = .allocate(byteCount: Self.sideBytes, alignment: Self.lineBytes)
        producerSide = .allocate(byteCount: Self.sideBytes, alignment: Self.lineBytes)
        for side in [consumerSide, producerSide] {
            side.initializeMemory(as: UInt8.self, repeating: 0, count: Self.sideBytes)
            side.bindMemory(to: Atomic<Int>.self, capacity: 1).initialize(to: Atomic(0))
        }
    }

    deinit {
        // Items never drained (the destination closed first) are destroyed with their payloads.
        while let item = overflow.popFirst() { item.discard() }
        overflow.releaseStorage()
        var index = head.pointee.load(ordering: .acquiring)
        let end = tail.pointee.load(ordering: .acquiring)
        while index != end {
            (slots + (index & Self.mask)).move().discard()
            index &+= 1
        }
        slots.deallocate()
        consumerSide.deallocate()
        producerSide.deallocate()
    }

    /// Whether the producer holds items the ring had no room for. Source loop only.
    var hasOverflow: Bool { !overflow.isEmpty }

    /// Queues the item `make` initialises for the destination loop: `make` writes it straight into its
    /// slot when the ring has room, else into the overflow. Returns `false` when the ring and the overflow
    /// are both full: the item is then destroyed here, and the caller reports the refusal. Source loop only.
    @inline(__always)
    func push(_ make: (UnsafeMutablePointer<Transit>) -> Void) -> Bool {
        if overflow.isEmpty && reserveSlot() {
            make(slots + (producerTail & Self.mask))
            producerTail &+= 1
            tail.pointee.store(producerTail, ordering: .releasing)
            prefetch(slots + (producerTail & Self.mask), forWriting: true)
            return true
        }
        return pushBeyondRing(make)
    }

    /// `push` when the ring has no room (or older items wait in the overflow): the item goes behind them.
    @inline(never)
    private func pushBeyondRing(_ make: (UnsafeMutablePointer<Transit>) -> Void) -> Bool {
        let aside = UnsafeMutablePointer<Transit>.allocate(capacity: 1)
        defer { aside.deallocate() }
        make(aside)
        let item = aside.move()
        guard overflow.count < overflow.limit else {
            item.discard()
            return false
        }
        _ = overflow.push(item)
        producerWaiting.store(true, ordering: .releasing)
        return true
    }

    /// Moves what the overflow holds into the ring, as far as it has room. Source loop only.
    func flush() {
        guard !overflow.isEmpty else { return }
        var moved = false
        while !overflow.isEmpty && reserveSlot() {
            (slots + (producerTail & Self.mask)).initialize(to: overflow.removeFirst())
            producerTail &+= 1
            moved = true
        }
        if moved { tail.pointee.store(producerTail, ordering: .releasing) }
        if overflow.isEmpty { producerWaiting.store(false, ordering: .releasing) }
    }

    private func reserveSlot() -> Bool {
        if producerTail &- cachedHead < Self.capacity { return true }
        cachedHead = head.pointee.load(ordering: .acquiring)
        return producerTail &- cachedHead < Self.capacity
    }

    /// The number the next item pushed gets: how many items the producer has queued, in the ring and its
    /// overflow, since the channel was made. Items reach the consumer in this order. Source loop only.
    var nextNumber: Int { producerTail &+ overflow.count }

    /// How many items the consumer has taken, counting the one `drain` is handing over (whose number is
    /// this minus one). Destination loop only.
    var taken: Int { consumerHead }

    /// Hands every item published so far to `body` in its slot, oldest first (`body` consumes it: the slot
    /// is uninitialised afterwards), and gives each slot back. Returns whether the producer is waiting for
    /// room (its loop should be woken). Destination loop only.
    func drain(_ body: (UnsafeMutablePointer<Transit>) -> Void) -> Bool {
        let end = tail.pointee.load(ordering: .acquiring)
        var index = consumerHead
        guard index != end else { return false }
        while index != end {
            consumerHead = index &+ 1  // `taken` counts the item being handed over
            if index &+ 1 != end { prefetch(slots + ((index &+ 1) & Self.mask), forWriting: false) }
            body(slots + (index & Self.mask))
            index &+= 1
        }
        head.pointee.store(index, ordering: .releasing)  // the slots go back together: one store for the batch
        return producerWaiting.load(ordering: .acquiring)
    }

    /// Asks for every cache line of the slot `slot` (an item spans two or three) ahead of its use.
    @inline(__always)
    private func prefetch(_ slot: UnsafeMutablePointer<Transit>, forWriting: Bool) {
        let first = UnsafeRawPointer(slot)
        for offset in [0, 64, MemoryLayout<Transit>.size &- 1] {
            if forWriting { otp_prefetch_write(first + offset) } else { otp_prefetch_read(first + offset) }
        }
    }

    /// Whether anything is published and not drained. Destination loop only (a hint from any other).
    var isEmpty: Bool { tail.pointee.load(ordering: .acquiring) == consumerHead }
}
