/// A process running a `ProcessBehavior`: the mailbox plus the continuation, and the scheduler turn that
/// joins them.
///
/// A turn: run `start` if the process is new; then repeatedly find the first queued message the behaviour
/// `accepts` (resuming a selective scan where the last one stopped), hand it to `receive`, and apply the
/// returned `Next`. The turn ends when no queued message matches (the process waits, arming its receive
/// timer if it asked for one), when the budget is used (it yields), or when it exits. The budget counts the
/// messages handled and the messages sent by their handlers.
///
/// The turn is `@inlinable` and reached through `ProcessCore.operate`, a closure created by `make` where the
/// behaviour type is known, so it runs specialised for the behaviour even when that lives in another module.
/// It is inlined into that closure: as a function of its own, the optimiser merged every behaviour's closure
/// into one that called the turn through a pointer (two calls and about 20 instructions more a turn).
///
/// What the process is, for snapshots and for a node-wide shutdown, is the seam a layer above fills in: a
/// subclass (a GenServer's `ServerProcess`) overrides `kind`, `isSupervisor` and `requestSystemStop`; a
/// plain behaviour is a plain process. No type casts.
///
/// Thread: loop thread only. Cost per message: a scan step, a ring-buffer move, the behaviour call; no
/// allocation, no reference counting.
@usableFromInline
class BehaviorProcess<B: ProcessBehavior>: MailboxProcess<B.Message> {
    @usableFromInline @exclusivity(unchecked) final var behavior: B
    /// The current wait's time limit in milliseconds; `UInt64.max` for none.
    @usableFromInline @exclusivity(unchecked) final var waitLimit: UInt64 = .max

    /// Creates the process object with its turn, specialised for `B`.
    @inlinable
    init(pid: PID, behavior: B, capacity: Int) {
        self.behavior = behavior
        super.init(pid: pid, capacity: capacity) { process, node, operation, handled in
            let process = unsafeDowncast(process, to: BehaviorProcess<B>.self)
            switch operation {
            case .turn(let budget):
                return process.runTurn(node: node, budget: budget, handled: &handled)
            case .pushReply(let ref):
                process.pushReply(ref, node: node)
                return .waiting
            }
        }
    }

    @inlinable @inline(__always)
    final func runTurn(node: Node, budget: Int, handled: inout Int) -> TurnOutcome {
        let context = ProcessContext<B.Message>(node: node, pid: pid)
        if status == .initializing, let outcome = begin(context) { return outcome }
        status = .processing
        while true {
            if let extras, let pending = extras.pendingExit { return .exited(pending) }
            let count = mailbox.count
            var index = Int(scanned)
            // A wait for one response starts at its reference's receive mark.
            if index == 0, let ref = behavior.awaitedReference { index = node.receiveMark(ref, of: self, count: count) }
            index = behavior.firstAccepted(from: index, before: count, in: mailbox)
            if index < count {
                if handled >= budget {
                    scanned = UInt32(truncatingIfNeeded: index)
                    status = .running
                    return .yielded
                }
                scanned = 0
                if waitTimer != 0 || timedOut { endWait(node) }
                received &+= 1
                handled &+= 1
                // Moved straight from the ring buffer into the callback: a generic envelope is never copied.
                let sentBefore = sent
                let next: Next
                do {
                    if _slowPath(tracesMessages) {
                        next = try receiveTraced(at: index, context, node: node)
                    } else {
                        next = try behavior.receive(index == 0 ? mailbox.removeFirst() : mailbox.remove(at: index),
                                                    context)
                    }
                } catch { return .crashed(error) }
                // Each message it sent counts toward its budget, as Erlang charges reductions for sends: a
                // process that fans out yields sooner, and the processes it feeds get to keep up.
                handled &+= Int(truncatingIfNeeded: sent &- sentBefore)
                if let outcome = apply(next) { return outcome }
            } else {
                scanned = UInt32(truncatingIfNeeded: count)
                if timedOut || waitLimit == 0 {
                    if handled >= budget {
                        status = .running
                        return .yielded
                    }
                    handled &+= 1
                    if let outcome = timeOut(node, context) { return outcome }
                } else {
                    if waitLimit != .max && waitTimer == 0 {
                        waitTimer = node.deferReceiveTimeout(after: waitLimit, for: pid)
                    }
                    status = .waiting
                    return .waiting
                }
            }
        }
    }

