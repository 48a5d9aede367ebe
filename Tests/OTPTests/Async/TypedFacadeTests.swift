import Foundation
import Testing
@testable import OTP

/// The facade as a Swift server engineer uses it: typed errors caught by case, `Duration` timeouts, the
/// `sys` operations and typed references from async code, and blocking operations refused (not trapped)
/// on the running loop.
@Suite("Async facade: typed errors, Durations, sys, typed references")
struct TypedFacadeTests {
    @Test("errors are typed: catch .noProcess(let pid) compiles and names the dead server")
    func typedCatch() async throws {
        let node = startedNode()
        defer { node.finish() }
        let holder = try await node.start(Holder())
        try await node.stop(holder)
        let caught: PID?
        do {
            _ = try await node.call(holder, .get, timeout: Duration.seconds(1))
            caught = nil
        } catch .noProcess(let pid) {
            caught = pid
        } catch {
            caught = nil
            Issue.record("unexpected \(error)")
        }
        #expect(caught == holder.pid)
        do {
            try await node.send(1, to: "nobody")
            Issue.record("send to an unknown name succeeded")
        } catch .unknownName(let name) {
            #expect(name == "nobody")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("a Duration is accepted wherever a timeout is: Double seconds, milliseconds, values")
    func durations() async throws {
        let node = startedNode()
        defer { node.finish() }
        let holder = try await node.start(Holder(), options: StartOptions(timeout: .seconds(0.5)))
        let configured: Duration = .milliseconds(1_500)
        #expect(try await node.call(holder, .get, timeout: configured) == 0)
        #expect(try await node.call(holder, .get, timeout: .seconds(2.5)) == 0)
        #expect(try await node.call(holder, .get, timeout: .infinity) == 0)
        try await node.stop(holder, timeout: configured)
        await #expect(throws: CallError.noProcess(holder.pid!)) { try await node.call(holder, .get) }
        // A negative Duration is refused with a typed error, and nothing is left waiting.
        let other = try await node.start(Holder())
        await #expect(throws: CallError.invalidTimeout("-1000 ms is negative")) {
            try await node.call(other, .get, timeout: Duration.seconds(-1))
        }
        #expect(try await node.inspect { $0.pendingExternalCalls } == 0)
    }

    @Test("a Duration receive timeout is rounded up to whole milliseconds (manual clock)")
    func durationReceiveTimeout() throws {
        let node = Node(configuration: NodeConfiguration(clock: .manual, logger: quietLogger))
        let events = Log<String>()
        try node.spawn(of: Int.self) { _ in
            .receive(timeout: .microseconds(1_500), after: { _ in
                events.append("timeout")
                return .exit(.normal)
            }) { _, _ in .same }
        }
        node.runUntilIdle()
        node.advance(by: Duration.milliseconds(1))
        #expect(events.entries == [])
        node.advance(by: Duration.milliseconds(1))
        #expect(events.entries == ["timeout"])
    }

    @Test("sys operations from async code: getState, replaceState, suspend, resume, statistics, trace")
    func sysFromAsync() async throws {
        let node = startedNode()
        defer { node.finish() }
        let holder = try await node.start(Holder(value: 7))
        #expect(try await node.getState(holder).value == 7)
        let replaced = try await node.replaceState(holder) { state in
            var state = state
            state.value = 9
            return state
        }
        #expect(replaced.value == 9)
        #expect(try await node.call(holder, .get) == 9)
        struct Refused: Error, Equatable {}
        await #expect(throws: Refused()) { try await node.replaceState(holder) { _ in throw Refused() } }
        #expect(try await node.getState(holder).value == 9)
        try await node.suspend(holder)
        let pending = Task { try await node.call(holder, .get) }
        try await eventually("the call queued at the suspended server") {
            (try? await node.inspect { $0.processInfo(holder.pid!)?.mailboxLength }) == 1
        }
        try await node.resume(holder)
        #expect(try await pending.value == 9)
        try await node.trace(holder, true)
        try await node.trace(holder, false)
        let statistics = try await node.statistics(of: holder)
        #expect(statistics.messagesIn >= 3)
    }

    @Test("ServerRef(pid:on:) checks the process: right type, wrong type, dead pid; startChild(as:)")
    func checkedServerRef() async throws {
        let node = startedNode()
        defer { node.finish() }
        let holder = try await node.start(Holder())
        let pid = try #require(holder.pid)
        let typed = try await node.serverRef(Holder.self, pid: pid)
        #expect(typed == holder)
        do {
            _ = try await node.serverRef(DynamicSupervisor.self, pid: pid)
            Issue.record("a Holder was taken for a DynamicSupervisor")
        } catch .wrongServerType(let wrong, let expected, _) {
            #expect(wrong == pid && expected == "DynamicSupervisor")
        } catch {
            Issue.record("unexpected \(error)")
        }
        try await node.stop(holder)
        await #expect(throws: CallError.noProcess(pid)) { try await node.serverRef(Holder.self, pid: pid) }
        await #expect(throws: CallError.noProcess(pid)) { try await node.perform { try ServerRef<Holder>(pid: pid, on: $0) } }

        let supervisor = try await node.start(DynamicSupervisor.self, DynamicSupervisorSpec())
        let child = try #require(try await node.startChild(supervisor, .server("h", Holder()), as: Holder.self))
        #expect(try await node.call(child, .get) == 0)
        do {
            try await node.startChild(supervisor, .server("h2", Holder()), as: Counter.self)
            Issue.record("a Holder child was taken for a Counter")
        } catch let error as CallError {
            guard case .wrongServerType(_, let expected, _) = error else { throw error }
            #expect(expected == "Counter")
        }
    }

    @Test("blocking operations on the running loop throw wouldBlock instead of trapping")
    func wouldBlock() async throws {
        let node = startedNode()
        defer { node.finish() }
        let holder = try await node.start(Holder())
        await #expect(throws: CallError.wouldBlock(operation: "Node.getState")) {
            try await node.perform { try $0.getState(holder) }
        }
        await #expect(throws: CallError.wouldBlock(operation: "Node.call")) {
            try await node.perform { try $0.call(holder, .get) }
        }
        await #expect(throws: StartError.wouldBlock(operation: "Node.start")) {
            try await node.perform { try $0.start(Holder()) }
        }
        // From process code too: the process gets the error, and the loop goes on.
        let outcome = Log<String>()
        _ = try await node.perform { node in
            try node.spawn(of: Never.self) { _ in
                do {
                    _ = try node.call(holder, .get)
                } catch {
                    outcome.append("\(error)")
                }
                return .exit(.normal)
            }
        }
        try await eventually("the process ran") { outcome.count == 1 }
        #expect(outcome.entries.first?.hasPrefix("Node.call blocks until the loop answers") == true)
        #expect(try await node.call(holder, .get) == 0)
    }
}
