#if canImport(Glibc)
import Glibc
#endif
import CLibUV
import Logging

/// A node: one libuv loop on one thread, and every process that runs on it.
///
/// ## Thread contract
/// Like SwiftNIO's `EventLoop`, a node is shared freely (`Sendable`) but most of its methods are
/// *loop-thread only*: spawn, send, link, monitor, register, timers and introspection must run on the
/// thread that runs the loop — inside process code, or in a closure given to `execute(_:)`. Before the
/// loop is started on a dedicated thread (`startLoop()`), the thread that created the node is its loop thread.
/// Every loop-thread-only entry point checks this in every build, the message hot path included, and traps
/// naming the method (a thread-id compare: see `preconditionInLoop`).
///
/// The *thread-safe* entry points are `execute(_:)`, `post(_:to:onRefused:)`, `stopLoop()` and `join()`.
/// They go through the node's inbox: a mutex-protected queue drained on the loop after `uv_async_send`.
///
/// ## Driving the loop
/// - `run(until:)` on the calling thread: until `stopLoop()`, or until nothing is left to do;
/// - `runOnce(blocking:)`: one libuv iteration;
/// - `startLoop()`: on a dedicated thread the node starts; `stopLoop()` then `join()`;
/// - with `clock: .manual`, the deterministic driver: `runUntilIdle()` and `advance(by:)`, no libuv at all.
///
/// `close()` ends the node: every process is shut down, every handle closed, and `uv_loop_close` returns 0.
public final class Node: @unchecked Sendable {
    public let configuration: NodeConfiguration

    // Loop-thread state, one struct per layer, stored inline. `@exclusivity(unchecked)`: only the loop
    // thread touches these, one access at a time by construction, so the dynamic exclusivity checks would
    // only cost time on the message path.

    /// This node's number in the OS process (`NodeNumbers`): the `node` of every pid it hands out.
    public let number: UInt32
    /// The group this node is a loop of (`NodeGroup`), or nil for a node of its own.
    @usableFromInline let group: GroupCore?
    /// `group`, unretained: what the paths between loops use (`withGroup`), so that they never touch the
    /// reference count of an object every loop's thread shares.
    @usableFromInline let groupRef: Unmanaged<GroupCore>?
    /// This loop's index in its `NodeGroup` (0 for a node of its own).
    public let loopIndex: Int
    /// Items for and from the other loops of the group (`Group/`).
    @exclusivity(unchecked) var transit = TransitState()
    /// The node's clock when it was made (`NodeSnapshot.uptime`).
    var createdAt: UInt64 = 0
    /// Every live process, by slot (`Process/`).
    @usableFromInline @exclusivity(unchecked) var table: ProcessTable
    /// Every monitor and request (`Process/`, `Requests/`).
    @usableFromInline @exclusivity(unchecked) var monitors = MonitorTable()
    /// Registered names (`Process/`).
    @exclusivity(unchecked) var registry: [String: PID] = [:]
    /// Exits waiting to be carried out (`Process/`).
    @exclusivity(unchecked) var exits = ExitQueue()
    @usableFromInline @exclusivity(unchecked) var counters = NodeStatistics()
    /// The last `TaskRef` id given out (`startTask`). Loop thread.
    @exclusivity(unchecked) var taskSerial: UInt64 = 0
    /// `configuration.tracing`; while a call or an async-facade job sends, the context its message carries;
    /// the span of each traced call by request (`MessageTracing`). Loop thread.
    @usableFromInline let tracing: (any MessageTracing)?
    /// Whether `tracing` is set: what the message and call paths test (a `Bool`, not the existential).
    @usableFromInline let traces: Bool
    @usableFromInline @exclusivity(unchecked) var outgoingTrace: TraceContext?
    @usableFromInline @exclusivity(unchecked) var callSpans: [Ref: any TraceSpan] = [:]
    @exclusivity(unchecked) var sendingStack: [TraceContext?] = []
    /// The run queue and the drain (`Scheduler/`).
    @usableFromInline @exclusivity(unchecked) var scheduler = SchedulerState()
    /// The `ResponseWait` of the last response a closure process took, kept for its next wait (`Requests/`).
    @usableFromInline @exclusivity(unchecked) var spareWait: AnyObject?
    /// The timer wheel and the manual clock (`Timers/`).
    @exclusivity(unchecked) var timers: TimerState
    /// The async facade's stand-in requester and the operations it waits for (`Async/`).
    @usableFromInline @exclusivity(unchecked) var external = ExternalCalls()
    /// The view socket (`Observability/`).
    @exclusivity(unchecked) var view = ViewState()
    /// This loop's busy time and load marks (`Node.load`, `LoopLoad`).
    @exclusivity(unchecked) var meter = LoadMeter()
    /// Cluster membership (`Distribution/`).
    @usableFromInline @exclusivity(unchecked) var cluster = ClusterState()
    /// The swift-metrics handles; `nil` when metrics are off (`NodeConfiguration.metrics`).
    @usableFromInline let instruments: NodeInstruments?
    /// What the loop is running, for the slow-turn watchdog and fatal-signal reports (`otp_turn_watch`).
    @usableFromInline let turnWatch: UnsafeMutablePointer<otp_turn_watch>

