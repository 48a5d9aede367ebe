#if canImport(Glibc)
import Glibc
#endif
import CLibUV

/// Driving the node: the libuv run modes, a dedicated thread, the thread-safe entry points, the manual
/// driver, and closing.
extension Node {
    /// When `run(until:)` returns.
    public enum RunMode: Sendable {
        /// Until `stopLoop()` is called (from any thread). Waiting processes keep the loop alive.
        case stopped
        /// Until nothing is left to do: no runnable process, no pending timer, no host handle. Processes
        /// waiting for a message without a timeout do not keep the loop alive.
        case idle
    }

    /// Runs the loop on the calling thread, which becomes the loop thread while it runs.
    /// Precondition: the node uses the system clock, is not closed, and is not running already.
    public func run(until mode: RunMode = .stopped) {
        let uv = prepareToRun("run(until:)")
        uv.keepAlive(mode == .stopped)
        drainInbox()
        if configuration.busyWait > .zero {
            runBusyWaiting(uv, for: configuration.busyWait, mode: mode)
        } else {
            uv_run(uv.loop, UV_RUN_DEFAULT)
        }
        stopRequested = false
        phase = .ready
    }

    /// Runs the loop on the calling thread for `duration` of real time, or until `stopLoop()` (or a signal
    /// given to `stopLoop(on:)`) stops it sooner; waiting processes keep it running until then. The node
    /// stays usable: run it again, or close it. Rounded up to whole milliseconds.
    /// Precondition: as `run(until:)`.
    public func run(for duration: Duration) {
        let uv = prepareToRun("run(for:)")
        let milliseconds = Timeout(duration).milliseconds ?? 0
        uv.stop(after: UInt64(max(milliseconds, 0)), context: Unmanaged.passUnretained(self).toOpaque())
        defer { uv.cancelStop() }
        uv.keepAlive(true)
        drainInbox()
        if configuration.busyWait > .zero {
            runBusyWaiting(uv, for: configuration.busyWait, mode: .stopped)
        } else {
            uv_run(uv.loop, UV_RUN_DEFAULT)
        }
        stopRequested = false
        phase = .ready
    }

    /// Makes the loop stop, as `stopLoop()` does, when this OS process receives one of `signals` (SIGTERM
    /// and SIGINT by default): `run(until:)` / `run(for:)` return, a dedicated thread ends and closes the
    /// node — so a view socket is removed and connections are closed instead of being left behind. The
    /// signals' default action (ending the process) no longer applies while the node is open; libuv
    /// restores it when the node closes.
    ///
    /// Thread: loop thread (before `run`, or from process code or `execute`). Not for the manual clock.
    /// - Throws: `ProcessError.nodeStopped` for a closed or manual-clock node; `.invalidSignal` naming a
    ///   signal libuv refused.
    public func stopLoop(on signals: [Int32] = [SIGTERM, SIGINT]) throws(ProcessError) {
        preconditionInLoop()
        guard let uv, phase != .closed else { throw .nodeStopped }
        for signal in signals {
            let status = uv.stop(on: signal, context: Unmanaged.passUnretained(self).toOpaque())
            if status != 0 {
                throw .invalidSignal(signal, reason: String(cString: uv_strerror(status)))
            }
        }
    }

    /// A loop of a group with nothing to do looks at its channels a few hundred times (a few microseconds,
    /// no system call) before its next libuv iteration: another loop's message is taken within a fraction
    /// of a microsecond instead of one libuv iteration. Returns whether something arrived.
    private func spinOnChannels() -> Bool {
        for _ in 0..<256 {
            if pollTransit() { return true }
            otp_cpu_relax()
        }
        return false
    }

