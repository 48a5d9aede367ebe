#if canImport(Glibc)
import Glibc
#endif

/// Every core of the machine: a group of loops in one OS process, each a `Node` on its own thread, with
/// pids that say which loop a process lives on.
///
/// Each loop is exactly a single-loop node — its own scheduler, process table, timer wheel and mailboxes,
/// untouched on the same-loop path (no atomics, locks or extra branches there). A pid's `node` is its
/// loop's number, and the loops' numbers are consecutive, so finding the loop of a pid is one subtraction.
/// Sending to, linking, monitoring, signalling, calling and replying to a process of another loop works
/// with the code written for one loop: the operation becomes an item in the single-producer,
/// single-consumer channel from the sender's loop to the receiver's (`LoopChannel`), drained by the
/// receiver's loop, with one wake-up per destination per loop iteration. Registered names are one table
/// for the group. `docs/multicore.md` shows a partitioned service; `docs/architecture.md` explains the
/// channels, their memory ordering and what is shared.
///
/// Placement: a process runs on the loop that spawned it. Choose a loop with `loop(_:)`, `loop(forKey:)`
/// (every process for one key on one loop) or `leastLoaded()`, and spawn there: from process code of that
/// loop, with `execute(_:)`, or with the loop's async facade.
///
/// ## Driving the group
/// - `startLoops()`: every loop on a thread of its own; `stopLoops()`, then `join()` (each loop closes
///   when its thread ends).
/// - with `clock: .manual`, the deterministic driver: `runUntilIdle()` and `advance(by:)` step every loop
///   on the calling thread, choosing which loop runs next from `seed`, so a scenario across loops is
///   reproducible.
///
/// Thread: `Sendable`. `loops`, `loop(of:)`, the placement methods, `startLoops`, `stopLoops` and `join`
/// are thread-safe; the manual driver and `close()` run on the thread that made the group. Keep the group
/// while any of its loops runs: the loops reach each other through it (stop them all, then `join()`).
public final class NodeGroup: @unchecked Sendable {
    /// The loops, by index (`Node.loopIndex`).
    public let loops: [Node]
    let core: GroupCore
    /// The manual driver's choice of the next loop (xorshift, from `seed`).
    private var random: UInt64

    /// One loop per core of this machine (at least 1).
    public static var defaultLoopCount: Int { max(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 1) }

    /// Makes `count` loops with `configuration` (each loop has its own mailboxes, timers and limits as
    /// configured). With `clock: .manual` nothing runs until the manual driver steps the loops; `seed`
    /// chooses the order in which it does.
    ///
    /// `transitLimit` bounds what one loop may hold for another while the destination has not caught up:
    /// beyond the channel's 1,024 slots, that many items wait on the sending loop, and a send past them is
    /// refused with `mailboxFull` (at 120 bytes an item, 120 MiB per pair of loops at the default). A
    /// process that sends faster than another loop can take is refused there, as it would be by a full
    /// mailbox on its own loop.
    /// - Precondition: `count` and `transitLimit` are at least 1.
    public init(loops count: Int = NodeGroup.defaultLoopCount, configuration: NodeConfiguration = NodeConfiguration(),
                transitLimit: Int = 1 << 20, seed: UInt64 = 1) {
        precondition(count >= 1, "NodeGroup(loops:) needs at least one loop, got \(count)")
        precondition(transitLimit >= 1, "NodeGroup(transitLimit:) must be at least 1, got \(transitLimit)")
        let core = GroupCore(base: NodeNumbers.next(count), count: count, overflowLimit: transitLimit)
        loops = (0..<count).map { Node(configuration: configuration, group: core, loopIndex: $0) }
        core.setNodes(loops)
        self.core = core
        random = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed
    }

    deinit {
        for node in loops where node.phase != .closed && node.phase != .running && node.inLoopThread {
            _ = node.close()
        }
    }

    /// How many loops the group has.
    public var count: Int { loops.count }

    /// Loop `index`. - Precondition: `0 <= index < count`.
    public func loop(_ index: Int) -> Node {
        precondition(index >= 0 && index < loops.count, "NodeGroup.loop(\(index)): the group has \(loops.count) loops")
        return loops[index]
    }

