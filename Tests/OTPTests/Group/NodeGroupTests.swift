import Testing
@testable import OTP

/// A group on the manual clock: every loop on this thread, stepped in an order chosen from `seed`.
func makeGroup(loops: Int = 2, seed: UInt64 = 1, reports: Reports = Reports(), capacity: Int = 100_000) -> NodeGroup {
    NodeGroup(loops: loops, configuration: NodeConfiguration(clock: .manual, defaultMailboxCapacity: capacity,
                                                             report: reports.handler, logger: quietLogger),
              seed: seed)
}

/// Processes on different loops of one group behave as on one node: order, links, monitors, exit
/// signals, calls and names. Each test runs on the deterministic group driver.
@Suite("Node groups: processes across loops")
struct NodeGroupTests {
    @Test("Loops have consecutive numbers; a pid names its loop")
    func pidsNameTheirLoop() throws {
        let group = makeGroup(loops: 3)
        #expect(group.loops.map(\.loopIndex) == [0, 1, 2])
        #expect(group.loops[1].number == group.loops[0].number + 1)
        let a = try spawnIdler(group.loop(2))
        #expect(group.loop(of: a.pid) === group.loop(2))
        #expect(group.loop(of: PID(node: group.loops[0].number + 3, index: 1, serial: 0)) == nil)
        // The first process of each loop has index 0 there; they print apart, Erlang-shaped.
        let first = try spawnIdler(group.loop(0)), second = try spawnIdler(group.loop(1))
        #expect(first.pid.index == second.pid.index)
        #expect(first.pid.description != second.pid.description)
        #expect(PID(node: group.loops[1].number, index: 4, serial: 2).description == "<0.13.2>")  // 4 × 3 + 1
        #expect(MemoryLayout<Transit>.stride == 120)  // what docs/architecture.md says an item costs
        let key = group.loop(forKey: "user-42")
        #expect(group.loop(forKey: "user-42") === key)
    }

    @Test("Messages from one process to another on another loop arrive in send order, typed and untyped")
    func orderAcrossLoops() throws {
        for seed: UInt64 in [1, 2, 3] {
            let group = makeGroup(seed: seed)
            let log = Log<Envelope<Int>>()
            let receiver = try spawnCollector(group.loop(1), into: log)
            try group.loop(0).spawn(of: Never.self) { process in
                for i in 0..<3_000 {
                    if i % 2 == 0 { try process.send(i, to: receiver) } else { try process.node.send(i, to: receiver.pid) }
                }
                return .exit(.normal)
            }
            group.runUntilIdle()
            let received = log.entries.compactMap { if case .message(let v) = $0 { return v } else { return nil } }
            #expect(received.count == 3_000, "seed \(seed)")
            #expect(received.firstIndex { received[$0] != $0 } == nil, "seed \(seed): first out of order")
            #expect(group.loop(1).statistics.delivered == 3_000)
        }
    }

    @Test("A crash on one loop kills a linked process on another; a trapping one gets EXIT")
    func linksAcrossLoops() throws {
        let reports = Reports()
        let group = makeGroup(reports: reports)
        let crasher = try spawnIdler(group.loop(1))
        let victim = try spawnIdler(group.loop(0))
        let trapLog = Log<Envelope<Never>>()
        let trapper = try spawnCollector(group.loop(0), into: trapLog, options: SpawnOptions(trapExits: true))
        let victimWatch = Log<Envelope<Never>>()
        let watcher = try spawnCollector(group.loop(0), into: victimWatch)
        let ref = group.loop(0).monitor(victim.pid, by: watcher.pid)
        group.loop(0).link(victim.pid, crasher.pid)
        group.loop(0).link(trapper.pid, crasher.pid)
        group.runUntilIdle()
        #expect(group.loop(1).processInfo(crasher.pid)?.links.sorted() == [victim.pid, trapper.pid].sorted())
        try group.loop(1).send(.exit(.custom("boom")), to: crasher)
        group.runUntilIdle()
        #expect(victimWatch.entries == [.down(Down(monitor: ref, pid: victim.pid, reason: .custom("boom")))])
        #expect(trapLog.entries == [.exit(ExitSignal(from: crasher.pid, reason: .custom("boom")))])
        #expect(group.loop(0).processInfo(trapper.pid)?.links == [])
    }

    @Test("Linking to a dead process of another loop gives noproc; unlink stops a signal already sent")
    func linkEdges() throws {
        let group = makeGroup()
        let log = Log<Envelope<Never>>()
        let linker = try spawnCollector(group.loop(0), into: log, options: SpawnOptions(trapExits: true))
        let dead = try spawnIdler(group.loop(1))
        try group.loop(1).send(.exit(.normal), to: dead)
        group.runUntilIdle()
        group.loop(0).link(linker.pid, dead.pid)
        group.runUntilIdle()
        #expect(log.entries == [.exit(ExitSignal(from: dead.pid, reason: .noproc))])
        #expect(group.loop(0).processInfo(linker.pid)?.links == [])

        // Linked, then the target dies while the unlink is on its way: the EXIT finds no link.
        let other = try spawnIdler(group.loop(1))
        group.loop(0).link(linker.pid, other.pid)
        group.runUntilIdle()
        try group.loop(1).send(.exit(.custom("late")), to: other)  // queued on loop 1
        group.loop(0).unlink(linker.pid, other.pid)
        group.runUntilIdle()
        #expect(log.entries.count == 1)
    }

