/// The monitors processes of other loops hold on this loop's processes, by target: each `DOWN` goes back
/// through the channel to the watcher's loop when the target exits. Every call from another loop adds one
/// (as its request arrives) and drops one (as the server replies), so both are O(1) however many watch one
/// server: a set of watches per target.
///
/// Hashing is a 64-bit mix of the key's bits with the table's seed (`Mixed`), not the standard library's
/// SipHash: the keys are pids and references this process made itself, never a peer's choice, so the
/// keyed hash's protection against chosen collisions buys nothing here, and it cost four SipHash runs per
/// call between loops (about a tenth of such a call's time).
///
/// Thread: the loop thread of the loop that owns it (in its `TransitState`).
struct SiblingWatches {
    /// One monitor held by a process of another loop: its watcher and reference.
    struct Watch: Hashable, Comparable {
        let watcher: PID
        let ref: Ref

        static func < (a: Watch, b: Watch) -> Bool { (a.watcher, a.ref) < (b.watcher, b.ref) }

        func hash(into hasher: inout Hasher) { hasher.combine(bits) }
        func _rawHashValue(seed: Int) -> Int { Mixed.hash(bits, seed: seed) }

        /// The watcher spread over all 64 bits before the reference joins it: a plain `xor` of two small
        /// counters (a caller's slot, its call's reference) put many concurrent calls on one hash.
        private var bits: UInt64 { Mixed.bits(of: watcher) &* Mixed.golden ^ ref.rawValue }
    }

    /// A watched process of this loop, as a key.
    private struct Target: Hashable {
        let pid: PID

        func hash(into hasher: inout Hasher) { hasher.combine(Mixed.bits(of: pid)) }
        func _rawHashValue(seed: Int) -> Int { Mixed.hash(Mixed.bits(of: pid), seed: seed) }
    }

    /// An emptied set stays (with its storage) until its target exits: a server called from another loop
    /// gets and loses a watcher per call, and would otherwise allocate a set per call.
    private var byTarget: [Target: Set<Watch>] = [:]

    /// Whether no process of another loop watches any process of this one (none ever did, or every target
    /// has exited since).
    var isEmpty: Bool { byTarget.isEmpty }

    /// How many watches are held.
    var count: Int { byTarget.values.reduce(0) { $0 + $1.count } }

    /// Every watch with its target, for inspection (the fault-injection tests' invariants). O(watches).
    var all: [(target: PID, watch: Watch)] {
        byTarget.flatMap { key, watches in watches.map { (key.pid, $0) } }
    }

    /// `watcher` monitors `target` with `ref`.
    mutating func insert(_ watcher: PID, ref: Ref, on target: PID) {
        // Through the index, not `subscript(_:default:)` or an optional chain: those modify through a
        // coroutine whose frame is allocated per call.
        let key = Target(pid: target), watch = Watch(watcher: watcher, ref: ref)
        if let index = byTarget.index(forKey: key) {
            byTarget.values[index].insert(watch)
        } else {
            byTarget[key] = [watch]
        }
    }

    /// Drops the monitor `watcher` holds on `target` with `ref`. Returns whether there was one.
    mutating func remove(_ watcher: PID, ref: Ref, on target: PID) -> Bool {
        guard !byTarget.isEmpty, let index = byTarget.index(forKey: Target(pid: target)) else { return false }
        return byTarget.values[index].remove(Watch(watcher: watcher, ref: ref)) != nil
    }

    /// Takes every watch on `target` (it exited), in a reproducible order (a set's order varies between runs).
    mutating func removeAll(on target: PID) -> [Watch] {
        byTarget.removeValue(forKey: Target(pid: target))?.sorted() ?? []
    }
}

/// The hash of `SiblingWatches`' keys: the 64-bit finaliser of MurmurHash3 over the key's bits and the
/// table's seed, a handful of instructions where SipHash takes about a hundred. Every bit of the input
/// reaches the low bits the table indexes by.
private enum Mixed {
    static let golden: UInt64 = 0x9E37_79B9_7F4A_7C15

    static func bits(of pid: PID) -> UInt64 { pid.rawValue ^ (UInt64(pid.node) &* golden) }

    static func hash(_ bits: UInt64, seed: Int) -> Int {
        var x = bits ^ UInt64(bitPattern: Int64(seed))
        x ^= x >> 33
        x &*= 0xFF51_AFD7_ED55_8CCD
        x ^= x >> 33
        x &*= 0xC4CE_B9FE_1A85_EC53
        x ^= x >> 33
        return Int(bitPattern: UInt(x))
    }
}
