import Logging
import MetricsTestKit
import Testing
@testable import OTP

/// swift-metrics instrumentation, recorded by swift-metrics' own test backend (`TestMetrics`) on the manual
/// clock, where every duration is exact.
@Suite("Metrics")
struct MetricsTests {
    let metrics = TestMetrics()
    let dimensions = [("node", "test")]

    func node(perProcess: MetricsOptions.PerProcess = .named) -> Node {
        Node.deterministic(logger: quietLogger,
                           metrics: MetricsOptions(factory: metrics, dimensions: dimensions, perProcess: perProcess))
    }

    func counter(_ label: String, _ extra: [(String, String)] = []) throws -> Int64 {
        try metrics.expectCounter(label, dimensions + extra).totalValue
    }

    func gauge(_ label: String, _ extra: [(String, String)] = []) throws -> Double? {
        try metrics.expectGauge(label, dimensions + extra).lastValue
    }

    @Test func callOutcomesAndDurationsAreRecordedPerOutcome() throws {
        let node = node()
        let counter = try node.start(Counter.self, 0, options: StartOptions(name: "counter"))
        let delayer = try node.start(Delayer.self, 100)
        for _ in 0..<3 { _ = try node.call(counter, .add(1)) }
        // No reply within 50 ms (the answer comes after 100 ms): a timeout of exactly 50 ms on this clock.
        #expect(throws: CallError.timeout(delayer.pid!)) { try node.call(delayer, .slow, timeout: .milliseconds(50)) }
        #expect(throws: CallError.unknownName("nobody")) { try node.call(ServerRef<Counter>.named("nobody"), .get) }
        // The server exits before replying.
        #expect(throws: CallError.serverExited(counter.pid!, reason: .custom("bye"))) {
            try node.call(counter, .stopWith(.custom("bye"), reply: false))
        }
        node.advance(by: 200)