    /// Other loops' items keep arriving: takes them, and runs the turns they cause, without a libuv
    /// iteration (a poll system call) between one arrival and the next, as long as each comes within a
    /// spin of the last (a clock read every 8 arrivals bounds the relay). Returns to libuv (timers, I/O)
    /// after 64 arrivals or about 200 µs, or at once when runnable processes are left (a drain that hit
    /// `messagesPerIteration`). The timers of waits begun during the relay are filed when it ends
    /// (`TimerState.holdDeferred`).
    private func relayTransit(_ clock: ContinuousClock) {
        let started = clock.now
        timers.holdDeferred = true
        defer {
            timers.holdDeferred = false
            armDeferredTimeouts()
        }
        for arrival in 0..<64 {
            guard scheduler.runQueue.isEmpty, spinOnChannels() else { return }
            if arrival & 7 == 7 && clock.now - started >= .microseconds(200) { return }
        }
    }

    /// `run(until:)` with busy waiting: non-blocking iterations while work keeps coming, a blocking one
    /// once `spin` has passed without any (`NodeConfiguration.busyWait`).
    private func runBusyWaiting(_ uv: UVLoop, for spin: Duration, mode: RunMode) {
        let clock = ContinuousClock()
        var lastWork = clock.now
        startPolling()  // a loop of a group takes other loops' items on each spin, unwoken
        defer { _ = stopPolling() }
        while true {
            let drains = scheduler.drains
            let alive = uv_run(uv.loop, UV_RUN_NOWAIT)
            if stopRequested || (mode == .idle && alive == 0) { return }
            // Work done in this iteration counts, even when it left nothing queued (a message from another
            // thread or loop, or a socket, handled at once): the spin goes on.
            if !scheduler.runQueue.isEmpty || scheduler.drains != drains || pollTransit() {
                if groupRef != nil { relayTransit(clock) }
                lastWork = clock.now
            } else if groupRef != nil && spinOnChannels() {
                relayTransit(clock)
                lastWork = clock.now
            } else if clock.now - lastWork >= spin {
                guard stopPolling() else { continue }  // something arrived as it stopped: spin on
                let alive = uv_run(uv.loop, UV_RUN_ONCE)  // sleeps until a timer, I/O or a post
                startPolling()
                if stopRequested || (mode == .idle && alive == 0) { return }
                lastWork = clock.now
            }
        }
    }

    /// Runs one libuv iteration on the calling thread (embedding mode 2: the host drives the loop). With
    /// `blocking`, it waits until something happens — a timer, I/O, or a post from another thread (the
    /// inbox keeps the loop alive here, so `backendTimeout` is -1 when only a post could bring work).
    /// Returns whether work is already pending: runnable processes or timers.
    @discardableResult
    public func runOnce(blocking: Bool) -> Bool {
        let uv = prepareToRun("runOnce(blocking:)")
        uv.keepAlive(true)
        drainInbox()
        uv_run(uv.loop, blocking ? UV_RUN_ONCE : UV_RUN_NOWAIT)
        phase = .ready
        return !scheduler.runQueue.isEmpty || timers.wheel.count > 0
    }

    private func prepareToRun(_ function: StaticString) -> UVLoop {
        guard let uv else { preconditionFailure("Node.\(function) needs the system clock; use runUntilIdle()") }
        precondition(phase == .ready, "Node.\(function): the node is \(phase == .closed ? "closed" : phase == .attached ? "attached to a host loop (the host runs it)" : "running")")
        loopThread = pthread_self()
        phase = .running
        // libuv's cached time is from the last iteration, which may be long ago: jobs drained before the
        // first iteration (calls posted while the node was not running) must arm their timers from now.
        uv_update_time(uv.loop)
        return uv
    }

    /// Starts the loop on a dedicated thread, which runs until `stopLoop()` and then closes the node.
    /// After `startLoop()`, loop-thread-only methods must be called from process code or `execute(_:)`.
    /// (Not to be confused with `start(_:_:options:)`, which starts a GenServer.)
    public func startLoop() {
        precondition(startLoopIfNeeded(), "Node.startLoop(): already started")
    }

