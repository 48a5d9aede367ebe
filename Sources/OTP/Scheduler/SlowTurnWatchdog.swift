#if canImport(Glibc)
import Glibc
#endif
import CLibUV

/// Finds process turns that hold a node's loop longer than `NodeConfiguration.slowTurnThreshold`.
///
/// One handler that blocks delays every timer, call and message of its node. The scheduler writes what it
/// runs into the node's `otp_turn_watch` (a turn count and the pid, two relaxed stores per turn: no clock
/// read on the message path). This watchdog — one thread for the OS process, started with the first node
/// that runs — looks at every registered node a few times per threshold; a turn still running after the
/// threshold is flagged, and the node reports it when its drain ends: once per process, as a warning with
/// the pid, the registered name, the behaviour type and how long the turn had held the loop when found. A
/// handler that never returns is never reported this way (its node no longer drains): the live view shows
/// it as not answering, and a fatal signal names it (`FatalSignals`).
///
/// Thread: `register`/`unregister` from any thread (a mutex); the watchdog thread reads the watches with
/// relaxed loads.
final class SlowTurnWatchdog: @unchecked Sendable {
    static let shared = SlowTurnWatchdog()

    private struct Entry {
        let watch: UnsafeMutablePointer<otp_turn_watch>
        let thresholdMillis: UInt64
        var lastTurn: UInt64 = 0
        var heldMillis: UInt64 = 0
    }

    private var mutex = pthread_mutex_t()
    private var entries: [UInt32: Entry] = [:]
    private var thread: pthread_t?

    private init() { pthread_mutex_init(&mutex, nil) }

    /// Watches node `number`'s turns from now on.
    func register(_ number: UInt32, watch: UnsafeMutablePointer<otp_turn_watch>, threshold: Duration) {
        let millis = max(threshold.wholeMilliseconds, 1)
        pthread_mutex_lock(&mutex)
        entries[number] = Entry(watch: watch, thresholdMillis: millis)
        if thread == nil { startThread() }
        pthread_mutex_unlock(&mutex)
    }

    /// Stops watching node `number`; its watch may be freed when this returns.
    func unregister(_ number: UInt32) {
        pthread_mutex_lock(&mutex)
        entries[number] = nil
        pthread_mutex_unlock(&mutex)
    }

    private func startThread() {
        var created = pthread_t()
        let status = pthread_create(&created, nil, { _ in
            otp_set_thread_name("otp-watchdog")
            SlowTurnWatchdog.shared.watch()
            return nil
        }, nil)
        if status == 0 {
            pthread_detach(created)
            thread = created
        }
    }

    /// Every few milliseconds: a turn that is still the same one as at the last look has been running
    /// for the time between; once that passes the node's threshold, it is flagged for the node to report.
    private func watch() {
        var last = Self.millisecondsNow()
        while true {
            pthread_mutex_lock(&mutex)
            let interval = entries.values.map { min(max($0.thresholdMillis / 4, 5), 250) }.min() ?? 250
            pthread_mutex_unlock(&mutex)
            var pause = timespec(tv_sec: Int(interval / 1000), tv_nsec: Int(interval % 1000) * 1_000_000)
            nanosleep(&pause, nil)
            let now = Self.millisecondsNow()
            let elapsed = now &- last
            last = now
            pthread_mutex_lock(&mutex)
            for (number, var entry) in entries {
                let turns = otp_watch_turns(entry.watch), pid = otp_watch_pid(entry.watch)
                if pid == UInt64.max || turns != entry.lastTurn {
                    entry.lastTurn = turns
                    entry.heldMillis = 0
                } else {
                    entry.heldMillis &+= elapsed
                    if entry.heldMillis >= entry.thresholdMillis, otp_watch_flagged(entry.watch) != turns {
                        otp_watch_flag(entry.watch, turns, pid, entry.heldMillis)
                    }
                }
                entries[number] = entry
            }
            pthread_mutex_unlock(&mutex)
        }
    }

    private static func millisecondsNow() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1000 + UInt64(time.tv_nsec) / 1_000_000
    }
}