    // The loop itself (`Loop/`).

    @usableFromInline @exclusivity(unchecked) var phase: Phase = .ready
    /// `stopLoop()` was called: ends a busy-waiting `run(until:)` (libuv clears its own stop flag per `uv_run`).
    @exclusivity(unchecked) var stopRequested = false

    /// The libuv side (loop and handles); `nil` on the manual clock.
    let uv: UVLoop?
    /// `uv?.loop`, kept as a plain pointer: reading the time on every timed wait needs no reference counting.
    let uvLoop: UnsafeMutablePointer<uv_loop_t>?
    /// The cross-thread entry point. Guarded by its own mutex.
    let inbox: Inbox
    /// The thread allowed to run loop-thread-only code. Written only before the loop starts running on it.
    @usableFromInline @exclusivity(unchecked) var loopThread: pthread_t
    /// The dedicated thread from `startLoop()`, if any. Guarded by `inbox`'s mutex for `join()`.
    var dedicatedThread: pthread_t?

    @usableFromInline enum Phase { case ready, running, attached, closed }

    /// Runs Swift jobs on this node's loop thread (embedding mode 4): bind an actor to it, or prefer it for
    /// a task, and that code runs on the loop, where it can use the loop-thread API directly.
    public let executor: NodeExecutor

    /// Creates a node. With the system clock this creates and initialises a `uv_loop_t` of its own.
    public convenience init(configuration: NodeConfiguration = NodeConfiguration()) {
        switch configuration.clock {
        case .system: self.init(configuration: configuration, uv: UVLoop())
        case .manual: self.init(configuration: configuration, uv: nil)
        }
    }

    /// Attaches a node to a `uv_loop_t` that the host owns and runs (embedding mode 3). The host keeps
    /// running its loop with `uv_run` as before; the node adds three handles to it (none of them keeps the
    /// loop alive on its own). `detach()` removes them again, leaving the host's loop as it was.
    ///
    /// Thread: call on the thread that runs the host loop; it becomes the node's loop thread.
    /// - Parameters:
    ///   - hostLoop: a pointer to the host's initialised `uv_loop_t`.
    ///   - configuration: the node's configuration; its clock must be `.system`.
    public convenience init(attachingTo hostLoop: UnsafeMutableRawPointer,
                            configuration: NodeConfiguration = NodeConfiguration()) {
        precondition(configuration.clock == .system, "Node(attachingTo:) needs the system clock")
        let loop = hostLoop.assumingMemoryBound(to: uv_loop_t.self)
        self.init(configuration: configuration, uv: UVLoop(loop: loop, owned: false))
        uv!.keepAlive(false)
        phase = .attached
    }

    /// Loop `loopIndex` of a `NodeGroup`: its number is the group's base plus the index.
    convenience init(configuration: NodeConfiguration, group: GroupCore, loopIndex: Int) {
        self.init(configuration: configuration, uv: configuration.clock == .system ? UVLoop() : nil,
                  group: group, loopIndex: loopIndex)
    }

