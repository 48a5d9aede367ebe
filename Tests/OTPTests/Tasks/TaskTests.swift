import Foundation
import Testing
@testable import OTP

/// Opens once; every `wait` before and after returns then.
final class Gate: @unchecked Sendable {
    private let lock = NSLock()
    private var opened = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        await withCheckedContinuation { continuation in
            let now: Bool = lock.withLock {
                if opened { return true }
                waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    func open() {
        let waiting: [CheckedContinuation<Void, Never>] = lock.withLock {
            opened = true
            defer { waiters = [] }
            return waiters
        }
        for waiter in waiting { waiter.resume() }
    }
}

/// What the test's processes and tasks saw, in order, awaited by the test (no sleeps).
struct Events: Sendable {
    let stream: AsyncStream<String>
    let sink: AsyncStream<String>.Continuation

    init() { (stream, sink) = AsyncStream.makeStream(of: String.self) }

    func next(_ count: Int) async -> [String] {
        var seen: [String] = []
        for await event in stream {
            seen.append(event)
            if seen.count == count { break }
        }
        return seen
    }
}

/// A server whose calls start tasks: each task's outcome comes back as `Info.done`.
struct Fetcher: GenServer {
    enum Call: Sendable {
        case start(String, after: Gate? = nil, fail: Bool = false)
        case answer(String, fail: Bool)
        case sleepUntilCancelled(String)
        case limit(Int)
        case cancelLast
    }
    enum Info: Sendable { case done(String, String) }
    typealias Reply = String

    let events: AsyncStream<String>.Continuation
    var last: TaskRef?

    mutating func handleCall(_ request: Call, from caller: Caller<String>, _ server: ServerContext<Fetcher>) throws
        -> ServerResult<Fetcher>
    {
        let node = server.node, events = self.events
        do throws(ProcessError) {
            switch request {
            case .start(let label, let gate, let fail):
                last = try server.startTask({
                    if let gate { await gate.wait() }
                    events.yield("\(label) runs on the loop: \(node.inLoopThread)")
                    if fail { throw TestFailure(text: "\(label) failed") }
                    return label.uppercased()
                }, then: { result in
                    events.yield("\(label) mapped on the loop: \(node.inLoopThread)")
                    switch result {
                    case .success(let value): return .done(label, value)
                    case .failure(let error): return .done(label, "error: \(error)")
                    }
                })
                return .reply("started; running \(server.process.runningTasks)")
            case .answer(let label, let fail):
                try server.startTask(answering: caller, {
                    if fail { throw TestFailure(text: "no \(label)") }
                    return "answer \(label)"
                }, orElse: { error in "fallback after \(error)" })
                return .noReply
            case .sleepUntilCancelled(let label):
                last = try server.startTask({
                    do {
                        try await Task.sleep(for: .seconds(600))
                        return "woke"
                    } catch {
                        events.yield("\(label) cancelled: \(error is CancellationError)")
                        throw error
                    }
                }, then: { _ in .done(label, "must not arrive") })
                return .reply("sleeping")
            case .limit(let limit):
                server.process.limitTasks(to: limit)
                return .reply("limit \(limit)")
            case .cancelLast:
                let first = last.map { server.cancelTask($0) } ?? false
                let second = last.map { server.cancelTask($0) } ?? false
                return .reply("cancelled \(first) then \(second)")
            }
        } catch {
            return .reply("\(error)")
        }
    }

    mutating func handleInfo(_ message: InfoMessage<Info>, _ server: ServerContext<Fetcher>) throws
        -> ServerResult<Fetcher>
    {
        if case .message(.done(let label, let text)) = message {
            events.yield("\(label) -> \(text), handled on the loop: \(server.node.inLoopThread)")
        }
        return .noReply
    }
}

@Suite("Async work from handlers: startTask", .timeLimit(.minutes(1)))
struct TaskTests {
    @Test("The work and its mapping run off the loop; the outcome (value or error) arrives in handleInfo")
    func outcomeArrivesAsInfo() async throws {
        let node = startedNode()
        defer { node.finish() }
        let events = Events()
        let fetcher = try await node.start(Fetcher(events: events.sink))
        #expect(try await node.call(fetcher, .start("a")) == "started; running 1")
        #expect(await events.next(3) == [
            "a runs on the loop: false", "a mapped on the loop: false", "a -> A, handled on the loop: true",
        ])
        #expect(try await node.call(fetcher, .start("b", fail: true)) == "started; running 1")
        #expect(await events.next(3) == [
            "b runs on the loop: false", "b mapped on the loop: false",
            "b -> error: b failed, handled on the loop: true",
        ])
        #expect(try await node.inspect { $0.core(fetcher.pid!)?.extras?.tasks.count } == 0)
    }

    @Test("Outcomes arrive in the order the tasks end, whatever the order they started in")
    func orderOfEnding() async throws {
        let node = startedNode()
        defer { node.finish() }
        let events = Events()
        let fetcher = try await node.start(Fetcher(events: events.sink))
        let gate = Gate()
        #expect(try await node.call(fetcher, .start("first", after: gate)) == "started; running 1")
        #expect(try await node.call(fetcher, .start("second")) == "started; running 2")
        #expect(await events.next(3) == [
            "second runs on the loop: false", "second mapped on the loop: false",
            "second -> SECOND, handled on the loop: true",
        ])
        gate.open()
        #expect(await events.next(3) == [
            "first runs on the loop: false", "first mapped on the loop: false",
            "first -> FIRST, handled on the loop: true",
        ])
    }

    @Test("A task is cancelled when its server exits, and its outcome is dropped (counted)")
    func cancelledOnExit() async throws {
        let node = startedNode()
        defer { node.finish() }
        let events = Events()
        let fetcher = try await node.start(Fetcher(events: events.sink))
        #expect(try await node.call(fetcher, .sleepUntilCancelled("nap")) == "sleeping")
        try await node.stop(fetcher)
        #expect(await events.next(1) == ["nap cancelled: true"])
        // The hand-back of the cancelled task finds no process: dropped, never delivered.
        var dropped: UInt64 = 0
        while dropped == 0 { dropped = try await node.inspect { $0.statistics.droppedTaskResults } }
        #expect(dropped == 1)
    }

    @Test("cancelTask stops a task and its outcome never arrives; a second cancel finds nothing")
    func cancelTask() async throws {
        let node = startedNode()
        defer { node.finish() }
        let events = Events()
        let fetcher = try await node.start(Fetcher(events: events.sink))
        #expect(try await node.call(fetcher, .sleepUntilCancelled("nap")) == "sleeping")
        #expect(try await node.call(fetcher, .cancelLast) == "cancelled true then false")
        #expect(await events.next(1) == ["nap cancelled: true"])
        var dropped: UInt64 = 0
        while dropped == 0 { dropped = try await node.inspect { $0.statistics.droppedTaskResults } }
        #expect(try await node.call(fetcher, .start("after")) == "started; running 1")
        #expect(await events.next(3).last == "after -> AFTER, handled on the loop: true")
    }

    @Test("A server's tasks are bounded: past its limit startTask refuses, naming the process and limit")
    func bounded() async throws {
        let node = startedNode()
        defer { node.finish() }
        let events = Events()
        let fetcher = try await node.start(Fetcher(events: events.sink))
        let gate = Gate()
        #expect(try await node.call(fetcher, .limit(1)) == "limit 1")
        #expect(try await node.call(fetcher, .start("one", after: gate)) == "started; running 1")
        #expect(try await node.call(fetcher, .start("two")) == "\(ProcessError.tooManyTasks(fetcher.pid!, limit: 1))")
        gate.open()
        #expect(await events.next(3).last == "one -> ONE, handled on the loop: true")
        #expect(try await node.call(fetcher, .start("three")) == "started; running 1")
        #expect(await events.next(3).last == "three -> THREE, handled on the loop: true")
    }

    @Test("A caller left waiting is answered from the task's value, or from orElse when it throws")
    func answeringACaller() async throws {
        let node = startedNode()
        defer { node.finish() }
        let fetcher = try await node.start(Fetcher(events: Events().sink))
        #expect(try await node.call(fetcher, .answer("x", fail: false)) == "answer x")
        #expect(try await node.call(fetcher, .answer("y", fail: true)) == "fallback after no y")
    }

    @Test("A plain process gets its task's outcome as a message")
    func plainProcess() async throws {
        let node = startedNode()
        defer { node.finish() }
        let events = Events()
        let sink = events.sink
        try await node.perform { node in
            _ = try node.spawn(of: String.self) { process in
                try process.startTask({ 6 * 7 }, then: { result in "got \((try? result.get()) ?? -1)" })
                sink.yield("running \(process.runningTasks)")
                return .receive { envelope, _ in
                    if case .message(let text) = envelope { sink.yield(text) }
                    return .exit(.normal)
                }
            }
        }
        #expect(await events.next(2) == ["running 1", "got 42"])
    }
}

