import CLibUV

/// The scheduler: a run queue of processes that have work, drained in bounded turns.
///
/// - A process enters the run queue on the edge where it gets work: spawned, or a message (or its receive
///   timer) arrives while it waits. A process already queued or running is not queued twice.
/// - Each turn gives one process up to `messagesPerTurn` messages; a process with more goes to the back
///   of the queue, so one busy process cannot starve the others.
/// - One drain handles at most `messagesPerIteration` messages, then returns to libuv so that timers and
///   I/O are never starved; the scheduler's idle handle stays active while the queue is not empty, which
///   makes libuv poll without blocking.
///
/// Thread: loop thread only.
extension Node {
    /// Puts a process with new work at the back of the run queue.
    @inlinable
    func schedule(_ pid: PID) {
        scheduleInline(pid)
    }

    /// `schedule`, always inlined: for the plain send's wake-up (`MailboxProcess.deliverScheduling`).
    @inlinable @inline(__always)
    func scheduleInline(_ pid: PID) {
        scheduler.runQueue.forcePush(pid.rawValue)
        if !scheduler.active { activateScheduler() }
    }

    /// The run queue went from empty to non-empty outside a drain: ask the driver for a turn.
    @usableFromInline
    func activateScheduler() {
        scheduler.active = true
        uv?.startScheduler()
    }

    /// Runs process turns until the queue is empty or `limit` messages were handled.
    /// Returns whether work is left.
    @discardableResult
    func drainRunQueue(limit: Int) -> Bool {
        precondition(!scheduler.draining, "the scheduler was re-entered: runUntilIdle() or advance(by:) called from process code")
        scheduler.draining = true
        scheduler.drains &+= 1
        defer { scheduler.draining = false }
        scheduler.active = true
        if !FatalSignals.isCurrent(self) { FatalSignals.enter(self) }
        let budget = configuration.messagesPerTurn
        let timed = meter.measuring  // busy time (`measuresBusyTime`): two clock reads per drain
        let started = timed ? instrumentTime : 0
        if let instruments {
            _ = drainInstrumented(instruments, limit: limit, budget: budget)
        } else if group != nil {
            drainTakingTransit(limit: limit, budget: budget)
        } else {
            var handled = 0
            while handled < limit, let raw = scheduler.runQueue.popFirst() {
                guard let object = table.object(for: PID(node: number, rawValue: raw)) else { continue }  // exited while queued
                let (outcome, turnHandled) = turn(object, raw: raw, budget: budget)
                handled &+= turnHandled
                finishTurn(object, raw: raw, outcome)
            }
        }
        armDeferredTimeouts()
        if timed { meter.busyNanoseconds &+= instrumentTime &- started }
        otp_watch_end(turnWatch)  // once per drain: between two turns of a drain is part of the turn to the watchdog
        if otp_watch_flagged(turnWatch) != scheduler.reportedSlowTurn { reportSlowTurn() }
        let more = !scheduler.runQueue.isEmpty
        if !more {
            scheduler.active = false
            uv?.stopScheduler()
            if instruments != nil { sampleIfDue() }
        }
        return more
    }

    /// One turn of the process whose object is `object`: at most `budget` messages. Returns how it ended
    /// and how many messages it handled. Shared by both drains.
    @inline(__always)
    func turn(_ object: UnsafeMutableRawPointer, raw: UInt64, budget: Int) -> (TurnOutcome, Int) {
        scheduler.current = object
        otp_watch_begin(turnWatch, raw)
        var handled = 0
        let outcome = ProcessTable.borrow(object) { process in
            process.operate(process, self, .turn(budget: budget), &handled)
        }
        scheduler.current = nil
        return (outcome, handled)
    }

    /// The instrumented twin of the scheduler's drain (`drainRunQueue`): the same turns, each timed, and
    /// the wait of each process in the run queue recorded (see `NodeInstruments.mark`).
    func drainInstrumented(_ instruments: NodeInstruments, limit: Int, budget: Int) -> Int {
        var handled = 0
        instruments.mark(queued: scheduler.runQueue.count, at: instrumentTime)
        while handled < limit, let raw = scheduler.runQueue.popFirst() {
            let started = instrumentTime
            let arrived = instruments.popped(at: started)
            let pid = PID(node: number, rawValue: raw)
            guard let object = table.object(for: pid) else { continue }
            instruments.mailboxWait.recordNanoseconds(Int64(started &- min(arrived, started)))
            scheduler.nestedNanoseconds = 0
            let (outcome, turnHandled) = turn(object, raw: raw, budget: budget)
            handled &+= turnHandled
            let ended = instrumentTime
            // The turns nested in this one (lent, or serving a call) were timed for their own processes.
            recordHandlerTime(ended &- started &- scheduler.nestedNanoseconds, of: object, instruments)
            finishTurn(object, raw: raw, outcome)
            instruments.mark(queued: scheduler.runQueue.count, at: ended)
        }
        return handled
    }

