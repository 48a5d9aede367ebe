import Benchmark
import OTP

/// The async facade against its physical floor, in the same run: the bare mechanism is the node's inbox,
/// one `uv_async_send` and a continuation resumed on the loop (`execute` + `withCheckedContinuation`).
func facadeBenchmarks() {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal, .throughput], warmupIterations: 1, scalingFactor: .kilo,
        maxDuration: .seconds(3), maxIterations: 5)

    Benchmark("facade: bare inbox + continuation round trip, 1 in flight (1k)", configuration: configuration) {
        benchmark in
        let node = Node()
        node.start()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { await bare(node) }
        benchmark.stopMeasurement()
        node.stop()
        node.join()
    }

    Benchmark("facade: async call round trip, 1 in flight (1k)", configuration: configuration) { benchmark in
        let node = Node()
        node.start()
        let server = try await node.start(CountServer())
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { _ = try await node.call(server, .get) }
        benchmark.stopMeasurement()
        node.stop()
        node.join()
    }

    Benchmark("facade: bare round trips, 64 in flight (64k)", configuration: configuration) { benchmark in
        let node = Node()
        node.start()
        let perTask = benchmark.scaledIterations.count
        benchmark.startMeasurement()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<64 {
                group.addTask { for _ in 0..<perTask { await bare(node) } }
            }
        }
        benchmark.stopMeasurement()
        node.stop()
        node.join()
    }

    Benchmark("facade: async calls, 64 in flight (64k)", configuration: configuration) { benchmark in
        let node = Node()
        node.start()
        let server = try await node.start(CountServer())
        let perTask = benchmark.scaledIterations.count
        benchmark.startMeasurement()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<64 {
                group.addTask { for _ in 0..<perTask { _ = try await node.call(server, .get) } }
            }
            try await group.waitForAll()
        }
        benchmark.stopMeasurement()
        node.stop()
        node.join()
    }
}

/// One round trip through the bare mechanism.
private func bare(_ node: Node) async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        node.execute { _ in continuation.resume() }
    }
}