@Suite("TaskSupervisor: tasks owned by a supervisor", .timeLimit(.minutes(1)))
struct TaskSupervisorTests {
    @Test("Work started under a task supervisor reports to its starter, outlives it, and is bounded")
    func underSupervisor() async throws {
        let node = startedNode()
        defer { node.finish() }
        let events = Events()
        let sink = events.sink
        let tree = try await node.start(Supervisor.self, SupervisorSpec(children: [
            .taskSupervisor("tasks", name: "tasks", maximumTasks: 1)]))
        let gate = Gate()
        let tasks = ServerRef<TaskSupervisor>.named("tasks")
        try await node.perform { node in
            // The starter exits at once; its task goes on under the supervisor.
            _ = try node.spawn(of: String.self) { process in
                try process.startTask(under: tasks, {
                    await gate.wait()
                    sink.yield("work done")
                    return 1
                }, then: { _ in "unseen" })
                do throws(ProcessError) {
                    try process.startTask(under: tasks, { 2 }, then: { _ in "no room" })
                } catch {
                    sink.yield("\(error)")
                }
                return .exit(.normal)
            }
        }
        let supervisorPID = try await node.whereis("tasks")!
        #expect(await events.next(1) == ["\(ProcessError.tooManyTasks(supervisorPID, limit: 1))"])
        gate.open()
        #expect(await events.next(1) == ["work done"])
        // A live starter gets the outcome as a message.
        try await node.perform { node in
            _ = try node.spawn(of: String.self) { process in
                try process.startTask(under: tasks, { 40 + 2 }, then: { "got \((try? $0.get()) ?? 0)" })
                return .receive { envelope, _ in
                    if case .message(let text) = envelope { sink.yield(text) }
                    return .exit(.normal)
                }
            }
        }
        #expect(await events.next(1) == ["got 42"])
        try await node.stop(tree)
    }

    @Test("Stopping the task supervisor cancels its tasks")
    func cancelledWithSupervisor() async throws {
        let node = startedNode()
        defer { node.finish() }
        let events = Events()
        let sink = events.sink
        let tasks = try await node.start(TaskSupervisor.self, 8)
        try await node.perform { node in
            _ = try node.spawn(of: String.self) { process in
                try process.startTask(under: tasks, {
                    do { try await Task.sleep(for: .seconds(600)) } catch { sink.yield("cancelled: \(error is CancellationError)") }
                    return 0
                }, then: { _ in "unseen" })
                sink.yield("started")
                return .receive { _, _ in .same }
            }
        }
        #expect(await events.next(1) == ["started"])
        try await node.stop(tasks)
        #expect(await events.next(1) == ["cancelled: true"])
    }
}
