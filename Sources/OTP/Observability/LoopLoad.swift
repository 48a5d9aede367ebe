import Synchronization

/// The load of one loop: what `NodeGroup.loads()`, `NodeSnapshot.loops`, `otp-top` and the metrics show for
/// each loop of a group (a node of its own is one loop, index 0).
///
/// Rates are averages since the loop's load mark, which it moves once a second of its clock has passed
/// (so a rate covers the last one to two seconds while the loop works, and decays towards 0 while it
/// sleeps: a loop that waits for work does nothing, and its figures say so without waking it).
public struct LoopLoad: Sendable, Equatable {
    /// The loop's index in its group (`Node.loopIndex`; 0 for a node of its own).
    public var loop: Int
    /// Processes alive on the loop.
    public var processes: Int
    /// Processes waiting in its run queue.
    public var runQueueLength: Int
    /// Messages delivered into its mailboxes since it started.
    public var delivered: UInt64
    /// Messages delivered into its mailboxes per second, recently.
    public var messagesPerSecond: Double
    /// Whether its busy time is measured (`Node.measuresBusyTime`); when not, `busyNanoseconds` and
    /// `utilization` are 0.
    public var measured: Bool
    /// Time spent running process turns while measured, in nanoseconds.
    public var busyNanoseconds: UInt64
    /// The share of its recent time spent running process turns, 0 to 1: Erlang's scheduler utilization
    /// (`scheduler_wall_time`). 0 on the manual clock, whose time does not pass during a turn.
    public var utilization: Double

    public init(loop: Int, processes: Int, runQueueLength: Int, delivered: UInt64, messagesPerSecond: Double,
                measured: Bool, busyNanoseconds: UInt64, utilization: Double) {
        self.loop = loop
        self.processes = processes
        self.runQueueLength = runQueueLength
        self.delivered = delivered
        self.messagesPerSecond = messagesPerSecond
        self.measured = measured
        self.busyNanoseconds = busyNanoseconds
        self.utilization = utilization
    }
}

/// A loop's busy time and the marks its rates are measured from. Stored inline in the node.
///
/// Thread: the loop thread. Cost: with busy time measured, two clock reads per run-queue drain (not per
/// message); the marks move at most once per loop iteration, from the loop's cached clock.
struct LoadMeter {
    /// Whether drains are timed (`Node.measuresBusyTime`).
    var measuring = false
    /// Nanoseconds spent in drains while measuring.
    var busyNanoseconds: UInt64 = 0
    /// The mark rates are averaged from (published), and the newer one that replaces it once a second has
    /// passed since it was made: a rate then always spans one to two seconds of a working loop.
    var mark = LoadMark()
    var nextMark = LoadMark()
    /// How long a mark stays the newer one before it becomes the one rates are taken from (ms).
    static let window: UInt64 = 1_000

    /// Moves the marks when a window has passed at `now` (the loop's clock, ms).
    mutating func roll(now: UInt64, delivered: UInt64) {
        guard now &- nextMark.time >= Self.window, now >= nextMark.time else { return }
        mark = nextMark
        nextMark = LoadMark(time: now, delivered: delivered, busy: busyNanoseconds)
    }
}

/// The counts of a loop at one moment of its clock.
struct LoadMark: Equatable {
    var time: UInt64 = 0
    var delivered: UInt64 = 0
    var busy: UInt64 = 0

    /// The load from this mark to `now`, for counts `delivered` and `busy` (ms clock; rates are 0 when no
    /// time has passed).
    func rates(now: UInt64, delivered: UInt64, busy: UInt64) -> (messagesPerSecond: Double, utilization: Double) {
        let elapsed = now > time ? now - time : 0
        guard elapsed > 0 else { return (0, 0) }
        let messages = Double(delivered &- self.delivered) * 1_000 / Double(elapsed)
        return (messages, min(1, Double(busy &- self.busy) / (Double(elapsed) * 1_000_000)))
    }
}

/// One loop's load as it last published it, for other threads (`NodeGroup.loads()`, placement).
///
/// Thread: written by its loop once per iteration (relaxed stores), read by any thread (relaxed loads): the
/// fields may come from two neighbouring iterations, which a load figure tolerates.
struct LoadCell: ~Copyable {
    let processes = Atomic<Int>(0)
    let runQueue = Atomic<Int>(0)
    let delivered = Atomic<UInt64>(0)
    let busy = Atomic<UInt64>(0)
    let measured = Atomic<Bool>(false)
    let markTime = Atomic<UInt64>(0)
    let markDelivered = Atomic<UInt64>(0)
    let markBusy = Atomic<UInt64>(0)

    /// Processes alive and queued: what `NodeGroup.leastLoaded()` compares.
    var weight: Int { processes.load(ordering: .relaxed) &+ runQueue.load(ordering: .relaxed) }

    func publish(processes: Int, runQueue: Int, delivered: UInt64, meter: LoadMeter) {
        self.processes.store(processes, ordering: .relaxed)
        self.runQueue.store(runQueue, ordering: .relaxed)
        self.delivered.store(delivered, ordering: .relaxed)
        busy.store(meter.busyNanoseconds, ordering: .relaxed)
        measured.store(meter.measuring, ordering: .relaxed)
        markTime.store(meter.mark.time, ordering: .relaxed)
        markDelivered.store(meter.mark.delivered, ordering: .relaxed)
        markBusy.store(meter.mark.busy, ordering: .relaxed)
    }

    /// The load of loop `index` at `now` (ms, the loops' clock).
    func load(of index: Int, now: UInt64) -> LoopLoad {
        let delivered = delivered.load(ordering: .relaxed), busy = busy.load(ordering: .relaxed)
        let mark = LoadMark(time: markTime.load(ordering: .relaxed), delivered: markDelivered.load(ordering: .relaxed),
                            busy: markBusy.load(ordering: .relaxed))
        let (messages, utilization) = mark.rates(now: now, delivered: delivered, busy: busy)
        let measured = measured.load(ordering: .relaxed)
        return LoopLoad(loop: index, processes: processes.load(ordering: .relaxed),
                        runQueueLength: runQueue.load(ordering: .relaxed), delivered: delivered,
                        messagesPerSecond: messages, measured: measured, busyNanoseconds: measured ? busy : 0,
                        utilization: measured ? utilization : 0)
    }
}
