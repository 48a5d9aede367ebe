import Foundation
import Testing
@testable import OTP

/// A node on its own loop thread for facade tests; `finish()` stops it and waits.
func startedNode(reports: Reports = Reports()) -> Node {
    let node = Node(configuration: NodeConfiguration(report: reports.handler, logger: quietLogger))
    node.startLoop()
    return node
}

extension Node {
    func finish() {
        stopLoop()
        join()
    }

    /// Reads loop-thread state from a test thread.
    func inspect<R: Sendable>(_ body: @escaping @Sendable (Node) -> R) async throws -> R {
        try await perform(body)
    }
}

struct Holder: GenServer, Sendable {
    enum Call: Sendable { case get, hold, releaseAll(Int) }
    typealias Reply = Int
    var value = 0
    var held: [Caller<Int>] = []
    mutating func handleCall(_ request: Call, from caller: Caller<Int>, _ server: ServerContext<Holder>) throws
        -> ServerResult<Holder>
    {
        switch request {
        case .get: return .reply(value)
        case .hold:
            held.append(caller)
            return .noReply
        case .releaseAll(let answer):
            for caller in held { server.reply(to: caller, answer) }
            let count = held.count
            held = []
            return .reply(count)
        }
    }
}

@Suite("Async facade")
struct AsyncFacadeTests {
    @Test("call, cast, send, whereis, spawn, start and stop from async code on another thread")
    func basics() async throws {
        let node = startedNode()
        defer { node.finish() }
        let counter = try await node.start(Counter.self, 1, options: StartOptions(name: "async-counter"))
        #expect(try await node.call(counter, .add(2)) == 3)
        #expect(try await node.cast(counter, .add(4)) == .delivered)
        #expect(try await node.call(ServerRef<Counter>.named("async-counter"), .get) == 7)
        #expect(try await node.whereis("async-counter") == counter.pid)
        try await node.send(.add(1), to: counter)
        #expect(try await node.call(counter, .get) == 8)
        try await node.stop(counter)
        #expect(try await node.whereis("async-counter") == nil)
        await #expect(throws: CallError.noProcess(counter.pid!)) { try await node.call(counter, .get) }
        await #expect(throws: CallError.unknownName("nobody")) {
            try await node.call(ServerRef<Counter>.named("nobody"), .get)
        }
        await #expect(throws: StartError.initFailed(.error(TestFailure(text: "negative start")))) {
            try await node.start(Counter.self, -1)
        }
        #expect(try await node.inspect { $0.pendingExternalCalls } == 0)
    }

    @Test("a call times out with CallError.timeout and the late reply is dropped")
    func timeout() async throws {
        let node = startedNode()
        defer { node.finish() }
        let holder = try await node.start(Holder())
        await #expect(throws: CallError.timeout(holder.pid!)) {
            try await node.call(holder, .hold, timeout: .milliseconds(20))
        }
        #expect(try await node.call(holder, .releaseAll(5)) == 1)
        #expect(try await node.inspect { $0.statistics.ignoredReplies } == 1)
        #expect(try await node.inspect { $0.pendingExternalCalls } == 0)
        #expect(try await node.inspect { $0.statistics.monitors } == 0)
    }

    @Test("cancelling the awaiting task withdraws the call; a later reply is dropped")
    func cancellation() async throws {
        let node = startedNode()
        defer { node.finish() }
        let holder = try await node.start(Holder())
        let task = Task { try await node.call(holder, .hold, timeout: .infinity) }
        // Wait until the call is registered on the loop, then cancel.
        try await eventually("the call registered") { (try? await node.inspect { $0.pendingExternalCalls }) == 1 }
        task.cancel()
        await #expect(throws: CallError.cancelled) { try await task.value }
        try await eventually("the call withdrawn") { (try? await node.inspect { $0.pendingExternalCalls }) == 0 }
        #expect(try await node.call(holder, .releaseAll(9)) == 1)
        #expect(try await node.inspect { $0.statistics.ignoredReplies } == 1)
        #expect(try await node.inspect { $0.statistics.monitors } == 0)
    }

    @Test("a task cancelled before its call reaches the loop gets CallError.cancelled and leaves nothing behind")
    func cancelledBeforeRegistration() async throws {
        let node = startedNode()
        defer { node.finish() }
        let holder = try await node.start(Holder())
        for _ in 0..<100 {
            let task = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return try await node.call(holder, .hold, timeout: .infinity)
            }
            await #expect(throws: CallError.cancelled) { try await task.value }
        }
        #expect(try await node.call(holder, .releaseAll(0)) == 0)
        #expect(try await node.inspect { $0.pendingExternalCalls } == 0)
        #expect(try await node.inspect { $0.statistics.monitors } == 0)
    }

    @Test("a cancellation storm: every perform either ran and succeeded or did not run and was cancelled")
    func cancellationHasOneOutcome() async throws {
        let node = startedNode()
        defer { node.finish() }
        let ran = Log<Int>()
        let succeeded = Log<Int>(), cancelled = Log<Int>()
        for round in 0..<10 {
            // Each body holds the loop for 100 µs, so cancellations land before, during and after bodies.
            let tasks = (0..<200).map { i in
                Task {
                    let id = round * 200 + i
                    do {
                        try await node.perform { _ in
                            ran.append(id)
                            usleep(100)
                        }
                        succeeded.append(id)
                    } catch is CancellationError {
                        cancelled.append(id)
                    } catch {
                        Issue.record("unexpected \(error)")
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(5))
            for task in tasks { task.cancel() }
            for task in tasks { await task.value }
        }
        #expect(succeeded.count + cancelled.count == 2000)
        #expect(Set(ran.entries) == Set(succeeded.entries))
        #expect(ran.count == succeeded.count)
        #expect(cancelled.count > 0)
        #expect(succeeded.count > 0)
    }

    @Test("node shutdown fails every pending external call with nodeStopped")
    func shutdownFailsPendingCalls() async throws {
        let node = startedNode()
        let holder = try await node.start(Holder())
        let tasks = (0..<10).map { _ in Task { try await node.call(holder, .hold, timeout: .infinity) } }
        try await eventually("ten calls registered") { (try? await node.inspect { $0.pendingExternalCalls }) == 10 }
        node.finish()
        for task in tasks {
            await #expect(throws: CallError.nodeStopped) { try await task.value }
        }
        await #expect(throws: CallError.nodeStopped) { try await node.call(holder, .get) }
    }

    @Test("8 concurrent tasks x 100,000 mixed calls and casts: every call gets one outcome, counters match")
    func stress() async throws {
        let node = startedNode()
        defer { node.finish() }
        let servers = try await (0..<4).asyncMap { _ in try await node.start(Counter.self, 0) }
        let results = Log<Int>()
        try await withThrowingTaskGroup(of: (calls: Int, casts: Int).self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var calls = 0
                    var casts = 0
                    for i in 0..<100_000 {
                        let server = servers[(worker + i) % servers.count]
                        if i % 3 == 0 {
                            _ = try await node.call(server, .add(1))
                            calls += 1
                        } else {
                            #expect(try await node.cast(server, .add(1)) == .delivered)
                            casts += 1
                        }
                    }
                    return (calls, casts)
                }
            }
            for try await (calls, casts) in group { results.append(calls + casts) }
        }
        var total = 0
        for server in servers { total += try await node.call(server, .get) }
        #expect(results.entries.reduce(0, +) == 800_000)
        #expect(total == 800_000)
        #expect(try await node.inspect { $0.pendingExternalCalls } == 0)
        #expect(try await node.inspect { $0.statistics.monitors } == 0)
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
