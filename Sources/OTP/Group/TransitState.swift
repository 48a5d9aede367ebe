/// A loop's side of its group's channels: which destinations to wake at the end of this iteration, the
/// monitors processes of other loops hold on this loop's processes, and the calls this loop's processes have
/// open to servers of other loops.
///
/// Thread: loop thread only (owned by the node).
struct TransitState {
    /// Destinations this loop pushed to since its last flush, by loop index.
    var dirty: [Bool] = []
    var anyDirty = false
    /// Monitors held by processes of other loops on processes of this one.
    var watchers = SiblingWatches()
    /// Items this loop has sent to other loops (tests count what an operation costs).
    var shipped: UInt64 = 0
    /// The number, in its channel (`LoopChannel.nextNumber`), of the item this loop queued last.
    var lastNumber: UInt64 = 0
    /// This loop's calls open to servers of other loops, by server.
    var requests = SiblingRequests()
}
