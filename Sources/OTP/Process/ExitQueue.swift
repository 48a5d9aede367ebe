/// Exits waiting to be carried out, stored inline in the node: a cascade through links is a loop over
/// this queue, never a recursion (`Node.terminate`).
///
/// Thread: loop thread only.
struct ExitQueue {
    var dying: [(PID, ExitReason)] = []
    /// The queue is being carried out: a new exit joins it instead of starting another pass.
    var draining = false
}
