import Testing

@testable import OTP

/// A call to a server of another loop keeps its monitor, once the reply has come, for its caller's next call
/// to the same server (`MonitorTable.Entry.parked`): what is observable must be what a monitor opened and
/// removed per call gives.
@Suite("Calls to another loop keep their monitor for the next call")
struct ParkedCallTests {
    enum Cue: Sendable { case again, other, stop }

    /// A process of loop 0 that calls `first` at once, then on each `.again` calls `first` again, on
    /// `.other` calls `second`, and on `.stop` exits; it logs each outcome, and any other envelope it gets.
    func spawnCaller(_ group: NodeGroup, _ first: ServerRef<Counter>, _ second: ServerRef<Counter>,
                     log: Log<String>) throws -> Address<Cue> {
        func call(_ server: ServerRef<Counter>, _ process: ProcessContext<Cue>) throws -> Step<Cue> {
            try process.call(server, .add(1)) { result, process in
                switch result {
                case .success(let count): log.append("\(count)")
                case .failure(let error): log.append("\(error)")
                }
                return waitForStep(process)
            }
        }
        func waitForStep(_ process: ProcessContext<Cue>) -> Step<Cue> {
            .receive { envelope, process in
                switch envelope {
                case .message(.again): return try call(first, process)
                case .message(.other): return try call(second, process)
                case .message(.stop): return .exit(.normal)
                default:
                    log.append("stray \(envelope)")
                    return .same
                }
            }
        }
        return try group.loop(0).spawn(of: Cue.self) { process in try call(first, process) }
    }

    @Test("Between two calls no monitor shows; the second call takes the kept one up under a new reference")
    func keptBetweenCalls() throws {
        let group = makeGroup()
        let counter = try group.loop(1).start(Counter.self, 0)
        let log = Log<String>()
        let caller = try spawnCaller(group, counter, counter, log: log)
        group.runUntilIdle()
        let loop = group.loop(0)
        #expect(log.entries == ["1"])
        #expect(loop.statistics.monitors == 0 && loop.siblingRequestCount == 0)
        #expect(try #require(loop.processInfo(caller.pid)).monitors == [])
        let kept = loop.table.parkedCall(of: caller.pid)
        #expect(kept != MonitorTable.none && loop.monitors.parkedCount == 1 && loop.monitors.count == 1)
        let serial = loop.monitors.entries[Int(kept)].serial
        try group.loop(1).send(Cue.again, to: caller)
        group.runUntilIdle()
        #expect(log.entries == ["1", "2"])
        #expect(loop.table.parkedCall(of: caller.pid) == kept)  // the same entry, no other made
        #expect(loop.monitors.entries[Int(kept)].serial == serial &+ 1)  // the second call's reference retired
        #expect(loop.monitors.count == 1 && loop.statistics.monitors == 0 && loop.siblingRequestCount == 0)
    }

    @Test("The server's exit drops the kept monitor without a DOWN; the next call gets noproc")
    func serverExitDropsIt() throws {
        let group = makeGroup()
        let counter = try group.loop(1).start(Counter.self, 0)
        let pid = try #require(counter.pid)
        let log = Log<String>()
        let caller = try spawnCaller(group, counter, counter, log: log)
        group.runUntilIdle()
        group.loop(1).exit(pid, reason: .kill)
        group.runUntilIdle()
        let loop = group.loop(0)
        #expect(log.entries == ["1"])  // no stray DOWN
        #expect(loop.monitors.count == 0 && loop.monitors.parkedCount == 0)
        #expect(loop.table.parkedCall(of: caller.pid) == MonitorTable.none)
        try group.loop(0).send(Cue.again, to: caller)
        group.runUntilIdle()
        #expect(log.entries == ["1", "\(CallError.noProcess(pid))"])
        #expect(loop.monitors.count == 0 && loop.statistics.monitors == 0)
    }

    @Test("A call to another server drops the monitor kept for the first, and keeps its own")
    func anotherServerDropsIt() throws {
        let group = makeGroup()
        let first = try group.loop(1).start(Counter.self, 0)
        let second = try group.loop(1).start(Counter.self, 10)
        let log = Log<String>()
        let caller = try spawnCaller(group, first, second, log: log)
        group.runUntilIdle()
        try group.loop(0).send(Cue.other, to: caller)
        group.runUntilIdle()
        let loop = group.loop(0)
        #expect(log.entries == ["1", "11"])
        let kept = loop.table.parkedCall(of: caller.pid)
        #expect(kept != MonitorTable.none && loop.monitors.entries[Int(kept)].target == second.pid)
        #expect(loop.monitors.count == 1 && loop.monitors.parkedCount == 1 && loop.siblingRequestCount == 0)
        // The first server's exit finds nothing of this caller's to end.
        group.loop(1).exit(try #require(first.pid), reason: .kill)
        group.runUntilIdle()
        #expect(log.entries == ["1", "11"] && loop.monitors.parkedCount == 1)
    }

    @Test("A caller that exits drops the monitor it kept")
    func callerExitDropsIt() throws {
        let group = makeGroup()
        let counter = try group.loop(1).start(Counter.self, 0)
        let log = Log<String>()
        let caller = try spawnCaller(group, counter, counter, log: log)
        group.runUntilIdle()
        #expect(group.loop(0).monitors.parkedCount == 1)
        try group.loop(0).send(Cue.stop, to: caller)
        group.runUntilIdle()
        #expect(group.loop(0).processInfo(caller.pid) == nil)
        #expect(group.loop(0).monitors.count == 0 && group.loop(0).monitors.parkedCount == 0)
        // The freed process slot keeps nothing for the next process it holds.
        let next = try spawnIdler(group.loop(0))
        #expect(next.pid.index == caller.pid.index && group.loop(0).table.parkedCall(of: next.pid) == MonitorTable.none)
    }
}