    private init(configuration: NodeConfiguration, uv: UVLoop?, group: GroupCore? = nil, loopIndex: Int = 0) {
        self.configuration = configuration
        tracing = configuration.tracing
        traces = configuration.tracing != nil
        self.number = group.map { $0.base + UInt32(loopIndex) } ?? NodeNumbers.next()
        self.group = group
        self.groupRef = group.map { Unmanaged.passUnretained($0) }
        self.loopIndex = loopIndex
        if let group { transit.dirty = Array(repeating: false, count: group.count) }
        self.table = ProcessTable(node: number)
        self.timers = TimerState(now: 0)
        turnWatch = .allocate(capacity: 1)
        turnWatch.initialize(to: otp_turn_watch())
        otp_watch_end(turnWatch)
        self.loopThread = pthread_self()
        self.inbox = Inbox()
        self.uv = uv
        self.uvLoop = uv?.loop
        self.scheduler.lendThreshold = 4 * max(configuration.messagesPerTurn, 1)
        self.executor = NodeExecutor()
        // The loops of a group publish their metrics apart, each with its loop's index as a dimension.
        self.instruments = configuration.metrics.map { options in
            var options = options
            if group != nil { options.dimensions.append(("loop", "\(loopIndex)")) }
            return NodeInstruments(options: options)
        }
        meter.measuring = instruments != nil
        uv?.attach(to: self)
        timers = TimerState(now: currentTime)
        createdAt = currentTime
        meter.mark.time = createdAt
        meter.nextMark.time = createdAt
        executor.node = self
        FatalSignals.install()
        BrokenPipes.ignore()
        if let threshold = configuration.slowTurnThreshold {
            SlowTurnWatchdog.shared.register(number, watch: turnWatch, threshold: threshold)
        }
    }

    /// A node on the manual clock: the deterministic driver for tests (time starts at 0).
    public static func deterministic(
        defaultMailboxCapacity: Int = 100_000,
        report: (@Sendable (NodeReport) -> Void)? = nil,
        logger: Logger = Logger(label: "swift-otp"),
        metrics: MetricsOptions? = nil
    ) -> Node {
        Node(configuration: NodeConfiguration(clock: .manual, defaultMailboxCapacity: defaultMailboxCapacity,
                                              report: report, logger: logger, metrics: metrics))
    }

    deinit {
        if phase != .closed && pthread_equal(loopThread, pthread_self()) != 0 && phase != .running {
            _ = close()
        }
        SlowTurnWatchdog.shared.unregister(number)
        turnWatch.deallocate()
        timers.wheel.destroy { Unmanaged<TimedPayload>.fromOpaque($0).release() }
        table.destroy()
        monitors.destroy()
        transit.requests.destroy()
        scheduler.runQueue.releaseStorage()
    }

    // MARK: Thread checks

    /// Whether the calling thread is this node's loop thread. A hint, never a guard.
    public var inLoopThread: Bool { pthread_self() == loopThread }

    /// The file descriptor libuv waits on (epoll), for a host that waits in its own poll loop (embedding
    /// mode 2): when it is readable, or after `backendTimeout` milliseconds, call `runOnce(blocking: false)`.
    public var backendFileDescriptor: Int32 {
        guard let uv else { preconditionFailure("Node.backendFileDescriptor needs the system clock") }
        return uv_backend_fd(uv.loop)
    }

    /// How long the host may wait before the next `runOnce`, in milliseconds: 0 when work is ready, -1 when
    /// nothing is scheduled (wait for the descriptor only).
    public var backendTimeout: Int32 {
        guard let uv else { preconditionFailure("Node.backendTimeout needs the system clock") }
        return uv_backend_timeout(uv.loop)
    }

    /// Traps, naming `function`, unless called on the loop thread: in every build, since loop-thread state
    /// touched from two threads corrupts the heap. Cost: `pthread_self` (a register read behind a call) and
    /// a compare, inlined; the failure path is out of line.
    @inlinable @inline(__always)
    func preconditionInLoop(_ function: StaticString = #function) {
        if _slowPath(pthread_self() != loopThread) { wrongThread(function) }
    }

    @usableFromInline @inline(never)
    func wrongThread(_ function: StaticString) -> Never {
        preconditionFailure("Node.\(function) must be called on the node's loop thread (use execute(_:))")
    }

    // MARK: Time and references

    /// The node's clock in milliseconds: libuv's loop time, or the manual clock.
    public var now: UInt64 {
        currentTime
    }

    /// While nobody runs the node (set-up code on the creating thread), libuv's cached time is refreshed
    /// first: it dates from the last loop iteration, which may be long ago. While the loop runs, the
    /// iteration's cached time is used (no clock read).
    @usableFromInline
    var currentTime: UInt64 {
        if let loop = uvLoop {
            if phase == .ready { uv_update_time(loop) }
            return uv_now(loop)
        }
        return timers.manualNow
    }


    /// Node-wide counters. Loop thread only.
    public var statistics: NodeStatistics {
        preconditionInLoop()
        var snapshot = counters
        snapshot.live = table.count
        snapshot.pendingTimers = timers.wheel.count
        snapshot.monitors = monitors.count - monitors.parkedCount
        snapshot.registeredNames = registry.count
        snapshot.runQueueLength = scheduler.runQueue.count
        return snapshot
    }
}
