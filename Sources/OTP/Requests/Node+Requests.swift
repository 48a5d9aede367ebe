/// The request/reply protocol under every call, as in Erlang's `gen:call`:
///
/// 1. the caller monitors the server; the monitor's reference is the request tag (`openRequest`);
/// 2. the request travels in the server's own message type, carrying a `Caller` (pid + tag);
/// 3. the server's reply is delivered only while the request is still awaiting one (`reply(to:_:)`): as
///    `Envelope.reply(tag)` in the caller's mailbox, or — for a requester that is not a process waiting in
///    a receive — handed to the request's owner (`deliverOutcome(of:to:deadline:)`);
/// 4. the first of reply, server exit, deadline or immediate failure ends the request (`endRequest`, the
///    call race), which removes the monitor and anything it left queued; whatever comes second finds
///    nothing: a late reply is dropped before it reaches the caller and counted in
///    `NodeStatistics.ignoredReplies`.
///
/// When a caller exits, its requests go with its monitors. Thread: loop thread only.
extension Node {
    /// Opens a request from `caller` to `server`: a monitor awaiting one reply. A dead server gives an
    /// immediate `DOWN` with `noproc`, which `endRequest` turns into `CallError.noProcess`.
    @usableFromInline
    func openRequest(from caller: PID, to server: PID) -> Ref {
        openMonitor(server, by: caller, awaitingReply: true)
    }

    /// The caller of a call served at once (`serve(_:_:request:from:)`) whose server did not reply in that
    /// turn has to wait: the reference the request borrowed (`MonitorTable.spareRef`) becomes a monitor like
    /// any other, in its caller's list and its server's (a server gone by now gives the `DOWN` with
    /// `noproc`, as a monitor opened now would). A server that exited in the turn has fired it already
    /// (`servedServerExited`: the reference is used up). Its receive mark is taken now: what the server
    /// queued for the caller during its turn cannot be the response, which was still to come.
    @usableFromInline
    func awaitServedRequest(_ ref: Ref, from caller: PID, to server: PID) {
        guard monitors.spareRef == ref, let watching = core(caller) else { return }
        guard let object = table.object(for: server), ProcessTable.borrow(object, { $0.status != .terminated })
        else {
            monitors.renewSpareRef()
            watching.pushSystem(.down(Down(monitor: ref, pid: server, reason: .noproc)), node: self)
            return
        }
        let slot = MonitorTable.slot(of: monitors.insertSpare(watcher: caller, watching: &watching.watchingHead,
                                                               mark: watching.mailboxMark))
        ProcessTable.borrow(object) { monitors.attach(slot, to: server, watchedBy: &$0.watchedByHead) }
    }

    /// The server of a call served at once (`SchedulerState.servedServer`) exited in that turn with
    /// `reason`: unless it replied first (the reply is held), its caller gets the `DOWN` a monitor would
    /// have given — after those of the server's monitors, as the newest monitor's — and the borrowed
    /// reference is used up. Cold path.
    @inline(never)
    func servedServerExited(_ server: PID, reason: ExitReason) {
        scheduler.servedServer = 0
        guard scheduler.holdingFor != 0 else { return }
        let ref = Ref(rawValue: scheduler.holdingFor)
        scheduler.holdingFor = 0
        monitors.renewSpareRef()
        core(scheduler.servedCaller)?.pushSystem(.down(Down(monitor: ref, pid: server, reason: reason)), node: self)
    }

    /// Opens a request from `caller` before its server exists (a start acknowledgement): attach it with
    /// `attachRequest` once the server is spawned.
    @usableFromInline
    func reserveRequest(from caller: PID) -> Ref {
        withProcess(caller) {
            monitors.insert(watcher: caller, watching: &$0.watchingHead, awaitingReply: true, mark: $0.mailboxMark)
        }
            ?? monitors.detachedRef()
    }

    @usableFromInline
    func attachRequest(_ ref: Ref, to server: PID) {
        guard let slot = monitors.slot(ref) else { return }
        withProcess(server) { monitors.attach(slot, to: server, watchedBy: &$0.watchedByHead) }
    }

    /// Hands the outcome of request `ref` to `owner` instead of the requester's mailbox: the first of its
    /// reply, its server's exit and the deadline (`milliseconds` from now; none for `nil`) is told to
    /// `owner.monitorEnded`, which ends the request with `endRequest`. Returns `false` when the request has
    /// ended already (its server was gone when it was opened): the requester ends it itself.
    @usableFromInline
    func deliverOutcome(of ref: Ref, to owner: any MonitorOwner, deadline milliseconds: UInt64?) -> Bool {
        guard let slot = monitors.slot(ref) else { return false }
        let timer = milliseconds.map { deferMonitorDeadline(after: $0, for: ref) } ?? TimerRef(rawValue: 0)
        monitors.setOwner(owner, deadline: timer, in: slot)
        return true
    }

