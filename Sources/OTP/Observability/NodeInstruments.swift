import CoreMetrics

/// The swift-metrics handles of one node with metrics turned on (`MetricsOptions`), and the bookkeeping of
/// its samples. Created once with the node; the hot paths reach it through `Node.instruments`, which is
/// `nil` when metrics are off.
///
/// Thread: loop thread only. Cost: recording goes straight to the backend's handlers (no allocation here);
/// a sample walks the process table once.
@usableFromInline
final class NodeInstruments {
    let options: MetricsOptions
    private let factory: any MetricsFactory
    /// Every sampled metric is published at most this often on its own (milliseconds).
    let interval: UInt64

    // Sampled.
    private let processes: Gauge
    private let spawned, exited, messagesIn, messagesOut, refused, dropped, ignoredReplies: Counter
    private let mailboxMessages, mailboxDepthMax, runQueue, timers: Gauge
    /// The share of the time since the last sample the loop spent running turns (`LoopLoad.utilization`).
    private let utilization: Gauge
    /// The busy time and the metrics clock (ns) at the last sample, to take `utilization` from.
    private var sampledBusy: (busy: UInt64, time: UInt64)?
    /// The statistics published last, so counters advance by the difference.
    private var published = NodeStatistics()
    /// When the next sample is due (the node's clock, milliseconds).
    var nextSample: UInt64 = 0

    // As they happen.
    @usableFromInline let mailboxWait: Timer
    @usableFromInline let handlerDuration: Timer
    private var callCounters: [CallOutcome: Counter] = [:]
    private var callDurations: [CallOutcome: Timer] = [:]
    private var restarts: [String: Counter] = [:]
    /// The call in each request slot (by monitor slot): its reference and when it started
    /// (`instrumentTime`). A slot whose call never ended (its caller died) is found stale by its reference.
    private var callStarts: [(ref: Ref, time: UInt64)] = []
    /// When the run queue's entries got there, without touching `Node.schedule` (the message path): the
    /// run queue is FIFO, so its k-th push is its k-th pop. A mark says "by `time`, `pushes` entries had
    /// been pushed"; one is made as a drain starts and after each turn, so an entry's arrival is the time
    /// of the first mark that counts it: the end of the turn that woke the process, or the start of the
    /// drain for wake-ups from timers and other threads.
    private var marks = RingBuffer<(pushes: UInt64, time: UInt64)>(limit: .max)
    private var lastMarked: UInt64 = 0
    /// Run-queue entries popped so far (by instrumented drains: all of them).
    private var popped: UInt64 = 0

    /// Per registered name (`perProcess: .named`).
    private var named: [String: ProcessInstruments] = [:]

    init(options: MetricsOptions) {
        self.options = options
        let factory = options.factory ?? MetricsSystem.factory
        self.factory = factory
        let dimensions = options.dimensions
        func counter(_ label: String) -> Counter { Counter(label: label, dimensions: dimensions, factory: factory) }
        func gauge(_ label: String) -> Gauge { Gauge(label: label, dimensions: dimensions, factory: factory) }
        processes = gauge("otp_processes")
        spawned = counter("otp_processes_spawned_total")
        exited = counter("otp_processes_exited_total")
        messagesIn = counter("otp_messages_in_total")
        messagesOut = counter("otp_messages_out_total")
        refused = counter("otp_messages_refused_total")
        dropped = counter("otp_messages_dropped_total")
        ignoredReplies = counter("otp_replies_ignored_total")
        mailboxMessages = gauge("otp_mailbox_messages")
        mailboxDepthMax = gauge("otp_mailbox_depth_max")
        runQueue = gauge("otp_run_queue")
        timers = gauge("otp_timers")
        utilization = gauge("otp_loop_utilization")
        mailboxWait = Timer(label: "otp_mailbox_wait", dimensions: dimensions, factory: factory)
        handlerDuration = Timer(label: "otp_handler_duration", dimensions: dimensions, factory: factory)
        let ms = options.sampleInterval.milliseconds ?? Int64.max
        interval = UInt64(max(1, ms))
    }

    deinit { marks.releaseStorage() }

    // MARK: Run-queue waits

    /// `queued` entries are in the run queue at `time`.
    func mark(queued: Int, at time: UInt64) {
        let pushes = popped &+ UInt64(queued)
        guard pushes != lastMarked else { return }
        lastMarked = pushes
        marks.forcePush((pushes, time))
    }

    /// An entry was popped: when it arrived.
    func popped(at time: UInt64) -> UInt64 {
        let index = popped
        popped &+= 1
        while !marks.isEmpty && marks.slot(0).pointee.pushes <= index { _ = marks.popFirst() }
        return marks.isEmpty ? time : marks.slot(0).pointee.time
    }

    // MARK: Calls

    func callStarted(_ ref: Ref, slot: Int, at time: UInt64) {
        if slot >= callStarts.count {
            callStarts.append(contentsOf: repeatElement((ref: Ref(rawValue: 0), time: UInt64(0)), count: slot + 1 - callStarts.count))
        }
        callStarts[slot] = (ref, time)
    }

    /// A call ended: counts its outcome and records its duration. `slot`: its request's monitor slot, or
    /// `nil` for a call that failed before it had one (counted, not timed). A request that no call started
    /// (a start acknowledgement, a system stop) is neither.
    func callEnded(_ outcome: CallOutcome, _ ref: Ref, slot: Int?, at time: UInt64) {
        guard let slot else { return counter(for: outcome).increment() }
        guard slot < callStarts.count, callStarts[slot].ref == ref else { return }
        let started = callStarts[slot].time
        callStarts[slot].ref = Ref(rawValue: 0)
        counter(for: outcome).increment()
        duration(for: outcome).recordNanoseconds(Int64(time &- started))
    }