    /// Records `nanoseconds` of handler time for the process whose object is `object`: the node's histogram,
    /// the process's total (kept only while metrics are on, in the extras, made on its first turn and reached
    /// in place, without retaining the extras object) and its own histogram when per-process metrics are on.
    func recordHandlerTime(_ nanoseconds: UInt64, of object: UnsafeMutableRawPointer, _ instruments: NodeInstruments) {
        let duration = Int64(truncatingIfNeeded: nanoseconds)
        instruments.handlerDuration.recordNanoseconds(duration)
        ProcessTable.borrow(object) { process in
            if process.extras == nil { process.extras = ProcessExtras() }
            process.extras.unsafelyUnwrapped.handlerNanoseconds &+= nanoseconds
            process.extras.unsafelyUnwrapped.instruments?.handlerDuration.recordNanoseconds(duration)
        }
    }

    /// A turn the watchdog flagged as slow ended: a warning, once per process.
    func reportSlowTurn() {
        scheduler.reportedSlowTurn = otp_watch_flagged(turnWatch)
        let pid = PID(node: number, rawValue: otp_watch_flagged_pid(turnWatch))
        let millis = otp_watch_flagged_millis(turnWatch)
        if scheduler.slowProcessesReported.count >= 10_000 { scheduler.slowProcessesReported.removeAll() }
        guard scheduler.slowProcessesReported.insert(pid).inserted else { return }
        let process = core(pid)
        let threshold = configuration.slowTurnThreshold.map { " (threshold \($0))" } ?? ""
        emit(.warning(pid: pid, name: process?.extras?.name, text: "slow turn: a handler of \(process?.kind.1 ?? "an exited process") "
            + "held the loop for at least \(millis) ms\(threshold); every timer, call and message of the node waited"))
    }

    /// Carries out what a turn ended with.
    @inline(__always)
    func finishTurn(_ object: UnsafeMutableRawPointer, raw: UInt64, _ outcome: TurnOutcome) {
        switch outcome {
        case .waiting:
            break
        case .yielded:
            scheduler.runQueue.forcePush(raw)
        case .exited(let reason):
            ProcessTable.borrow(object) { terminate($0, reason: reason) }
        case .crashed(let error):
            // The process's own code threw: report it (exits it causes through links are not reported).
            let reason = ExitReason.error(error)
            ProcessTable.borrow(object) { process in
                emit(.crash(pid: process.pid, name: process.extras?.name, reason: reason))
                terminate(process, reason: reason)
            }
        }
    }
}

extension Node {
    /// A process's handler has just filled `pid`'s mailbox past `SchedulerState.lendThreshold`: the
    /// receiver runs one turn now, inside the send, before the sender's handler goes on. A handler cannot be
    /// interrupted (there is no preemption inside a callback), so this is how a flood is paced, where
    /// Erlang would preempt the sender after its reductions: the mailbox stays near the threshold instead of
    /// growing to a million entries, and the receiver keeps up. Only a receiver that is queued to run (not
    /// one executing further up this stack) is lent a turn, and a lent turn lends none of its own, so
    /// turns nest at most one deep. The receiver keeps its place in the run queue. The sender's turn, as the
    /// slow-turn watchdog sees it, includes the lent turns. Cold path: out of line.
    @usableFromInline @inline(never)
    func lendTurn(to pid: PID) {
        guard !scheduler.lending, let object = table.object(for: pid),
              ProcessTable.borrow(object, { $0.status == .running }) else { return }
        let outcome = nestedTurn(object)
        counters.lentTurns &+= 1
        if case .yielded = outcome { return }  // it is still in the run queue
        finishTurn(object, raw: pid.rawValue, outcome)  // waiting: its queue entry finds nothing; exited: gone
    }
}

extension Node {
    /// `serveNow` for request `ref`, whose caller takes the response right after (`ProcessContext.call`,
    /// through `takeQueuedResponse`): a reply the server gives in this turn is held for it
    /// (`SchedulerState.heldReply`) rather than queued in its mailbox and taken out again. Only when no
    /// other reply is held or to be held, and when the caller will take it (its continuations are not
    /// nested too deep: `takeQueuedResponse` then declines): `SchedulerState.mayHoldReply`.
    /// The request of `caller` has no monitor (its reference is borrowed, `MonitorTable.spareRef`): if the
    /// server exits in this turn without replying, its exit gives the caller the `DOWN`
    /// (`Node.servedServerExited`).
    @inlinable
    func serve(_ object: UnsafeMutableRawPointer, _ server: PID, request ref: Ref, from caller: PID) {
        scheduler.holdingFor = ref.rawValue
        scheduler.servedServer = server.rawValue
        scheduler.servedCaller = caller
        serveNow(object, raw: server.rawValue)
        scheduler.servedServer = 0
        scheduler.holdingFor = 0
    }

