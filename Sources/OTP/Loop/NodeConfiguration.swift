#if canImport(Glibc)
import Glibc
#endif
import Logging

/// How a node is set up. All fields have defaults suited to a server; tests use `clock: .manual`.
public struct NodeConfiguration: Sendable {
    /// Where time comes from.
    public enum Clock: Sendable {
        /// libuv's loop clock (milliseconds, monotonic); the node runs a real libuv loop.
        case system
        /// A clock that starts at 0 and moves only in `Node.advance(by:)`: the deterministic driver for tests.
        /// No libuv loop is created; `runUntilIdle()` and `advance(by:)` drive the same scheduler.
        case manual
    }

    public var clock: Clock
    /// Mailbox capacity of a process spawned without its own (`SpawnOptions.mailboxCapacity`).
    public var defaultMailboxCapacity: Int
    /// How many messages a process may handle in one turn before others get theirs. Each message it sends
    /// in its handlers counts as one more (Erlang charges reductions for sends), so a process that fans out
    /// yields sooner and the processes it feeds keep up. A handler itself is never interrupted; one whose
    /// sends fill a local mailbox past four times this many messages lends that receiver a turn inside the
    /// send (`NodeStatistics.lentTurns`, `docs/architecture.md`).
    public var messagesPerTurn: Int
    /// How many messages the scheduler handles in one loop iteration before libuv runs timers and I/O.
    public var messagesPerIteration: Int
    /// Where the node logs (swift-log): crash reports, supervisor reports, traces of traced servers,
    /// refused messages and warnings, each with the pid, registered name and reason as metadata
    /// (`NodeReport`, `docs/observability.md`). Default label: `swift-otp`; the backend is whatever the
    /// program bootstrapped (`LoggingSystem.bootstrap`), standard error by default.
    public var logger: Logger
    /// Also receives every `NodeReport`, after it was logged (tests collect them here). Called on the loop
    /// thread, or on the posting thread for a message posted to a closed node. Default: none.
    public var report: (@Sendable (NodeReport) -> Void)?
    /// swift-metrics instrumentation; `nil` (the default) turns it off at no cost on the message path.
    public var metrics: MetricsOptions?
    /// How long `run(until:)` keeps polling (non-blocking loop iterations) after its last work before it
    /// sleeps in the kernel: Erlang's scheduler busy wait (`+sbwt`). A message from a socket or another
    /// thread that arrives meanwhile is taken without a wake-up, which on a virtual machine is most of a
    /// network round trip (`docs/distribution.md`: 98 → 24 µs for a call between two nodes). The cost is CPU:
    /// up to this long of one core after each burst of work. A loop of a `NodeGroup` that busy-waits also
    /// carries out other loops' items as they keep arriving without a libuv iteration between them, for at
    /// most 64 arrivals or 200 µs: its timers and sockets wait that long at most. Default `.zero`: sleep at
    /// once.
    public var busyWait: Duration
    /// A process turn that holds the loop longer than this is reported once per process, as a warning
    /// with its pid, registered name and type (`SlowTurnWatchdog`): one blocking handler delays every
    /// timer, call and message of the node. `nil` turns the watchdog off. Default: 100 ms.
    public var slowTurnThreshold: Duration?
    /// How many Swift tasks one process may run at once (`ProcessContext.startTask`); more are refused with
    /// `ProcessError.tooManyTasks`, so a flood of requests cannot start unbounded work. A process may set its
    /// own (`limitTasks(to:)`). Default: 1,024.
    public var maximumTasksPerProcess: Int = 1_024
    /// Carries trace context with messages to GenServers and starts a span per call (`MessageTracing`;
    /// `OTPTracing.DistributedTracing` for swift-distributed-tracing). `nil` (the default): nothing is traced.
    public var tracing: (any MessageTracing)?

