import Foundation
import Testing
@testable import OTP

/// The catalogue of misuse in docs/errors.md, one test per row (row numbers in the test names): each
/// asserts the exact typed error or the documented behaviour, and that the node keeps working after it.
@Suite("Bad input catalogue")
struct BadInputTests {
    /// After each misuse the node must still run processes: a fresh process answers.
    func nodeStillWorks(_ node: Node) throws {
        let log = Log<Envelope<Int>>()
        let probe = try spawnCollector(node, into: log)
        try node.send(42, to: probe)
        node.runUntilIdle()
        #expect(log.entries.compactMap(\.message) == [42])
    }

    func deadPID(_ node: Node) throws -> PID {
        let pid = try spawnIdler(node).pid
        try node.send(.exit(.normal), to: Address<Command>(unchecked: pid))
        node.runUntilIdle()
        return pid
    }

    // MARK: Processes, names, messages

    @Test("E1 send to an unknown name throws unknownName")
    func sendUnknownName() throws {
        let node = makeNode()
        #expect(throws: ProcessError.unknownName("nobody")) { try node.send(1, to: "nobody") }
        try nodeStillWorks(node)
    }

    @Test("E2 send to a dead pid is dropped and counted, not an error")
    func sendDeadPID() throws {
        let node = makeNode()
        let dead = try deadPID(node)
        try node.send(Command.value(1), to: dead)
        try node.send(Command.value(2), to: Address<Command>(unchecked: dead))
        #expect(node.statistics.droppedToDeadProcesses == 2)
        try nodeStillWorks(node)
    }

    @Test("E3 send of the wrong message type to a pid or name throws wrongMessageType naming both types")
    func sendWrongType() throws {
        let node = makeNode()
        let idler = try spawnIdler(node)
        try node.register("idler", idler.pid)
        let expected = ProcessError.wrongMessageType(idler.pid, expected: "String", accepted: "Command")
        #expect(throws: expected) { try node.send("hello", to: idler.pid) }
        #expect(throws: expected) { try node.send("hello", to: "idler") }
        try nodeStillWorks(node)
    }

    @Test("E4 send to a full mailbox throws mailboxFull with the capacity; the refusal is counted")
    func sendFullMailbox() throws {
        let node = makeNode()
        let idler = try spawnIdler(node, options: SpawnOptions(mailboxCapacity: 2))
        try node.send(.value(1), to: idler)
        try node.send(.value(2), to: idler)
        #expect(throws: ProcessError.mailboxFull(idler.pid, capacity: 2)) { try node.send(.value(3), to: idler) }
        #expect(node.statistics.refusedMailboxFull == 1)
        node.runUntilIdle()
        try node.send(.value(4), to: idler)  // room again once it has taken its messages
        try nodeStillWorks(node)
    }