    /// The process of this loop `address` names, if a call from the current process may run its turn at
    /// once (`serveNow`): it is waiting with nothing queued, no turn is lent meanwhile, and it records no
    /// trace context. Its request then goes into its mailbox with `deliver(moving:toIdle:_:)`.
    @inlinable
    func idleServer<M>(_ address: Address<M>) -> UnsafeMutableRawPointer? {
        guard !scheduler.lending, scheduler.current != nil, let object = table.object(for: address.pid) else {
            return nil
        }
        let idle = Unmanaged<MailboxProcess<M>>.fromOpaque(object)._withUnsafeGuaranteedRef {
            $0.status == .waiting && $0.mailbox.count == 0 && !$0.tracesMessages
        }
        return idle ? object : nil
    }

    /// A call from process code has just put its request into the mailbox of `server` (its object
    /// `object`), which was idle (`idleServer`: waiting, with nothing queued): the server's turn runs now,
    /// inside the caller's, instead of after every other queued process — it never enters the run queue
    /// for it. The reply is usually in the caller's mailbox when this returns, so the caller goes on in
    /// the same turn — what a second core gives an Erlang call, without the hand-over. Erlang's guarantees
    /// hold: the server handles its messages in order, the caller's other messages stay queued, and nothing
    /// can tell this order from one where the run queue held nobody else. The turns nest at most one deep,
    /// like a lent turn (`lendTurn`): a call made inside one runs as usual. A server that yields goes to
    /// the run queue; one that exits is finished here. Counted in `NodeStatistics.callsServedInline`.
    /// Thread: loop thread, from process code. Cost: one turn of the server, no allocation.
    @usableFromInline @inline(never)
    func serveNow(_ object: UnsafeMutableRawPointer, raw: UInt64) {
        let outcome = nestedTurn(object)
        counters.callsServedInline &+= 1
        finishTurn(object, raw: raw, outcome)  // yielded: to the run queue
    }

    /// A call from process code has just put its request into the mailbox of `server`, which was not idle
    /// but queued to run with messages before it (under load, a server of a fan-in usually is): the
    /// server's turn runs now, inside the caller's, as a flooded receiver's is lent (`lendTurn`), and
    /// handles its queue in order, this request included if the turn's budget reaches it. The reply is
    /// held for the caller as for an idle server (`serve`: `request`, when the caller takes it at once), so
    /// the caller goes on in the same turn rather than waiting (a monitor, a timer, a turn of its own
    /// later: about 1,200 instructions a call). Running a queued process earlier than its place in the run
    /// queue is a scheduling choice nothing can tell apart. A server that yields keeps its place in the run
    /// queue; the request then waits as usual. Counted as a lent turn (`NodeStatistics.lentTurns`).
    /// Thread: loop thread, from process code. Cold path: out of line.
    @usableFromInline @inline(never)
    func serveQueued(_ server: PID, request ref: Ref?, from caller: PID) {
        // As `idleServer`: from process code, and not a receiver that records trace contexts. `lendTurn`
        // checks the rest (no turn lent meanwhile, the server queued to run).
        guard scheduler.current != nil, let object = table.object(for: server),
              ProcessTable.borrow(object, { !$0.tracesMessages }) else { return }
        guard let ref else { return lendTurn(to: server) }
        scheduler.holdingFor = ref.rawValue  // as `serve`: a reply given in the turn is held for the caller
        scheduler.servedServer = server.rawValue
        scheduler.servedCaller = caller
        lendTurn(to: server)
        scheduler.servedServer = 0
        scheduler.holdingFor = 0
    }

    /// One turn of the process `object` (raw pid `raw`), not in the run queue, inside the current handler
    /// (`nestedTurn`), then what its outcome asks: a process that yields goes to the run queue, one that
    /// exits is finished here.
    @usableFromInline @inline(never)
    func runNested(_ object: UnsafeMutableRawPointer, raw: UInt64) {
        finishTurn(object, raw: raw, nestedTurn(object))  // yielded: to the run queue
    }
}

extension Node {
    /// One turn of the process whose object is `object`, inside the handler of the current process (a lent
    /// turn, a served call): it is the current process meanwhile, and it can lend no turn of its own. With
    /// metrics on, the turn is timed as its process's handler time and left out of the enclosing turn's, and
    /// its mailbox wait recorded as none.
    @inline(__always)
    func nestedTurn(_ object: UnsafeMutableRawPointer) -> TurnOutcome {
        let enclosing = scheduler.current
        scheduler.lending = true
        scheduler.current = object
        let started = instruments == nil ? 0 : instrumentTime
        var handled = 0
        let outcome = ProcessTable.borrow(object) { process in
            process.operate(process, self, .turn(budget: configuration.messagesPerTurn), &handled)
        }
        if let instruments {
            let nanoseconds = instrumentTime &- started
            recordHandlerTime(nanoseconds, of: object, instruments)
            scheduler.nestedNanoseconds &+= nanoseconds
            instruments.mailboxWait.recordNanoseconds(0)  // it ran as its message arrived: every turn has a wait
        }
        scheduler.current = enclosing
        scheduler.lending = false
        return outcome
    }
}
