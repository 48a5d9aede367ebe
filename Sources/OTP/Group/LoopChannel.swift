import CLibUV
import Synchronization

/// A single-producer, single-consumer queue between two loops of a `NodeGroup`: every message and signal
/// that one loop sends to processes of another travels through the channel of that (source, destination)
/// pair, so what one process sends to another arrives in send order, signals included (Erlang's per-pair
/// order).
///
/// A fixed ring of 128-byte slots, each a sequence word and a `Transit`. Items are numbered from the
/// channel's first (their *position*); position p lives in slot p mod capacity. The producer writes the
/// item, then publishes it by storing p + 1 in the slot's sequence word with release ordering; the
/// consumer loads the sequence word of the next position with acquire ordering, and once it reads p + 1 the
/// item is visible. It moves the items out and hands the slots back by storing `head` with release
/// ordering, once per drain; the producer loads `head` with acquire ordering — only when its cached view
/// says the ring is full — before it writes those slots again. Every word has one writer, so no
/// read-modify-write is needed: a push is the item and one store.
///
/// When the ring is full the producer keeps items in its own `overflow` (order kept: while it holds
/// anything, every push goes behind it) and moves them into the ring at its next `flush`; the consumer
/// asks for that flush (`producerWaiting`) when it frees slots. The overflow is bounded by `overflowLimit`;
/// beyond it a push is refused, and the sender is told, as for a full mailbox.
///
/// Thread: `push`, `flush` and the `overflow` on the source loop; `drain` on the destination loop; the
/// slots and `head` are the only state both touch. No index is published per item: the consumer polls the
/// sequence word on the line it reads the item from next anyway, so a look at an idle channel and the
/// item's own lines are the only lines that move per item (a shared `tail`, written per push and read per
/// look, was one more line crossing between the cores each way: `cross_send` 86 → 65 ns, `cross_ping_pong`
/// 407 → 360 ns in interleaved runs). `head` lives on a line of its own, each side's private indices on
/// another, 128 bytes apart (against the neighbouring-line prefetch).
///
/// Cache lines, not instructions, are what an item costs between two cores: a slot the producer writes was
/// last read by the consumer's core, and one the consumer reads was just written by the producer's. So
/// each side asks for the next slot's lines ahead of time (`otp_prefetch_write` after a push, for the slot
/// the next push fills; `otp_prefetch_read` in a drain, for the item after the one handed over): the
/// transfer overlaps the work between two items instead of stalling the next one.
///
/// Cost: a push is the item written in its slot, one atomic store and a prefetch, no allocation while the
/// ring has room; a drain is one acquire load per item and one store of `head`; the ring is 1,024 slots
/// (128 KiB), made on the channel's first use.
final class LoopChannel {
    static let capacity = 1024
    private static let mask = capacity - 1

    /// A slot: its sequence word, then the item. 128 bytes, aligned to 128: two whole cache lines.
    private static let slotBytes = 128
    private static let itemOffset = 8

    /// The ring: `capacity` slots of `slotBytes`, each a sequence word (`Atomic<Int>`) and a `Transit`.
    private let slots: UnsafeMutableRawPointer
    /// The consumer's lines: `head`, the next slot the consumer reads, published (written by the consumer
    /// only, once per drain); 128 bytes on, the consumer's own copy of it.
    private let consumerSide: UnsafeMutableRawPointer
    /// The producer's private line: the next slot it writes and its cached view of `head`. Nothing of it
    /// is published: a slot's sequence word says the item in it is there.
    private let producerSide: UnsafeMutableRawPointer
    /// Set by the producer while its overflow holds items; the consumer clears it and wakes the producer's
    /// loop after draining, so the overflow moves in without the producer polling.
    let producerWaiting = Atomic<Bool>(false)
    /// The producer's items beyond a full ring (`@exclusivity(unchecked)`: one thread, one access at a time).
    @exclusivity(unchecked) private var overflow: RingBuffer<Transit>

    private static let lineBytes = 128
    /// The consumer's side: `head` on the first line, its own copy of it on the second.
    private static let consumerBytes = 2 * lineBytes

    private var head: UnsafeMutablePointer<Atomic<Int>> { consumerSide.assumingMemoryBound(to: Atomic<Int>.self) }
    private var consumerHead: Int {
        get { consumerSide.load(fromByteOffset: Self.lineBytes, as: Int.self) }
        set { consumerSide.storeBytes(of: newValue, toByteOffset: Self.lineBytes, as: Int.self) }
    }
    private var producerTail: Int {
        get { producerSide.load(as: Int.self) }
        set { producerSide.storeBytes(of: newValue, as: Int.self) }
    }
    private var cachedHead: Int {
        get { producerSide.load(fromByteOffset: 8, as: Int.self) }
        set { producerSide.storeBytes(of: newValue, toByteOffset: 8, as: Int.self) }
    }

    /// The slot of position `position` (counted from the channel's first item, wrapping around the ring).
    @inline(__always)
    private func slot(_ position: Int) -> UnsafeMutableRawPointer {
        slots + (position & Self.mask) &* Self.slotBytes
    }