    /// Withdraws request `ref` of `caller` without an outcome (the caller gave up: a cancelled task, a
    /// start that failed): removes its monitor, its queued `DOWN` and any reply already queued.
    /// `replyConsumed` says the caller has just taken the reply, so nothing of the request can be left in
    /// its mailbox and the mailbox scan is skipped (the common path of every call). A call's `outcome` is
    /// counted (and its duration recorded) when metrics are on.
    @usableFromInline
    func closeRequest(_ ref: Ref, of caller: PID, replyConsumed: Bool = false, outcome: CallOutcome? = nil) {
        if let outcome { requestEnded(ref, outcome) }
        // A DOWN can be queued only if the monitor already fired (it is gone); a reply only if one was
        // delivered and not taken.
        guard let slot = monitors.slot(ref), monitors[slot].watcher == caller else {
            _ = core(caller)?.flush(ref, replies: true)
            return
        }
        let awaiting = monitors[slot].awaitingReply
        removeMonitor(slot)
        if !awaiting && !replyConsumed { _ = core(caller)?.flush(ref, replies: true) }
    }

    /// A call's request `ref` ended with `outcome`: counted and timed with metrics on, traced when traced.
    @inlinable
    func requestEnded(_ ref: Ref, _ outcome: CallOutcome) {
        if instruments != nil { callEnded(ref, outcome) }
        if _slowPath(traces) { endTracedCall(ref, outcome) }
    }

    /// The caller gives up on request `ref`: closed, and counted as cancelled unless it had ended already.
    @usableFromInline
    func abandonRequest(_ ref: Ref, of caller: PID) {
        closeRequest(ref, of: caller, outcome: monitors.slot(ref) != nil ? .cancelled : nil)
    }

    // MARK: Replies

    /// Replies to `caller`. Delivered only while the request awaits its reply; otherwise (already answered,
    /// timed out, cancelled, caller gone) it is dropped and counted. Returns whether it was delivered.
    /// Thread: loop thread only.
    @discardableResult
    @inlinable
    public func reply<Reply: Sendable>(to caller: Caller<Reply>, _ value: Reply) -> Bool {
        preconditionInLoop()
        return deliverReply(caller.ref, to: caller.pid, value)
    }

    /// Delivers `value` as the reply to request `ref` of `caller`, while the request awaits one: into the
    /// caller's mailbox as `Envelope.reply(ref)`, to the request's owner, or — for a call being served at
    /// once, its caller waiting for the server's turn to end — held for the caller (`Node.serve(_:_:request:from:)`).
    @inlinable
    func deliverReply<R: Sendable>(_ ref: Ref, to caller: PID, _ value: R) -> Bool {
        if ref.rawValue == scheduler.holdingFor, let object = table.object(for: caller) {
            // Its caller is waiting right now for this server's turn to end, and takes the reply then: it
            // is held, not queued (`Node.serve(_:_:request:from:)`), but counted as a message the caller
            // received. Its request has no monitor: the reply waits in the spare slot it borrowed.
            scheduler.holdingFor = 0
            scheduler.heldReply = ref.rawValue
            monitors.storeReply(value, in: monitors.spare)
            ProcessTable.borrow(object) { $0.received &+= 1 }
            return true
        }
        guard let slot = monitors.slot(ref), monitors[slot].watcher == caller, monitors[slot].awaitingReply,
              let object = table.object(for: caller)
        else {
            return replyElsewhere(ref, to: caller, value)
        }
        monitors[slot].awaitingReply = false
        monitors.storeReply(value, in: slot)
        if _slowPath(monitors[slot].owned) {
            replyToOwner(ref, slot: slot)
        } else {
            var unused = 0
            _ = ProcessTable.borrow(object) { $0.operate($0, self, .pushReply(ref), &unused) }
        }
        return true
    }

    /// A reply whose request is not one of this loop's: a caller of another node or of another loop of the
    /// group gets it there; anything else is late (counted). Out of line: the reply path stays small.
    @inlinable @inline(never)
    func replyElsewhere<R: Sendable>(_ ref: Ref, to caller: PID, _ value: R) -> Bool {
        if caller.isRemote, let distribution, distribution.reply(ref, value) { return true }
        if caller.isRemote, distribution == nil, relayReply(ref, value) { return true }
        if isSibling(caller), replyToSibling(ref, to: caller, value) { return true }
        counters.ignoredReplies &+= 1
        return false
    }

    /// The reply to owned request `ref` arrived: its owner is told (out of line: the process path stays small).
    @usableFromInline @inline(never)
    func replyToOwner(_ ref: Ref, slot: Int) {
        monitors.takeOwner(from: slot)?.monitorEnded(ref, .replied, on: self)
    }
}
