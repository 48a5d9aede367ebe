import Foundation
import MetricsTestKit
import Testing
@testable import OTP

/// What a group shows of itself: each loop's load, snapshots that say where each process runs, the view
/// `otp-top` reads, and the metrics of each loop.
@Suite("Node groups: loads, snapshots, view and metrics")
struct NodeGroupObservabilityTests {
    @Test("Each loop publishes its processes, run queue and message rate; rates fall while a loop is idle")
    func loadsOnTheManualClock() throws {
        let group = makeGroup(loops: 2)
        for _ in 0..<3 { try spawnIdler(group.loop(0)) }
        let sink = try spawnIdler(group.loop(1))
        for i in 0..<500 { try group.loop(1).send(Command.value(i), to: sink) }
        group.runUntilIdle()
        var loads = group.loads()
        #expect(loads.map(\.loop) == [0, 1])
        #expect(loads.map(\.processes) == [3, 1])
        #expect(loads.map(\.runQueueLength) == [0, 0])
        #expect(loads.map(\.delivered) == [0, 500])
        #expect(loads.map(\.messagesPerSecond) == [0, 0])  // no time has passed yet
        group.advance(by: 1_000)
        loads = group.loads()
        #expect(loads.map(\.messagesPerSecond) == [0, 500])  // 500 messages in the last second
        #expect(loads.allSatisfy { !$0.measured && $0.busyNanoseconds == 0 && $0.utilization == 0 })
        group.advance(by: 1_000)
        #expect(group.loads().map(\.messagesPerSecond) == [0, 0])  // an idle second: the rate falls to 0
        // Placement reads the same figures.
        #expect(group.leastLoaded() === group.loop(1))
        group.close()
    }

    @Test("Busy time is measured on request, on every loop; the manual clock does not pass during turns")
    func busyTimeOnRequest() throws {
        let group = makeGroup(loops: 2)
        #expect(!group.loop(0).measuresBusyTime)
        group.measureBusyTime()
        group.runUntilIdle()
        let measuring = group.loops.map(\.measuresBusyTime)
        #expect(measuring == [true, true])
        let sink = try spawnIdler(group.loop(1))
        for i in 0..<10 { try group.loop(1).send(Command.value(i), to: sink) }
        group.advance(by: 1_000)
        let loads = group.loads()
        #expect(loads.allSatisfy { $0.measured && $0.busyNanoseconds == 0 && $0.utilization == 0 })
        group.measureBusyTime(false)
        group.runUntilIdle()
        let stopped = group.loops.map(\.measuresBusyTime)
        #expect(stopped == [false, false])
        group.close()
    }

    @Test("A loop's busy time counts the time its turns ran")
    func busyTimeOnARealLoop() throws {
        let node = Node(configuration: NodeConfiguration(logger: quietLogger))
        node.measuresBusyTime = true
        let worker = try node.spawn(of: Int.self) { _ in
            .receive { envelope, _ in
                // Holds the loop for the given milliseconds of wall time.
                guard case .message(let millis) = envelope else { return .same }
                let end = ContinuousClock.now + .milliseconds(millis)
                while ContinuousClock.now < end {}
                return .same
            }
        }
        try node.send(30, to: worker)
        node.run(until: .idle)
        let load = node.load
        #expect(load.measured && load.busyNanoseconds >= 30_000_000)
        #expect(load.processes == 1 && load.delivered == 1)
        #expect(node.close() == 0)
    }

    @Test("A snapshot of a loop says where each process runs and shows every loop's load")
    func snapshotOfALoop() throws {
        let group = makeGroup(loops: 3)
        let a = try spawnIdler(group.loop(1))
        try spawnIdler(group.loop(2))
        try spawnIdler(group.loop(2))
        group.runUntilIdle()
        let snapshot = group.loop(1).snapshot()
        #expect(snapshot.processes.map(\.pid) == [a.pid])
        #expect(snapshot.processes.map(\.loop) == [1])
        #expect(snapshot.loops.map(\.loop) == [0, 1, 2])
        #expect(snapshot.loops.map(\.processes) == [0, 1, 2])
        #expect(try NodeSnapshot(decoding: snapshot.encoded()) == snapshot)  // loops and loop numbers travel
        group.close()
    }