    /// The process's first turn: `start`. Out of line, like `timeOut`: the message loop above is what every
    /// turn runs, and keeping these apart keeps its frame small.
    @inlinable @inline(never)
    final func begin(_ context: ProcessContext<B.Message>) -> TurnOutcome? {
        status = .processing
        let next: Next
        do { next = try behavior.start(context) } catch { return .crashed(error) }
        return apply(next)
    }

    /// The current wait timed out: the behaviour's `timeout`. Out of line (see `begin`).
    @inlinable @inline(never)
    final func timeOut(_ node: Node, _ context: ProcessContext<B.Message>) -> TurnOutcome? {
        endWait(node)
        scanned = 0  // the next receive is a new pattern: it looks at every queued message again
        let next: Next
        do {
            // A response wait that timed out continues in the context of the handler that began it.
            if _slowPath(tracesMessages), let trace = takeAwaitingTrace(), let tracing = node.tracing {
                next = try tracing.withContext(trace) { try behavior.timeout(context) }
            } else {
                next = try behavior.timeout(context)
            }
        } catch { return .crashed(error) }
        return apply(next)
    }

    /// `receive` in a process of a traced node (`tracesMessages`): the handler runs with the trace context
    /// its message carried current — for the response a wait was for, the context of the handler that
    /// began the wait — and a handler that begins a response wait keeps its context for the continuation.
    /// Out of line: untraced processes never come here.
    @inlinable @inline(never)
    final func receiveTraced(at index: Int, _ context: ProcessContext<B.Message>, node: Node) throws -> Next {
        let awaiting = behavior.awaitedReference != nil
        let carried = takeTrace(at: index)
        var envelope: Envelope<B.Message>? = index == 0 ? mailbox.removeFirst() : mailbox.remove(at: index)
        let trace = awaiting ? takeAwaitingTrace() ?? carried : carried
        guard let tracing = node.tracing else { return try behavior.receive(envelope.take()!, context) }
        let next = try tracing.withContext(trace) { try behavior.receive(envelope.take()!, context) }
        if behavior.awaitedReference != nil { keepAwaitingTrace(trace) }
        return next
    }

    /// Records the wait the behaviour asked for; returns an outcome when the process exits instead.
    @inlinable @inline(__always)
    final func apply(_ next: Next) -> TurnOutcome? {
        switch next {
        case .receive:
            waitLimit = .max
            return nil
        case .receiveWithin(let timeout):
            do {
                waitLimit = try timeout.validated() ?? .max
            } catch {
                return .crashed(error)
            }
            return nil
        case .exit(let reason):
            return .exited(reason)
        }
    }

    /// The current wait is over: its timer, if any, is cancelled.
    @inlinable
    final func endWait(_ node: Node) {
        if waitTimer != 0 {
            node.cancelReceiveTimeout(waitTimer)
            waitTimer = 0
        }
        timedOut = false
    }
}

extension ProcessBehavior {
    /// The index of the first queued message from `start` (up to `end`) that `accepts` lets through, or
    /// `end`. `mutating` so that the scan reaches the behaviour in place: a non-mutating call on the
    /// process object's stored behaviour made Swift copy (retain and release) the parts `accepts` reads —
    /// a closure process's pattern — once per message passed over.
    @inlinable @inline(__always)
    mutating func firstAccepted(from start: Int, before end: Int, in mailbox: RingBuffer<Envelope<Message>>) -> Int {
        var index = start
        while index < end && !accepts(UnsafePointer(mailbox.slot(index)).pointee) { index &+= 1 }
        return index
    }
}
