import CLibUV

/// A loop's load (`LoopLoad`): what it measures, and what a loop of a group publishes for the others.
extension Node {
    /// Whether this loop measures the time it spends running process turns (`LoopLoad.busyNanoseconds`,
    /// `utilization`), as Erlang's `erlang:system_flag(scheduler_wall_time, true)` does. Off by default: it
    /// costs two clock reads per run-queue drain. Metrics (`NodeConfiguration.metrics`) and the view socket
    /// (`startView`) turn it on; `NodeGroup.measureBusyTime(_:)` sets it on every loop of a group.
    ///
    /// Thread: loop thread only.
    public var measuresBusyTime: Bool {
        get {
            preconditionInLoop()
            return meter.measuring
        }
        set {
            preconditionInLoop()
            meter.measuring = newValue
        }
    }

    /// This loop's load now. Thread: loop thread only. Cost: O(1).
    public var load: LoopLoad {
        preconditionInLoop()
        let now = currentTime
        meter.roll(now: now, delivered: counters.delivered)
        let (messages, utilization) = meter.mark.rates(now: now, delivered: counters.delivered, busy: meter.busyNanoseconds)
        return LoopLoad(loop: loopIndex, processes: table.count, runQueueLength: scheduler.runQueue.count,
                        delivered: counters.delivered, messagesPerSecond: messages, measured: meter.measuring,
                        busyNanoseconds: meter.measuring ? meter.busyNanoseconds : 0,
                        utilization: meter.measuring ? utilization : 0)
    }

    /// The load of every loop of this node's group (this loop's now, the others' as they last published
    /// it), or this loop's alone. Thread: loop thread only.
    var loads: [LoopLoad] {
        guard let group else { return [load] }
        let now = currentTime
        return (0..<group.count).map { $0 == loopIndex ? load : group.loadCell($0).pointee.load(of: $0, now: now) }
    }

    /// A loop of a group publishes its load for the others (placement, `NodeGroup.loads()`): once per loop
    /// iteration, and after each step of the manual driver. Relaxed stores, no clock read.
    func publishLoad() {
        guard groupRef != nil else { return }
        meter.roll(now: currentTime, delivered: counters.delivered)
        let (processes, queued, delivered, meter) = (table.count, scheduler.runQueue.count, counters.delivered, meter)
        withGroup { $0.loadCell(loopIndex).pointee.publish(processes: processes, runQueue: queued, delivered: delivered, meter: meter) }
    }
}
