import Testing
@testable import OTP

@Suite("Links and exit signals")
struct LinkTests {
    /// Spawns a process that links to `other` in its start and then idles.
    func spawnLinked(_ node: Node, to other: PID, trap: Bool = false, log: Log<Envelope<Command>>? = nil) throws
        -> Address<Command>
    {
        try node.spawn(of: Command.self, options: SpawnOptions(trapExits: trap)) { process in
            process.link(other)
            return .receive { envelope, _ in
                log?.append(envelope)
                if case .message(.exit(let reason)) = envelope { return .exit(reason) }
                return .same
            }
        }
    }

    @Test("an abnormal exit cascades through a chain of three linked processes")
    func cascadeThroughThree() throws {
        let node = makeNode()
        let downs = Log<Envelope<Never>>()
        let watcher = try spawnCollector(node, into: downs)
        let a = try spawnIdler(node)
        node.runUntilIdle()
        let b = try spawnLinked(node, to: a.pid)
        node.runUntilIdle()
        let c = try spawnLinked(node, to: b.pid)
        node.runUntilIdle()
        let refs = [a, b, c].map { node.monitor($0.pid, by: watcher.pid) }
        try node.send(.exit(.custom("crash")), to: a)
        node.runUntilIdle()
        #expect(node.processes() == [watcher.pid])
        #expect(downs.entries == [
            .down(Down(monitor: refs[0], pid: a.pid, reason: .custom("crash"))),
            .down(Down(monitor: refs[1], pid: b.pid, reason: .custom("crash"))),
            .down(Down(monitor: refs[2], pid: c.pid, reason: .custom("crash"))),
        ])
    }

    @Test("a normal exit does not kill linked processes")
    func normalExitDoesNotCascade() throws {
        let node = makeNode()
        let a = try spawnIdler(node)
        node.runUntilIdle()
        let b = try spawnLinked(node, to: a.pid)
        node.runUntilIdle()
        try node.send(.exit(.normal), to: a)
        node.runUntilIdle()
        #expect(!node.isAlive(a.pid))
        #expect(node.isAlive(b.pid))
        #expect(node.processInfo(b.pid)?.links == [])
    }

    @Test("a trapping process receives EXIT messages, also for a normal exit, and survives")
    func trapExits() throws {
        let node = makeNode()
        let a = try spawnIdler(node)
        let b = try spawnIdler(node)
        node.runUntilIdle()
        let log = Log<Envelope<Command>>()
        let trapper = try node.spawn(of: Command.self, options: SpawnOptions(trapExits: true)) { process in
            process.link(a.pid)
            process.link(b.pid)
            return .receive { envelope, _ in
                log.append(envelope)
                return .same
            }
        }
        node.runUntilIdle()
        try node.send(.exit(.normal), to: a)
        try node.send(.exit(.shutdown), to: b)
        node.runUntilIdle()
        #expect(node.isAlive(trapper.pid))
        #expect(log.entries == [
            .exit(ExitSignal(from: a.pid, reason: .normal)),
            .exit(ExitSignal(from: b.pid, reason: .shutdown)),
        ])
    }

    @Test("exit(pid, kill) cannot be trapped; links and monitors see killed")
    func killIsUntrappable() throws {
        let node = makeNode()
        let downs = Log<Envelope<Never>>()
        let watcher = try spawnCollector(node, into: downs, options: SpawnOptions(trapExits: true))
        let victim = try spawnIdler(node, options: SpawnOptions(trapExits: true))
        node.runUntilIdle()
        node.link(watcher.pid, victim.pid)
        let ref = node.monitor(victim.pid, by: watcher.pid)
        node.exit(victim.pid, reason: .kill)
        node.runUntilIdle()
        #expect(!node.isAlive(victim.pid))
        #expect(downs.entries == [
            .exit(ExitSignal(from: victim.pid, reason: .killed)),
            .down(Down(monitor: ref, pid: victim.pid, reason: .killed)),
        ])
    }

    @Test("exit(pid, normal) does not kill a process that does not trap exits; another reason does")
    func exitSignalRules() throws {
        let node = makeNode()
        let target = try spawnIdler(node)
        node.runUntilIdle()
        node.exit(target.pid, reason: .normal)
        node.runUntilIdle()
        #expect(node.isAlive(target.pid))
        node.exit(target.pid, reason: .shutdownWith("maintenance"))
        node.runUntilIdle()
        #expect(!node.isAlive(target.pid))
    }

    @Test("exit(self, normal) ends the calling process")
    func exitSelfNormal() throws {
        let node = makeNode()
        let log = Log<String>()
        let target = try node.spawn(of: Int.self) { process in
            process.exit(process.pid, reason: .normal)
            log.append("callback finished")
            return .receive { _, _ in .same }
        }
        node.runUntilIdle()
        #expect(log.entries == ["callback finished"])
        #expect(!node.isAlive(target.pid))
    }

    @Test("a trapping process gets exit/2 signals as messages naming the sender")
    func trappedExitSignal() throws {
        let node = makeNode()
        let log = Log<Envelope<Command>>()
        let trapper = try spawnCollector(node, into: log, options: SpawnOptions(trapExits: true))
        let sender = try node.spawn(of: Never.self) { process in
            process.exit(trapper.pid, reason: .custom("please"))
            return .exit(.normal)
        }
        node.runUntilIdle()
        #expect(log.entries == [.exit(ExitSignal(from: sender.pid, reason: .custom("please")))])
    }

    @Test("a signal to the running process takes effect when its callback returns")
    func signalToRunningProcess() throws {
        let node = makeNode()
        let partner = try spawnIdler(node)
        node.runUntilIdle()
        let log = Log<String>()
        let a = try node.spawn(of: Int.self) { process in
            process.link(partner.pid)
            process.exit(partner.pid, reason: .custom("bye"))  // partner dies; the link kills us after return
            log.append("still running")
            return .receive { _, _ in
                log.append("never")
                return .same
            }
        }
        try node.send(1, to: a)
        node.runUntilIdle()
        #expect(log.entries == ["still running"])
        #expect(!node.isAlive(a.pid))
        #expect(!node.isAlive(partner.pid))
    }

    @Test("linking to a dead process sends noproc: EXIT when trapping, death otherwise")
    func linkToDeadProcess() throws {
        let node = makeNode()
        let dead = try spawnIdler(node)
        try node.send(.exit(.normal), to: dead)
        node.runUntilIdle()
        let log = Log<Envelope<Command>>()
        let trapper = try spawnLinked(node, to: dead.pid, trap: true, log: log)
        let plain = try spawnLinked(node, to: dead.pid)
        node.runUntilIdle()
        #expect(log.entries == [.exit(ExitSignal(from: dead.pid, reason: .noproc))])
        #expect(node.isAlive(trapper.pid))
        #expect(!node.isAlive(plain.pid))
    }

    @Test("spawnLink links atomically and unlink removes both directions")
    func spawnLinkAndUnlink() throws {
        let node = makeNode()
        let childBox = Log<Address<Command>>()
        let parent = try node.spawn(of: Command.self) { process in
            let child = try process.spawnLink(ClosureBehavior<Command> { _ in .receive { _, _ in .same } })
            childBox.append(child)
            return .receive { envelope, process in
                if case .message(.value(let v)) = envelope, v == 0 { process.unlink(child.pid) }
                if case .message(.exit(let reason)) = envelope { return .exit(reason) }
                return .same
            }
        }
        node.runUntilIdle()
        let child = childBox.entries[0]
        #expect(node.processInfo(parent.pid)?.links == [child.pid])
        #expect(node.processInfo(child.pid)?.links == [parent.pid])
        try node.send(.value(0), to: parent)
        node.runUntilIdle()
        #expect(node.processInfo(parent.pid)?.links == [])
        #expect(node.processInfo(child.pid)?.links == [])
        try node.send(.exit(.custom("gone")), to: parent)
        node.runUntilIdle()
        #expect(node.isAlive(child.pid))
    }

    @Test("a cascade through 100,000 links runs without recursion")
    func longChain() throws {
        let node = makeNode()
        var previous = try spawnIdler(node)
        let first = previous
        for _ in 0..<100_000 {
            let next = try spawnIdler(node)
            node.link(previous.pid, next.pid)
            previous = next
        }
        node.runUntilIdle()
        #expect(node.statistics.live == 100_001)
        node.exit(first.pid, reason: .custom("domino"))
        node.runUntilIdle()
        #expect(node.statistics.live == 0)
    }
}
