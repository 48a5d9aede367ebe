import Foundation
import Testing
@testable import OTP

/// The group on real threads (ThreadSanitizer covers these paths in `make tsan`): each loop on its own
/// thread, the channels and wake-ups between them under load.
@Suite("Node groups on real threads")
struct NodeGroupThreadTests {
    /// A caller on loop 0 makes `count` calls, one after another, to a counter on loop 1; a pair of
    /// processes plays ping-pong across the loops at the same time. Both report when done.
    @Test("Calls and ping-pong across two running loops: every reply and every message arrives, in order",
          arguments: [Duration.zero, .microseconds(50)])
    func callsAndPingPong(busyWait: Duration) throws {
        // Without busy waiting every item wakes the other loop; with it, a spinning loop polls its channels.
        let group = NodeGroup(loops: 2, configuration: NodeConfiguration(logger: quietLogger, busyWait: busyWait))
        let done = DispatchSemaphore(value: 0)
        let results = Log<String>()
        let count = 10_000
        let server = try group.loop(1).start(Counter.self, 0)
        try group.loop(0).spawn(of: Never.self) { process in
            func next(_ i: Int) throws -> Step<Never> {
                try process.call(server, .add(1)) { result, _ in
                    let value = try result.get()
                    guard value == i + 1 else {
                        results.append("call \(i): \(value)")
                        done.signal()
                        return .exit(.normal)
                    }
                    if value == count {
                        results.append("calls done")
                        done.signal()
                        return .exit(.normal)
                    }
                    return try next(i + 1)
                }
            }
            return try next(0)
        }
        let pong = try group.loop(1).spawn(of: (Int, Address<Int>).self) { _ in
            .receive { envelope, process in
                if case .message(let (n, from)) = envelope { try process.send(n, to: from) }
                return .same
            }
        }
        try group.loop(0).spawn(of: Int.self) { process in
            try process.send((0, process.address), to: pong)
            return .receive { envelope, process in
                guard case .message(let n) = envelope else { return .same }
                if n == count {
                    results.append("ping-pong done")
                    done.signal()
                    return .exit(.normal)
                }
                try process.send((n + 1, process.address), to: pong)
                return .same
            }
        }
        group.startLoops()
        let first = done.wait(timeout: .now() + 60)
        let second = done.wait(timeout: .now() + 60)
        group.stopLoops()
        group.join()
        #expect(first == .success && second == .success)
        #expect(results.entries.sorted() == ["calls done", "ping-pong done"])
    }

    /// A busy-waiting loop files the timers of the waits begun during a relay of other loops' items when
    /// the relay ends (`TimerState.holdDeferred`): calls answered meanwhile never touch the wheel, and one
    /// that is never answered still times out. Each call here is made as a reply from the other loop
    /// arrives, so inside a relay; after the last one nothing else happens on the caller's loop, so only
    /// the relay's end can file its timer.
    @Test("Across running, busy-waiting loops, calls made while relaying get their replies, and one never answered times out")
    func timeoutsWhileRelaying() throws {
        let group = NodeGroup(loops: 2, configuration: NodeConfiguration(logger: quietLogger, busyWait: .microseconds(50)))
        let done = DispatchSemaphore(value: 0)
        let results = Log<String>()
        let counter = try group.loop(1).start(Counter.self, 0)
        let silent = try group.loop(1).start(Delayer.self, 600_000)  // answers after ten minutes
        try group.loop(0).spawn(of: Never.self) { process in
            func next(_ i: Int) throws -> Step<Never> {
                guard i < 2_000 else {
                    results.append("answered")
                    return try process.call(silent, .slow, timeout: .milliseconds(20)) { result, _ in
                        if case .failure(let error) = result { results.append("\(error)") }
                        done.signal()
                        return .exit(.normal)
                    }
                }
                return try process.call(counter, .add(1)) { result, _ in
                    guard (try? result.get()) == i + 1 else {
                        results.append("call \(i): \(result)")
                        done.signal()
                        return .exit(.normal)
                    }
                    return try next(i + 1)
                }
            }
            return try next(0)
        }
        group.startLoops()
        let outcome = done.wait(timeout: .now() + 60)
        group.stopLoops()
        group.join()
        #expect(outcome == .success)
        #expect(results.entries == ["answered", "call to \(silent.pid!) timed out"])
    }

