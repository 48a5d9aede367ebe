/// The monitors processes of other loops hold on this loop's processes: each `DOWN` goes back through the
/// channel to the watcher's loop when the target exits. `monitor` adds one, and so do a start from another
/// loop (until the server acknowledges) and a call from a loop numbered 64 or more (until the server
/// replies); a call from any other loop has none here (`SiblingRequests`). Adding and dropping are O(1)
/// however many watch one process, and cheap: no allocation once grown, a hash and a probe or two each.
///
/// The watches are entries of one buffer (a free list reuses them), each on a doubly linked chain of its
/// target's watches. Two open-addressing tables of entry indices find them (linear probing, at most a
/// quarter full, deletion by shifting back, so no tombstones): `byWatch` by the whole watch (watcher,
/// reference, target) for a removal, `byTarget` by the target for the head of its chain, which an exit
/// takes whole. callgrind, 1,000 callers on two loops calling one server: the pair costs the server's loop
/// about 430 instructions a call, where a set of watches per target cost about 600.
///
/// Hashing is a 64-bit mix of the key's bits (`Mixed`), not the standard library's SipHash: the keys are
/// pids and references this process made itself, never a peer's choice, so a keyed hash's protection
/// against chosen collisions buys nothing here.
///
/// A class over raw buffers (its one owner is the loop's `TransitState`): no copy-on-write checks or
/// bounds checks on the call path. Thread: the loop thread of the loop that owns it.
final class SiblingWatches {
    /// One monitor held by a process of another loop: its watcher and reference.
    struct Watch: Hashable, Comparable {
        let watcher: PID
        let ref: Ref

        static func < (a: Watch, b: Watch) -> Bool { (a.watcher, a.ref) < (b.watcher, b.ref) }
    }

    /// A watch on `target`, linked into the chain of `target`'s watches (`previous` and `next`: entry
    /// indices, `none` at the ends). A free entry has `previous == free` and `next` the next free entry.
    private struct Entry {
        var watch: Watch
        var target: PID
        var previous: Int32
        var next: Int32
    }

    private static let none: Int32 = -1
    private static let free: Int32 = -2
    private static let empty: Int32 = -1

    /// Entries `0..<used` are initialised (live or free); `entryCapacity` allocated.
    private var entries: UnsafeMutablePointer<Entry>
    private var entryCapacity = 0
    private var used = 0
    private var firstFree = none
    /// How many watches are held.
    private(set) var count = 0
    /// The two tables, `tableSize` slots each (a power of two), `empty` or an entry index.
    private var byWatch: UnsafeMutablePointer<Int32>
    private var byTarget: UnsafeMutablePointer<Int32>
    private var tableSize = 0

    init() {
        entries = UnsafeMutablePointer<Entry>.allocate(capacity: 0)
        byWatch = UnsafeMutablePointer<Int32>.allocate(capacity: 0)
        byTarget = UnsafeMutablePointer<Int32>.allocate(capacity: 0)
    }

    deinit {
        entries.deallocate()  // `Entry` is plain data: nothing to deinitialise
        byWatch.deallocate()
        byTarget.deallocate()
    }

    /// Whether no process of another loop watches any process of this one.
    var isEmpty: Bool { count == 0 }

    /// Every watch with its target, for inspection (the fault-injection tests' invariants). O(entries).
    var all: [(target: PID, watch: Watch)] {
        (0..<used).compactMap { i in entries[i].previous == Self.free ? nil : (entries[i].target, entries[i].watch) }
    }

