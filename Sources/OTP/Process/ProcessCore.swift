import CLibUV

/// The part of a process the node handles without knowing its message type: identity, status, flags,
/// statistics, and the lazily allocated record of names, links, monitors and timers.
///
/// Class hierarchy (one allocation per process): `ProcessCore` → `MailboxProcess<Message>` (adds the
/// mailbox, so a typed `Address` can deliver without knowing the behaviour) → `BehaviorProcess<B>` (adds the
/// behaviour value and the scheduler turn). The node keeps each process as a manually retained raw pointer
/// in its `ProcessTable`, so looking one up and running it costs no reference counting.
///
/// Thread: loop thread only. Memory: see `docs/architecture.md` (168 bytes for an idle process with a
/// small struct behaviour, an empty mailbox and no links).
@usableFromInline
class ProcessCore {
    @usableFromInline final let pid: PID
    /// The head of the list of monitors this process holds (in the node's `MonitorTable`; `none` when it
    /// holds none). In the core rather than the extras: every call opens one, and a server that is only
    /// called or started needs no extras object. Sits in the padding after `pid`.
    @usableFromInline @exclusivity(unchecked) final var watchingHead = MonitorTable.none
    /// `ObjectIdentifier(Message.self)`, for checked sends through an untyped `PID` or a name.
    @usableFromInline final let messageType: ObjectIdentifier
    @usableFromInline @exclusivity(unchecked) final var status: ProcessStatus = .initializing
    @usableFromInline @exclusivity(unchecked) final var trapExits = false
    /// A process of a node with `tracing`: each envelope queued for it has its trace context beside it, in
    /// `extras.traceQueue`, index for index with the mailbox (`MailboxProcess.forceDeliver`, `take(at:)`).
    @usableFromInline @exclusivity(unchecked) final var tracesMessages = false
    /// Set when the wait timer fired; the next turn runs the behaviour's `timeout` unless a message matches.
    @usableFromInline @exclusivity(unchecked) final var timedOut = false
    /// Messages removed other than by a receive (`flush`), wrapping: with `received`, what lets a reply
    /// wait start its scan at its request's receive mark (`Node.receiveMark`). Fits in padding.
    @usableFromInline @exclusivity(unchecked) final var flushed: UInt32 = 0
    /// The timer of the current wait, or 0; `Node.deferredWait` or'ed with its deadline until the drain
    /// that began the wait ends (`Node.deferReceiveTimeout`).
    @usableFromInline @exclusivity(unchecked) final var waitTimer: UInt64 = 0
    @usableFromInline @exclusivity(unchecked) final var received: UInt64 = 0
    @usableFromInline @exclusivity(unchecked) final var sent: UInt64 = 0
    /// The head of the list of monitors others hold on this process (see `watchingHead`).
    @usableFromInline @exclusivity(unchecked) final var watchedByHead = MonitorTable.none
    /// How many messages of the mailbox the current wait has already rejected (selective receive). 32 bits,
    /// beside `watchedByHead`, where alignment left room; a count past 2^32 would only restart a scan early.
    @usableFromInline @exclusivity(unchecked) final var scanned: UInt32 = 0
    @usableFromInline @exclusivity(unchecked) final var extras: ProcessExtras?

    /// The scheduler turn, specialised for the process's behaviour type where the process was spawned
    /// (a generic class's overridden method would always run unspecialised).
    /// It also queues replies (`Envelope.reply`), specialised for the message type: replies are on every
    /// call's path, and an unspecialised virtual method cost a metadata lookup per reply. One closure for
    /// both keeps the process object small.
    @usableFromInline final let operate: ProcessFunction

    @usableFromInline
    init(pid: PID, messageType: ObjectIdentifier, operate: @escaping ProcessFunction) {
        self.pid = pid
        self.messageType = messageType
        self.operate = operate
    }

    /// The receive mark of a monitor or request made now (`Node.receiveMark`).
    final var mailboxMark: UInt32 {
        UInt32(truncatingIfNeeded: mailboxCount) &+ UInt32(truncatingIfNeeded: received) &+ flushed
    }

    /// Names, links, timers and the rest: allocated on first use.
    final var relations: ProcessExtras {
        if let extras { return extras }
        let created = ProcessExtras()
        extras = created
        return created
    }

    /// Records the trace context of the envelope just queued (`tracesMessages`). Out of line: untraced
    /// processes never come here.
    @usableFromInline @inline(never)
    final func recordTrace(_ context: TraceContext?) {
        relations.traceQueue.forcePush(context)
    }

    /// Takes out the trace context of the queued envelope at `index` (`tracesMessages`).
    @usableFromInline @inline(never)
    final func takeTrace(at index: Int) -> TraceContext? {
        guard let extras, index < extras.traceQueue.count else { return nil }
        return extras.traceQueue.remove(at: index)
    }

    /// The trace context kept for the continuation of the response wait the process is in (`awaitingTrace`).
    @usableFromInline
    final func takeAwaitingTrace() -> TraceContext? {
        extras?.awaitingTrace.take() ?? nil
    }

    /// Keeps `context` for the continuation of the response wait the process begins.
    @usableFromInline
    final func keepAwaitingTrace(_ context: TraceContext?) {
        if context != nil || extras != nil { relations.awaitingTrace = context }
    }

    // MARK: Overridden by the typed subclasses

    /// Queues a DOWN or EXIT message. System messages are never refused (they do not count against the
    /// mailbox capacity), so no notification is lost.
    func pushSystem(_ message: SystemMessage, node: Node) { fatalError("abstract") }