    @Test("Monitors across loops: DOWN with the reason, noproc for a dead target, none after demonitor")
    func monitorsAcrossLoops() throws {
        let group = makeGroup()
        let log = Log<Envelope<Never>>()
        let watcher = try spawnCollector(group.loop(0), into: log)
        let target = try spawnIdler(group.loop(1))
        let quiet = try spawnIdler(group.loop(1))
        let ref = group.loop(0).monitor(target.pid, by: watcher.pid)
        let dropped = group.loop(0).monitor(quiet.pid, by: watcher.pid)
        group.runUntilIdle()
        #expect(group.loop(0).demonitor(dropped, by: watcher.pid))
        try group.loop(1).send(.exit(.shutdownWith("done")), to: target)
        try group.loop(1).send(.exit(.custom("unseen")), to: quiet)
        group.runUntilIdle()
        let ghost = group.loop(0).monitor(target.pid, by: watcher.pid)  // dead by now
        group.runUntilIdle()
        #expect(log.entries == [
            .down(Down(monitor: ref, pid: target.pid, reason: .shutdownWith("done"))),
            .down(Down(monitor: ghost, pid: target.pid, reason: .noproc)),
        ])
        #expect(group.loop(0).statistics.monitors == 0)
        #expect(group.loop(1).siblingWatchCount == 0)
    }

    @Test("exit/2 to a process of another loop follows Erlang's table")
    func exitSignals() throws {
        let group = makeGroup()
        let log = Log<Envelope<Never>>()
        let trapper = try spawnCollector(group.loop(1), into: log, options: SpawnOptions(trapExits: true))
        let plain = try spawnIdler(group.loop(1))
        let sender = try spawnIdler(group.loop(0))
        group.loop(0).exit(plain.pid, reason: .normal, from: sender.pid)  // ignored
        group.loop(0).exit(trapper.pid, reason: .custom("x"), from: sender.pid)
        group.runUntilIdle()
        #expect(group.loop(1).processInfo(plain.pid) != nil)
        #expect(log.entries == [.exit(ExitSignal(from: sender.pid, reason: .custom("x")))])
        // From another loop itself, with no sender: the EXIT names none, as on one loop.
        group.loop(0).exit(trapper.pid, reason: .custom("node"))
        group.runUntilIdle()
        #expect(log.entries.last == .exit(ExitSignal(from: nil, reason: .custom("node"))))
        group.loop(0).exit(trapper.pid, reason: .kill, from: sender.pid)
        group.loop(0).exit(plain.pid, reason: .custom("y"), from: sender.pid)
        group.runUntilIdle()
        #expect(group.loop(1).processInfo(trapper.pid) == nil)
        #expect(group.loop(1).processInfo(plain.pid) == nil)
    }

    @Test("An untyped send to a process of another loop that accepts another type is refused there, reported, never delivered")
    func wrongTypeAcrossLoops() throws {
        let reports = Reports()
        let group = makeGroup(reports: reports)
        let log = Log<Envelope<Int>>()
        let receiver = try spawnCollector(group.loop(1), into: log)
        try group.loop(1).register("ints", receiver.pid)
        try group.loop(0).spawn(of: Never.self) { process in
            try process.node.send("by name", to: "ints")  // the sending loop cannot check: it is checked on arrival
            try process.node.send("by pid", to: receiver.pid)
            try process.node.send(7, to: receiver.pid)
            return .exit(.normal)
        }
        group.runUntilIdle()
        #expect(log.entries == [.message(7)])  // a String's bytes were once taken for an Int here
        let refused = "refused message to \(receiver.pid): process \(receiver.pid) accepts Int, not String"
        #expect(reports.log.entries.map { "\($0)" } == [refused, refused])
    }

    @Test("A call to a server on another loop: reply, crash as the call's error, and a late reply dropped")
    func callsAcrossLoops() throws {
        let group = makeGroup()
        let server = try group.loop(1).start(Counter.self, 40)
        let results = Log<String>()
        try group.loop(0).spawn(of: Never.self) { process in
            try process.call(server, .add(2)) { result, process in
                results.append("add \(try result.get())")
                return try process.call(server, .crash) { result, _ in
                    if case .failure(let error) = result { results.append("crash \(error)") }
                    return .exit(.normal)
                }
            }
        }
        group.runUntilIdle()
        #expect(results.entries.count == 2)
        #expect(results.entries.first == "add 42")
        #expect(results.entries.last?.hasPrefix("crash ") == true)
        #expect(group.loop(0).statistics.monitors == 0)
        #expect(group.loop(1).siblingWatchCount == 0)
    }

    @Test("A call's monitor: set up by its request, dropped with the server's own reply; a reply from another process leaves it to the caller's demonitor")
    func callMonitorAcrossLoops() throws {
        let group = makeGroup(loops: 3)
        let server = try group.loop(1).start(Counter.self, 0)
        // A server that hands its callers to a worker on a third loop, which replies in its place.
        let worker = try group.loop(2).spawn(of: Caller<Int>.self) { _ in
            .receive { envelope, _ in
                if case .message(let caller) = envelope { group.loop(2).reply(to: caller, 7) }
                return .same
            }
        }
        let delegator = try group.loop(1).start(Delegator(worker: worker))
        let results = Log<String>()
        try group.loop(0).spawn(of: Never.self) { process in
            try process.call(server, .add(1)) { first, process in
                results.append("server \(try first.get())")
                return try process.call(delegator, .get) { second, _ in
                    results.append("worker \(try second.get())")
                    return .receive(timeout: .zero, after: { _ in .exit(.normal) }) { envelope, _ in
                        results.append("unexpected \(envelope)")  // no DOWN may follow either reply
                        return .exit(.normal)
                    }
                }
            }
        }
        group.runUntilIdle()
        #expect(results.entries == ["server 1", "worker 7"])
        // Both monitors are gone on the servers' loop: the first with the server's reply, the second by the
        // caller's demonitor once the worker's reply came.
        #expect(group.loop(1).siblingWatchCount == 0)
        #expect(group.loop(0).statistics.monitors == 0)
        // What a call costs between two loops: its request, and the reply that drops its monitor.
        let shipped = (group.loop(0).transit.shipped, group.loop(1).transit.shipped)
        try group.loop(0).spawn(of: Never.self) { process in
            try process.call(server, .get) { _, _ in .exit(.normal) }
        }
        group.runUntilIdle()
        #expect(group.loop(0).transit.shipped - shipped.0 == 1 && group.loop(1).transit.shipped - shipped.1 == 1)
        #expect(group.loop(1).siblingWatchCount == 0 && group.loop(0).statistics.monitors == 0)
    }

    @Test("A request whose reply was delivered gets no DOWN when its server then dies, on one loop as across two")
    func sendRequestMonitorAcrossLoops() throws {
        for loops in [1, 2] {
            let group = makeGroup(loops: loops)
            let server = try group.loop(loops - 1).start(Counter.self, 0)
            let log = Log<Envelope<Int>>()
            let caller = try spawnCollector(group.loop(0), into: log)
            let id = try group.loop(0).beginCall(from: caller.pid, to: server, .stopWith(.custom("bye"), reply: true),
                                                 deferNoProcess: true).get()
            group.runUntilIdle()
            #expect(log.entries == [.reply(id.ref)], "\(loops) loop(s)")
            let watches = group.loops.map(\.siblingWatchCount)
            #expect(watches == Array(repeating: 0, count: loops))  // the server's reply dropped its monitor
            group.close()
        }
    }

    @Test("A server's exit ends the calls that reached it with its reason; one still on its way gets noproc")
    func serverExitEndsCallsAcrossLoops() throws {
        let group = makeGroup()
        let server = try group.loop(1).start(Delayer.self, 60_000)
        let pid = try #require(server.pid)
        let log = Log<Envelope<Int>>()
        let caller = try spawnCollector(group.loop(0), into: log)
        let held = try group.loop(0).beginCall(from: caller.pid, to: server, .slow, deferNoProcess: true).get()
        group.runUntilIdle()  // the server holds the first call (`.noReply`)
        #expect(group.loop(0).siblingRequestCount == 1)
        #expect(group.loop(1).siblingWatchCount == 0)  // the server's loop keeps nothing per call
        let onItsWay = try group.loop(0).beginCall(from: caller.pid, to: server, .slow, deferNoProcess: true).get()
        group.loop(1).exit(pid, reason: .kill)  // before the second request is taken from the channel
        #expect(group.loop(1).processInfo(pid) == nil)
        group.runUntilIdle()
        #expect(log.entries == [.down(Down(monitor: held.ref, pid: pid, reason: .killed)),
                                .down(Down(monitor: onItsWay.ref, pid: pid, reason: .noproc))])
        #expect(group.loop(0).siblingRequestCount == 0 && group.loop(0).statistics.monitors == 0)
        #expect(group.loop(1).siblingWatchCount == 0)
    }

    @Test("A call whose request and the server's kill travel in one batch ends with the kill's DOWN")
    func callAndKillInOneBatch() throws {
        let group = makeGroup()
        let server = try group.loop(1).start(Delayer.self, 60_000)
        let pid = try #require(server.pid)
        let log = Log<Envelope<Int>>()
        let caller = try spawnCollector(group.loop(0), into: log)
        group.runUntilIdle()
        // Both items go into the channel before loop 1 drains it: the request, then the exit signal. The
        // server exits while that drain carries out the second item, so the first counts as taken.
        let call = try group.loop(0).beginCall(from: caller.pid, to: server, .slow, deferNoProcess: true).get()
        group.loop(0).exit(pid, reason: .kill)
        group.runUntilIdle()
        #expect(log.entries == [.down(Down(monitor: call.ref, pid: pid, reason: .killed))])
        #expect(group.loop(0).siblingRequestCount == 0 && group.loop(0).statistics.monitors == 0)
    }

    @Test("Calls open to many servers of another loop: each server's exit ends exactly its own calls")
    func manyServersAcrossLoops() throws {
        let group = makeGroup()
        let started = try (0..<40).map { _ in try group.loop(1).start(Delayer.self, 60_000) }
        let servers = try started.map { try #require($0.pid) }
        let log = Log<Envelope<Int>>()
        let caller = try spawnCollector(group.loop(0), into: log)
        var refs: [PID: [Ref]] = [:]
        for round in 0..<2 {  // two calls each, so every server's chain holds more than one
            for (index, server) in servers.enumerated() where round == 0 || index % 3 != 0 {
                let id = try group.loop(0).beginCall(from: caller.pid, to: started[index], .slow,
                                                     deferNoProcess: true).get()
                refs[server, default: []].append(id.ref)
            }
        }
        group.runUntilIdle()
        let open = refs.values.map(\.count).reduce(0, +)
        #expect(group.loop(0).siblingRequestCount == open && group.loop(1).siblingWatchCount == 0)
        // Exits in an order unrelated to the calls' (the table moves heads back as servers go).
        var expected = open
        for server in servers.reversed() where server.index % 2 == 0 {
            group.loop(1).exit(server, reason: .kill)
            group.runUntilIdle()
            expected -= refs[server]!.count
            #expect(group.loop(0).siblingRequestCount == expected)
        }
        for server in servers where server.index % 2 != 0 {
            group.loop(1).exit(server, reason: .kill)
        }
        group.runUntilIdle()
        #expect(group.loop(0).siblingRequestCount == 0 && group.loop(0).statistics.monitors == 0)
        let downs = log.entries.compactMap { envelope -> Ref? in
            if case .down(let down) = envelope, down.reason == .killed, refs[down.pid]?.contains(down.monitor) == true {
                return down.monitor
            }
            return nil
        }
        #expect(downs.count == open && Set(downs).count == open)  // one DOWN per call, each from its own server
    }

    @Test("Past 64 loops a call's monitor is kept on the server's loop: reply and exit as below it")
    func callsFromLoopsPast64() throws {
        let group = makeGroup(loops: 65)
        let server = try group.loop(0).start(Delayer.self, 60_000)
        let pid = try #require(server.pid)
        let log = Log<Envelope<String>>()
        let caller = try spawnCollector(group.loop(64), into: log)
        let answered = try group.loop(64).beginCall(from: caller.pid, to: server, .pending, deferNoProcess: true).get()
        let held = try group.loop(64).beginCall(from: caller.pid, to: server, .slow, deferNoProcess: true).get()
        group.runUntilIdle()
        #expect(group.loop(0).siblingWatchCount == 1 && group.loop(64).siblingRequestCount == 0)
        group.loop(0).exit(pid, reason: .kill)
        group.runUntilIdle()
        #expect(log.entries == [.reply(answered.ref), .down(Down(monitor: held.ref, pid: pid, reason: .killed))])
        // The answered call's monitor stays until its reply is taken (a collector never takes it).
        #expect(group.loop(0).siblingWatchCount == 0 && group.loop(64).statistics.monitors == 1)
        group.close()
    }

    @Test("A call to another loop times out on the caller's clock; the late reply is counted, not delivered")
    func callTimeoutAcrossLoops() throws {
        let group = makeGroup()
        let server = try group.loop(1).start(Delayer.self, 500)
        let results = Log<String>()
        try group.loop(0).spawn(of: Never.self) { process in
            try process.call(server, .slow, timeout: .milliseconds(100)) { result, _ in
                if case .failure(let error) = result { results.append("\(error)") }
                return .receive { _, _ in .same }
            }
        }
        group.runUntilIdle()
        group.advance(by: 100)
        #expect(results.entries.count == 1)
        #expect(results.entries == ["call to \(server.pid!) timed out"])
        group.advance(by: 400)  // the server answers (twice) now: both replies arrive late
        #expect(group.loop(0).statistics.ignoredReplies == 2)
        #expect(results.entries.count == 1)
        #expect(group.loop(0).statistics.monitors == 0)
    }

    @Test("Names are one table for the group: unique, found from any loop, released on exit")
    func groupNames() throws {
        let group = makeGroup(loops: 3)
        let log = Log<Envelope<Int>>()
        let holder = try spawnCollector(group.loop(2), into: log, options: SpawnOptions(name: "kv"))
        #expect(group.loop(0).whereis("kv") == holder.pid)
        #expect(throws: ProcessError.nameTaken("kv", by: holder.pid)) {
            try spawnIdler(group.loop(1), options: SpawnOptions(name: "kv"))
        }
        try group.loop(0).send(7, to: "kv")
        group.runUntilIdle()
        #expect(log.entries == [.message(7)])
        #expect(group.loop(1).registered() == ["kv"])
        // Registered from another loop than the process's own.
        let other = try spawnIdler(group.loop(1))
        try group.loop(0).register("other", other.pid)
        group.runUntilIdle()
        #expect(group.loop(1).registeredName(of: other.pid) == "other")
        try group.loop(1).send(.exit(.normal), to: other)
        group.runUntilIdle()
        #expect(group.loop(2).whereis("other") == nil)
        try group.loop(2).unregister("kv")
        #expect(group.loop(0).whereis("kv") == nil)
        #expect(throws: ProcessError.unknownName("kv")) { try group.loop(1).unregister("kv") }
    }

    @Test("A full mailbox on another loop is reported to the sending loop, counted, and never silent")
    func fullMailboxAcrossLoops() throws {
        let reports = Reports()
        let group = makeGroup(reports: reports)
        let sink = try group.loop(1).spawn(of: Int.self, options: SpawnOptions(mailboxCapacity: 2)) { _ in
            .receive(matching: { _ in false }) { _, _ in .same }  // never takes anything
        }
        try group.loop(0).spawn(of: Never.self) { process in
            for i in 0..<5 { try process.send(i, to: sink) }
            return .exit(.normal)
        }
        group.runUntilIdle()
        #expect(group.loop(1).processInfo(sink.pid)?.mailboxLength == 2)
        #expect(group.loop(0).statistics.refusedMailboxFull == 3)
        let refused = reports.log.entries.filter { if case .refused = $0 { return true } else { return false } }
        #expect(refused.count == 3)
    }

    @Test("A call that finds its server's mailbox on another loop full is refused, reported there, and times out")
    func fullServerAcrossLoops() throws {
        let reports = Reports()
        let group = makeGroup(reports: reports)
        let server = try group.loop(1).start(Counter.self, 5, options: StartOptions(mailboxCapacity: 1))
        let results = Log<String>()
        for _ in 0..<2 {  // both requests are drained in one batch: the first fills the mailbox
            try group.loop(0).spawn(of: Never.self) { process in
                try process.call(server, .get, timeout: .milliseconds(100)) { result, _ in
                    switch result {
                    case .success(let count): results.append("reply \(count)")
                    case .failure(let error): results.append("\(error)")
                    }
                    return .exit(.normal)
                }
            }
        }
        group.runUntilIdle()
        #expect(results.entries == ["reply 5"])
        #expect(group.loop(1).statistics.refusedMailboxFull == 1)
        #expect(group.loop(0).statistics.refusedMailboxFull == 1)
        #expect(reports.log.entries.map { "\($0)" }
                    == ["refused message to \(server.pid!): \(ProcessError.mailboxFull(server.pid!, capacity: 1))"])
        group.advance(by: 100)
        #expect(results.entries == ["reply 5", "call to \(server.pid!) timed out"])
        #expect(group.loop(0).statistics.monitors == 0 && group.loop(0).siblingRequestCount == 0)
    }

    @Test("A sender past the transit limit is refused with mailboxFull; what was accepted arrives, in order")
    func transitLimit() throws {
        let group = NodeGroup(loops: 2, configuration: NodeConfiguration(clock: .manual, logger: quietLogger),
                              transitLimit: 10)
        let log = Log<Envelope<Int>>()
        let sink = try spawnCollector(group.loop(1), into: log)
        let outcome = Log<String>()
        try group.loop(0).spawn(of: Never.self) { process in
            for i in 0..<2_000 {
                do {
                    try process.send(i, to: sink)
                } catch {
                    outcome.append("\(i): \(error)")
                    break
                }
            }
            return .exit(.normal)
        }
        group.runUntilIdle()
        let accepted = LoopChannel.capacity + 10
        #expect(outcome.entries == ["\(accepted): \(ProcessError.mailboxFull(sink.pid, capacity: 10))"])
        #expect(log.entries == (0..<accepted).map { .message($0) })
    }

    @Test("A message refused at the transit limit is destroyed on the spot: nothing it holds outlives the refusal")
    func refusedMessageDestroyed() throws {
        final class Token: Sendable {
            let id: Int, freed: Log<Int>
            init(_ id: Int, freed: Log<Int>) { (self.id, self.freed) = (id, freed) }
            deinit { freed.append(id) }
        }
        let group = NodeGroup(loops: 2, configuration: NodeConfiguration(clock: .manual, logger: quietLogger),
                              transitLimit: 10)
        let freed = Log<Int>(), seenAtRefusal = Log<[Int]>()
        let sink = try group.loop(1).spawn(of: Token.self) { _ in .receive { _, _ in .same } }
        try group.loop(0).spawn(of: Never.self) { process in
            for i in 0..<2_000 {
                do {
                    try process.send(Token(i, freed: freed), to: sink)
                } catch {
                    seenAtRefusal.append(freed.entries)
                    break
                }
            }
            return .exit(.normal)
        }
        group.runUntilIdle()
        let accepted = LoopChannel.capacity + 10
        #expect(seenAtRefusal.entries == [[accepted]])  // the refused one, and only it, freed before the sender went on
        // The accepted ones once handled, each once (the refused one was freed first).
        #expect(freed.entries.count == accepted + 1 && Set(freed.entries).count == accepted + 1)
    }

    @Test("The same seed gives the same interleaving of two loops' senders")
    func reproducible() throws {
        func run(seed: UInt64) throws -> [Int] {
            let group = makeGroup(loops: 3, seed: seed)
            let log = Log<Envelope<Int>>()
            let collector = try spawnCollector(group.loop(0), into: log)
            for loop in 1...2 {
                try group.loop(loop).spawn(of: Never.self) { process in
                    for i in 0..<200 { try process.send(loop * 1000 + i, to: collector) }
                    return .exit(.normal)
                }
            }
            group.runUntilIdle()
            return log.entries.compactMap { if case .message(let v) = $0 { return v } else { return nil } }
        }
        let first = try run(seed: 7)
        #expect(first.count == 400)
        #expect(try run(seed: 7) == first)
        #expect(first.filter { $0 < 2000 } == Array(1000..<1200))  // per-pair order within any interleaving
    }

    @Test("Closing a loop fires links and monitors held on the other loops")
    func closingOneLoop() throws {
        let group = makeGroup()
        let log = Log<Envelope<Never>>()
        let watcher = try spawnCollector(group.loop(0), into: log)
        let target = try spawnIdler(group.loop(1))
        let ref = group.loop(0).monitor(target.pid, by: watcher.pid)
        group.runUntilIdle()
        _ = group.loop(1).close()
        group.runUntilIdle()
        #expect(log.entries == [.down(Down(monitor: ref, pid: target.pid, reason: .shutdown))])
        group.close()
    }

    /// After a loop has closed, its pids are a dead process's: what is sent to them afterwards is answered
    /// by the sender's loop as the closed loop answered it (`GroupCore.Phase`).
    @Test("A call, monitor, link, message and spawn to a closed loop are answered as for a dead process")
    func afterALoopClosed() throws {
        let group = makeGroup()
        let server = try group.loop(1).start(Counter.self, 0)
        let idler = try spawnIdler(group.loop(1))
        group.runUntilIdle()
        _ = group.loop(1).close()
        let log = Log<String>()
        try group.loop(0).spawn(of: Never.self, options: SpawnOptions(trapExits: true)) { process in
            let ref = process.monitor(idler.pid)
            process.link(idler.pid)
            try process.send(.value(1), to: idler)
            return try process.call(server, .get) { result, process in
                log.append("call: \(result)")
                return try process.spawn(of: Int.self, on: group.loop(1), { _ in .receive { _, _ in .same } }) {
                    spawned, _ in
                    log.append("spawn: \(spawned.map(\.pid))")
                    return .receive { envelope, _ in
                        switch envelope {
                        case .down(let down) where down.monitor == ref: log.append("down: \(down.reason)")
                        case .exit(let exit): log.append("exit: \(exit.reason)")
                        default: log.append("other: \(envelope)")
                        }
                        return .same
                    }
                }
            }
        }
        try group.loop(0).register("gone", idler.pid)  // registered, then released when the name arrives
        #expect(group.whereis("gone") == idler.pid)
        group.runUntilIdle()
        #expect(log.entries == ["call: failure(process \(server.pid!) is not alive (noproc))",
                                "spawn: failure(the node is stopped)", "down: noproc", "exit: noproc"])
        #expect(group.whereis("gone") == nil)
        #expect(group.loop(0).statistics.droppedToDeadProcesses == 1)
        #expect(group.loop(0).statistics.monitors == 0)
        group.close()
    }

    /// A request already in the channel when its server's loop closes finds the server gone there, and its
    /// caller gets `noProcess`, as a request that reaches a server after its exit does on one loop.
    @Test("A request in flight when the server's loop closes ends with noProcess")
    func requestInFlightWhenALoopCloses() throws {
        let group = makeGroup()
        let server = try group.loop(1).start(Counter.self, 0)
        group.runUntilIdle()
        let log = Log<String>()
        try group.loop(0).spawn(of: Never.self) { process in
            try process.call(server, .get) { result, _ in
                log.append("\(result)")
                return .exit(.normal)
            }
        }
        group.loop(0).step()  // the request is in loop 1's channel, not taken
        _ = group.loop(1).close()
        group.runUntilIdle()
        #expect(log.entries == ["failure(process \(server.pid!) is not alive (noproc))"])
        group.close()
    }
}