        #expect(try self.counter("otp_calls_total", [("outcome", "reply")]) == 3)
        #expect(try self.counter("otp_calls_total", [("outcome", "timeout")]) == 1)
        #expect(try self.counter("otp_calls_total", [("outcome", "noproc")]) == 1)
        #expect(try self.counter("otp_calls_total", [("outcome", "exited")]) == 1)
        let timeouts = try metrics.expectTimer("otp_call_duration", dimensions + [("outcome", "timeout")])
        #expect(timeouts.values == [50_000_000])
        let replies = try metrics.expectTimer("otp_call_duration", dimensions + [("outcome", "reply")])
        #expect(replies.values == [0, 0, 0])
        // The unknown name failed before a request existed: counted, not timed.
        #expect(metrics.timers(label: "otp_call_duration", dimensions: dimensions + [("outcome", "noproc")]).isEmpty)
    }

    @Test func sampledNodeMetricsFollowTheStatistics() throws {
        let node = node()
        let sink = try spawnIdler(node, options: SpawnOptions(name: "sink"))
        let doomed = try spawnIdler(node)
        node.runUntilIdle()
        try node.send(Command.exit(.normal), to: doomed)
        node.runUntilIdle()
        try node.send(Command.value(1), to: doomed)  // dead: dropped
        let small = try node.spawn(of: Command.self, options: SpawnOptions(mailboxCapacity: 1)) { _ in
            .receive(matching: { _ in false }) { _, _ in .same }
        }
        node.runUntilIdle()
        try node.send(Command.value(1), to: small)
        #expect(throws: ProcessError.mailboxFull(small.pid, capacity: 1)) { try node.send(Command.value(2), to: small) }
        for i in 0..<3 { try node.send(Command.value(i), to: sink) }
        node.publishMetrics()  // before the sink runs: 3 queued there, 1 at `small`

        let statistics = node.statistics
        #expect(try gauge("otp_processes") == Double(statistics.live))
        #expect(try gauge("otp_processes") == 2)
        #expect(try counter("otp_processes_spawned_total") == 3)
        #expect(try counter("otp_processes_exited_total") == 1)
        #expect(try counter("otp_messages_in_total") == 5)
        #expect(try counter("otp_messages_out_total") == 7)
        #expect(try counter("otp_messages_refused_total") == 1)
        #expect(try counter("otp_messages_dropped_total") == 1)
        #expect(try gauge("otp_mailbox_messages") == 4)
        #expect(try gauge("otp_mailbox_depth_max") == 3)
        #expect(try gauge("otp_run_queue") == 2)  // the sink, and `small` woken to look at its message
        #expect(try gauge("otp_process_mailbox_depth", [("process", "sink")]) == 3)

        node.runUntilIdle()
        node.publishMetrics()
        #expect(try gauge("otp_process_mailbox_depth", [("process", "sink")]) == 0)
        #expect(try counter("otp_process_messages_in_total", [("process", "sink")]) == 3)
        #expect(try counter("otp_messages_in_total") == 5)  // counters advance by the difference only
        _ = sink
    }

    @Test func turnsAreTimedPerNodeAndPerNamedProcess() throws {
        let node = node()
        let counter = try node.start(Counter.self, 0, options: StartOptions(name: "counter"))
        for _ in 0..<4 { node.cast(counter, .add(1)) }
        node.runUntilIdle()
        // Its first turn ran `initialize`, one more took the four casts; nothing takes time on this clock.
        let named = try metrics.expectTimer("otp_process_handler_duration", dimensions + [("process", "counter")])
        #expect(named.values == [0, 0])
        node.publishMetrics()
        #expect(try self.counter("otp_process_messages_in_total", [("process", "counter")]) == 4)
        let all = try metrics.expectTimer("otp_handler_duration", dimensions)
        #expect(!all.values.isEmpty && all.values.allSatisfy { $0 == 0 })
        let waits = try metrics.expectTimer("otp_mailbox_wait", dimensions)
        #expect(waits.values.count == all.values.count)
    }

    @Test("A call served inside its caller's handler is the server's handler time, not the caller's (real clock)")
    func servedCallTimeBelongsToTheServer() throws {
        // Durations need a clock that moves during a turn: the real one. Bounds only, from a 20 ms handler.
        let node = Node(configuration: NodeConfiguration(logger: quietLogger,
                                                         metrics: MetricsOptions(factory: metrics, dimensions: dimensions)))
        defer { node.close() }
        let server = try node.start(Spinner.self, 20)
        let caller = try node.spawn(of: Never.self) { process in
            try process.call(server, .spin) { result, _ in
                _ = try result.get()
                return .receive { _, _ in .same }  // stays, to be seen in the snapshot
            }
        }
        node.run(until: .idle)
        #expect(node.statistics.callsServedInline == 1)
        let times = Dictionary(uniqueKeysWithValues: node.snapshot().processes.map { ($0.pid, $0.handlerTime) })
        let serverPID = try #require(server.pid)
        #expect(try #require(times[serverPID]) >= 20_000_000)
        // The caller's turn, less the server's nested one: microseconds, far below the 20 ms the server spun.
        #expect(try #require(times[caller.pid]) < 20_000_000)
        let all = try metrics.expectTimer("otp_handler_duration", dimensions)
        #expect(all.values.filter { $0 >= 20_000_000 }.count == 1)
    }

    @Test func mailboxWaitIsTheTimeFromArrivalToTurn() throws {
        let node = node()
        let sink = try spawnIdler(node)
        node.runUntilIdle()
        let timer = try metrics.expectTimer("otp_mailbox_wait", dimensions)
        let before = timer.values.count
        // The message arrives by a timer at 30 ms, the process runs in that drain: no wait.
        _ = try node.sendAfter(.milliseconds(30), Command.value(1), to: sink)
        node.advance(by: 30)
        #expect(timer.values.count == before + 1)
        #expect(timer.values.last == 0)
    }

    @Test func restartsAreCountedPerSupervisor() throws {
        let node = node()
        let sup = try node.start(Supervisor.self, SupervisorSpec(children: [worker("a", Stage())]),
                                 options: StartOptions(name: "top"))
        node.crash(try node.child(sup, "a"))
        node.advance(by: 6_000)  // past the default intensity (1 restart in 5 s)
        node.crash(try node.child(sup, "a"))
        #expect(try counter("otp_supervisor_restarts_total", [("supervisor", "top")]) == 2)
    }

    @Test func withoutPerProcessOnlyNodeMetricsExist() throws {
        let node = node(perProcess: .none)
        let counter = try node.start(Counter.self, 0, options: StartOptions(name: "counter"))
        _ = try node.call(counter, .get)
        node.publishMetrics()
        #expect(metrics.timers(label: "otp_process_handler_duration").isEmpty)
        #expect(metrics.counters(label: "otp_process_messages_in_total").isEmpty)
        #expect(try self.counter("otp_calls_total", [("outcome", "reply")]) == 1)
    }

    @Test func offByDefault() {
        let node = Node.deterministic(logger: quietLogger)
        #expect(node.instruments == nil)
        node.publishMetrics()  // nothing to publish, no effect
        #expect(metrics.counters.isEmpty && metrics.timers.isEmpty)
    }
}

