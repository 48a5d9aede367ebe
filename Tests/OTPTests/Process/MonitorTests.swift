import Testing
@testable import OTP

@Suite("Monitors")
struct MonitorTests {
    @Test("DOWN carries the monitor reference, the pid and the exit reason")
    func downCarriesReason() throws {
        let node = makeNode()
        let log = Log<Envelope<Never>>()
        let watcher = try spawnCollector(node, into: log)
        let target = try spawnIdler(node)
        let ref = node.monitor(target.pid, by: watcher.pid)
        try node.send(.exit(.shutdownWith("done")), to: target)
        node.runUntilIdle()
        #expect(log.entries == [.down(Down(monitor: ref, pid: target.pid, reason: .shutdownWith("done")))])
        #expect(node.statistics.monitors == 0)
    }

    @Test("monitoring a dead or never-existing process gives an immediate DOWN with noproc")
    func monitorDeadProcess() throws {
        let node = makeNode()
        let log = Log<Envelope<Never>>()
        let watcher = try spawnCollector(node, into: log)
        let dead = try spawnIdler(node)
        try node.send(.exit(.normal), to: dead)
        node.runUntilIdle()
        let ghost = PID(node: node.number, index: 999_999, serial: 0)
        let ref1 = node.monitor(dead.pid, by: watcher.pid)
        let ref2 = node.monitor(ghost, by: watcher.pid)
        node.runUntilIdle()
        #expect(log.entries == [
            .down(Down(monitor: ref1, pid: dead.pid, reason: .noproc)),
            .down(Down(monitor: ref2, pid: ghost, reason: .noproc)),
        ])
        #expect(node.statistics.monitors == 0)
    }

    @Test("several monitors on one target each get their own DOWN")
    func severalMonitors() throws {
        let node = makeNode()
        let log = Log<Envelope<Never>>()
        let watcher = try spawnCollector(node, into: log)
        let target = try spawnIdler(node)
        let refs = (0..<3).map { _ in node.monitor(target.pid, by: watcher.pid) }
        #expect(Set(refs).count == 3)
        try node.send(.exit(.custom("x")), to: target)
        node.runUntilIdle()
        #expect(log.entries == refs.map { .down(Down(monitor: $0, pid: target.pid, reason: .custom("x"))) })
    }

    @Test("demonitor stops the DOWN; with flush it also removes a DOWN already queued")
    func demonitorFlush() throws {
        let node = makeNode()
        let log = Log<String>()
        let targets = (0..<2).map { _ in try! spawnIdler(node) }
        node.runUntilIdle()
        // The watcher monitors both, kills both while it is still running, then demonitors.
        _ = try node.spawn(of: Never.self) { process in
            let first = process.monitor(targets[0].pid)
            let second = process.monitor(targets[1].pid)
            process.exit(targets[0].pid, reason: .kill)
            process.exit(targets[1].pid, reason: .kill)
            // Both DOWNs are queued now.
            log.append("flush first: \(process.demonitor(first, flush: true))")
            log.append("plain second: \(process.demonitor(second))")
            return .receive(timeout: .zero, after: { _ in
                log.append("mailbox empty")
                return .exit(.normal)
            }) { envelope, _ in
                if case .down(let down) = envelope { log.append("DOWN \(down.monitor == second)") }
                return .same
            }
        }
        node.runUntilIdle()
        #expect(log.entries == ["flush first: false", "plain second: false", "DOWN true", "mailbox empty"])
    }

    @Test("demonitor of an active monitor returns true and no DOWN arrives")
    func demonitorActive() throws {
        let node = makeNode()
        let log = Log<Envelope<Never>>()
        let watcher = try spawnCollector(node, into: log)
        let target = try spawnIdler(node)
        let ref = node.monitor(target.pid, by: watcher.pid)
        #expect(node.demonitor(ref, by: watcher.pid))
        #expect(!node.demonitor(ref, by: watcher.pid))
        try node.send(.exit(.custom("x")), to: target)
        node.runUntilIdle()
        #expect(log.entries.isEmpty)
        #expect(node.processInfo(watcher.pid)?.monitors == [])
    }

    @Test("spawnMonitor returns the monitor of the new process")
    func spawnMonitor() throws {
        let node = makeNode()
        let log = Log<String>()
        _ = try node.spawn(of: Never.self) { process in
            let (child, ref) = try process.spawnMonitor(ClosureBehavior<Int> { _ in .exit(.custom("short life")) })
            return .receive { envelope, _ in
                if case .down(let down) = envelope {
                    log.append("\(down.monitor == ref) \(down.pid == child.pid) \(down.reason)")
                }
                return .exit(.normal)
            }
        }
        node.runUntilIdle()
        #expect(log.entries == ["true true short life"])
    }

    @Test("a watcher's exit removes its monitors from the target")
    func watcherExitCleansUp() throws {
        let node = makeNode()
        let watcher = try spawnIdler(node)
        let target = try spawnIdler(node)
        _ = node.monitor(target.pid, by: watcher.pid)
        #expect(node.processInfo(target.pid)?.monitoredBy.count == 1)
        try node.send(.exit(.normal), to: watcher)
        node.runUntilIdle()
        #expect(node.processInfo(target.pid)?.monitoredBy == [])
        #expect(node.statistics.monitors == 0)
    }

    @Test("system messages are never refused, even into a full mailbox")
    func downIntoFullMailbox() throws {
        let node = makeNode()
        let target = try spawnIdler(node)
        // A process that never takes a message: its mailbox of one fills with the first send.
        let blocker = try node.spawn(of: Int.self, options: SpawnOptions(mailboxCapacity: 1)) { _ in
            .receive(matching: { _ in false }) { _, _ in .same }
        }
        try node.send(1, to: blocker)
        #expect(throws: ProcessError.mailboxFull(blocker.pid, capacity: 1)) { try node.send(2, to: blocker) }
        _ = node.monitor(target.pid, by: blocker.pid)
        try node.send(.exit(.custom("x")), to: target)
        node.runUntilIdle()
        #expect(node.processInfo(blocker.pid)?.mailboxLength == 2)
    }
}