/// Placing processes on other loops from process code: spawn and GenServer start, answered
/// asynchronously as Erlang's `spawn_request` and `proc_lib:start` are.
@Suite("Node groups: placement")
struct NodeGroupPlacementTests {
    @Test("A process spawns a linked closure process on another loop and talks to it")
    func spawnOnAnotherLoop() throws {
        let group = makeGroup()
        let log = Log<String>()
        let target = group.loop(1)
        let parent = try group.loop(0).spawn(of: Int.self, options: SpawnOptions(trapExits: true)) { process in
            try process.spawn(of: Int.self, on: target, link: true, { child in
                .receive { envelope, _ in
                    if case .message(let n) = envelope { return .exit(.custom("got \(n)")) }
                    return .same
                }
            }) { result, process in
                let child = try result.get()
                log.append("spawned on \(child.pid.node == target.number ? "loop 1" : "?")")
                try process.send(5, to: child)
                return .receive { envelope, _ in
                    if case .exit(let signal) = envelope { log.append("EXIT \(signal.reason)") }
                    return .same
                }
            }
        }
        group.runUntilIdle()
        #expect(log.entries == ["spawned on loop 1", "EXIT got 5"])
        #expect(group.loop(0).processInfo(parent.pid)?.links == [])
        #expect(group.loop(1).statistics.live == 0)
    }