    public init(
        clock: Clock = .system,
        defaultMailboxCapacity: Int = 100_000,
        messagesPerTurn: Int = 64,
        messagesPerIteration: Int = 16_384,
        report: (@Sendable (NodeReport) -> Void)? = nil,
        logger: Logger = Logger(label: "swift-otp"),
        metrics: MetricsOptions? = nil,
        busyWait: Duration = .zero,
        slowTurnThreshold: Duration? = .milliseconds(100)
    ) {
        self.slowTurnThreshold = slowTurnThreshold
        self.metrics = metrics
        self.busyWait = busyWait
        self.logger = logger
        self.clock = clock
        self.defaultMailboxCapacity = defaultMailboxCapacity
        self.messagesPerTurn = messagesPerTurn
        self.messagesPerIteration = messagesPerIteration
        self.report = report
    }
}

/// Options for one spawn.
public struct SpawnOptions: Sendable {
    /// Mailbox capacity; the node's default when `nil`. Must be positive.
    public var mailboxCapacity: Int?
    /// Start with exits trapped.
    public var trapExits: Bool
    /// `name` and `via`, boxed: an unnamed spawn's options copy without reference counting.
    @usableFromInline var naming: RequestedName?

    /// Register the new process under this name, atomically with the spawn.
    public var name: String? { get { naming.name } set { naming.name = newValue } }

    /// Register the new process under this key of a `Registry`, atomically with the spawn (a process takes
    /// one name: this or `name`).
    public var via: ViaName? { get { naming.via } set { naming.via = newValue } }

    public init(mailboxCapacity: Int? = nil, trapExits: Bool = false, name: String? = nil, via: ViaName? = nil) {
        self.mailboxCapacity = mailboxCapacity
        self.trapExits = trapExits
        self.naming = RequestedName.make(name: name, via: via)
    }

    @inlinable
    init(mailboxCapacity: Int?, trapExits: Bool, naming: RequestedName?) {
        self.mailboxCapacity = mailboxCapacity
        self.trapExits = trapExits
        self.naming = naming
    }
}

/// Node-wide counters, for tests and observability.
public struct NodeStatistics: Sendable, Equatable {
    public var spawned: UInt64 = 0
    public var exited: UInt64 = 0
    /// Processes alive now.
    public var live: Int = 0
    /// Messages delivered into mailboxes (user messages; DOWN and EXIT not included).
    public var delivered: UInt64 = 0
    /// Messages sent to a pid that was no longer alive (dropped, as in Erlang).
    public var droppedToDeadProcesses: UInt64 = 0
    /// Outcomes of tasks (`startTask`) whose process had exited or cancelled them: dropped.
    public var droppedTaskResults: UInt64 = 0
    /// Turns a sending process lent to a receiver whose mailbox its handler filled past four turns' worth
    /// of messages (the receiver ran inside the send: `docs/architecture.md`, "Senders that flood"), and
    /// turns a calling process lent to its server, queued to run with messages ahead of the request
    /// (`docs/architecture.md`, "Calls to an idle server").
    public var lentTurns: UInt64 = 0
    /// Calls from process code whose idle server ran at once, inside the caller's turn (`docs/architecture.md`,
    /// "Calls to an idle server").
    public var callsServedInline: UInt64 = 0
    /// Messages refused because the target's mailbox was full (each reported to its sender).
    public var refusedMailboxFull: UInt64 = 0
    /// Messages to another node refused because its connection was busy (`DistributionOptions.busyLimit`):
    /// each reported to its sender (`ProcessError.busy`), or, for one a process of another loop of a group
    /// sent, dropped on loop 0 and counted there.
    public var refusedBusy: UInt64 = 0
    /// Messages to and from other nodes that went in fragments (bigger than 64 KiB encoded, with a peer
    /// that takes them: `docs/distribution.md`, "Large messages").
    public var fragmentedSent: UInt64 = 0
    public var fragmentedReceived: UInt64 = 0
    /// Replies dropped because their request was no longer awaiting one (answered already, timed out,
    /// cancelled, or the caller exited).
    public var ignoredReplies: UInt64 = 0
    /// Timers armed and not yet fired or cancelled (receive timeouts and `sendAfter`).
    public var pendingTimers: Int = 0
    /// Monitors in place.
    public var monitors: Int = 0
    /// Registered names.
    public var registeredNames: Int = 0
    /// Processes waiting in the run queue.
    public var runQueueLength: Int = 0
}
