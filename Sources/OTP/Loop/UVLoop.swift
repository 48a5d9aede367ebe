import CLibUV

/// The libuv side of a node: the `uv_loop_t` and the three handles that drive the runtime.
///
/// - `scheduler` (`uv_idle_t`): active only while the run queue is not empty. libuv runs idle callbacks
///   once per iteration and polls without blocking while one is active, so process turns interleave with
///   timers and I/O, one bounded drain per iteration.
/// - `timer` (`uv_timer_t`): armed for the timer wheel's next tick; its callback expires due timers.
/// - `inbox` (`uv_async_t`): woken by other threads; its callback drains the node's `Inbox`.
/// - `sampler` (`uv_timer_t`, only with metrics on): publishes the sampled metrics every
///   `MetricsOptions.sampleInterval`; unreferenced, so it never keeps the loop alive.
/// - `flusher` (`uv_prepare_t`, only for a loop of a `NodeGroup`): once per iteration, before the loop
///   polls, wakes each loop this one sent items to since the last one (`Node.flushTransit`).
/// - `stopper` (`uv_timer_t`, made by the first `run(for:)`): stops the loop when the time is up.
/// - `signals` (`uv_signal_t`, one per signal given to `stopLoop(on:)`): stop the loop when the process
///   receives that signal; unreferenced.
///
/// Ownership follows libuv's rule: handle memory is freed only in the close callback, and `close()` runs
/// the loop until every close callback has run, then returns `uv_loop_close`'s result.
///
/// Thread: loop thread only, except that the inbox handle is signalled under the inbox lock.
final class UVLoop {
    let loop: UnsafeMutablePointer<uv_loop_t>
    private let scheduler: UnsafeMutablePointer<uv_idle_t>
    private let timer: UnsafeMutablePointer<uv_timer_t>
    let inbox: UnsafeMutablePointer<uv_async_t>
    private var sampler: UnsafeMutablePointer<uv_timer_t>?
    /// A loop of a `NodeGroup`: once per iteration, before libuv polls, wakes the loops it sent items to.
    private var flusher: UnsafeMutablePointer<uv_prepare_t>?
    private var stopper: UnsafeMutablePointer<uv_timer_t>?
    private var signals: [UnsafeMutablePointer<uv_signal_t>] = []
    /// When the libuv timer is due, or `.max` when it is not armed.
    private var timerDeadline = UInt64.max
    /// Whether the libuv timer is referenced (keeps the loop alive while armed). A wheel that empties
    /// unreferences it rather than stopping it (`timerIdle`).
    private var timerReferenced = true
    private var closed = false
    /// Whether the node created the loop (and closes it), or a host owns it and the node only attached.
    let ownsLoop: Bool
    /// Handles whose close callback has not run yet (during `close`).
    var closing = 0

    /// A loop of the node's own.
    convenience init() {
        let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
        let status = uv_loop_init(loop)
        precondition(status == 0, "uv_loop_init failed: \(String(cString: uv_strerror(status)))")
        self.init(loop: loop, owned: true)
    }

    /// `owned: false` attaches to a host's initialised loop, which the node never closes.
    init(loop: UnsafeMutablePointer<uv_loop_t>, owned: Bool) {
        self.loop = loop
        self.ownsLoop = owned
        scheduler = .allocate(capacity: 1)
        timer = .allocate(capacity: 1)
        inbox = .allocate(capacity: 1)
    }