    /// The sequence word of the slot of `position`: `position + 1` once the item of that position is in it.
    @inline(__always)
    private func sequence(_ position: Int) -> UnsafeMutablePointer<Atomic<Int>> {
        slot(position).assumingMemoryBound(to: Atomic<Int>.self)
    }

    /// The item of the slot of `position`.
    @inline(__always)
    private func item(_ position: Int) -> UnsafeMutablePointer<Transit> {
        (slot(position) + Self.itemOffset).assumingMemoryBound(to: Transit.self)
    }

    init(overflowLimit: Int) {
        precondition(Self.itemOffset + MemoryLayout<Transit>.size <= Self.slotBytes)
        let ring = UnsafeMutableRawPointer.allocate(byteCount: Self.capacity * Self.slotBytes, alignment: Self.lineBytes)
        for index in 0..<Self.capacity {
            // 0: no position's item (the first item of slot i is position i, sequence i + 1).
            let slot = ring + index * Self.slotBytes
            slot.bindMemory(to: Atomic<Int>.self, capacity: 1).initialize(to: Atomic(0))
            _ = (slot + Self.itemOffset).bindMemory(to: Transit.self, capacity: 1)
        }
        slots = ring
        overflow = RingBuffer(limit: max(overflowLimit, 1))
        consumerSide = .allocate(byteCount: Self.consumerBytes, alignment: Self.lineBytes)
        producerSide = .allocate(byteCount: Self.lineBytes, alignment: Self.lineBytes)
        consumerSide.initializeMemory(as: UInt8.self, repeating: 0, count: Self.consumerBytes)
        consumerSide.bindMemory(to: Atomic<Int>.self, capacity: 1).initialize(to: Atomic(0))
        producerSide.initializeMemory(as: UInt8.self, repeating: 0, count: Self.lineBytes)
    }

    deinit {
        // Items never drained (the destination closed first) are destroyed with their payloads.
        while let item = overflow.popFirst() { item.discard() }
        overflow.releaseStorage()
        var position = consumerHead
        while isPublished(position) {
            item(position).move().discard()
            position &+= 1
        }
        slots.deallocate()
        consumerSide.deallocate()
        producerSide.deallocate()
    }

    /// Whether the item of `position` is in its slot (acquire: its contents are visible once this is true).
    @inline(__always)
    private func isPublished(_ position: Int) -> Bool {
        sequence(position).pointee.load(ordering: .acquiring) == position &+ 1
    }

    /// Whether the producer holds items the ring had no room for. Source loop only.
    var hasOverflow: Bool { !overflow.isEmpty }

    /// Queues the item `make` initialises for the destination loop: `make` writes it straight into its
    /// slot when the ring has room, else into the overflow. Returns `false` when the ring and the overflow
    /// are both full: the item is then destroyed here, and the caller reports the refusal. Source loop only.
    @inline(__always)
    func push(_ make: (UnsafeMutablePointer<Transit>) -> Void) -> Bool {
        if overflow.isEmpty && reserveSlot() {
            let position = producerTail
            make(item(position))
            sequence(position).pointee.store(position &+ 1, ordering: .releasing)
            producerTail = position &+ 1
            prefetch(position &+ 1, forWriting: true)
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
        while !overflow.isEmpty && reserveSlot() {
            let position = producerTail
            item(position).initialize(to: overflow.removeFirst())
            sequence(position).pointee.store(position &+ 1, ordering: .releasing)
            producerTail = position &+ 1
        }
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
    /// is uninitialised afterwards), and gives the slots back. Returns whether the producer is waiting for
    /// room (its loop should be woken). Destination loop only. At most `capacity` items: the producer
    /// cannot refill a slot before `head` is published, at the end.
    func drain(_ body: (UnsafeMutablePointer<Transit>) -> Void) -> Bool {
        var position = consumerHead
        guard isPublished(position) else { return false }
        repeat {
            consumerHead = position &+ 1  // `taken` counts the item being handed over
            prefetch(position &+ 1, forWriting: false)
            body(item(position))
            position &+= 1
        } while isPublished(position)
        head.pointee.store(position, ordering: .releasing)  // the slots go back together: one store for the batch
        return producerWaiting.load(ordering: .acquiring)
    }

    /// Asks for both cache lines of the slot of `position` ahead of its use.
    @inline(__always)
    private func prefetch(_ position: Int, forWriting: Bool) {
        let first = UnsafeRawPointer(slot(position))
        if forWriting {
            otp_prefetch_write(first)
            otp_prefetch_write(first + 64)
        } else {
            otp_prefetch_read(first)
            otp_prefetch_read(first + 64)
        }
    }

    /// Whether anything is published and not drained: one acquire load of the next slot's sequence word,
    /// on the line the drain reads next anyway. Destination loop only (a hint from any other).
    var isEmpty: Bool { !isPublished(consumerHead) }
}
