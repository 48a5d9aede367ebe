import Foundation
import Testing
@testable import OTP

/// Random faults against a supervised system on the manual clock, many seeds: handlers that throw, kills
/// and exit signals at random times, call timeouts racing delayed replies, mailboxes filled to capacity,
/// supervisors under crash storms (some give up), and the node closed in the middle of traffic. After
/// every step no link, monitor, request or name may name a dead process; at the end every call ended
/// exactly once (or its caller died waiting), every message was delivered and handled, refused with a
/// report, or dropped at a dead pid and counted; and the closed node holds nothing.
@Suite("Fault injection")
struct FaultInjectionTests {
    /// `OTP_FAULT_SEEDS` sets how many seeds run (`make soak` runs far more).
    static let seeds: [UInt64] = Array(1...UInt64(ProcessInfo.processInfo.environment["OTP_FAULT_SEEDS"].flatMap(Int.init) ?? 60))

    @Test("invariants hold under random faults", arguments: seeds)
    func invariantsHold(seed: UInt64) {
        run(seed: seed, loops: 1)
    }

    /// The same faults over a group of three loops: workers, sinks and clients spread over the loops, so
    /// calls, casts, sends, monitors, links, exit signals and supervision cross loops. Also checked: each
    /// sender's messages handled in send order, and no watch a loop keeps for another outliving its ends.
    @Test("invariants hold under random faults, across three loops", arguments: seeds.prefix(24))
    func invariantsHoldAcrossLoops(seed: UInt64) {
        run(seed: seed, loops: 3)
    }

    func run(seed: UInt64, loops: Int) {
        // Even seeds: a storm-proof supervisor; odd seeds: one that gives up (its children go with it).
        let intensity = seed % 2 == 0 ? RestartIntensity(maxRestarts: 1_000, period: .seconds(1))
                                      : RestartIntensity(maxRestarts: 5, period: .seconds(1))
        let world = FaultWorld(seed: seed, intensity: intensity, loops: loops)
        for step in 0..<400 {
            world.step()
            let dangling = world.danglingReferences()
            #expect(dangling.isEmpty, "seed \(seed), step \(step): \(dangling)")
            if !dangling.isEmpty { return }
        }
        // Half the runs let every call finish before closing; the other half close in the middle of traffic.
        let drained = seed % 4 < 2
        if drained { world.settle(1_000) }
        #expect(world.danglingReferences() == [])
        let ledger = world.ledger
        let crossRefusals = Int(world.statistics.refusedMailboxFull) - ledger.refusalsAtOnce
        if drained {
            let alive = Set(world.processes())
            #expect(ledger.violations(alive: alive.contains, crossRefusals: crossRefusals) == [], "seed \(seed)")
        }
        let pending = world.statistics
        #expect(world.close() == 0)
        // Closed: nothing is alive, so every call has ended or was abandoned by a caller that died.
        if !drained {
            #expect(ledger.violations(alive: { _ in false }, crossRefusals: crossRefusals) == [], "seed \(seed)")
        }
        let after = world.statistics
        #expect(after.live == 0 && after.pendingTimers == 0 && after.monitors == 0 && after.registeredNames == 0
                && after.runQueueLength == 0, "seed \(seed): \(after)")
        #expect(world.nodes.allSatisfy { $0.siblingWatchCount == 0 && $0.siblingRequestCount == 0 }, "seed \(seed)")
        #expect(ledger.calls.count > 20 && ledger.sends.count > 50 && ledger.deaths.count > 5, "seed \(seed) exercised too little")
        if loops > 1 {
            let across = ledger.sends.values.filter { if case .shipped = $0 { return true } else { return false } }.count
            #expect(across > 20, "seed \(seed): only \(across) messages crossed loops")
            return
        }
        if !drained { FaultTotals.shared.closedWith(pending) }
        FaultTotals.shared.add(ledger, steps: 400)
    }
}

extension FaultInjectionTests {
    @Test("on a real libuv loop: faults for 300 ticks of 1 ms, then every handle closes (uv_loop_close is 0)")
    func realLoopClosesClean() throws {
        let world = FaultWorld(seed: 99, intensity: RestartIntensity(maxRestarts: 1_000, period: .seconds(1)), realLoop: true)
        let node = world.node
        // The chaos comes from a process of its own, once a millisecond, on the loop thread.
        let ticks = Log<Int>()
        try node.spawn(of: Int.self) { process in
            _ = try process.sendAfter(.milliseconds(1), 0)
            return .receive { envelope, process in
                guard case .message(let tick) = envelope, tick < 300 else { return .exit(.normal) }
                _ = world.inject()
                #expect(world.danglingReferences() == [], "tick \(tick)")
                ticks.append(tick)
                _ = try process.sendAfter(.milliseconds(1), tick + 1)
                return .same
            }
        }
        node.run(until: .idle)  // returns when the chaos has ended and only idle processes are left
        #expect(ticks.count == 300)
        #expect(world.ledger.calls.count > 20 && world.ledger.deaths.count > 5)
        let alive = Set(node.processes())
        #expect(world.ledger.violations(alive: alive.contains) == [])
        #expect(node.close() == 0)
        #expect(node.statistics.live == 0 && node.statistics.pendingTimers == 0 && node.statistics.monitors == 0)
    }
}

/// What the fault runs exercised, printed for docs/reliability.md.
final class FaultTotals: @unchecked Sendable {
    static let shared = FaultTotals()
    private let lock = NSLock()
    private var runs = 0, steps = 0, calls = 0, sends = 0, refused = 0, dropped = 0, deaths = 0, crashes = 0,
                castsRefused = 0
    private var outcomes: [String: Int] = [:]
    private var closings = 0, closedLive = 0, closedTimers = 0, closedMonitors = 0

    func closedWith(_ statistics: NodeStatistics) {
        lock.withLock {
            closings += 1
            closedLive += statistics.live
            closedTimers += statistics.pendingTimers
            closedMonitors += statistics.monitors
        }
    }

    func add(_ ledger: FaultLedger, steps: Int) {
        let line: String = lock.withLock {
            runs += 1
            self.steps += steps
            calls += ledger.calls.count
            sends += ledger.sends.count
            refused += ledger.sends.values.filter { $0 == .refused }.count
            dropped += ledger.sends.values.filter { $0 == .dropped }.count
            deaths += ledger.deaths.count
            crashes += ledger.crashes
            castsRefused += ledger.castsRefused
            for call in ledger.calls.values { outcomes[call.outcomes.first ?? "abandoned (caller died)", default: 0] += 1 }
            return "fault injection: \(runs) runs, \(self.steps) steps, \(calls) calls "
                + "(\(outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))), "
                + "\(sends) messages (\(refused) refused and reported, \(dropped) dropped at dead pids), "
                + "\(castsRefused) casts refused, \(crashes) handler crashes, \(deaths) process deaths; "
                + "closed mid-traffic \(closings) times with \(closedLive) live processes, \(closedTimers) timers and "
                + "\(closedMonitors) monitors/requests pending"
        }
        if runs == FaultInjectionTests.seeds.count { print(line) }
    }
}