    /// `watcher` monitors `target` with `ref`. A watch held already stays one.
    func insert(_ watcher: PID, ref: Ref, on target: PID) {
        let watch = Watch(watcher: watcher, ref: ref)
        if 4 * (count + 1) > tableSize { grow() }  // first, so that the probe's empty slot stays one
        let hash = Mixed.hash(watch, on: target)
        let (watchSlot, held) = probe(for: watch, on: target, hash: hash)
        if held { return }
        let targetHash = Mixed.hash(target)
        let headSlot = slot(ofTarget: target, hash: targetHash)
        let head = headSlot.map { byTarget[$0] } ?? Self.none
        let index = newEntry(Entry(watch: watch, target: target, previous: Self.none, next: head))
        if head != Self.none { entries[Int(head)].previous = index }
        if let headSlot {
            byTarget[headSlot] = index
        } else {
            Self.add(index, hash: targetHash, to: byTarget, size: tableSize)
        }
        byWatch[watchSlot] = index
        count += 1
    }

    /// Drops the monitor `watcher` holds on `target` with `ref`. Returns whether there was one.
    func remove(_ watcher: PID, ref: Ref, on target: PID) -> Bool {
        guard count > 0 else { return false }
        let watch = Watch(watcher: watcher, ref: ref)
        let (slot, held) = probe(for: watch, on: target, hash: Mixed.hash(watch, on: target))
        guard held else { return false }
        let index = byWatch[slot]
        removeWatchSlot(slot)
        unlink(index)
        release(index)
        return true
    }

    /// Takes every watch on `target` (it exited), in a reproducible order (by watcher, then reference).
    func removeAll(on target: PID) -> [Watch] {
        guard count > 0, let headSlot = slot(ofTarget: target, hash: Mixed.hash(target)) else { return [] }
        var index = byTarget[headSlot]
        removeTargetSlot(headSlot)
        var taken: [Watch] = []
        while index != Self.none {
            let entry = entries[Int(index)]
            taken.append(entry.watch)
            removeWatchSlot(slot(ofEntry: index, hash: Mixed.hash(entry.watch, on: target)))
            release(index)
            index = entry.next
        }
        return taken.sorted()
    }

    // MARK: Entries

    private func newEntry(_ entry: Entry) -> Int32 {
        if firstFree != Self.none {
            let index = firstFree
            firstFree = entries[Int(index)].next
            entries[Int(index)] = entry
            return index
        }
        if used == entryCapacity {
            let capacity = max(16, 2 * entryCapacity)
            let grown = UnsafeMutablePointer<Entry>.allocate(capacity: capacity)
            grown.moveInitialize(from: entries, count: used)
            entries.deallocate()
            entries = grown
            entryCapacity = capacity
        }
        (entries + used).initialize(to: entry)
        used += 1
        return Int32(used - 1)
    }

    /// Takes entry `index` out of its target's chain; the target's head moves on, or the target goes.
    private func unlink(_ index: Int32) {
        let entry = entries[Int(index)]
        if entry.next != Self.none { entries[Int(entry.next)].previous = entry.previous }
        if entry.previous != Self.none {
            entries[Int(entry.previous)].next = entry.next
            return
        }
        let slot = slot(ofTarget: entry.target, hash: Mixed.hash(entry.target))!
        if entry.next != Self.none { byTarget[slot] = entry.next } else { removeTargetSlot(slot) }
    }

    /// Puts entry `index` on the free list.
    private func release(_ index: Int32) {
        entries[Int(index)].previous = Self.free
        entries[Int(index)].next = firstFree
        firstFree = index
        count -= 1
    }

    // MARK: The tables

    /// The `byWatch` slot holding `watch` on `target` (`held`), or else the empty slot where it would go.
    /// The table has slots (`count > 0` or it grew).
    private func probe(for watch: Watch, on target: PID, hash: UInt64) -> (slot: Int, held: Bool) {
        let mask = tableSize - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while byWatch[slot] != Self.empty {
            let entry = entries[Int(byWatch[slot])]
            if entry.watch == watch && entry.target == target { return (slot, true) }
            slot = (slot + 1) & mask
        }
        return (slot, false)
    }

    private func slot(ofTarget target: PID, hash: UInt64) -> Int? {
        guard tableSize > 0 else { return nil }
        let mask = tableSize - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while byTarget[slot] != Self.empty {
            if entries[Int(byTarget[slot])].target == target { return slot }
            slot = (slot + 1) & mask
        }
        return nil
    }

