import CLibUV
import Foundation
import Testing
@testable import OTP

@Suite("The libuv loop")
struct LoopTests {
    @Test("A process that exits with sendAfter timers pending leaves no libuv timer armed: run(until: .idle) returns")
    func exitCancelsTheLibuvTimer() throws {
        let node = Node(configuration: NodeConfiguration(report: Reports().handler))
        let process = try node.spawn(of: Int.self) { process in
            try process.sendAfter(.seconds(20), 1, to: process.address)
            return .receive { _, _ in .exit(.normal) }
        }
        _ = node.runOnce(blocking: false)
        #expect(node.statistics.pendingTimers == 1 && node.uv!.timerKeepsLoopAlive)
        try node.send(0, to: process)
        _ = node.runOnce(blocking: false)
        #expect(!node.isAlive(process.pid))
        // Its timer went with it, and so did the libuv timer: nothing keeps the loop alive.
        #expect(node.statistics.pendingTimers == 0)
        #expect(!node.uv!.timerKeepsLoopAlive)
        node.run(until: .idle)
        #expect(node.close() == 0)
    }

    @Test("run until idle runs every process, then closing leaves no libuv handle (uv_loop_close == 0)")
    func runUntilIdleAndClose() throws {
        let node = Node(configuration: NodeConfiguration(report: Reports().handler))
        let log = Log<Int>()
        let target = try node.spawn(of: Int.self) { _ in
            .receive { envelope, _ in
                log.append(envelope.message!)
                return envelope.message == 3 ? .exit(.normal) : .same
            }
        }
        for i in 1...3 { try node.send(i, to: target) }
        node.run(until: .idle)
        #expect(log.entries == [1, 2, 3])
        #expect(node.statistics.live == 0)
        #expect(node.close() == 0)
        #expect(node.close() == 0)
    }

    @Test("busy waiting: run until idle still ends, timers still fire, stopLoop() ends a run on a dedicated thread")
    func busyWait() async throws {
        let node = Node(configuration: NodeConfiguration(report: Reports().handler, busyWait: .microseconds(200)))
        let log = Log<String>()
        let server = try Self.busyWaitSetUp(node, log)
        #expect(log.entries == ["timeout"])
        // On a dedicated thread: calls are answered, and stopLoop() ends the busy loop.
        node.startLoop()
        #expect(try await node.call(server, .get) == 3)
        node.stopLoop()
        node.join()
    }

    @Test("a node that was idle for a while arms timers from the real now, not libuv's stale cached time")
    func staleClockAfterIdle() async throws {
        let node = Node(configuration: NodeConfiguration(report: Reports().handler))
        let (server, left) = try Self.idleSetUp(node)
        #expect(left > 150)
        node.startLoop()
        // Posted before the loop's first iteration: its 200 ms timeout must count from now, not from 300 ms ago.
        #expect(try await node.call(server, .get, timeout: .milliseconds(200)) == 7)
        try await node.shutdown()
        node.stopLoop()
        node.join()
    }

    /// On the creating thread: a receive timeout run to the end with run(until: .idle), then a server.
    static func busyWaitSetUp(_ node: Node, _ log: Log<String>) throws -> ServerRef<Counter> {
        _ = try node.spawn(of: Int.self) { _ in
            .receive(timeout: .milliseconds(20), after: { _ in
                log.append("timeout")
                return .exit(.normal)
            }) { _, _ in .same }
        }
        node.run(until: .idle)
        return try node.start(Counter.self, 3)
    }

    /// On the creating thread, before startLoop(): a server, then 300 ms of idleness, then a 200 ms timer
    /// (returns the time it has left).
    static func idleSetUp(_ node: Node) throws -> (ServerRef<Counter>, UInt64) {
        let server = try node.start(Counter.self, 7)
        let target = try spawnCollector(node, into: Log<Envelope<Int>>())
        usleep(300_000)  // the loop's cached time is now 300 ms old
        let ref = try node.sendAfter(.milliseconds(200), 1, to: target)
        return (server, node.readTimer(ref) ?? 0)
    }

