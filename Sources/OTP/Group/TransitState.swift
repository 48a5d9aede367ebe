/// A loop's side of its group's channels: which destinations to wake at the end of this iteration, and
/// the monitors processes of other loops hold on this loop's processes.
///
/// Thread: loop thread only (owned by the node).
struct TransitState {
    /// Destinations this loop pushed to since its last flush, by loop index.
    var dirty: [Bool] = []
    var anyDirty = false
    /// Monitors held by processes of other loops on processes of this one, by target: each `DOWN` goes
    /// back through the channel to the watcher's loop when the target exits. A set per target, so adding
    /// and removing one is O(1) however many watch one server (every call from another loop is one).
    var watchers: [PID: Set<Watch>] = [:]
    /// Items this loop has sent to other loops (tests count what an operation costs).
    var shipped: UInt64 = 0

    /// One monitor held by a process of another loop: its watcher and reference.
    struct Watch: Hashable, Comparable {
        let watcher: PID
        let ref: Ref

        static func < (a: Watch, b: Watch) -> Bool { (a.watcher, a.ref) < (b.watcher, b.ref) }
    }
}
