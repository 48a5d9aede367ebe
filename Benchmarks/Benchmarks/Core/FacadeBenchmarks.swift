import Benchmark
import OTP
import Workloads

/// The async facade against its physical floor, in the same run: the bare mechanism is the node's inbox,
/// one `uv_async_send` and a continuation resumed on the loop (`execute` + `withCheckedContinuation`).
func facadeBenchmarks() {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal, .throughput], warmupIterations: smoke ? 0 : 1, scalingFactor: .kilo,
        maxDuration: .seconds(3), maxIterations: smoke ? 1 : 5)

    Benchmark("facade: casts posted from another thread, then one call (1k)", configuration: configuration) {
        benchmark in
        try await measure(benchmark, tasks: 1) { node, server in
            for _ in 0..<1_000 { node.execute { node in node.cast(server, .add(1)) } }
            _ = try await node.call(server, .get)
        }
    }

    // One call at a time is dominated by thread wake-ups, which vary a lot on a VM: more samples.
    let sequential = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal, .throughput], warmupIterations: smoke ? 0 : 2, scalingFactor: .kilo,
        maxDuration: .seconds(10), maxIterations: smoke ? 1 : 25)

    Benchmark("facade: bare inbox + continuation round trip, 1 in flight (1k)", configuration: sequential) {
        benchmark in
        try await measure(benchmark, tasks: 1) { node, _ in await bare(node) }
    }

    Benchmark("facade: async call round trip, 1 in flight (1k)", configuration: sequential) { benchmark in
        try await measure(benchmark, tasks: 1) { node, server in _ = try await node.call(server, .get) }
    }

    Benchmark("facade: bare round trips, 64 in flight (64k)", configuration: configuration) { benchmark in
        try await measure(benchmark, tasks: 64) { node, _ in await bare(node) }
    }

    Benchmark("facade: bare round trips with a cancellation handler, 64 in flight (64k)", configuration: configuration) {
        benchmark in
        try await measure(benchmark, tasks: 64) { node, _ in
            await withTaskCancellationHandler { await bare(node) } onCancel: {}
        }
    }

    Benchmark("facade: async calls, 64 in flight (64k)", configuration: configuration) { benchmark in
        try await measure(benchmark, tasks: 64) { node, server in _ = try await node.call(server, .get) }
    }
}

/// Runs `operation` `scaledIterations` times in each of `tasks` concurrent tasks against a node on its own
/// thread with a `CountServer`, measuring only the operations.
private func measure(
    _ benchmark: Benchmark, tasks: Int,
    _ operation: @escaping @Sendable (Node, ServerRef<CountServer>) async throws -> Void
) async throws {
    let node = Node()
    node.startLoop()
    let server = try await node.start(CountServer())
    let perTask = benchmark.scaledIterations.count
    benchmark.startMeasurement()
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<tasks {
            group.addTask { for _ in 0..<perTask { try await operation(node, server) } }
        }
        try await group.waitForAll()
    }
    benchmark.stopMeasurement()
    node.stopLoop()
    node.join()
}

/// One round trip through the bare mechanism.
private func bare(_ node: Node) async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        node.execute { _ in continuation.resume() }
    }
}