    @Test("The snapshots of a group's loops merge into one: counters added, the limit applied to all")
    func mergedSnapshot() throws {
        let group = makeGroup(loops: 2)
        let named = try spawnIdler(group.loop(1), options: SpawnOptions(name: "named"))
        let busy = try spawnIdler(group.loop(0))
        for loop in 0..<2 { for _ in 0..<3 { try spawnIdler(group.loop(loop)) } }
        for i in 0..<4 { try group.loop(0).send(Command.value(i), to: busy) }
        let parts = [(loop: 1, snapshot: group.loop(1).snapshot(limit: 2)), (loop: 0, snapshot: group.loop(0).snapshot(limit: 2))]
        let merged = NodeSnapshot.merging(parts, limit: 2)
        #expect(merged.processes.map(\.pid) == [busy.pid, named.pid])  // loop 0's rows first; named, then busiest
        #expect(merged.omitted == 6)
        #expect(merged.statistics.live == 8 && merged.statistics.registeredNames == 1 && merged.statistics.delivered == 4)
        #expect(merged.loops.map(\.loop) == [0, 1] && merged.loops.map(\.processes) == [4, 4])
        group.close()
    }

    @Test("On real threads: the group's snapshot and the view otp-top reads show every loop")
    func viewOfARunningGroup() async throws {
        let group = NodeGroup(loops: 2, configuration: NodeConfiguration(logger: quietLogger))
        let first = try spawnIdler(group.loop(0), options: SpawnOptions(name: "first"))
        let second = try spawnIdler(group.loop(1), options: SpawnOptions(name: "second"))
        var template = Array("/tmp/otp-group-view-XXXXXX".utf8CString)
        let directory = String(cString: mkdtemp(&template)!)
        group.startLoops()
        defer {
            group.stopLoops()
            group.join()
            rmdir(directory)
        }
        let snapshot = await group.snapshot()
        #expect(Set(snapshot.processes.map(\.pid)) == [first.pid, second.pid])
        #expect(snapshot.processes.map(\.loop) == [0, 1])
        #expect(snapshot.loops.map(\.loop) == [0, 1] && snapshot.statistics.live == 2)

        let path = try await group.startView(at: directory + "/group.sock")
        let client = try ViewTests.Client(path)
        #expect(client.send("snapshot\nsnapshot 1\n"))  // two requests: answered in order
        let whole = try NodeSnapshot(decoding: try #require(client.answer(within: .seconds(10))))
        #expect(whole.processes.map(\.name) == ["first", "second"])
        #expect(whole.processes.map(\.loop) == [0, 1])
        #expect(whole.loops.map(\.loop) == [0, 1] && whole.loops.allSatisfy(\.measured))  // the view measures
        let limited = try NodeSnapshot(decoding: try #require(client.answer(within: .seconds(10))))
        #expect(limited.processes.count == 1 && limited.omitted == 1)
        try await group.loops[0].perform { $0.stopView() }
    }

    @Test("With metrics on, each loop publishes its own, with its loop as a dimension")
    func metricsPerLoop() throws {
        let metrics = TestMetrics()
        let options = MetricsOptions(factory: metrics, dimensions: [("node", "test")])
        let group = NodeGroup(loops: 2, configuration: NodeConfiguration(clock: .manual, logger: quietLogger, metrics: options))
        try spawnIdler(group.loop(1))
        group.runUntilIdle()
        let measuring = group.loops.map(\.measuresBusyTime)
        #expect(measuring == [true, true])  // metrics turn it on
        for node in group.loops { node.publishMetrics() }
        group.advance(by: 1_000)
        for node in group.loops { node.publishMetrics() }
        for loop in 0..<2 {
            let dimensions = [("node", "test"), ("loop", "\(loop)")]
            #expect(try metrics.expectGauge("otp_processes", dimensions).lastValue == Double(loop))
            #expect(try metrics.expectGauge("otp_loop_utilization", dimensions).lastValue == 0)  // manual clock
        }
        group.close()
    }
}
