/// Timers: `sendAfter`, cancel, read, and receive timeouts, all on the node's one `TimerWheel` (driven by
/// one `uv_timer_t`, or by `advance(by:)` on the manual clock).
extension Node {
    /// Delivers `message` to `address` after `timeout` (Erlang's `erlang:send_after/3`). The timer is
    /// cancelled automatically when the target exits. A full mailbox at delivery time is reported as a
    /// refused message (`NodeReport.refused`).
    ///
    /// Thread: loop thread only. Cost: one small allocation (the message holder) plus O(1) wheel work.
    /// - Throws: `invalidTimeout` for a negative or infinite timeout.
    @discardableResult
    public func sendAfter<M>(_ timeout: Timeout, _ message: M, to address: Address<M>) throws(ProcessError)
        -> TimerRef
    {
        preconditionInLoop()
        let ms = try finite(timeout)
        // Erlang: a timer for a pid that is not alive is cancelled at once.
        guard let process = core(address.pid) else { return TimerRef(rawValue: 0) }
        let extras = process.relations
        if extras.timerChain == TimerWheel.noChain { extras.timerChain = timers.wheel.makeChain() }
        let payload = Unmanaged.passRetained(TimedMessage(message, name: nil) as TimedPayload).toOpaque()
        return armTimer(after: ms, kind: .message, target: address.pid.rawValue, payload: payload,
                        chain: extras.timerChain)
    }

    /// Delivers `message` to whatever process is registered as `name` when the timer fires; nothing happens
    /// when no process is registered then, and a process accepting another type is reported as refused.
    @discardableResult
    public func sendAfter<M>(_ timeout: Timeout, _ message: M, to name: String) throws(ProcessError) -> TimerRef {
        preconditionInLoop()
        let ms = try finite(timeout)
        let payload = Unmanaged.passRetained(TimedMessage(message, name: name) as TimedPayload).toOpaque()
        return armTimer(after: ms, kind: .message, target: 0, payload: payload)
    }

    /// Cancels a `sendAfter` timer. Returns the milliseconds that were left, or `nil` when it had already
    /// fired or been cancelled (Erlang's `cancel_timer` returning `false`). Thread: loop thread only.
    @discardableResult
    public func cancelTimer(_ ref: TimerRef) -> UInt64? {
        preconditionInLoop()
        guard let (deadline, payload) = timers.wheel.cancel(ref) else { return nil }
        if let payload { Unmanaged<TimedPayload>.fromOpaque(payload).release() }
        if timers.wheel.count == 0 { uv?.timerIdle() }
        let now = currentTime
        return deadline > now ? deadline - now : 0
    }

    /// Milliseconds left on a pending timer, or `nil` (Erlang's `read_timer`). Thread: loop thread only.
    public func readTimer(_ ref: TimerRef) -> UInt64? {
        preconditionInLoop()
        guard let deadline = timers.wheel.deadline(of: ref) else { return nil }
        let now = currentTime
        return deadline > now ? deadline - now : 0
    }

    // MARK: Internal

    private func finite(_ timeout: Timeout) throws(ProcessError) -> UInt64 {
        guard let ms = try timeout.validated() else { throw .invalidTimeout("a timer needs a finite time") }
        return ms
    }

    /// Ends the timer of a process's wait (`ProcessCore.waitTimer`): a deferred one was never in the wheel.
    @usableFromInline
    func cancelReceiveTimeout(_ raw: UInt64) {
        guard raw & Node.deferredWait == 0 else { return }
        cancelWheelTimer(TimerRef(rawValue: raw))
    }

    /// A `waitTimer` whose timer is not in the wheel yet: this bit or'ed with the wait's absolute deadline.
    /// (No wheel reference has the top bit set: a timer's serial is retired before it reaches it.)
    @usableFromInline static let deferredWait: UInt64 = 1 << 63

    /// Begins `pid`'s receive timeout without touching the wheel: the deadline is fixed now, and the timer
    /// is filed when the drain ends if the process is still waiting then (`armDeferredTimeouts`). A call's
    /// wait usually ends in the same drain — the server answers first — so it never arms or cancels a
    /// timer at all. Timers only fire between drains, so no deadline can pass unnoticed meanwhile.
    /// Returns the process's new `waitTimer`. Cost: a clock read and an array append.
    @usableFromInline
    func deferReceiveTimeout(after ms: UInt64, for pid: PID) -> UInt64 {
        let now = currentTime
        let (deadline, overflow) = now.addingReportingOverflow(ms)
        timers.deferredWaits.append(pid.rawValue)
        return Node.deferredWait | (overflow || deadline >= Node.deferredWait ? Node.deferredWait - 2 : deadline)
    }

    /// Files the timers of the waits and monitor deadlines deferred during this drain that are still on.
    /// Called at the end of every run-queue drain, before libuv (or the manual clock) can run a timer, and
    /// after an inbox drain that left nothing to run; during a busy-waiting group loop's relay it does
    /// nothing, and the relay calls it once more when it ends (`TimerState.holdDeferred`).
    func armDeferredTimeouts() {
        guard !timers.holdDeferred else { return }
        if !timers.deferredDeadlines.isEmpty { fileDeferredDeadlines() }
        guard !timers.deferredWaits.isEmpty else { return }
        let now = currentTime
        for raw in timers.deferredWaits {
            table.withProcess(PID(node: number, rawValue: raw)) { process in
                guard process.waitTimer & Node.deferredWait != 0 else { return }  // its wait ended, or already filed
                let due = process.waitTimer & ~Node.deferredWait
                let ref = timers.wheel.arm(deadline: due, clock: now, kind: .receiveTimeout, target: raw, payload: nil)
                uv?.timerArmed(deadline: max(due, now + 1))
                process.waitTimer = ref.rawValue
            }
        }
        timers.deferredWaits.removeAll(keepingCapacity: true)
    }