    @Test("timers fire on the real loop: a receive timeout and a sendAfter")
    func realTimers() throws {
        let node = Node(configuration: NodeConfiguration(report: Reports().handler))
        let log = Log<String>()
        let start = node.now
        let target = try node.spawn(of: String.self) { _ in
            .receive(timeout: .milliseconds(5), after: { process in
                log.append("timeout")
                try process.sendAfter(.milliseconds(10), "timer")
                return .receive { envelope, process in
                    log.append(envelope.message!)
                    log.append(process.currentNode.now - start >= 15 ? "late enough" : "too early")
                    return .exit(.normal)
                }
            }) { _, _ in .same }
        }
        node.run(until: .idle)
        #expect(log.entries == ["timeout", "timer", "late enough"])
        #expect(!node.isAlive(target.pid))
        #expect(node.statistics.pendingTimers == 0)
        #expect(node.close() == 0)
    }

    @Test("closing with live processes, pending timers and queued jobs still closes the loop cleanly")
    func closeWithWork() throws {
        let node = Node(configuration: NodeConfiguration(report: Reports().handler))
        let downs = Log<Envelope<Never>>()
        let watcher = try spawnCollector(node, into: downs)
        for _ in 0..<100 {
            let p = try spawnIdler(node)
            try node.sendAfter(.seconds(3600), .value(1), to: p)
            node.link(watcher.pid, p.pid)
        }
        let inbox = try spawnCollector(node, into: Log<Envelope<Int>>())
        node.runOnce(blocking: false)
        let cancelled = Log<ProcessError>()
        node.post(1, to: inbox, onRefused: { cancelled.append($0) })
        #expect(node.statistics.live == 102)
        #expect(node.close() == 0)
        #expect(node.statistics.live == 0)
        #expect(node.statistics.pendingTimers == 0)
        #expect(cancelled.entries == [.nodeStopped])
        #expect(!node.execute { _ in })
    }

    @Test("runOnce without blocking steps the loop one iteration")
    func runOnce() throws {
        let node = Node(configuration: NodeConfiguration(report: Reports().handler))
        let log = Log<Int>()
        try node.spawn(of: Int.self) { _ in
            log.append(1)
            return .exit(.normal)
        }
        #expect(log.entries == [])
        node.runOnce(blocking: false)
        #expect(log.entries == [1])
        #expect(node.close() == 0)
    }

    @Test("stopLoop() from another thread ends run(until: .stopped)")
    func stopFromAnotherThread() throws {
        let node = Node(configuration: NodeConfiguration(report: Reports().handler))
        try spawnIdler(node)  // a waiting process: the loop would run forever
        let thread = Thread { node.stopLoop() }
        thread.start()
        node.run(until: .stopped)
        #expect(node.statistics.live == 1)
        #expect(node.close() == 0)
    }

    @Test("run(for:) runs the real loop for that long with processes waiting, and the node stays usable")
    func runFor() throws {
        let node = Node(configuration: NodeConfiguration(report: Reports().handler))
        try spawnIdler(node)  // a waiting process: run(until: .stopped) would run forever
        let log = Log<String>()
        try node.spawn(of: String.self) { process in
            _ = try process.sendAfter(Duration.milliseconds(5), "tick")
            return .receive { envelope, _ in
                log.append(envelope.message ?? "?")
                return .exit(.normal)
            }
        }
        let start = node.now
        node.run(for: .milliseconds(30))
        #expect(node.now - start >= 30)
        #expect(log.entries == ["tick"])
        #expect(node.statistics.live == 1)
        node.run(for: .zero)  // again: returns after one pass
        #expect(node.close() == 0)
    }

    @Test("stopLoop(on:) stops the loop when the process gets the signal; closing removes the signal watch")
    func stopOnSignal() throws {
        let node = Node(configuration: NodeConfiguration(report: Reports().handler))
        try spawnIdler(node)
        try node.stopLoop(on: [SIGUSR2])
        try node.spawn(of: Never.self) { _ in
            kill(getpid(), SIGUSR2)  // process-directed: a thread of the pool may block it
            return .exit(.normal)
        }
        node.run(until: .stopped)  // would never return without the signal
        #expect(node.statistics.live == 1)
        #expect(node.close() == 0)
        #expect(throws: ProcessError.nodeStopped) { try node.stopLoop(on: [SIGUSR2]) }
    }