    /// Initialises the handles with `node` as their context (unretained: the node outlives its loop).
    func attach(to node: Node) {
        let context = Unmanaged.passUnretained(node).toOpaque()
        uv_idle_init(loop, scheduler)
        scheduler.pointee.data = context
        uv_timer_init(loop, timer)
        timer.pointee.data = context
        uv_async_init(loop, inbox) { handle in
            Node.with(handle!.pointee.data) { node in
                node.drainInbox()
                // Run the work those jobs created in this iteration rather than the next one: a call from
                // another thread then completes (server turn, reply, resume) within the wake-up that brought it.
                if !node.scheduler.runQueue.isEmpty {
                    node.drainRunQueue(limit: node.configuration.messagesPerIteration)
                }
            }
        }
        inbox.pointee.data = context
        let async = inbox
        node.inbox.setWake { _ = uv_async_send(async) }
        if node.group != nil {
            let flusher = UnsafeMutablePointer<uv_prepare_t>.allocate(capacity: 1)
            uv_prepare_init(loop, flusher)
            flusher.pointee.data = context
            uv_prepare_start(flusher) { handle in Node.with(handle!.pointee.data) { $0.flushTransit() } }
            uv_unref(otp_uv_handle(flusher))
            self.flusher = flusher
        }
        if let instruments = node.instruments {
            let sampler = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)
            uv_timer_init(loop, sampler)
            sampler.pointee.data = context
            uv_timer_start(sampler, { handle in Node.with(handle!.pointee.data) { $0.sampleIfDue() } },
                           instruments.interval, instruments.interval)
            uv_unref(otp_uv_handle(sampler))
            self.sampler = sampler
        }
    }

    /// Whether the inbox handle keeps `uv_run` from returning (run until stopped) or not (run until idle).
    func keepAlive(_ enabled: Bool) {
        if enabled { uv_ref(otp_uv_handle(inbox)) } else { uv_unref(otp_uv_handle(inbox)) }
    }

    func startScheduler() {
        uv_idle_start(scheduler) { handle in
            Node.with(handle!.pointee.data) { node in
                _ = node.drainRunQueue(limit: node.configuration.messagesPerIteration)
            }
        }
    }

    func stopScheduler() {
        uv_idle_stop(scheduler)
    }

    /// A timer for `deadline` exists: make sure the libuv timer fires no later, and keeps the loop alive.
    func timerArmed(deadline: UInt64) {
        guard !closed else { return }
        if !timerReferenced {
            uv_ref(otp_uv_handle(timer))
            timerReferenced = true
        }
        guard deadline < timerDeadline else { return }
        timerDeadline = deadline
        let now = uv_now(loop)
        uv_timer_start(timer, { handle in
            Node.with(handle!.pointee.data) { $0.timerFired() }
        }, deadline > now ? deadline - now : 0, 0)
    }

    /// Stops the loop (as `Node.stopLoop()` does) once `milliseconds` have passed (`Node.run(for:)`).
    func stop(after milliseconds: UInt64, context: UnsafeMutableRawPointer) {
        let stopper = self.stopper ?? {
            let handle = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)
            uv_timer_init(loop, handle)
            handle.pointee.data = context
            self.stopper = handle
            return handle
        }()
        uv_timer_start(stopper, { handle in
            let node = Node.from(handle!.pointee.data)
            node.stopRequested = true
            uv_stop(handle!.pointee.loop)
        }, milliseconds, 0)
    }

    /// `run(for:)` has returned: its stopper must not fire later.
    func cancelStop() {
        if let stopper { uv_timer_stop(stopper) }
    }

    /// Stops the loop (as `Node.stopLoop()`) when the process receives `signal`. Returns libuv's status.
    func stop(on signal: Int32, context: UnsafeMutableRawPointer) -> Int32 {
        let handle = UnsafeMutablePointer<uv_signal_t>.allocate(capacity: 1)
        uv_signal_init(loop, handle)
        handle.pointee.data = context
        let status = uv_signal_start(handle, { handle, _ in
            let node = Node.from(handle!.pointee.data)
            node.stopRequested = true
            uv_stop(handle!.pointee.loop)
        }, signal)
        uv_unref(otp_uv_handle(handle))
        signals.append(handle)
        return status
    }

    /// Whether the libuv timer keeps the loop alive: armed and referenced (for tests and introspection).
    var timerKeepsLoopAlive: Bool { timerDeadline != .max && timerReferenced }

    /// The libuv timer fired: it is no longer armed.
    func timerDisarmed() {
        timerDeadline = .max
    }

    /// No timer is pending any more: the libuv timer must keep no loop alive. It is unreferenced, not
    /// stopped: a call that arms and cancels its timeout then costs two flag flips instead of a timer-heap
    /// removal and insertion in libuv. If it fires meanwhile, `Node.timerFired` finds nothing due.
    func timerIdle() {
        guard timerReferenced, !closed else { return }
        uv_unref(otp_uv_handle(timer))
        timerReferenced = false
    }

    /// Closes the node's handles and runs the loop until their close callbacks ran. A loop of the node's
    /// own is then closed: the result is `uv_loop_close`'s (0 when nothing was left open). A host's loop is
    /// left running and clean of the node: the result is 0.
    func close() -> Int32 {
        guard !closed else { return 0 }
        closed = true
        closing = 3
        let closed: uv_close_cb = { handle in
            Node.from(handle!.pointee.data).uv!.closing -= 1
            UnsafeMutableRawPointer(handle)?.deallocate()
        }
        if let flusher {
            closing += 1
            uv_close(otp_uv_handle(flusher), closed)
        }
        for handle in [sampler, stopper].compactMap({ $0 }) {
            closing += 1
            uv_close(otp_uv_handle(handle), closed)
        }
        for handle in signals {
            closing += 1
            uv_close(otp_uv_handle(handle), closed)
        }
        uv_close(otp_uv_handle(scheduler), closed)
        uv_close(otp_uv_handle(timer), closed)
        uv_close(otp_uv_handle(inbox), closed)
        guard ownsLoop else {
            while closing > 0 { uv_run(loop, UV_RUN_NOWAIT) }
            return 0
        }
        uv_run(loop, UV_RUN_DEFAULT)
        let status = uv_loop_close(loop)
        if status == 0 { loop.deallocate() }
        return status
    }
}

extension Node {
    /// The node behind a libuv handle's `data`.
    static func from(_ data: UnsafeMutableRawPointer?) -> Node {
        Unmanaged<Node>.fromOpaque(data!).takeUnretainedValue()
    }

    /// Lends the node behind a libuv handle's `data` to `body` without retaining it: the handles are the
    /// node's own and closed before it goes, so it outlives each callback. For the callbacks of every loop
    /// iteration (scheduler, inbox, transit flush, timer), where a retain and a release per callback were
    /// atomic operations: several per call between two loops.
    @inline(__always)
    static func with<R>(_ data: UnsafeMutableRawPointer?, _ body: (Node) -> R) -> R {
        Unmanaged<Node>.fromOpaque(data!)._withUnsafeGuaranteedRef(body)
    }

    /// Drains the cross-thread inbox on the loop thread.
    func drainInbox() {
        scheduler.drains &+= 1
        inbox.drain { job in job.run(self) }
        if group != nil { drainTransit() }
        // Deadlines a job began (an async call's) are filed when the run-queue drain its messages started
        // ends; with nothing to run, now.
        if scheduler.runQueue.isEmpty { armDeferredTimeouts() }
    }

    /// The libuv timer fired: expire the wheel's due timers and re-arm for its next tick.
    func timerFired() {
        guard let uv else { return }
        uv.timerDisarmed()
        fireTimers(upTo: uv_now(uv.loop))
        if let next = timers.wheel.nextTick() { uv.timerArmed(deadline: next) }
    }
}