    /// Removes queued messages tagged with `ref`: its DOWN, and with `replies`, a reply to it.
    /// Returns whether anything was removed.
    func flush(_ ref: Ref, replies: Bool) -> Bool { fatalError("abstract") }

    /// Delivers a message from another node: decoded into the process's message type (see
    /// `MailboxProcess.deliverTerm`).
    func deliverTerm(_ term: Term, node: Node) -> TermDelivery { .notAccepted(messageTypeName) }

    /// Frees the mailbox buffer if no message is queued (hibernation).
    func compactMailbox() {}

    /// Queues a system stop request (a GenServer's `terminate` then runs) answered to `caller`'s request
    /// `ref`; `false` for a process whose behaviour has no such request.
    func requestSystemStop(_ reason: ExitReason, caller: PID, ref: Ref, node: Node) -> Bool { false }

    /// Whether it is a supervisor: its system stop first stops its children, each by its own policy.
    var isSupervisor: Bool { false }

    var mailboxCount: Int { 0 }
    var mailboxCapacity: Int { 0 }
    var mailboxBytes: Int { 0 }
    @usableFromInline var messageTypeName: String { "" }
    /// What kind of process it is, and the server type (or message type) to show for it.
    var kind: (ProcessKind, String) { (.process, messageTypeName) }
    /// Bytes the allocator gave this object (glibc's `malloc_usable_size`), for memory estimates.
    final var objectBytes: Int {
        Int(otp_malloc_usable_size(Unmanaged.passUnretained(self).toOpaque()))
    }

    /// Destroys queued messages and frees the mailbox buffer.
    func releaseMailbox() {}
}

/// What the specialised process function is asked to do.
@usableFromInline
enum ProcessOperation {
    /// Run the process for up to `budget` messages, counting them in `handled` (the scheduler's turn).
    case turn(budget: Int)
    /// Queue the reply to request `ref` (never refused: it answers a request the process made).
    case pushReply(Ref)
}

/// Performs `operation` on `process`; for `.pushReply` the outcome is `.waiting` and `handled` untouched.
@usableFromInline
typealias ProcessFunction = (_ process: ProcessCore, _ node: Node, _ operation: ProcessOperation,
                             _ handled: inout Int) -> TurnOutcome

/// What a scheduler turn ended with.
@usableFromInline
enum TurnOutcome {
    /// Blocked in a receive; scheduled again when a message arrives or its timer fires.
    case waiting
    /// Used its budget with more messages to handle; goes to the back of the run queue.
    case yielded
    /// The process is exiting with this reason.
    case exited(ExitReason)
    /// The process's code threw: it exits with `.error(error)` and a crash report is written.
    case crashed(any Error)
}

/// A DOWN or EXIT notification before it is wrapped in the receiver's `Envelope` type.
@usableFromInline
enum SystemMessage {
    case down(Down)
    case exit(ExitSignal)
}

extension Node {
    /// Marks a process the runtime runs for itself (`ProcessKind.system`). Thread: loop thread.
    @usableFromInline
    func markSystem(_ pid: PID) {
        core(pid)?.relations.system = true
    }
}

/// What most processes never need, kept out of the hot process object.
///
/// Thread: loop thread only.
@usableFromInline
final class ProcessExtras {
    @exclusivity(unchecked) var name: String?
    /// The registries it registered in (each removes its entries when it exits).
    @exclusivity(unchecked) var registries: [any RegistryMembership] = []
    /// Its running Swift tasks (`startTask`), cancelled when it exits; its own limit on them, if set.
    @exclusivity(unchecked) var tasks: [UInt64: Task<Void, Never>] = [:]
    @exclusivity(unchecked) var taskLimit: Int?
    /// The trace contexts of its queued envelopes, index for index with the mailbox (`tracesMessages`).
    @exclusivity(unchecked) var traceQueue = RingBuffer<TraceContext?>(limit: .max)
    /// The trace context of the message whose handler started the response wait the process is in (a
    /// `process.call`, a handler's `await`): its continuation runs in it too.
    @exclusivity(unchecked) var awaitingTrace: TraceContext?
    @exclusivity(unchecked) var links: Set<PID> = []
    /// The chain of `sendAfter` timers addressed to this pid in the node's timer wheel (cancelled when it
    /// exits, as in Erlang); `TimerWheel.noChain` until the first one.
    @exclusivity(unchecked) var timerChain = TimerWheel.noChain
    /// An exit signal that arrived while the process was running; it exits when its callback returns.
    @usableFromInline @exclusivity(unchecked) var pendingExit: ExitReason?
    /// The supervisor that started it and stops it (`Node.shutdown` leaves it to that supervisor).
    @exclusivity(unchecked) var supervisor: PID?
    /// The process that started it linked (a GenServer's parent, Erlang's `proc_lib` parent). Its exit
    /// signals — other than `normal` and an untrappable `kill` — arrive as `EXIT` messages even when the
    /// process does not trap exits, so that the parent's stop runs the server's `terminate`; every other
    /// process's signals follow Erlang's rules.
    @exclusivity(unchecked) var parent: PID?
    /// The metrics of its registered name (`MetricsOptions.PerProcess.named`).
    @exclusivity(unchecked) var instruments: ProcessInstruments?
    /// Time spent in its turns, in nanoseconds; measured only while metrics are on.
    @exclusivity(unchecked) var handlerNanoseconds: UInt64 = 0
    /// The runtime runs it for itself (`ProcessKind.system`).
    @exclusivity(unchecked) var system = false
    /// The loops (a bit each, loop indices below 64) whose processes' calls have reached it: each is sent
    /// one notice when it exits, which ends those calls there (`SiblingRequests`).
    @exclusivity(unchecked) var requestSources: UInt64 = 0
}
