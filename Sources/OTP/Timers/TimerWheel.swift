/// A hierarchical hashed timing wheel: every timer of a node, driven by one `uv_timer_t`.
///
/// Six levels of 64 buckets each; a bucket of level *k* spans 64^k milliseconds, so the wheel covers
/// 2^36 ms (about 2.2 years) before it clamps (a longer timer is re-filed when its bucket comes round).
/// A timer lives in one intrusive doubly linked list inside a slab of plain structs, so arming,
/// cancelling and reading are O(1) with no allocation in steady state and no reference counting. When the
/// wheel's time reaches the start of a higher-level bucket, that bucket's timers are re-filed into lower
/// levels ("cascade"); level 0 buckets fire. One bitmap per level finds the next non-empty bucket, so idle
/// stretches are skipped in one step instead of one millisecond at a time.
///
/// Like libuv, expiry runs in two phases: `expireNext` collects the due timers of one tick and frees
/// their slots, then the node acts on them; a timer armed by that action lands in a later tick.
///
/// Why not one libuv timer per timeout: with 1M outstanding timers libuv's heap costs ~238 ns per stop
/// and ~500 ns per fire on this machine; this wheel costs a few nanoseconds per operation.
///
/// Thread: loop thread only (owned by the node). Time unit: milliseconds of the node's clock.
struct TimerWheel {
    /// What a timer does when it fires.
    enum Kind: UInt8 {
        /// End the wait of process `target` (a receive timeout).
        case receiveTimeout
        /// Deliver the message held by `payload` (a `TimedMessage`) to `target` or to the name it holds.
        case message
        /// The deadline of the owned monitor whose reference is `target` (`MonitorOwner`).
        case monitorDeadline
    }

    /// A timer that has fired, handed to the node.
    struct Expired {
        var kind: Kind
        var target: UInt64
        var payload: UnsafeMutableRawPointer?
        var ref: TimerRef
    }

    private struct Entry {
        var deadline: UInt64 = 0
        var prev: UInt32 = none
        var next: UInt32 = none
        var serial: UInt32 = 0
        var bucket: UInt16 = free
        var kind: Kind = .receiveTimeout
        var target: UInt64 = 0
        var payload: UnsafeMutableRawPointer? = nil
        /// Links in the circular list of the timers addressed to one process (through its chain sentinel);
        /// `none` when the timer belongs to no chain.
        var ownerPrev: UInt32 = none
        var ownerNext: UInt32 = none
    }

    private static let levels = 6
    private static let bitsPerLevel: UInt64 = 6
    private static let span: UInt64 = 1 << (bitsPerLevel * UInt64(levels))  // 2^36 ms
    private static let none = UInt32.max
    private static let free = UInt16.max
    /// Marks the sentinel entry that heads a chain; never in a bucket, never a valid `TimerRef`.
    private static let sentinel = UInt16.max - 1
    /// "No chain": the value of a process's chain before its first chained timer.
    static let noChain = UInt32.max

    private var entries: UnsafeMutablePointer<Entry>
    private var entryCapacity: Int
    private(set) var entryHighWater = 0
    private var freeHead = TimerWheel.none
    /// First and last entry of each bucket's list: timers join at the tail, so timers with one deadline
    /// fire in the order they were armed (as sends from one sender arrive in order).
    private var heads: UnsafeMutablePointer<UInt32>
    private var tails: UnsafeMutablePointer<UInt32>
    private var bitmaps: UnsafeMutablePointer<UInt64>

    /// The last tick the wheel has processed.
    private(set) var now: UInt64
    /// Timers armed and not yet fired or cancelled.
    private(set) var count = 0

    init(now: UInt64) {
        self.now = now
        entryCapacity = 64
        entries = .allocate(capacity: entryCapacity)
        heads = .allocate(capacity: Self.levels * 64)
        heads.initialize(repeating: Self.none, count: Self.levels * 64)
        tails = .allocate(capacity: Self.levels * 64)
        tails.initialize(repeating: Self.none, count: Self.levels * 64)
        bitmaps = .allocate(capacity: Self.levels)
        bitmaps.initialize(repeating: 0, count: Self.levels)
    }

    /// Frees the wheel's memory. Payloads of timers still armed are returned through `releasePayload`.
    mutating func destroy(releasePayload: (UnsafeMutableRawPointer) -> Void) {
        for i in 0..<entryHighWater where entries[i].bucket < Self.sentinel {
            if let payload = entries[i].payload { releasePayload(payload) }
        }
        entries.deinitialize(count: entryHighWater)
        entries.deallocate()
        heads.deallocate()
        tails.deallocate()
        bitmaps.deallocate()
        count = 0
    }

    // MARK: Arming and cancelling

