import Foundation
import Testing
@testable import OTP

/// An actor bound to a node's loop: its methods run on the loop thread and use the loop-thread API.
actor Ledger {
    let node: Node
    var entries: [String] = []

    init(node: Node) { self.node = node }

    nonisolated var unownedExecutor: UnownedSerialExecutor { node.executor.asUnownedSerialExecutor() }

    func record(_ entry: String) { entries.append(entry) }

    /// Spawns a process straight from actor code: no thread hop, no facade.
    func spawnRecorder() throws -> Address<String> {
        precondition(node.inLoopThread)
        return try node.spawn(of: String.self) { _ in
            .receive { envelope, _ in
                // Process code enters the actor's isolation synchronously: it runs on the same thread.
                self.assumeIsolated { $0.entries.append("process got \(envelope.message!)") }
                return .same
            }
        }
    }

    func count() -> Int { entries.count }
}

@Suite("Loop executor")
struct LoopExecutorTests {
    @Test("mode 4: an actor on the node's executor runs on the loop; process code uses assumeIsolated")
    func actorOnLoop() async throws {
        let node = startedNode()
        defer { node.finish() }
        let ledger = Ledger(node: node)
        let recorder = try await ledger.spawnRecorder()
        await ledger.record("from a task")
        try await node.send("hello", to: recorder)
        try await eventually("both entries") { await ledger.count() >= 2 }
        #expect(await ledger.entries == ["from a task", "process got hello"])
    }

    @Test("a task that prefers the node's executor runs on the loop thread")
    func taskExecutorPreference() async throws {
        let node = startedNode()
        defer { node.finish() }
        let onLoop = await Task(executorPreference: node.executor) { node.inLoopThread }.value
        #expect(onLoop)
        let offLoop = await Task.detached { node.inLoopThread }.value
        #expect(!offLoop)
    }
}