    @Test("E5 a timer message refused by a full mailbox is reported (NodeReport.refused)")
    func timerIntoFullMailbox() throws {
        let reports = Reports()
        let node = makeNode(reports: reports)
        let stuck = try node.spawn(of: Int.self, options: SpawnOptions(mailboxCapacity: 1)) { _ in
            .receive(matching: { _ in false }) { _, _ in .same }  // never takes anything
        }
        try node.send(1, to: stuck)
        try node.sendAfter(.milliseconds(5), 2, to: stuck)
        node.advance(by: 5)
        #expect(reports.log.entries.map(\.description) == [
            NodeReport.refused(target: stuck.pid.description, error: .mailboxFull(stuck.pid, capacity: 1)).description,
        ])
        try nodeStillWorks(node)
    }

    @Test("E6 register a taken name throws nameTaken naming the holder")
    func registerTaken() throws {
        let node = makeNode()
        let a = try spawnIdler(node), b = try spawnIdler(node)
        try node.register("x", a.pid)
        #expect(throws: ProcessError.nameTaken("x", by: a.pid)) { try node.register("x", b.pid) }
        #expect(throws: ProcessError.nameTaken("x", by: a.pid)) {
            try node.spawn(of: Int.self, options: SpawnOptions(name: "x")) { _ in .receive { _, _ in .same } }
        }
        try nodeStillWorks(node)
    }

    @Test("E34 names that cannot be registered: empty, over 255 characters, control characters; nothing changes")
    func registerInvalidName() throws {
        let node = makeNode()
        let a = try spawnIdler(node)
        let long = String(repeating: "n", count: 100_000)
        #expect(throws: ProcessError.invalidName("", reason: "a name is not empty")) { try node.register("", a.pid) }
        #expect(throws: ProcessError.invalidName(long, reason: "longer than 255 characters")) { try node.register(long, a.pid) }
        #expect(throws: ProcessError.invalidName("a\nb", reason: "holds a control or invisible character")) {
            try node.register("a\nb", a.pid)
        }
        #expect(throws: ProcessError.invalidName("\u{1B}[2J", reason: "holds a control or invisible character")) {
            try node.spawn(of: Int.self, options: SpawnOptions(name: "\u{1B}[2J")) { _ in .receive { _, _ in .same } }
        }
        #expect(!ProcessError.invalidName("a\nb", reason: "x").description.contains("\n"))
        #expect(ProcessError.invalidName(long, reason: "x").description.count < 400)
        #expect(node.registered() == [])
        try node.register(String(repeating: "n", count: 255), a.pid)
        try nodeStillWorks(node)
    }

    @Test("E35 spawn on a closed node throws nodeStopped; a pid of another node is never a local one")
    func spawnOnClosedNode() throws {
        let node = makeNode()
        let other = makeNode()
        let foreign = try spawnIdler(other)
        #expect(throws: ProcessError.otherNode(foreign.pid)) { try node.send(.value(1), to: foreign) }
        node.close()
        #expect(throws: ProcessError.nodeStopped) { try node.spawn(of: Int.self) { _ in .receive { _, _ in .same } } }
        #expect(node.statistics.spawned == 0)
        other.close()
    }

    @Test("E7 register a dead pid throws noProcess")
    func registerDead() throws {
        let node = makeNode()
        let dead = try deadPID(node)
        #expect(throws: ProcessError.noProcess(dead)) { try node.register("late", dead) }
        #expect(node.registered() == [])
    }

    @Test("E8 a second name for one process throws alreadyRegistered")
    func registerTwice() throws {
        let node = makeNode()
        let a = try spawnIdler(node)
        try node.register("first", a.pid)
        #expect(throws: ProcessError.alreadyRegistered(a.pid, as: "first")) { try node.register("second", a.pid) }
    }

    @Test("E9 unregister an unknown name throws unknownName")
    func unregisterUnknown() throws {
        let node = makeNode()
        #expect(throws: ProcessError.unknownName("ghost")) { try node.unregister("ghost") }
    }

    @Test("E10 a mailbox capacity below one throws invalidCapacity (spawn) or invalidOptions (start)")
    func invalidCapacity() throws {
        let node = makeNode()
        #expect(throws: ProcessError.invalidCapacity(0)) {
            try node.spawn(of: Int.self, options: SpawnOptions(mailboxCapacity: 0)) { _ in .receive { _, _ in .same } }
        }
        #expect(throws: StartError.invalidOptions("invalid mailbox capacity: -1")) {
            try node.start(Counter.self, 0, options: StartOptions(mailboxCapacity: -1))
        }
        try nodeStillWorks(node)
    }

    @Test("E11 negative or infinite timer delays throw invalidTimeout")
    func invalidTimerDelay() throws {
        let node = makeNode()
        let idler = try spawnIdler(node)
        #expect(throws: ProcessError.invalidTimeout("-1 ms is negative")) {
            try node.sendAfter(.milliseconds(-1), .value(1), to: idler)
        }
        #expect(throws: ProcessError.invalidTimeout("a timer needs a finite time")) {
            try node.sendAfter(.infinity, .value(1), to: idler)
        }
        #expect(node.statistics.pendingTimers == 0)
    }

    @Test("E12 a negative receive or call timeout makes the waiting process exit with invalidTimeout")
    func negativeWaits() throws {
        let reports = Reports()
        let node = makeNode(reports: reports)
        let waiter = try node.spawn(of: Int.self) { _ in
            .receive(timeout: .milliseconds(-5)) { _, _ in .same }
        }
        let server = try node.start(Counter.self, 0)
        let caller = try node.spawn(of: Never.self) { process in
            try process.call(server, .get, timeout: .milliseconds(-5)) { _, _ in .exit(.normal) }
        }
        node.runUntilIdle()
        let invalid = ExitReason.error(ProcessError.invalidTimeout("-5 ms is negative"))
        #expect(reports.crashes == [invalid, invalid])
        #expect(!node.isAlive(waiter.pid) && !node.isAlive(caller.pid))
        #expect(node.statistics.monitors == 0 && node.statistics.pendingTimers == 0)
        #expect(try node.call(server, .get) == 0)  // the server never saw the request's ill effects
        try nodeStillWorks(node)
    }

    @Test("E13 a timer for a dead pid is never pending; cancelling or reading a finished timer gives nil")
    func deadTimers() throws {
        let node = makeNode()
        let dead = try deadPID(node)
        let ref = try node.sendAfter(.milliseconds(10), Command.value(1), to: Address<Command>(unchecked: dead))
        #expect(node.readTimer(ref) == nil && node.cancelTimer(ref) == nil)
        let live = try spawnIdler(node)
        let fired = try node.sendAfter(.milliseconds(1), .value(1), to: live)
        node.advance(by: 1)
        #expect(node.cancelTimer(fired) == nil)
        #expect(node.cancelTimer(TimerRef(rawValue: 123_456_789)) == nil)
        #expect(node.statistics.pendingTimers == 0)
    }

    @Test("E14 linking to a dead pid: noproc exit signal (EXIT message when trapping, exit otherwise)")
    func linkDead() throws {
        let node = makeNode()
        let dead = try deadPID(node)
        let log = Log<Envelope<Int>>()
        let trapper = try spawnCollector(node, into: log, options: SpawnOptions(trapExits: true))
        node.link(trapper.pid, dead)
        node.runUntilIdle()
        #expect(log.entries.count == 1)
        if case .exit(let signal) = log.entries.first { #expect(signal == ExitSignal(from: dead, reason: .noproc)) }
        let plain = try spawnIdler(node)
        let watcher = Log<Envelope<Int>>()
        let observer = try spawnCollector(node, into: watcher)
        let ref = node.monitor(plain.pid, by: observer.pid)
        node.link(plain.pid, dead)
        node.runUntilIdle()
        #expect(!node.isAlive(plain.pid))
        if case .down(let down) = watcher.entries.first {
            #expect(down == Down(monitor: ref, pid: plain.pid, reason: .noproc))
        } else {
            Issue.record("no DOWN: \(watcher.entries)")
        }
    }

    @Test("E15 monitoring a dead pid gives an immediate DOWN with noproc; demonitor of a finished one is false")
    func monitorDead() throws {
        let node = makeNode()
        let dead = try deadPID(node)
        let log = Log<Envelope<Int>>()
        let watcher = try spawnCollector(node, into: log)
        let ref = node.monitor(dead, by: watcher.pid)
        node.runUntilIdle()
        #expect(log.entries.count == 1)
        if case .down(let down) = log.entries.first { #expect(down == Down(monitor: ref, pid: dead, reason: .noproc)) }
        #expect(node.demonitor(ref, by: watcher.pid) == false)
        #expect(node.demonitor(Ref(rawValue: 987_654_321), by: watcher.pid) == false)
        #expect(node.statistics.monitors == 0)
    }

    @Test("E16 exit signals, trap flags, links and unlinks aimed at dead pids or at oneself are ignored")
    func signalsToDead() throws {
        let node = makeNode()
        let dead = try deadPID(node)
        node.exit(dead, reason: .kill)
        #expect(node.setTrapExits(dead, true) == false)
        node.unlink(dead, dead)
        let live = try spawnIdler(node)
        node.link(live.pid, live.pid)
        node.runUntilIdle()
        #expect(node.isAlive(live.pid))
        #expect(node.core(live.pid)?.extras?.links.isEmpty ?? true)
        try nodeStillWorks(node)
    }

    // MARK: GenServers

    @Test("E17 call errors name the server: unknown name, dead pid, a name held by another kind of process")
    func callErrors() throws {
        let node = makeNode()
        #expect(throws: CallError.unknownName("none")) { try node.call(ServerRef<Counter>.named("none"), .get) }
        let server = try node.start(Counter.self, 0)
        try node.stop(server)
        #expect(throws: CallError.noProcess(server.pid!)) { try node.call(server, .get) }
        let idler = try spawnIdler(node)
        try node.register("idler", idler.pid)
        #expect(throws: CallError.wrongServerType(idler.pid, expected: "Counter", got: "Command")) {
            try node.call(ServerRef<Counter>.named("idler"), .get)
        }
        #expect(node.cast(ServerRef<Counter>.named("idler"), .add(1)) == .wrongServerType("idler"))
        try nodeStillWorks(node)
    }

    @Test("E18 a server calling itself gets callingSelf at once, not a deadlock")
    func callingSelf() throws {
        let node = makeNode()
        let server = try node.start(Counter.self, 0)
        // `callOther` makes the server call the given server — here itself.
        #expect(try node.call(server, .callOther(server)) == -1)
        try nodeStillWorks(node)
    }

    @Test("E19 a call into a full mailbox fails with mailboxFull")
    func callFullMailbox() throws {
        let node = makeNode()
        let server = try node.start(Counter.self, 0, options: StartOptions(mailboxCapacity: 1))
        let outcome = Log<Result<Int, CallError>>()
        try node.spawn(of: Never.self) { process in
            try process.call(server, .get) { result, _ in
                outcome.append(result)
                return .exit(.normal)
            }
        }
        // The caller is queued first; the cast fills the server's mailbox before either runs.
        #expect(node.cast(server, .add(1)) == .delivered)
        #expect(node.cast(server, .add(1)) == .mailboxFull(server.pid!, capacity: 1))
        node.runUntilIdle()
        #expect(outcome.entries == [.failure(.mailboxFull(server.pid!, capacity: 1))])
        #expect(try node.call(server, .get) == 1)
        try nodeStillWorks(node)
    }

    @Test("E20 a call that times out gets timeout; the late reply is dropped and counted")
    func lateReply() throws {
        let node = makeNode()
        let server = try node.start(Delayer.self, 100)
        #expect(throws: CallError.timeout(server.pid!)) { try node.call(server, .slow, timeout: .milliseconds(10)) }
        node.advance(by: 200)
        #expect(node.statistics.ignoredReplies == 2)  // the late reply, and Delayer's deliberate second one
        #expect(node.statistics.monitors == 0)
        try nodeStillWorks(node)
    }

    @Test("E21 a server that exits during a call gives serverExited with its reason")
    func serverExitsDuringCall() throws {
        let node = makeNode()
        let server = try node.start(Counter.self, 0)
        #expect(throws: CallError.serverExited(server.pid!, reason: .custom("bye"))) {
            try node.call(server, .stopWith(.custom("bye"), reply: false))
        }
    }

    @Test("E22 replying twice, or after the caller gave up, returns false and is counted")
    func replyToFinished() throws {
        let node = makeNode()
        let replies = Log<Bool>()
        struct Twice: GenServer {
            typealias Call = Int
            typealias Reply = Int
            let replies: Log<Bool>
            mutating func handleCall(_ request: Int, from caller: Caller<Int>, _ server: ServerContext<Twice>) throws
                -> ServerResult<Twice>
            {
                replies.append(server.reply(to: caller, 1))
                replies.append(server.reply(to: caller, 2))
                return .noReply
            }
        }
        let server = try node.start(Twice(replies: replies))
        #expect(try node.call(server, 0) == 1)
        #expect(replies.entries == [true, false])
        #expect(node.statistics.ignoredReplies == 1)
    }

    @Test("E23 stopping a stopped server throws noProcess; casting to it reports noProcess")
    func stopStopped() throws {
        let node = makeNode()
        let server = try node.start(Counter.self, 0)
        try node.stop(server)
        #expect(throws: CallError.noProcess(server.pid!)) { try node.stop(server) }
        #expect(node.cast(server, .add(1)) == .noProcess(server.pid!))
    }

    @Test("E24 start errors: a taken name, a failing init, link or monitor without a starting process")
    func startErrors() throws {
        let node = makeNode()
        let first = try node.start(Counter.self, 0, options: StartOptions(name: "c"))
        #expect(throws: StartError.alreadyStarted(first.pid!)) {
            try node.start(Counter.self, 0, options: StartOptions(name: "c"))
        }
        #expect(throws: StartError.initFailed(.error(TestFailure(text: "negative start")))) {
            try node.start(Counter.self, -1)
        }
        #expect(throws: StartError.invalidOptions("link and monitor need a starting process: use ProcessContext.startServer")) {
            try node.start(Counter.self, 0, options: StartOptions(link: true))
        }
        try nodeStillWorks(node)
    }

    // MARK: The node and threads

    @Test("E25 every async entry point after the node stopped throws its own nodeStopped; post and execute report it")
    func afterStop() async throws {
        let node = Node(configuration: NodeConfiguration(report: { _ in }, logger: quietLogger))
        node.startLoop()
        let server = try await node.start(Counter.self, 0)
        node.stopLoop()
        node.join()
        await #expect(throws: CallError.nodeStopped) { try await node.call(server, .get) }
        await #expect(throws: CallError.nodeStopped) { try await node.cast(server, .add(1)) }
        await #expect(throws: CallError.nodeStopped) { try await node.getState(ServerRef<Holder>.named("h")) }
        await #expect(throws: ProcessError.nodeStopped) { try await node.send(1, to: "anyone") }
        await #expect(throws: ProcessError.nodeStopped) { try await node.spawn(Stubborn()) }
        await #expect(throws: ProcessError.nodeStopped) { try await node.whereis("anyone") }
        await #expect(throws: StartError.nodeStopped) { try await node.start(Holder()) }
        let refused = Log<ProcessError>()
        node.post(Command.value(1), to: Address<Command>(unchecked: server.pid!)) { refused.append($0) }
        #expect(refused.entries == [.nodeStopped])
        #expect(node.execute { _ in } == false)
    }

    @Test("E39 a blocking node operation inside the loop (process code, perform) throws wouldBlock naming it")
    func blockingInsideTheLoop() throws {
        let node = Node(configuration: NodeConfiguration(clock: .manual, report: { _ in }, logger: quietLogger))
        let server = try node.start(Counter.self, 5)
        let errors = Log<String>()
        try node.spawn(of: Never.self) { _ in
            do { _ = try node.call(server, .get) } catch { errors.append("\(error)") }
            do { _ = try node.getState(server) } catch { errors.append("\(error)") }
            do { try node.stop(server) } catch { errors.append("\(error)") }
            do { try node.start(Counter.self, 1) } catch { errors.append("\(error)") }
            return .exit(.normal)
        }
        node.runUntilIdle()
        #expect(errors.entries == [
            CallError.wouldBlock(operation: "Node.call").description,
            CallError.wouldBlock(operation: "Node.getState").description,
            CallError.wouldBlock(operation: "Node.stop").description,
            StartError.wouldBlock(operation: "Node.start").description,
        ])
        #expect(try node.call(server, .get) == 5)  // nothing happened; the node goes on
    }

    @Test("E40 a negative timeout, as a Timeout or a Duration, is a typed error on every path")
    func negativeTimeouts() async throws {
        let node = Node(configuration: NodeConfiguration(report: { _ in }, logger: quietLogger))
        node.startLoop()
        defer { node.finish() }
        let server = try await node.start(Counter.self, 0)
        await #expect(throws: CallError.invalidTimeout("-5 ms is negative")) {
            try await node.call(server, .get, timeout: .milliseconds(-5))
        }
        await #expect(throws: CallError.invalidTimeout("-2000 ms is negative")) {
            try await node.call(server, .get, timeout: Duration.seconds(-2))
        }
        await #expect(throws: ProcessError.invalidTimeout("-1 ms is negative")) {
            try await node.perform { node in try node.sendAfter(Duration.milliseconds(-1), 1, to: "anyone") }
        }
        #expect(try await node.call(server, .get) == 0)
    }

    @Test("E26 loop-thread-only API called from another thread traps with a message naming the call")
    func wrongThread() async {
        await #expect(processExitsWith: .failure) {
            let node = Node(configuration: NodeConfiguration(report: { _ in }))
            node.startLoop()
            _ = node.whereis("x")  // a loop-thread-only call from the test's thread
        }
    }

    @Test("E27 the manual driver called from process code traps (re-entering the scheduler)")
    func reentrantDriver() async {
        await #expect(processExitsWith: .failure) {
            let node = Node.deterministic(report: { _ in })
            try node.spawn(of: Int.self) { process in
                process.currentNode.runUntilIdle()
                return .exit(.normal)
            }
            node.runUntilIdle()
        }
    }

    // MARK: Distribution

    @Test("E28 a message for a remote pid that has no term form throws notTermEncodable; nothing is sent")
    func remoteSendOfLocalType() async throws {
        let node = Node(configuration: NodeConfiguration(report: { _ in }, logger: quietLogger))
        let remote = PID.remote(.pid(ExternalPID(node: "far@away", id: 1, serial: 0, creation: 1)))
        // Without distribution: noDistribution names the pid.
        #expect(throws: ProcessError.noDistribution(remote)) { try node.send(Command.value(1), to: remote) }
        #expect(node.statistics.delivered == 0)
        ErlangPeer.ensureEPMD()
        var started: Result<Void, DistributionError>?
        try node.startDistribution(DistributionOptions(name: "e28_\(getpid())@localhost", cookie: .value("c"))) { started = $0 }
        while started == nil { _ = node.runOnce(blocking: true) }
        #expect(throws: ProcessError.notTermEncodable(remote, reason: "no Erlang term for Command (not TermEncodable)")) {
            try node.send(Command.value(1), to: remote)
        }
        #expect(node.statistics.delivered == 0)
        node.stopDistribution()
        #expect(node.close() == 0)
    }

    @Test("E29 startDistribution: an invalid name, a second start, the manual clock, an insecure cookie file")
    func startDistributionMisuse() throws {
        let node = Node(configuration: NodeConfiguration(report: { _ in }, logger: quietLogger))
        #expect(throws: DistributionError.invalidNodeName("no-host")) {
            try node.startDistribution(DistributionOptions(name: "no-host", cookie: .value("c"))) { _ in }
        }
        let path = NSTemporaryDirectory() + "e29-cookie-\(getpid())"
        try "x\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        chmod(path, 0o664)
        #expect(throws: DistributionError.insecureCookieFile(path: path, mode: "664")) {
            try node.startDistribution(DistributionOptions(name: "a@localhost", cookie: .file(path))) { _ in }
        }
        ErlangPeer.ensureEPMD()
        var started: Result<Void, DistributionError>?
        try node.startDistribution(DistributionOptions(name: "e29_\(getpid())@localhost", cookie: .value("c"))) { started = $0 }
        #expect(throws: DistributionError.alreadyStarted("e29_\(getpid())@localhost")) {
            try node.startDistribution(DistributionOptions(name: "other@localhost", cookie: .value("c"))) { _ in }
        }
        while started == nil { _ = node.runOnce(blocking: true) }
        #expect(node.close() == 0)
        let manual = Node.deterministic(report: { _ in })
        #expect(throws: DistributionError.needsSystemClock) {
            try manual.startDistribution(DistributionOptions(name: "m@localhost", cookie: .value("c"))) { _ in }
        }
    }

    @Test("E30 a second node under a name EPMD already holds fails with the epmd error, and the first keeps it")
    func nameTakenInEPMD() throws {
        ErlangPeer.ensureEPMD()
        let name = "e30_\(getpid())@localhost"
        let first = Node(configuration: NodeConfiguration(report: { _ in }, logger: quietLogger))
        var started: Result<Void, DistributionError>?
        try first.startDistribution(DistributionOptions(name: name, cookie: .value("c"))) { started = $0 }
        while started == nil { _ = first.runOnce(blocking: true) }
        #expect(first.nodeName == name)
        let second = Node(configuration: NodeConfiguration(report: { _ in }, logger: quietLogger))
        var refused: Result<Void, DistributionError>?
        try second.startDistribution(DistributionOptions(name: name, cookie: .value("c"))) { refused = $0 }
        while refused == nil { _ = second.runOnce(blocking: true) }
        guard case .failure(.epmd(let reason)) = refused else {
            Issue.record("expected an epmd error, got \(String(describing: refused))")
            return
        }
        #expect(reason.contains("already in use"))
        #expect(second.nodeName == nil)
        #expect(second.close() == 0)
        #expect(first.close() == 0)
    }

    @Test("E31 bytes that are not a term, and a term that is not the type asked for, are typed errors")
    func termErrors() {
        #expect(throws: TermFormatError.truncated(offset: 2)) { try ExternalTermFormat.decode([131, 109, 0, 0]) }
        #expect(throws: TermConversionError.mismatch(expected: "Int", got: .atom("x"))) { try Int(term: .atom("x")) }
        #expect(throws: TermConversionError.missingKey("id", in: .map([]))) {
            try TermDecoder().decode(E31Record.self, from: .map([]))
        }
    }
}

private struct E31Record: Codable { var id: Int }