    /// A loop that stops on its own closes its node: its processes exit with `shutdown`, and the monitors
    /// and links held on them from another loop fire there — even when that loop sleeps in libuv (no busy
    /// waiting), so only a wake-up can bring the `DOWN` in.
    @Test("A loop that stops alone wakes a sleeping loop whose processes monitor its own")
    func stoppingOneLoopWakesTheOthers() throws {
        let group = NodeGroup(loops: 2, configuration: NodeConfiguration(logger: quietLogger, busyWait: .zero))
        let monitoring = DispatchSemaphore(value: 0), down = DispatchSemaphore(value: 0)
        let results = Log<String>()
        let target = try group.loop(1).spawn(of: Int.self) { _ in .receive { _, _ in .same } }
        try group.loop(0).spawn(of: Never.self) { process in
            let ref = process.monitor(target.pid)
            monitoring.signal()
            return .receive { envelope, _ in
                if case .down(let info) = envelope, info.monitor == ref { results.append("\(info.reason)") }
                down.signal()
                return .exit(.normal)
            }
        }
        group.startLoops()
        #expect(monitoring.wait(timeout: .now() + 10) == .success)
        // Loop 0 has nothing left to do and blocks in libuv (without the wake-up the DOWN waited there
        // until the test's deadline; with it, the outcome does not depend on this pause).
        Thread.sleep(forTimeInterval: 0.05)
        group.loop(1).stopLoop()
        group.loop(1).join()
        let outcome = down.wait(timeout: .now() + 10)
        group.stopLoops()
        group.join()
        #expect(outcome == .success)
        #expect(results.entries == ["shutdown"])
    }

    /// Once a loop has stopped alone, a call to its server fails with `noProcess` and a monitor on it fires
    /// `noproc` at once, as for any dead process: the sender's loop answers them (`GroupCore.Phase`).
    @Test("A call and a monitor to a loop that stopped alone are answered at once with noproc")
    func callingAStoppedLoop() throws {
        let group = NodeGroup(loops: 2, configuration: NodeConfiguration(logger: quietLogger, busyWait: .zero))
        let done = DispatchSemaphore(value: 0)
        let results = Log<String>()
        let server = try group.loop(1).start(Counter.self, 0)
        group.startLoops()
        group.loop(1).stopLoop()
        group.loop(1).join()
        try group.loop(0).execute { node in
            _ = try? node.spawn(of: Never.self) { process in
                let ref = process.monitor(server.pid!)
                return try process.call(server, .get, timeout: .seconds(30)) { result, _ in
                    results.append("\(result)")
                    return .receive { envelope, _ in
                        if case .down(let down) = envelope, down.monitor == ref { results.append("\(down.reason)") }
                        done.signal()
                        return .exit(.normal)
                    }
                }
            }
        }
        let outcome = done.wait(timeout: .now() + 20)
        group.stopLoops()
        group.join()
        #expect(outcome == .success)
        #expect(results.entries == ["failure(process \(server.pid!) is not alive (noproc))", "noproc"])
    }
}

/// The group's async facade goes to the loop that owns the target.
@Suite("Node groups: the async facade")
struct NodeGroupFacadeTests {
    @Test("A call and a cast by name or pid from async code reach the owning loop; errors are a node's")
    func facadeRoutesToTheOwner() async throws {
        let group = NodeGroup(loops: 2, configuration: NodeConfiguration(logger: quietLogger))
        group.startLoops()
        let server = try await group.loop(1).start(Counter.self, 1, options: StartOptions(name: "counter"))
        #expect(group.owner(of: ServerRef<Counter>.named("counter")) === group.loop(1))
        #expect(group.owner(of: server) === group.loop(1))
        #expect(group.whereis("counter") == server.pid)
        #expect(try await group.call(ServerRef<Counter>.named("counter"), .add(1)) == 2)
        #expect(try await group.cast(server, .add(3)) == .delivered)
        #expect(try await group.call(server, .get) == 5)
        // From loop 0's facade the call crosses to loop 1, and answers the same.
        #expect(try await group.loop(0).call(server, .get) == 5)
        await #expect(throws: CallError.unknownName("nobody")) {
            try await group.call(ServerRef<Counter>.named("nobody"), .get)
        }
        group.stopLoops()
        group.join()
    }
}
