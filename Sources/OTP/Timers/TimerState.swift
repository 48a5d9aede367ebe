/// The timers' state, stored inline in the node: the wheel, the timers of the tick being fired, and the
/// manual clock.
///
/// Thread: loop thread only.
struct TimerState {
    var wheel: TimerWheel
    /// The timers of one tick, collected before any of them runs (reused between ticks).
    var expired: [TimerWheel.Expired] = []
    /// The manual clock's time in milliseconds (`NodeConfiguration.Clock.manual`).
    var manualNow: UInt64 = 0
    /// Processes (raw pids) that began a timed wait during the current drain: their timers go into the
    /// wheel when the drain ends, if they are still waiting (`Node.deferReceiveTimeout`).
    @usableFromInline var deferredWaits: [UInt64] = []
    /// Owned monitors (raw refs) whose deadline was set during the current drain: filed like the waits.
    var deferredDeadlines: [UInt64] = []

    init(now: UInt64) {
        wheel = TimerWheel(now: now)
    }
}
