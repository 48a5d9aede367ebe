import CLibUV

/// Where the runtime records its metrics (`MetricsOptions`). Each hook starts with `if let instruments`:
/// with metrics off that is the whole cost.
extension Node {
    /// Publishes the sampled metrics now (they are otherwise published every `sampleInterval`).
    /// Does nothing when metrics are off. Thread: loop thread only.
    public func publishMetrics() {
        preconditionInLoop()
        guard let instruments else { return }
        instruments.sample(statistics, table: table, registry: registry, now: currentTime,
                           busy: meter.measuring ? meter.busyNanoseconds : nil, clock: instrumentTime)
    }

    /// The clock of the metrics, in nanoseconds: libuv's high-resolution clock, or the manual clock.
    @usableFromInline
    var instrumentTime: UInt64 {
        uv == nil ? timers.manualNow &* 1_000_000 : uv_hrtime()
    }

    /// Publishes the sampled metrics when a sample is due (called as the scheduler goes idle and from the
    /// sampling timer of a system-clock node).
    func sampleIfDue() {
        guard let instruments, currentTime >= instruments.nextSample else { return }
        instruments.sample(statistics, table: table, registry: registry, now: currentTime,
                           busy: meter.measuring ? meter.busyNanoseconds : nil, clock: instrumentTime)
    }

    // MARK: Calls

    /// A call opened request `ref`: remember when, to time it.
    @inlinable
    func callStarted(_ ref: Ref) {
        if instruments != nil { timeCall(ref) }
    }

    @usableFromInline
    func timeCall(_ ref: Ref) {
        guard let instruments, let slot = monitors.requestSlot(ref) else { return }
        instruments.callStarted(ref, slot: slot, at: instrumentTime)
    }

    /// The call of request `ref` ended with `outcome` (a request to a dead server has no slot: counted).
    @usableFromInline
    func callEnded(_ ref: Ref, _ outcome: CallOutcome) {
        guard let instruments else { return }
        instruments.callEnded(outcome, ref, slot: monitors.requestSlot(ref), at: instrumentTime)
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