    /// The monitor deadlines deferred during this drain, for the monitors still there.
    private func fileDeferredDeadlines() {
        let now = currentTime
        for raw in timers.deferredDeadlines {
            guard let slot = monitors.slot(Ref(rawValue: raw)),
                  let due = monitors.deferredDeadline(of: slot, flag: Node.deferredWait) else { continue }
            let timer = timers.wheel.arm(deadline: due, clock: now, kind: .monitorDeadline, target: raw, payload: nil)
            uv?.timerArmed(deadline: max(due, now + 1))
            monitors.fileDeadline(timer, in: slot)
        }
        timers.deferredDeadlines.removeAll(keepingCapacity: true)
    }

    /// Begins the deadline of owned monitor `ref` (`MonitorOwner`), filed in the wheel when the drain ends
    /// if the monitor is still there (`armDeferredTimeouts`): an async call answered in the drain that
    /// began it arms and cancels nothing. Returns the deadline flagged with `Node.deferredWait`.
    func deferMonitorDeadline(after ms: UInt64, for ref: Ref) -> TimerRef {
        let now = currentTime
        let (deadline, overflow) = now.addingReportingOverflow(ms)
        timers.deferredDeadlines.append(ref.rawValue)
        return TimerRef(rawValue: Node.deferredWait | (overflow || deadline >= Node.deferredWait ? Node.deferredWait - 2 : deadline))
    }

    /// Cancels a timer that holds no payload (a receive timeout, a monitor's deadline); a deferred one was
    /// never filed.
    func cancelWheelTimer(_ ref: TimerRef) {
        guard ref.rawValue & Node.deferredWait == 0 else { return }
        _ = timers.wheel.cancel(ref)
        // An idle node's libuv timer must not keep the loop alive for a timeout that no longer exists.
        if timers.wheel.count == 0 { uv?.timerIdle() }
    }

    func armTimer(after ms: UInt64, kind: TimerWheel.Kind, target: UInt64, payload: UnsafeMutableRawPointer?,
                  chain: UInt32 = TimerWheel.noChain) -> TimerRef
    {
        let now = currentTime
        let (deadline, overflow) = now.addingReportingOverflow(ms)
        let due = overflow ? UInt64.max - 1 : deadline
        let ref = timers.wheel.arm(deadline: due, clock: now, kind: kind, target: target, payload: payload, chain: chain)
        uv?.timerArmed(deadline: max(due, now + 1))
        return ref
    }

    /// Runs the timers due up to `time`, one tick at a time; `between` runs after each tick's timers (the
    /// manual driver lets processes react before the next tick).
    func fireTimers(upTo time: UInt64, between: () -> Void = {}) {
        while timers.wheel.expireNext(upTo: time, into: &timers.expired) {
            if uv == nil { timers.manualNow = timers.wheel.now }
            for timer in timers.expired {
                fire(timer)
            }
            timers.expired.removeAll(keepingCapacity: true)
            between()
        }
    }

    private func fire(_ timer: TimerWheel.Expired) {
        switch timer.kind {
        case .receiveTimeout:
            guard let process = core(PID(node: number, rawValue: timer.target)), process.waitTimer == timer.ref.rawValue else {
                return
            }
            process.waitTimer = 0
            process.timedOut = true
            if process.status == .waiting {
                process.status = .running
                schedule(process.pid)
            }
        case .monitorDeadline:
            monitorDeadlinePassed(Ref(rawValue: timer.target))
        case .message:
            let payload = Unmanaged<TimedPayload>.fromOpaque(timer.payload!).takeRetainedValue()
            let process: ProcessCore?
            let label: String
            if let name = payload.name {
                process = registry[name].flatMap { core($0) }
                label = name
                guard process != nil else { return }  // Erlang: nothing happens for an unregistered name
            } else {
                let pid = PID(node: number, rawValue: timer.target)
                process = core(pid)
                label = pid.description
            }
            guard let process else {
                counters.droppedToDeadProcesses &+= 1
                return
            }
            guard process.messageType == payload.messageType else {
                emit(.refused(target: label, error: .wrongMessageType(
                    process.pid, expected: "timer message", accepted: process.messageTypeName)))
                return
            }
            if payload.deliver(to: process, node: self) {
                counters.delivered &+= 1
            } else {
                emit(.refused(target: label, error: refused(process.pid)))
            }
        }
    }
}

// MARK: Timeouts as a Swift `Duration` (rounded up to whole milliseconds; disfavoured, so a literal
// such as `.seconds(2)` stays a `Timeout`)

extension Node {
    /// `sendAfter(_:_:to:)` after `duration`.
    @discardableResult @_disfavoredOverload
    public func sendAfter<M>(_ duration: Duration, _ message: M, to address: Address<M>) throws(ProcessError)
        -> TimerRef
    {
        try sendAfter(Timeout(duration), message, to: address)
    }

    /// `sendAfter(_:_:to:)` to a registered name (resolved when the timer fires) after `duration`.
    @discardableResult @_disfavoredOverload
    public func sendAfter<M>(_ duration: Duration, _ message: M, to name: String) throws(ProcessError) -> TimerRef {
        try sendAfter(Timeout(duration), message, to: name)
    }
}