    /// Arms a timer that fires at `deadline` (at the next tick if it is not in the future). `clock` is the
    /// node's current time: an empty wheel jumps to it, so that it never walks an idle stretch later.
    /// With a `chain` (from `makeChain`), the timer joins it, so `cancelChain` can find it later.
    mutating func arm(deadline: UInt64, clock: UInt64, kind: Kind, target: UInt64,
                      payload: UnsafeMutableRawPointer?, chain: UInt32 = noChain) -> TimerRef {
        if count == 0 && now < clock { now = clock }
        let index = takeEntry()
        let due = max(deadline, now &+ 1)
        entries[Int(index)].deadline = due
        entries[Int(index)].kind = kind
        entries[Int(index)].target = target
        entries[Int(index)].payload = payload
        if chain != Self.noChain {
            let next = entries[Int(chain)].ownerNext
            entries[Int(index)].ownerPrev = chain
            entries[Int(index)].ownerNext = next
            entries[Int(next)].ownerPrev = index
            entries[Int(chain)].ownerNext = index
        }
        file(index)
        count += 1
        return TimerRef(rawValue: UInt64(entries[Int(index)].serial) << 32 | UInt64(index))
    }

    /// The deadline of a pending timer, or `nil` when it has fired or was cancelled.
    func deadline(of ref: TimerRef) -> UInt64? {
        guard let index = validIndex(ref) else { return nil }
        return entries[Int(index)].deadline
    }

    /// Cancels a pending timer; returns its deadline and payload, or `nil` when it was no longer pending.
    mutating func cancel(_ ref: TimerRef) -> (deadline: UInt64, payload: UnsafeMutableRawPointer?)? {
        guard let index = validIndex(ref) else { return nil }
        let entry = entries[Int(index)]
        unlink(index)
        releaseEntry(index)
        count -= 1
        return (entry.deadline, entry.payload)
    }

    // MARK: Chains: the timers addressed to one process

    /// Creates an empty chain (a sentinel entry): the handle a process keeps for its timers.
    mutating func makeChain() -> UInt32 {
        let index = takeEntry()
        entries[Int(index)].bucket = Self.sentinel
        entries[Int(index)].ownerPrev = index
        entries[Int(index)].ownerNext = index
        return index
    }

    /// Cancels every timer of `chain` and frees the chain; each cancelled timer's payload goes to `release`.
    mutating func cancelChain(_ chain: UInt32, release: (UnsafeMutableRawPointer) -> Void) {
        guard chain != Self.noChain else { return }
        var index = entries[Int(chain)].ownerNext
        while index != chain {
            let next = entries[Int(index)].ownerNext
            if let payload = entries[Int(index)].payload { release(payload) }
            unlink(index)
            releaseEntry(index)
            count -= 1
            index = next
        }
        releaseEntry(chain)
    }


    // MARK: Expiry

    /// The next tick at which the wheel has work (a bucket to fire or to cascade), or `nil` when empty.
    /// A cascade tick may come before any timer is due; processing it only re-files timers.
    func nextTick() -> UInt64? {
        guard count > 0 else { return nil }
        var best = UInt64.max
        for level in 0..<Self.levels {
            let map = bitmaps[level]
            if map == 0 { continue }
            let shift = Self.bitsPerLevel * UInt64(level)
            let block = (now >> shift) &+ 1
            let rotated = map.rotatedRight(by: Int(block & 63))
            let offset = UInt64(rotated.trailingZeroBitCount)
            let tick = (block &+ offset) << shift
            if tick < best { best = tick }
        }
        return best
    }

    /// Processes ticks up to `target`, stopping after the first tick that has due timers; those are appended
    /// to `due` (and their slots freed). Returns `false` when no timer was due up to `target`; the wheel's
    /// time is then `target`.
    mutating func expireNext(upTo target: UInt64, into due: inout [Expired]) -> Bool {
        while now < target {
            guard let tick = nextTick(), tick <= target else {
                now = target
                return false
            }
            now = tick
            // Cascade higher levels whose bucket starts at this tick, highest first.
            var level = Self.levels - 1
            while level >= 1 {
                let shift = Self.bitsPerLevel * UInt64(level)
                if tick & ((1 << shift) - 1) == 0 {
                    cascade(bucket: level * 64 + Int((tick >> shift) & 63))
                }
                level -= 1
            }
            let bucket = Int(tick & 63)
            if heads[bucket] != Self.none {
                collect(bucket: bucket, into: &due)
                return true
            }
        }
        return false
    }

    // MARK: Internals

    @inline(__always)
    private func validIndex(_ ref: TimerRef) -> UInt32? {
        let index = UInt32(truncatingIfNeeded: ref.rawValue)
        let serial = UInt32(truncatingIfNeeded: ref.rawValue >> 32)
        guard Int(index) < entryHighWater else { return nil }
        let entry = entries[Int(index)]
        guard entry.bucket < Self.sentinel, entry.serial == serial else { return nil }
        return index
    }