    /// Starts the loop on its dedicated thread as `startLoop()` does, unless it was started there already:
    /// returns whether it started it now. Thread-safe (for `OTPServiceLifecycle.NodeService`, which runs a
    /// node whether or not the program started its loop before).
    /// Precondition: the node uses the system clock, and is not closed or running on another thread.
    @discardableResult
    public func startLoopIfNeeded() -> Bool {
        precondition(uv != nil, "Node.startLoop() needs the system clock")
        return inbox.withLock {
            guard dedicatedThread == nil else { return false }
            precondition(phase == .ready, "Node.startLoop(): the node is closed or runs on another thread")
            var thread = pthread_t()
            let context = Unmanaged.passRetained(self).toOpaque()
            let status = pthread_create(&thread, nil, { context in
                let node = Unmanaged<Node>.fromOpaque(context!).takeRetainedValue()
                otp_set_thread_name("otp-loop")
                node.inbox.withLock {}  // wait until startLoop() has recorded the thread
                node.run(until: .stopped)
                _ = node.close()
                return nil
            }, context)
            precondition(status == 0, "pthread_create failed: \(status)")
            loopThread = thread
            dedicatedThread = thread
            return true
        }
    }

    /// Makes `run(until:)` return (and a dedicated thread end, closing the node). Thread-safe; no-op when
    /// the node is closed. (Not to be confused with `stop(_:reason:timeout:)`, which stops a GenServer.)
    public func stopLoop() {
        _ = inbox.post(Inbox.Job(run: { node in
            node.stopRequested = true
            if let uv = node.uv { uv_stop(uv.loop) }
        }, cancel: nil))
    }

    /// Waits until the dedicated thread from `startLoop()` has ended. Thread-safe; must not be called on the
    /// loop thread. Returns at once when the node was not started on a dedicated thread.
    public func join() {
        let thread: pthread_t? = inbox.withLock { dedicatedThread }
        guard let thread else { return }
        precondition(pthread_equal(thread, pthread_self()) == 0, "Node.join() called on the loop thread")
        pthread_join(thread, nil)
        inbox.withLock { dedicatedThread = nil }
    }

    // MARK: Thread-safe entry

    /// Runs `job` on the loop thread, soon. Thread-safe. Returns `false` when the node is closed (the job
    /// will never run).
    @discardableResult
    public func execute(_ job: @escaping @Sendable (Node) -> Void) -> Bool {
        inbox.post(Inbox.Job(run: job, cancel: nil))
    }

    /// Sends `message` to `address` from any thread. A refusal (mailbox full, node closed) is given to
    /// `onRefused` (on the loop thread, or on the calling thread when the node is closed); without a handler
    /// it is logged as a `NodeReport.refused` (and given to `configuration.report`), so it is never lost
    /// silently.
    public func post<M: Sendable>(
        _ message: M, to address: Address<M>, onRefused: (@Sendable (ProcessError) -> Void)? = nil
    ) {
        let posted = inbox.post(Inbox.Job(run: { node in
            do throws(ProcessError) {
                try node.send(message, to: address)
            } catch {
                if let onRefused { onRefused(error) } else {
                    node.emit(.refused(target: address.pid.description, error: error))
                }
            }
        }, cancel: { onRefused?(.nodeStopped) }))
        if !posted {
            if let onRefused { onRefused(.nodeStopped) } else {
                emit(.refused(target: address.pid.description, error: .nodeStopped))
            }
        }
    }

    /// Spawns a process from any thread. `completion` runs on the loop thread with the new address, or
    /// with the spawn's error; when the node is closed it runs on the calling thread with `nodeStopped`.
    public func requestSpawn<B: ProcessBehavior & Sendable>(
        _ behavior: B, options: SpawnOptions = .init(),
        completion: @escaping @Sendable (Result<Address<B.Message>, ProcessError>) -> Void = { _ in }
    ) {
        let posted = inbox.post(Inbox.Job(run: { node in
            do throws(ProcessError) {
                completion(.success(try node.spawn(behavior, options: options)))
            } catch {
                completion(.failure(error))
            }
        }, cancel: { completion(.failure(.nodeStopped)) }))
        if !posted { completion(.failure(.nodeStopped)) }
    }

