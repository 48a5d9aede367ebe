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
    /// Set while a busy-waiting group loop relays other loops' items (`Node.relayTransit`): the drains of
    /// the relay leave the deferred waits and deadlines unfiled, and the relay files them when it ends,
    /// before its next libuv iteration. No timer runs during a relay (only libuv's timer phase runs them),
    /// so none fires later than it would have; but a call to another loop is usually answered within the
    /// relay that sent it, and then its timer is never filed nor cancelled (measured on `fan_in_group`:
    /// 4-6% of the callers' waits filed instead of all of them).
    var holdDeferred = false

    init(now: UInt64) {
        wheel = TimerWheel(now: now)
    }
}