    private mutating func takeEntry() -> UInt32 {
        while freeHead != Self.none {
            let index = freeHead
            freeHead = entries[Int(index)].next
            return index
        }
        if entryHighWater == entryCapacity {
            let newCapacity = entryCapacity * 2
            let newEntries = UnsafeMutablePointer<Entry>.allocate(capacity: newCapacity)
            newEntries.moveInitialize(from: entries, count: entryHighWater)
            entries.deallocate()
            entries = newEntries
            entryCapacity = newCapacity
        }
        let index = UInt32(entryHighWater)
        (entries + entryHighWater).initialize(to: Entry(serial: 1))
        entryHighWater += 1
        return index
    }

    /// Frees an entry (unlinked from its bucket), leaving its chain if it is in one.
    private mutating func releaseEntry(_ index: UInt32) {
        let ownerNext = entries[Int(index)].ownerNext
        if ownerNext != Self.none {
            let ownerPrev = entries[Int(index)].ownerPrev
            entries[Int(ownerPrev)].ownerNext = ownerNext
            entries[Int(ownerNext)].ownerPrev = ownerPrev
            entries[Int(index)].ownerPrev = Self.none
            entries[Int(index)].ownerNext = Self.none
        }
        entries[Int(index)].bucket = Self.free
        entries[Int(index)].payload = nil
        let (serial, overflow) = entries[Int(index)].serial.addingReportingOverflow(1)
        // Retired before the serial reaches the top bit: its refs must never match again, and no ref has
        // the top bit set (a process's `waitTimer` uses it for a deferred wait, `Node.deferredWait`).
        guard !overflow, serial < 1 << 31 else { return }
        entries[Int(index)].serial = serial
        entries[Int(index)].next = freeHead
        freeHead = index
    }

    /// Puts timer `index` into the bucket its deadline belongs to, relative to `now`.
    /// Puts a timer into the bucket its deadline falls in: at the tail when it is being armed, at the head
    /// when it is being cascaded down (it was armed before every timer of the same deadline already there,
    /// which went straight to a lower level because they were armed closer to their deadline).
    private mutating func file(_ index: UInt32, atHead: Bool = false) {
        let deadline = entries[Int(index)].deadline
        let delta = deadline &- now
        let effective = delta >= Self.span ? now &+ Self.span &- 1 : deadline
        let spread = delta >= Self.span ? Self.span - 1 : delta
        var level = 0
        while level < Self.levels - 1 && spread >= (1 << (Self.bitsPerLevel * UInt64(level + 1))) {
            level += 1
        }
        let slot = Int((effective >> (Self.bitsPerLevel * UInt64(level))) & 63)
        let bucket = level * 64 + slot
        entries[Int(index)].bucket = UInt16(bucket)
        if atHead {
            let head = heads[bucket]
            entries[Int(index)].prev = Self.none
            entries[Int(index)].next = head
            if head != Self.none { entries[Int(head)].prev = index } else { tails[bucket] = index }
            heads[bucket] = index
        } else {
            let tail = tails[bucket]
            entries[Int(index)].prev = tail
            entries[Int(index)].next = Self.none
            if tail != Self.none { entries[Int(tail)].next = index } else { heads[bucket] = index }
            tails[bucket] = index
        }
        bitmaps[level] |= 1 << UInt64(slot)
    }

    private mutating func unlink(_ index: UInt32) {
        let entry = entries[Int(index)]
        let bucket = Int(entry.bucket)
        if entry.prev != Self.none {
            entries[Int(entry.prev)].next = entry.next
        } else {
            heads[bucket] = entry.next
        }
        if entry.next != Self.none {
            entries[Int(entry.next)].prev = entry.prev
        } else {
            tails[bucket] = entry.prev
        }
        if heads[bucket] == Self.none {
            bitmaps[bucket / 64] &= ~(1 << UInt64(bucket % 64))
        }
    }

    private mutating func detach(bucket: Int) -> UInt32 {
        let first = heads[bucket]
        heads[bucket] = Self.none
        tails[bucket] = Self.none
        bitmaps[bucket / 64] &= ~(1 << UInt64(bucket % 64))
        return first
    }

    /// Re-files a bucket's timers into lower levels, last first, each at the head of its new bucket: timers
    /// of one deadline keep the order they were armed in.
    private mutating func cascade(bucket: Int) {
        var index = tails[bucket]
        _ = detach(bucket: bucket)
        while index != Self.none {
            let previous = entries[Int(index)].prev
            file(index, atHead: true)
            index = previous
        }
    }

    private mutating func collect(bucket: Int, into due: inout [Expired]) {
        var index = detach(bucket: bucket)
        while index != Self.none {
            let entry = entries[Int(index)]
            due.append(Expired(kind: entry.kind, target: entry.target, payload: entry.payload,
                               ref: TimerRef(rawValue: UInt64(entry.serial) << 32 | UInt64(index))))
            let next = entry.next
            releaseEntry(index)
            count -= 1
            index = next
        }
    }
}

extension UInt64 {
    @inline(__always)
    fileprivate func rotatedRight(by amount: Int) -> UInt64 {
        (self &>> UInt64(amount)) | (self &<< UInt64(64 - amount))
    }
}