    @Test("a dedicated loop thread takes posts and jobs from other threads, then stops and closes")
    func dedicatedThread() throws {
        let node = Node(configuration: NodeConfiguration(report: Reports().handler))
        let done = DispatchSemaphore(value: 0)
        let total = Log<Int>()
        let counter = try node.spawn(of: Int.self) { _ in
            var sum = 0
            return .receive { envelope, _ in
                sum += envelope.message!
                if envelope.message == 0 {
                    total.append(sum)
                    done.signal()
                }
                return .same
            }
        }
        node.startLoop()
        let threads = (0..<4).map { _ in
            Thread {
                for _ in 0..<1_000 { node.post(1, to: counter) }
            }
        }
        threads.forEach { $0.start() }
        // Wait for the four posting threads through the loop itself: each job runs after all earlier posts.
        let checked = DispatchSemaphore(value: 0)
        let inLoop = Log<Bool>()
        while true {
            let ran = node.execute { node in
                inLoop.append(node.inLoopThread)
                checked.signal()
            }
            #expect(ran)
            checked.wait()
            if threads.allSatisfy(\.isFinished) { break }
        }
        #expect(inLoop.entries.allSatisfy { $0 })
        node.post(0, to: counter)
        done.wait()
        node.stopLoop()
        node.join()
        #expect(total.entries == [4_000])
        #expect(!node.execute { _ in })
    }

    @Test("requestSpawn from another thread spawns on the loop and reports the address or the error")
    func requestSpawnFromAnotherThread() throws {
        struct Named: ProcessBehavior, Sendable {
            mutating func receive(_ envelope: consuming Envelope<Int>, _ process: ProcessContext<Int>) throws -> Next {
                .receive
            }
        }
        let node = Node(configuration: NodeConfiguration(report: Reports().handler))
        let results = Log<Result<Address<Int>, ProcessError>>()
        let done = DispatchSemaphore(value: 0)
        node.startLoop()
        for _ in 0..<2 {
            node.requestSpawn(Named(), options: SpawnOptions(name: "only")) { result in
                results.append(result)
                done.signal()
            }
        }
        done.wait()
        done.wait()
        node.stopLoop()
        node.join()
        let outcomes = results.entries
        #expect(outcomes.count == 2)
        guard case .success(let address) = outcomes[0] else {
            Issue.record("first spawn failed: \(outcomes[0])")
            return
        }
        #expect(outcomes[1] == .failure(.nameTaken("only", by: address.pid)))
        node.requestSpawn(Named()) { results.append($0) }
        #expect(results.entries.last == .failure(.nodeStopped))
    }

    @Test("a post into a full mailbox is refused and the refusal reaches the sender")
    func postRefused() throws {
        let reports = Reports()
        let node = Node(configuration: NodeConfiguration(report: reports.handler))
        let blocker = try node.spawn(of: Int.self, options: SpawnOptions(mailboxCapacity: 1)) { _ in
            .receive(matching: { _ in false }) { _, _ in .same }
        }
        let refusals = Log<ProcessError>()
        node.post(1, to: blocker, onRefused: { refusals.append($0) })
        node.post(2, to: blocker, onRefused: { refusals.append($0) })
        node.post(3, to: blocker)
        node.run(until: .idle)
        #expect(refusals.entries == [.mailboxFull(blocker.pid, capacity: 1)])
        #expect(reports.log.entries.map(\.description) == [
            "refused message to \(blocker.pid): mailbox of \(blocker.pid) is full (1 messages)"
        ])
        #expect(node.close() == 0)
    }

    @Test("timers and I/O are not starved by a process that always has work")
    func timersNotStarved() throws {
        let node = Node(configuration: NodeConfiguration(report: Reports().handler))
        var spins = 0
        let spinner = try node.spawn(of: Int.self) { _ in
            .receive { _, process in
                spins += 1
                try process.send(0, to: process.address)
                return .same
            }
        }
        try node.send(0, to: spinner)
        let stopper = try node.spawn(of: String.self) { _ in
            .receive { _, process in
                process.currentNode.stopLoop()
                process.exit(spinner.pid, reason: .kill)
                return .exit(.normal)
            }
        }
        try node.sendAfter(.milliseconds(2), "stop", to: stopper)
        node.run(until: .stopped)
        #expect(spins > 0)
        #expect(node.statistics.live == 0)
        #expect(node.close() == 0)
    }
}