    @Test("A spawn on another loop reports its error: a name taken anywhere in the group, a node of no group")
    func spawnErrors() throws {
        let group = makeGroup()
        let holder = try spawnIdler(group.loop(0), options: SpawnOptions(name: "taken"))
        let stranger = makeNode()
        let log = Log<String>()
        try group.loop(0).spawn(of: Never.self) { process in
            try process.spawn(Waiter(), on: group.loop(1), options: SpawnOptions(name: "taken")) { result, process in
                if case .failure(let error) = result { log.append("\(error)") }
                return try process.spawn(Waiter(), on: stranger) { result, _ in
                    if case .failure(let error) = result { log.append("\(error)") }
                    return .exit(.normal)
                }
            }
        }
        group.runUntilIdle()
        #expect(log.entries == [ProcessError.nameTaken("taken", by: holder.pid).description,
                                ProcessError.notInGroup(node: stranger.number).description])
        #expect(group.loop(0).statistics.monitors == 0)
    }

    @Test("A GenServer started on another loop: started, called, a failing init, a name already taken")
    func startOnAnotherLoop() throws {
        let group = makeGroup()
        let log = Log<String>()
        let other = group.loop(1)
        try group.loop(0).spawn(of: Never.self) { process in
            try process.startServer(Counter.self, 10, on: other, options: StartOptions(name: "counter")) { result, process in
                let server = try result.get().server
                log.append("started on \(server.pid!.node == other.number ? "loop 1" : "?")")
                return try process.call(server, .add(5)) { reply, process in
                    log.append("call \(try reply.get())")
                    return try process.startServer(Picky.self, .stop, on: other) { result, process in
                        if case .failure(let error) = result { log.append("\(error)") }
                        return try process.startServer(Counter.self, 0, on: other, options: StartOptions(name: "counter")) { result, _ in
                            if case .failure(.alreadyStarted(let pid)) = result { log.append("already \(pid == server.pid)") }
                            return .exit(.normal)
                        }
                    }
                }
            }
        }
        group.runUntilIdle()
        #expect(log.entries == ["started on loop 1", "call 15", "init failed: no thanks", "already true"])
        #expect(group.loop(0).statistics.monitors == 0)
        #expect(group.loop(1).siblingWatchCount == 0)
    }

    @Test("Placement by key routes as Elixir's PartitionSupervisor: integers in turn, strings by a fixed hash")
    func placementByKeyRule() throws {
        let group = makeGroup(loops: 4)
        #expect((0..<9).map { group.loop(forKey: $0).loopIndex } == [0, 1, 2, 3, 0, 1, 2, 3, 0])
        #expect(group.loop(forKey: -6).loopIndex == 2)  // by magnitude, as rem(abs(key), partitions)
        #expect(group.loop(forKey: UInt8(7)).loopIndex == 3)
        #expect(group.loop(forKey: UInt64.max).loopIndex == 3)
        // FNV-1a with a finaliser, fixed: the same loops in every run (these are the hash's values mod 4).
        #expect(["user-0", "user-1", "user-2", "user-3", "user-42", "", "é"].map { group.loop(forKey: $0).loopIndex }
                == [2, 1, 3, 0, 1, 2, 3])
        #expect(group.loop(forKey: "user-2"[...]) === group.loop(forKey: "user-2"))
        // A supervisor's child placed by key lands where `loop(forKey:)` says.
        let child = ChildSpec.process("w", Waiter())
        for key in ["user-1", "user-2", "user-3"] {
            #expect(child.onLoop(forKey: key).target(from: group.loop(0)) === group.loop(forKey: key))
        }
        for key in 0..<8 { #expect(child.onLoop(forKey: key).target(from: group.loop(0)) === group.loop(forKey: key)) }
    }

    @Test("Placement by key always picks the same loop; least loaded picks the emptier loop")
    func placementChoices() throws {
        let group = makeGroup(loops: 4)
        for key in ["a", "b", "c", "d", "e"] { #expect(group.loop(forKey: key) === group.loop(forKey: key)) }
        for _ in 0..<10 { try spawnIdler(group.loop(0)) }
        for _ in 0..<5 { try spawnIdler(group.loop(1)) }
        for _ in 0..<5 { try spawnIdler(group.loop(3)) }
        group.runUntilIdle()
        #expect(group.leastLoaded() === group.loop(2))
    }
}

