import Benchmark
import Foundation
import OTP
import Workloads

/// `OTP_BENCH_SMOKE=1` (set by `make test`): one iteration of each benchmark, so the suite cannot rot.
let smoke = ProcessInfo.processInfo.environment["OTP_BENCH_SMOKE"] != nil

/// Core runtime benchmarks, on the real libuv loop and clock as users run a node (`run(until: .idle)` on the
/// benchmark's thread). Where the guides' closure form and the struct form of a workload differ, both are
/// here. Each reports wall clock per operation and malloc counts; steady-state sends must show 0 mallocs.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        warmupIterations: smoke ? 0 : 1,
        scalingFactor: .mega,
        maxDuration: .seconds(smoke ? 1 : 2),
        maxIterations: smoke ? 1 : 20
    )

    facadeBenchmarks()

    Benchmark("send + dispatch (1M messages to one process)") { benchmark in
        let node = loopNode(mailboxCapacity: 2_000_000)
        let sink = try node.spawn(Sink())
        // Warm the mailbox to its steady-state size.
        for i in benchmark.scaledIterations { try node.send(i, to: sink) }
        node.run(until: .idle)
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations { try node.send(i, to: sink) }
        node.run(until: .idle)
        benchmark.stopMeasurement()
        node.close()
    }

    Benchmark("ping-pong round trips, struct behaviours (1M)") { benchmark in
        try pingPong(benchmark, timeout: .infinity)
    }

    Benchmark("ping-pong round trips, closure processes returning .same (1M)") { benchmark in
        try pingPong(benchmark, closures: true)
    }

    Benchmark("ping-pong round trips, each wait with a 5 s receive timeout (1M)") { benchmark in
        try pingPong(benchmark, timeout: .seconds(5))
    }

    // The cost of swift-metrics instrumentation when it is on, into the default (no-op) backend: the
    // timing and recording calls themselves (docs/observability.md). Off is the ping-pong and call above.
    Benchmark("ping-pong round trips, metrics on (1M)") { benchmark in
        try pingPong(benchmark, timeout: .infinity, metrics: MetricsOptions(perProcess: .named))
    }

    Benchmark("GenServer call round trip from a process, metrics on (1M)") { benchmark in
        try callRoundTrip(benchmark, metrics: MetricsOptions(perProcess: .named))
    }

    Benchmark("ring of 10,000 processes (1M hops)") { benchmark in
        let node = loopNode()
        let members = try (0..<10_000).map { _ in try node.spawn(RingMember()) }
        for (i, member) in members.enumerated() {
            try node.send(.next(members[(i + 1) % members.count]), to: member)
        }
        node.run(until: .idle)
        benchmark.startMeasurement()
        try node.send(.token(benchmark.scaledIterations.count), to: members[0])
        node.run(until: .idle)
        benchmark.stopMeasurement()
        node.close()
    }

    Benchmark("GenServer call round trip from a struct behaviour, 5 s timeout (1M)") { benchmark in
        try callRoundTrip(benchmark)
    }

    Benchmark("GenServer call round trip from a closure process with process.call, 5 s timeout (1M)") { benchmark in
        try callRoundTrip(benchmark, closures: true)
    }

    Benchmark("GenServer call round trip, a request with its own reply type, process.ask (1M)") { benchmark in
        let node = loopNode()
        let server = try node.start(TypedCountServer())
        try spawnTypedCaller(node, server, calls: 1_000)  // warm-up
        node.run(until: .idle)
        benchmark.startMeasurement()
        try spawnTypedCaller(node, server, calls: benchmark.scaledIterations.count)
        node.run(until: .idle)
        benchmark.stopMeasurement()
        node.close()
    }

    // A reply wait starts at its request's receive mark: the target is at most 2x between 0 and 100k queued.
    for (label, queued) in [("0", 0), ("10k", 10_000), ("100k", 100_000)] {
        Benchmark("GenServer call round trip from a process with \(label) unrelated messages queued (10k calls)",
                  configuration: .init(scalingFactor: .kilo, maxIterations: smoke ? 1 : 10)) { benchmark in
            let node = loopNode()
            let server = try node.start(CountServer())
            try spawnCaller(node, server, calls: 1_000)  // warm-up
            node.run(until: .idle)
            try spawnCaller(node, server, calls: 10 * benchmark.scaledIterations.count, queued: queued)
            benchmark.startMeasurement()
            node.run(until: .idle)
            benchmark.stopMeasurement()
            node.close()
        }
    }

    Benchmark("GenServer cast from a process (1M casts in one turn, then one call to sync)") { benchmark in
        let node = loopNode(mailboxCapacity: 2_000_000)
        let server = try node.start(CountServer())
        try spawnCaster(node, server, count: 1_000)
        node.run(until: .idle)
        benchmark.startMeasurement()
        try spawnCaster(node, server, count: benchmark.scaledIterations.count)
        node.run(until: .idle)
        benchmark.stopMeasurement()
        node.close()
    }

    Benchmark("GenServer start from a process, one after another (100k)",
              configuration: .init(scalingFactor: .kilo, maxIterations: smoke ? 1 : 10)) { benchmark in
        let node = loopNode()
        let count = 100 * benchmark.scaledIterations.count
        benchmark.startMeasurement()
        try node.spawn(of: Never.self) { process in try startServers(process, remaining: count) }
        node.run(until: .idle)
        benchmark.stopMeasurement()
        node.close()
    }

    Benchmark("fan-in: 1,000 closure processes x 1,000 process.call on one server (1M calls)") { benchmark in
        try fanIn(benchmark, closures: true)
    }

    Benchmark("fan-in: 1,000 struct behaviours x 1,000 calls on one server (1M calls)") { benchmark in
        try fanIn(benchmark, closures: false)
    }

    Benchmark("100k callers, 1 ms timeout, server never replies",
              configuration: .init(scalingFactor: .kilo, maxIterations: smoke ? 1 : 5)) { benchmark in
        let node = Node()
        let server = try node.start(CountServer())
        let outcomes = Outcomes()
        let count = 100 * benchmark.scaledIterations.count
        benchmark.startMeasurement()
        for _ in 0..<count { try node.spawn(TimeoutCaller(server: server, outcomes: outcomes)) }
        node.run(until: .idle)
        benchmark.stopMeasurement()
        // Proof: every caller timed out, none received a stray reply, no request is left.
        precondition(outcomes.timedOut == count && outcomes.stray == 0 && node.statistics.monitors == 0)
        node.close()
    }

    Benchmark("timers fired (1M)") { benchmark in
        let node = loopNode(mailboxCapacity: 2_000_000)
        let sink = try node.spawn(Sink())
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations { try node.sendAfter(.milliseconds(1), i, to: sink) }
        node.run(until: .idle)
        benchmark.stopMeasurement()
        node.close()
    }

    Benchmark("spawn + exit (1M)") { benchmark in
        let node = loopNode()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { try node.spawn(Ephemeral()) }
        node.run(until: .idle)
        benchmark.stopMeasurement()
        node.close()
    }

    Benchmark("spawn 1M processes waiting in receive") { benchmark in
        let node = loopNode()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { try node.spawn(Waiter()) }
        node.run(until: .idle)
        benchmark.stopMeasurement()
        node.close()
    }

    Benchmark("sendAfter + cancelTimer (1M)") { benchmark in
        let node = loopNode()
        let sink = try node.spawn(Sink())
        var refs: [TimerRef] = []
        refs.reserveCapacity(benchmark.scaledIterations.count)
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations { refs.append(try node.sendAfter(.seconds(60), i, to: sink)) }
        for ref in refs { node.cancelTimer(ref) }
        benchmark.stopMeasurement()
        node.close()
    }
}