    /// The loop `pid` lives on, or nil for a pid of no loop of this group.
    public func loop(of pid: PID) -> Node? { core.loop(of: pid).map { loops[$0] } }

    /// The loop for `key`, routed as Elixir's `PartitionSupervisor` routes: an integer key by its magnitude
    /// modulo the loop count (keys `0, 1, 2, …` take the loops in turn), a `String` by a fixed hash (the
    /// same loop in every run), any other key by its `hashValue` (the same loop for the OS process's life).
    /// `ChildSpec.onLoop(forKey:)` places by the same rule.
    public func loop(forKey key: some Hashable) -> Node {
        loops[core.loopIndex(forNumber: PlacementKey.number(of: key))]
    }

    /// The loop with the fewest processes alive and queued, as each loop last published it (once per loop
    /// iteration): a hint, since other threads place processes too.
    public func leastLoaded() -> Node {
        var best = 0
        for index in 1..<max(loops.count, 1)
        where core.loadCell(index).pointee.weight < core.loadCell(best).pointee.weight {
            best = index
        }
        return loops[best]
    }

    // MARK: Threads

    /// Starts every loop on a thread of its own (`Node.startLoop()`).
    public func startLoops() {
        for node in loops { node.startLoop() }
    }

    /// Makes every loop stop; each closes its node when its thread ends. Thread-safe.
    public func stopLoops() {
        for node in loops { node.stopLoop() }
    }

    /// Waits until every loop's thread has ended. Thread-safe; not on a loop thread.
    public func join() {
        for node in loops { node.join() }
    }

    // MARK: The deterministic driver (manual clock)

    /// Runs every loop's jobs, arrivals and process turns until none is left, one loop step at a time: the
    /// loop to step next is chosen from those with work by the group's seed. Manual clock only; on the
    /// thread that made the group, outside process code.
    public func runUntilIdle() {
        precondition(loops[0].uv == nil, "NodeGroup.runUntilIdle() is for the manual clock")
        var ready: [Int] = []
        while true {
            ready.removeAll(keepingCapacity: true)
            for (index, node) in loops.enumerated() where node.hasWorkForDriver { ready.append(index) }
            guard !ready.isEmpty else { return }
            loops[ready[Int(nextRandom() % UInt64(ready.count))]].step()
        }
    }

    /// Moves every loop's manual clock forward by `milliseconds` together, firing each due timer at its
    /// own time (all loops' timers of one tick before any of the next) and running until idle after each.
    public func advance(by milliseconds: UInt64) {
        runUntilIdle()
        let target = loops[0].timers.manualNow + milliseconds
        while true {
            let next = loops.compactMap { $0.timers.wheel.nextTick() }.min() ?? .max
            let time = min(next, target)
            for node in loops {
                node.fireTimers(upTo: time)
                node.timers.manualNow = time
            }
            runUntilIdle()
            if time >= target { break }
        }
        for node in loops where node.phase != .closed { node.publishLoad() }  // the loads at the new time
    }

    /// `advance(by:)` with a `Timeout` (finite, not negative).
    public func advance(by timeout: Timeout) {
        precondition(!timeout.isInfinite && (timeout.milliseconds ?? 0) >= 0, "NodeGroup.advance(by:) needs a finite, non-negative time")
        advance(by: UInt64(timeout.milliseconds!))
    }

    /// Closes every loop (manual clock, or loops never started): each process exits with `shutdown`, and
    /// links and monitors across loops fire as they would on one. On the thread that made the group.
    public func close() {
        for node in loops where node.phase != .closed {
            _ = node.close()
            if node.uv == nil { runUntilIdle() }  // signals the closed loop sent to the others
        }
    }

    private func nextRandom() -> UInt64 {
        random ^= random << 13
        random ^= random >> 7
        random ^= random << 17
        return random
    }
}

extension Node {
    /// Whether the manual group driver has anything to step on this loop.
    var hasWorkForDriver: Bool {
        phase != .closed && (!scheduler.runQueue.isEmpty || !inbox.isEmpty || transit.anyDirty || hasTransitPending)
    }

    /// One step of the manual group driver: jobs and arrivals, one bounded drain, then the flush.
    func step() {
        drainInbox()
        if !scheduler.runQueue.isEmpty { drainRunQueue(limit: configuration.messagesPerTurn) }
        flushTransit()
    }
}