/// A process that waits for messages and ignores them.
struct Waiter: ProcessBehavior, Sendable {
    mutating func receive(_ envelope: consuming Envelope<Int>, _ process: ProcessContext<Int>) throws -> Next { .receive }
}

/// Supervisors whose children run on other loops of the group.
@Suite("Node groups: supervision across loops")
struct NodeGroupSupervisionTests {
    @Test("Children on other loops start in order, restart on their loop after a crash, and stop in reverse order")
    func childrenOnOtherLoops() throws {
        let group = makeGroup(loops: 3)
        let spec = SupervisorSpec(strategy: .oneForOne, intensity: RestartIntensity(maxRestarts: 5, period: .seconds(5)), children: [
            ChildSpec.server("a", Counter.self, 1, name: "a").onLoop(1),
            ChildSpec.server("b", Counter.self, 2, name: "b").onLoop(2),
            ChildSpec.process("c", Waiter(), name: "c").onLoop(1),
        ])
        let log = Log<String>()
        let starter = try group.loop(0).spawn(of: Never.self, options: SpawnOptions(trapExits: true)) { process in
            try process.startServer(Supervisor.self, spec, options: StartOptions(name: "sup", link: true)) { result, _ in
                switch result {
                case .success: log.append("started")
                case .failure(let error): log.append("\(error)")
                }
                return .receive { _, _ in .same }
            }
        }
        group.runUntilIdle()
        #expect(log.entries == ["started"])
        let a = try #require(group.whereis("a")), b = try #require(group.whereis("b")), c = try #require(group.whereis("c"))
        #expect(group.loop(of: a) === group.loop(1) && group.loop(of: b) === group.loop(2) && group.loop(of: c) === group.loop(1))
        let sup = try #require(group.whereis("sup"))
        #expect(group.loop(0).processInfo(sup)?.links.count == 4)  // its starter and three children

        // A crash on loop 1: restarted there, with a new pid; the others untouched.
        group.loop(2).exit(a, reason: .custom("boom"))
        group.runUntilIdle()
        let restarted = try #require(group.whereis("a"))
        #expect(restarted != a && group.loop(of: restarted) === group.loop(1))
        #expect(group.whereis("b") == b)

        // Stopping the supervisor stops its children newest first, each on its own loop.
        let downs = Log<Envelope<Never>>()
        let watcher = try spawnCollector(group.loop(0), into: downs)
        for pid in [restarted, b, c] { _ = group.loop(0).monitor(pid, by: watcher.pid) }
        group.runUntilIdle()
        group.loop(0).exit(starter.pid, reason: .kill)  // the supervisor's parent: it stops in order
        group.runUntilIdle()
        let order = downs.entries.compactMap { envelope -> PID? in if case .down(let down) = envelope { return down.pid } else { return nil } }
        #expect(order == [c, b, restarted])
        #expect(group.whereis("sup") == nil && group.whereis("a") == nil)
        for loop in group.loops { #expect(loop.statistics.live == (loop === group.loop(0) ? 1 : 0)) }  // the watcher
    }

    @Test("A child that cannot start on its loop fails the supervisor's start with that loop's error")
    func childFailsOnAnotherLoop() throws {
        let group = makeGroup(loops: 2)
        let holder = try spawnIdler(group.loop(1), options: SpawnOptions(name: "taken"))
        let spec = SupervisorSpec(children: [ChildSpec.server("x", Counter.self, 0, name: "taken").onLoop(1)])
        let log = Log<String>()
        try group.loop(0).spawn(of: Never.self) { process in
            try process.startServer(Supervisor.self, spec) { result, _ in
                if case .failure(let error) = result { log.append("\(error)") }
                return .exit(.normal)
            }
        }
        group.runUntilIdle()
        #expect(log.entries == ["init failed: error(SupervisorError: child x failed to start: already started as \(holder.pid))"])
        #expect(group.loop(0).statistics.monitors == 0 && group.loop(1).siblingWatchCount == 0)
    }
}

/// Hands each caller to `worker`, which replies in its place (`Node.reply(to:_:)` from another process).
struct Delegator: GenServer, Sendable {
    enum Call: Sendable { case get }
    typealias Cast = Never
    typealias Info = Never
    typealias Reply = Int
    let worker: Address<Caller<Int>>

    mutating func handleCall(_ request: Call, from caller: Caller<Int>, _ server: ServerContext<Delegator>) throws
        -> ServerResult<Delegator>
    {
        try server.node.send(caller, to: worker)
        return .noReply
    }
}