    /// The `byWatch` slot holding entry `index`, which it holds.
    private func slot(ofEntry index: Int32, hash: UInt64) -> Int {
        let mask = tableSize - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while byWatch[slot] != index { slot = (slot + 1) & mask }
        return slot
    }

    private func removeWatchSlot(_ slot: Int) {
        Self.remove(at: slot, from: byWatch, size: tableSize) { [entries] in
            Mixed.hash(entries[Int($0)].watch, on: entries[Int($0)].target)
        }
    }

    private func removeTargetSlot(_ slot: Int) {
        Self.remove(at: slot, from: byTarget, size: tableSize) { [entries] in Mixed.hash(entries[Int($0)].target) }
    }

    /// Puts `index` in the first empty slot from `hash`'s home (the table has room).
    private static func add(_ index: Int32, hash: UInt64, to table: UnsafeMutablePointer<Int32>, size: Int) {
        let mask = size - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while table[slot] != empty { slot = (slot + 1) & mask }
        table[slot] = index
    }

    /// Empties `slot`, then moves back each following index that its home slot allows, so that no probe
    /// stops short of it.
    private static func remove(at slot: Int, from table: UnsafeMutablePointer<Int32>, size: Int,
                               hashOf: (Int32) -> UInt64) {
        let mask = size - 1
        var hole = slot
        var next = (slot + 1) & mask
        while table[next] != empty {
            let home = Int(truncatingIfNeeded: hashOf(table[next])) & mask
            // The index at `next` may fill the hole unless its home lies in (hole, next], cyclically.
            let stays = hole <= next ? (home > hole && home <= next) : (home > hole || home <= next)
            if !stays {
                table[hole] = table[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        table[hole] = empty
    }

    /// Doubles both tables (watches never fill more than a quarter of their slots, nor targets: short
    /// probes) and fills them again.
    private func grow() {
        let size = max(16, 2 * tableSize)
        byWatch.deallocate()
        byTarget.deallocate()
        byWatch = UnsafeMutablePointer<Int32>.allocate(capacity: size)
        byTarget = UnsafeMutablePointer<Int32>.allocate(capacity: size)
        byWatch.initialize(repeating: Self.empty, count: size)
        byTarget.initialize(repeating: Self.empty, count: size)
        tableSize = size
        for i in 0..<used where entries[i].previous != Self.free {
            let entry = entries[i]
            Self.add(Int32(i), hash: Mixed.hash(entry.watch, on: entry.target), to: byWatch, size: size)
            if entry.previous == Self.none {
                Self.add(Int32(i), hash: Mixed.hash(entry.target), to: byTarget, size: size)
            }
        }
    }
}

/// The hash of `SiblingWatches`' keys: the 64-bit finaliser of MurmurHash3 over the key's bits, a handful
/// of instructions where SipHash takes about a hundred. Every bit of the input reaches the low bits the
/// tables index by.
enum Mixed {
    static let golden: UInt64 = 0x9E37_79B9_7F4A_7C15

    static func bits(of pid: PID) -> UInt64 { pid.rawValue ^ (UInt64(pid.node) &* golden) }

    /// A target's hash.
    static func hash(_ pid: PID) -> UInt64 { mix(bits(of: pid)) }

    /// A watch's hash. The watcher is spread over all 64 bits before the reference joins it: a plain `xor`
    /// of two small counters (a caller's slot, its call's reference) put many concurrent calls on one hash.
    static func hash(_ watch: SiblingWatches.Watch, on target: PID) -> UInt64 {
        mix((bits(of: watch.watcher) &* golden ^ watch.ref.rawValue) &* golden ^ bits(of: target))
    }

    static func mix(_ bits: UInt64) -> UInt64 {
        var x = bits
        x ^= x >> 33
        x &*= 0xFF51_AFD7_ED55_8CCD
        x ^= x >> 33
        x &*= 0xC4CE_B9FE_1A85_EC53
        x ^= x >> 33
        return x
    }
}