/// A node on the real libuv loop and clock.
func loopNode(mailboxCapacity: Int = 100_000, metrics: MetricsOptions? = nil) -> Node {
    Node(configuration: NodeConfiguration(defaultMailboxCapacity: mailboxCapacity, metrics: metrics))
}

/// Two players (`spawnRally`) return a ball `2 × scaledIterations` times: one round trip per iteration.
func pingPong(_ benchmark: Benchmark, closures: Bool = false, timeout: Timeout = .infinity,
              metrics: MetricsOptions? = nil) throws {
    let node = loopNode(metrics: metrics)
    let serve = try spawnRally(node, closures: closures, timeout: timeout)
    node.run(until: .idle)
    benchmark.startMeasurement()
    try serve(benchmark.scaledIterations.count)
    node.run(until: .idle)
    benchmark.stopMeasurement()
    node.close()
}

/// Calls from one process to a named server, one after another (each with the default 5 s timeout): a
/// `CallLoop` struct, or with `closures` a closure process using `process.call` (`spawnCallers`).
func callRoundTrip(_ benchmark: Benchmark, closures: Bool = false, metrics: MetricsOptions? = nil) throws {
    let node = loopNode(metrics: metrics)
    let server = try node.start(CountServer(), options: StartOptions(name: "count"))
    try spawnCallers(node, server, calls: 1_000, closures: closures)  // warm-up
    node.run(until: .idle)
    benchmark.startMeasurement()
    try spawnCallers(node, server, calls: benchmark.scaledIterations.count, closures: closures)
    node.run(until: .idle)
    benchmark.stopMeasurement()
    node.close()
}

/// 1,000 callers (`spawnCallers`) share `scaledIterations` calls on one server.
func fanIn(_ benchmark: Benchmark, closures: Bool) throws {
    let node = loopNode()
    let server = try node.start(CountServer())
    benchmark.startMeasurement()
    try spawnCallers(node, server, count: 1_000, calls: benchmark.scaledIterations.count / 1_000, closures: closures)
    node.run(until: .idle)
    benchmark.stopMeasurement()
    node.close()
}