    // MARK: The deterministic driver (manual clock)

    /// Runs inbox jobs and process turns until none is left. Manual clock only; loop thread only, outside
    /// process code (a call from a process traps: the scheduler cannot be re-entered).
    public func runUntilIdle() {
        precondition(uv == nil, "Node.runUntilIdle() is for the manual clock; use run(until: .idle)")
        preconditionInLoop()
        precondition(!scheduler.draining, "Node.runUntilIdle() or advance(by:) called from process code: the scheduler cannot be re-entered")
        while true {
            drainInbox()
            if scheduler.runQueue.isEmpty && inbox.isEmpty { return }
            drainRunQueue(limit: configuration.messagesPerIteration)
        }
    }

    /// Moves the manual clock forward by `milliseconds`, firing each due timer at its own time and letting
    /// processes run after each tick, then runs until idle. Manual clock only; loop thread only.
    public func advance(by milliseconds: UInt64) {
        runUntilIdle()
        let target = timers.manualNow + milliseconds
        fireTimers(upTo: target) { runUntilIdle() }
        timers.manualNow = target
        runUntilIdle()
    }

    /// `advance(by:)` with a `Timeout` (must be finite and not negative).
    public func advance(by timeout: Timeout) {
        precondition(!timeout.isInfinite && (timeout.milliseconds ?? 0) >= 0, "Node.advance(by:) needs a finite, non-negative time")
        advance(by: UInt64(timeout.milliseconds!))
    }

    // MARK: Closing

    /// Whether the node is attached to a host's loop (`init(attachingTo:configuration:)`) and not detached.
    /// Thread: loop thread.
    public var isAttached: Bool { phase == .attached }

    /// Detaches a node from the host loop it was attached to: every process exits with `shutdown`, the
    /// node's handles are closed (running the host loop without blocking until their close callbacks have
    /// run), and the host loop is left as it was. Loop thread only, outside the host's `uv_run` callbacks.
    public func detach() {
        precondition(phase == .attached, "Node.detach() is for a node attached to a host loop")
        phase = .ready
        _ = close()
    }

    /// Ends the node: every process exits with `shutdown` (no process code runs), timers are dropped, jobs
    /// still in the inbox are cancelled, every libuv handle is closed and the loop is closed.
    /// Returns `uv_loop_close`'s result: 0 when no handle was left (always 0 on the manual clock).
    /// Loop thread only, while the loop is not running. Closing twice returns 0.
    @discardableResult
    public func close() -> Int32 {
        preconditionInLoop()
        precondition(phase != .running && !scheduler.draining,
                     "Node.close() called while the loop is running (or from process code); stopLoop() it first")
        guard phase != .closed else { return 0 }
        phase = .closed
        for job in inbox.close() { job.cancel() }
        failExternalCalls()
        for pid in table.pids() {
            if let process = core(pid) { terminate(process, reason: .shutdown) }
        }
        // A loop of a group answers what the others sent it, wakes them for the exit signals and `DOWN`s
        // those exits sent, and hands its channels over to their senders (`closeInGroup`).
        closeInGroup()
        timers.wheel.destroy { Unmanaged<TimedPayload>.fromOpaque($0).release() }
        timers.wheel = TimerWheel(now: currentTime)
        scheduler.runQueue.releaseStorage()
        stopView()
        finishClosingView()
        stopDistribution()
        finishClosingDistribution()
        return uv?.close() ?? 0
    }
}

// MARK: Timeouts as a Swift `Duration` (rounded up to whole milliseconds; disfavoured, so a literal
// such as `.seconds(2)` stays a `Timeout`)

extension Node {
    /// `advance(by:)` by a `Duration` (manual clock).
    @_disfavoredOverload
    public func advance(by duration: Duration) {
        advance(by: Timeout(duration))
    }
}
