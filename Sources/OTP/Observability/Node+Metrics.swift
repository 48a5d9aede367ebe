import CLibUV

/// Where the runtime records its metrics (`MetricsOptions`). Each hook starts with `if let instruments`:
/// with metrics off that is the whole cost.
extension Node {
    /// Publishes the sampled metrics now (they are otherwise published every `sampleInterval`).
    /// Does nothing when metrics are off. Thread: loop thread only.
    public func publishMetrics() {
        preconditionInLoop()
        guard let instruments else { return }
        instruments.sample(statistics, table: table, registry: registry, now: currentTime)
    }

    /// The clock of the metrics, in nanoseconds: libuv's high-resolution clock, or the manual clock.
    @usableFromInline
    var instrumentTime: UInt64 {
        uv == nil ? manualNow &* 1_000_000 : uv_hrtime()
    }

    /// Publishes the sampled metrics when a sample is due (called as the scheduler goes idle and from the
    /// sampling timer of a system-clock node).
    func sampleIfDue() {
        guard let instruments, currentTime >= instruments.nextSample else { return }
        instruments.sample(statistics, table: table, registry: registry, now: currentTime)
    }

    /// The instrumented twin of the scheduler's drain (`drainRunQueue`): the same turns, each timed, and
    /// the wait of each process in the run queue recorded (see `NodeInstruments.mark`).
    func drainInstrumented(_ instruments: NodeInstruments, limit: Int, budget: Int) -> Int {
        var handled = 0
        instruments.mark(queued: runQueue.count, at: instrumentTime)
        while handled < limit, let raw = runQueue.popFirst() {
            let started = instrumentTime
            let arrived = instruments.popped(at: started)
            let pid = PID(node: number, rawValue: raw)
            guard let object = table.object(for: pid) else { continue }
            instruments.mailboxWait.recordNanoseconds(Int64(started &- min(arrived, started)))
            currentProcess = object
            otp_watch_begin(turnWatch, raw)
            var turnHandled = 0
            let outcome = ProcessTable.borrow(object) { $0.operate($0, self, .turn(budget: budget), &turnHandled) }
            currentProcess = nil
            handled &+= turnHandled
            let ended = instrumentTime
            let duration = Int64(ended &- started)
            instruments.handlerDuration.recordNanoseconds(duration)
            ProcessTable.borrow(object) { process in
                process.handlerNanoseconds &+= UInt64(duration)
                process.extras?.instruments?.handlerDuration.recordNanoseconds(duration)
            }
            finishTurn(object, raw: raw, outcome)
            instruments.mark(queued: runQueue.count, at: ended)
        }
        return handled
    }

    // MARK: Calls

    /// A call opened request `ref`: remember when, to time it.
    @inlinable
    func callStarted(_ ref: Ref) {
        if instruments != nil { timeCall(ref) }
    }

    @usableFromInline
    func timeCall(_ ref: Ref) {
        guard let instruments, let slot = monitors.slot(ref) else { return }
        instruments.callStarted(ref, slot: slot, at: instrumentTime)
    }

    /// The call of request `ref` ended with `outcome` (a request to a dead server has no slot: counted).
    @usableFromInline
    func callEnded(_ ref: Ref, _ outcome: CallOutcome) {
        guard let instruments else { return }
        instruments.callEnded(outcome, ref, slot: monitors.slot(ref), at: instrumentTime)
    }

    /// A call failed before it could open a request (unknown name, dead server, calling itself).
    @inlinable
    func callFailed(_ error: CallError) {
        if instruments != nil { countFailedCall(CallOutcome(error)) }
    }

    @usableFromInline
    func countFailedCall(_ outcome: CallOutcome) {
        instruments?.callFailed(outcome)
    }

    // MARK: Names

    /// `name` now names `process`: give it the name's per-process instruments.
    func instrumentName(_ name: String, of process: ProcessCore) {
        guard let instruments, instruments.options.perProcess == .named else { return }
        process.relations.instruments = instruments.named(name)
    }
}
