/// The scheduler's state, stored inline in the node (no indirection on the message path).
///
/// Thread: loop thread only.
@usableFromInline
struct SchedulerState {
    /// PIDs (raw) of processes that have work, in order.
    @usableFromInline var runQueue = RingBuffer<UInt64>(limit: .max)
    /// Whether the scheduler's libuv handle is active (or a drain is under way), so that scheduling a
    /// process only touches libuv on the idle-to-busy edge.
    @usableFromInline var active = false
    /// The object of the process whose callback is executing, for counting sends and deferring exit
    /// signals to itself.
    @usableFromInline var current: UnsafeMutableRawPointer? = nil
    /// A drain is under way (guards against re-entering the scheduler from process code).
    var draining = false
    /// Run-queue drains and inbox drains so far (wrapping): a busy-waiting loop compares it across an
    /// iteration to tell one that did work (`Node.runBusyWaiting`), even when that work left nothing queued.
    var drains: UInt = 0
    /// A turn lent by a sender to a flooded receiver is running (`Node.lendTurn`; at most one deep).
    @usableFromInline var lending = false
    /// Call continuations running inside the handler that made the call, its reply already queued
    /// (`ProcessContext.call`); bounded so that a chain of calls unwinds to the turn now and then.
    @usableFromInline var nestedContinuations = 0
    /// With metrics on: the handler time of the turns nested in the current one (`Node.nestedTurn`), left
    /// out of its own.
    var nestedNanoseconds: UInt64 = 0
    /// A call served at once (`Node.serveNow`) whose reply is not queued but held for its caller, who takes
    /// it as soon as the server's turn ends (`Node.takeQueuedResponse`): the raw reference whose reply is to
    /// be held while the server's turn runs (`holdingFor`), then the raw reference of the reply held
    /// (`heldReply`); 0 for none. At most one at a time: a call made meanwhile queues its reply.
    @usableFromInline var holdingFor: UInt64 = 0
    @usableFromInline var heldReply: UInt64 = 0
    /// The server (raw pid) whose turn runs for a held reply (`Node.serve(_:_:request:from:)`), 0 for none,
    /// and its caller: the request has no monitor, so the server's exit in that turn tells the caller
    /// (`Node.servedServerExited`).
    @usableFromInline var servedServer: UInt64 = 0
    @usableFromInline var servedCaller = PID(node: 0, index: 0, serial: 0)
    /// Whether a call's reply may be held now (`Node.serve(_:_:request:from:)`): none is held or to be held, and
    /// its caller will take it (its continuations are not nested too deep for `takeQueuedResponse`).
    @inlinable var mayHoldReply: Bool {
        holdingFor == 0 && heldReply == 0 && nestedContinuations < SchedulerState.continuationDepth
    }
    /// How deep call continuations may nest (`nestedContinuations`).
    @usableFromInline static let continuationDepth = 8
    /// How many messages queued in a mailbox make a send from process code lend the receiver a turn:
    /// four turns' worth (`NodeConfiguration.messagesPerTurn`).
    @usableFromInline var lendThreshold = 256
    /// The last slow turn the watchdog flagged that this node reported, and the processes reported
    /// already (once each; `SlowTurnWatchdog`).
    var reportedSlowTurn: UInt64 = 0
    var slowProcessesReported: Set<PID> = []

    @usableFromInline
    init() {}
}