    /// A call that failed before it had a request: counted, not timed.
    func callFailed(_ outcome: CallOutcome) {
        counter(for: outcome).increment()
    }

    private func counter(for outcome: CallOutcome) -> Counter {
        if let counter = callCounters[outcome] { return counter }
        let counter = Counter(label: "otp_calls_total", dimensions: options.dimensions + [("outcome", outcome.rawValue)],
                              factory: factory)
        callCounters[outcome] = counter
        return counter
    }

    private func duration(for outcome: CallOutcome) -> Timer {
        if let timer = callDurations[outcome] { return timer }
        let timer = Timer(label: "otp_call_duration", dimensions: options.dimensions + [("outcome", outcome.rawValue)],
                          factory: factory)
        callDurations[outcome] = timer
        return timer
    }

    // MARK: Supervisors

    func restarted(supervisor: String) {
        if let counter = restarts[supervisor] { return counter.increment() }
        let counter = Counter(label: "otp_supervisor_restarts_total",
                              dimensions: options.dimensions + [("supervisor", supervisor)], factory: factory)
        restarts[supervisor] = counter
        counter.increment()
    }

    // MARK: Named processes

    /// The instruments of registered name `name` (created on first use, kept for the node's life).
    func named(_ name: String) -> ProcessInstruments {
        if let instruments = named[name] { return instruments }
        let instruments = ProcessInstruments(name: name, dimensions: options.dimensions, factory: factory)
        named[name] = instruments
        return instruments
    }

    // MARK: Sampling

    /// Publishes the sampled metrics from `statistics` and one pass over `table` and `registry`; with `busy`
    /// (the loop's busy nanoseconds, when measured, at `clock` ns), its utilization since the last sample.
    func sample(_ statistics: NodeStatistics, table: ProcessTable, registry: [String: PID], now: UInt64,
                busy: UInt64?, clock: UInt64) {
        nextSample = now &+ interval
        if let busy {
            if let last = sampledBusy, clock > last.time {
                utilization.record(min(1, Double(busy &- last.busy) / Double(clock - last.time)))
            }
            sampledBusy = (busy, clock)
        } else {
            sampledBusy = nil
        }
        var queued = 0
        var longest = 0
        table.forEachProcess { process in
            let count = process.mailboxCount
            queued &+= count
            if count > longest { longest = count }
        }
        processes.record(statistics.live)
        runQueue.record(statistics.runQueueLength)
        timers.record(statistics.pendingTimers)
        mailboxMessages.record(queued)
        mailboxDepthMax.record(longest)
        let last = published
        spawned.increment(by: Int64(statistics.spawned &- last.spawned))
        exited.increment(by: Int64(statistics.exited &- last.exited))
        messagesIn.increment(by: Int64(statistics.delivered &- last.delivered))
        let out = { (s: NodeStatistics) in s.delivered &+ s.refusedMailboxFull &+ s.droppedToDeadProcesses }
        messagesOut.increment(by: Int64(out(statistics) &- out(last)))
        refused.increment(by: Int64(statistics.refusedMailboxFull &- last.refusedMailboxFull))
        dropped.increment(by: Int64(statistics.droppedToDeadProcesses &- last.droppedToDeadProcesses))
        ignoredReplies.increment(by: Int64(statistics.ignoredReplies &- last.ignoredReplies))
        published = statistics

        guard options.perProcess == .named else { return }
        for (name, instruments) in named where registry[name] == nil {
            instruments.gone()
        }
        for (name, pid) in registry {
            guard table.object(for: pid) != nil else { continue }
            let instruments = self.named(name)
            table.withProcess(pid) { instruments.sample($0) }
        }
    }
}

/// The metrics of one registered name (`MetricsOptions.PerProcess.named`). Thread: loop thread only.
@usableFromInline
final class ProcessInstruments {
    private let messagesIn, messagesOut: Counter
    private let mailboxDepth: Gauge
    @usableFromInline let handlerDuration: Timer
    /// The process the counters were last read from, and what they said.
    private var pid: PID?
    private var received: UInt64 = 0
    private var sent: UInt64 = 0

    init(name: String, dimensions: [(String, String)], factory: any MetricsFactory) {
        let dimensions = dimensions + [("process", name)]
        messagesIn = Counter(label: "otp_process_messages_in_total", dimensions: dimensions, factory: factory)
        messagesOut = Counter(label: "otp_process_messages_out_total", dimensions: dimensions, factory: factory)
        mailboxDepth = Gauge(label: "otp_process_mailbox_depth", dimensions: dimensions, factory: factory)
        handlerDuration = Timer(label: "otp_process_handler_duration", dimensions: dimensions, factory: factory)
    }

    func sample(_ process: ProcessCore) {
        if pid != process.pid {
            // A new holder of the name (a restarted server): its counters start from zero.
            pid = process.pid
            received = 0
            sent = 0
        }
        messagesIn.increment(by: Int64(process.received &- received))
        messagesOut.increment(by: Int64(process.sent &- sent))
        received = process.received
        sent = process.sent
        mailboxDepth.record(process.mailboxCount)
    }

    /// The name is no longer registered: nothing is queued under it.
    func gone() {
        guard pid != nil else { return }
        pid = nil
        mailboxDepth.record(0)
    }
}