/// Crash reports, server crash reports, traces and refusals through swift-log, with their metadata.
@Suite("Logging")
struct LoggingTests {
    @Test func crashReportCarriesPidNameAndReason() throws {
        let log = CapturedLog()
        let node = Node.deterministic(logger: log.logger)
        let pid = try node.spawn(of: Int.self, options: SpawnOptions(name: "fragile")) { _ in
            .receive { _, _ in throw TestFailure(text: "boom") }
        }
        try node.send(1, to: pid)
        node.runUntilIdle()
        let records = log.messages("crash report: process exited")
        #expect(records.count == 1)
        #expect(records.first?.level == .error)
        #expect(records.first?.metadata == ["pid": "\(pid.pid)", "name": "fragile", "reason": "error(TestFailure: boom)"])
    }

    @Test func serverCrashReportCarriesLastMessageAndState() throws {
        let log = CapturedLog()
        let reports = Reports()
        let node = Node.deterministic(report: reports.handler, logger: log.logger)
        let counter = try node.start(Counter.self, 7, options: StartOptions(name: "counter"))
        node.cast(counter, .crash)
        node.runUntilIdle()
        let record = try #require(log.messages("crash report: server terminating").first)
        #expect(record.level == .error)
        #expect(record.metadata["pid"] == "\(counter.pid!)")
        #expect(record.metadata["name"] == "counter")
        #expect(record.metadata["state"] == "count=7")
        #expect(record.metadata["last_message"] == "cast crash")
        #expect(record.metadata["reason"] == "error(TestFailure: crash in cast)")
        // The report hook still sees the same report.
        #expect(reports.log.count == 1)
    }

    @Test func tracesAreLoggedAtInfo() throws {
        let log = CapturedLog()
        let node = Node.deterministic(logger: log.logger)
        let counter = try node.start(Counter.self, 0, options: StartOptions(name: "traced"))
        try node.trace(counter, true)
        _ = try node.call(counter, .get)
        let traces = log.records.entries.filter { $0.message.hasPrefix("trace: ") }
        #expect(traces.map(\.message).count == 2)
        #expect(traces.allSatisfy { $0.level == .info && $0.metadata["name"] == "traced" })
        #expect(traces.last?.message.hasPrefix("trace: out: reply 0 to ") == true)
    }

    @Test func refusedTimerMessageIsAWarningNamingTheTarget() throws {
        let log = CapturedLog()
        let node = Node.deterministic(logger: log.logger)
        let small = try node.spawn(of: Int.self, options: SpawnOptions(mailboxCapacity: 1)) { _ in
            .receive(matching: { _ in false }) { _, _ in .same }
        }
        node.runUntilIdle()
        try node.send(1, to: small)
        _ = try node.sendAfter(.milliseconds(5), 2, to: small)
        node.advance(by: 5)
        let record = try #require(log.messages("message refused").first)
        #expect(record.level == .warning)
        #expect(record.metadata == ["target": "\(small.pid)", "error": "\(ProcessError.mailboxFull(small.pid, capacity: 1))"])
    }
}

/// Answers `spin` after holding the loop for `argument` milliseconds (a handler that takes real time).
struct Spinner: GenServer {
    enum Call: Sendable { case spin }
    typealias Cast = Never
    typealias Info = Never
    typealias Reply = Int
    let milliseconds: Int

    static func initialize(_ argument: Int, _ server: ServerContext<Spinner>) throws -> Initialization<Spinner> {
        .ok(Spinner(milliseconds: argument))
    }

    mutating func handleCall(_ request: Call, from caller: Caller<Int>, _ server: ServerContext<Spinner>) throws
        -> ServerResult<Spinner>
    {
        let until = ContinuousClock.now + .milliseconds(milliseconds)
        while ContinuousClock.now < until {}
        return .reply(milliseconds)
    }
}
