import Testing
@testable import OTP

@Suite("GenServer: start, stop and terminate")
struct GenServerLifecycleTests {
    @Test("a taken name gives alreadyStarted with the existing pid")
    func nameConflict() throws {
        let node = makeNode()
        let first = try node.start(Counter.self, 0, options: StartOptions(name: "only"))
        #expect(throws: StartError.alreadyStarted(first.pid!)) {
            try node.start(Counter.self, 1, options: StartOptions(name: "only"))
        }
        #expect(node.statistics.live == 1)
    }

    @Test("A server started from a process initialises inside its handler: the continuation runs before startServer returns, for a failed initialize too; one that awaits in initialize is waited for")
    func startAtOnce() throws {
        let node = makeNode()
        let events = Log<String>()
        try node.spawn(of: Never.self) { process in
            let step = try process.startServer(Counter.self, 5) { started, process in
                events.append("counter started: \((try? started.get()) != nil)")
                return try process.startServer(Counter.self, -1) { failed, _ in
                    if case .failure(.initFailed) = failed { events.append("negative refused") }
                    return .exit(.normal)
                }
            }
            events.append("startServer returned")
            return step
        }
        node.runUntilIdle()
        #expect(events.entries == ["counter started: true", "negative refused", "startServer returned"])
        #expect(node.statistics.live == 1)  // the counter

        let delayer = try node.start(Delayer.self, 10)
        let later = Log<String>()
        try node.spawn(of: Never.self) { process in
            let step = try process.startServer(Dependent.self, delayer) { started, _ in
                later.append("dependent started: \((try? started.get()) != nil)")
                return .exit(.normal)
            }
            later.append("startServer returned")
            return step
        }
        node.runUntilIdle()
        #expect(later.entries == ["startServer returned"])
        node.advance(by: 10)
        #expect(later.entries == ["startServer returned", "dependent started: true"])
    }

    @Test("startServer's continuation is an autoclosure: made once, after the server was made — initialised already when it started at once")
    func continuationMadeAfterStart() throws {
        let node = makeNode()
        let delayer = try node.start(Delayer.self, 10)
        let events = Log<String>(), later = Log<String>()
        func continuation<S: GenServer>(_ label: String, _ events: Log<String>)
            -> (Result<Started<S>, StartError>, ProcessContext<Never>) throws -> Step<Never>
        {
            events.append("\(label) made: \(node.statistics.live) live")
            return { started, _ in
                events.append("\(label) started: \((try? started.get()) != nil)")
                return .exit(.normal)
            }
        }
        try node.spawn(of: Never.self) { process in
            let step = try process.startServer(Counter.self, 5, then: continuation("counter", events))
            events.append("returned")
            return step
        }
        node.runUntilIdle()
        // The delayer, this process and the counter (initialised: it started at once).
        #expect(events.entries == ["counter made: 3 live", "counter started: true", "returned"])
        try node.spawn(of: Never.self) { process in
            let step = try process.startServer(Dependent.self, delayer, then: continuation("dependent", later))
            later.append("returned")
            return step
        }
        node.runUntilIdle()
        node.advance(by: 10)
        // Made once the dependent exists, its initialize waiting on the delayer: the delayer, the counter,
        // this process and the dependent.
        #expect(later.entries == ["dependent made: 4 live", "returned", "dependent started: true"])
    }

    @Test("init that throws, stops or ignores leaves neither process nor name")
    func initFailures() throws {
        let reports = Reports()
        let node = makeNode(reports: reports)
        #expect(throws: StartError.initFailed(.error(TestFailure(text: "init blew up")))) {
            try node.start(Picky.self, .fail, options: StartOptions(name: "picky"))
        }
        #expect(throws: StartError.initFailed(.custom("no thanks"))) {
            try node.start(Picky.self, .stop, options: StartOptions(name: "picky"))
        }
        #expect(throws: StartError.ignored) { try node.start(Picky.self, .ignore, options: StartOptions(name: "picky")) }
        #expect(node.whereis("picky") == nil)
        #expect(node.statistics.live == 0)
        #expect(node.statistics.monitors == 0)
        let ok = try node.start(Picky.self, .ok, options: StartOptions(name: "picky"))
        #expect(node.whereis("picky") == ok.pid)
    }

    @Test("a linked start whose init fails reports the failure and leaves the starter alive")
    func linkedInitFailure() throws {
        let node = makeNode()
        let log = Log<String>()
        let starter = try node.spawn(of: Never.self) { process in
            try process.startServer(Picky.self, .stop, options: StartOptions(link: true)) { result, _ in
                log.append("\(result)")
                return .receive { _, _ in .same }
            }
        }
        node.runUntilIdle()
        #expect(log.entries == ["failure(init failed: no thanks)"])
        #expect(node.isAlive(starter.pid))
        #expect(node.processInfo(starter.pid)?.mailboxLength == 0)
    }

    @Test("start from a process, linked and monitored")
    func startLinkedAndMonitored() throws {
        let node = makeNode()
        let log = Log<String>()
        let starter = try node.spawn(of: Never.self, options: SpawnOptions(trapExits: true)) { process in
            try process.startServer(Counter.self, 5, options: StartOptions(link: true, monitor: true)) { result, process in
                let started = try result.get()
                log.append("monitor \(started.monitor != nil)")
                return try process.call(started.server, .crash) { result, _ in
                    log.append("call \(result)")
                    return .receive { envelope, _ in
                        switch envelope {
                        case .down(let down): log.append("DOWN \(down.monitor == started.monitor) \(down.reason)")
                        case .exit(let signal): log.append("EXIT \(signal.reason)")
                        default: break
                        }
                        return .same
                    }
                }
            }
        }
        _ = starter
        node.runUntilIdle()
        #expect(log.entries.count == 4)
        #expect(log.entries[0] == "monitor true")
        #expect(log.entries[1].hasPrefix("call failure(server <0.") && log.entries[1].hasSuffix("exited during the call: error(TestFailure: crash in call))"))
        #expect(Set(log.entries[2...]) == ["EXIT error(TestFailure: crash in call)", "DOWN true error(TestFailure: crash in call)"])
    }

    @Test("a start timeout kills a slow init and reports timeout")
    func startTimeout() throws {
        let node = makeNode()
        let dependency = try node.start(Delayer.self, 500)
        #expect(throws: StartError.timeout) {
            try node.start(Dependent.self, dependency, options: StartOptions(name: "dependent", timeout: .milliseconds(50)))
        }
        #expect(node.now == 50)
        #expect(node.whereis("dependent") == nil)
        #expect(node.processes() == [dependency.pid!])
        let patient = try node.start(Dependent.self, dependency, options: StartOptions(timeout: .seconds(1)))
        #expect(try node.getState(patient).answer == "done")
    }

    @Test("stop with a reply: terminate runs first, then the caller gets the reply")
    func stopWithReply() throws {
        let node = makeNode()
        let events = Log<String>()
        let counter = try node.start(Counter.self, 9)
        try node.replaceState(counter) { var s = $0; s.events = events; return s }
        let log = Log<String>()
        try node.spawn(of: Never.self) { process in
            try process.call(counter, .stopWith(.shutdown, reply: true)) { result, _ in
                log.append("reply \(try result.get()) after \(events.entries)")
                return .exit(.normal)
            }
        }
        node.runUntilIdle()
        #expect(log.entries == ["reply 9 after [\"terminate shutdown\"]"])
        #expect(!node.isAlive(counter.pid!))
    }

    @Test("stop without a reply: the caller gets the exit reason")
    func stopWithoutReply() throws {
        let node = makeNode(reports: Reports())
        let counter = try node.start(Counter.self, 0)
        #expect(throws: CallError.serverExited(counter.pid!, reason: .custom("bye"))) {
            try node.call(counter, .stopWith(.custom("bye"), reply: false))
        }
    }

    @Test("synchronous stop runs terminate; a server that is not running gives noproc")
    func synchronousStop() throws {
        let node = makeNode()
        let events = Log<String>()
        let counter = try node.start(Counter.self, 0, options: StartOptions(name: "c"))
        try node.replaceState(counter) { var s = $0; s.events = events; return s }
        try node.stop(ServerRef<Counter>.named("c"), reason: .shutdownWith("maintenance"))
        #expect(events.entries == ["terminate {shutdown, maintenance}"])
        #expect(node.whereis("c") == nil)
        #expect(throws: CallError.unknownName("c")) { try node.stop(ServerRef<Counter>.named("c")) }
        #expect(throws: CallError.noProcess(counter.pid!)) { try node.stop(counter) }
    }

    @Test("terminate runs on a crash and on the parent's exit when trapping, not on kill")
    func terminateRules() throws {
        let node = makeNode(reports: Reports())
        let events = Log<String>()
        // Crash in a cast.
        let crashing = try node.start(Counter.self, 0)
        try node.replaceState(crashing) { var s = $0; s.events = events; return s }
        node.cast(crashing, .crash)
        node.runUntilIdle()
        #expect(events.entries == ["terminate error(TestFailure: crash in cast)"])
        // Killed: no terminate.
        let killed = try node.start(Counter.self, 0)
        try node.replaceState(killed) { var s = $0; s.events = events; return s }
        node.exit(killed.pid!, reason: .kill)
        node.runUntilIdle()
        #expect(events.entries.count == 1)
        // The parent exits while the server traps exits: terminate runs with the parent's reason.
        let parentLog = Log<ServerRef<Counter>>()
        let parent = try node.spawn(of: Int.self) { process in
            try process.startServer(Counter.self, 0, options: StartOptions(link: true, trapExits: true)) { result, _ in
                parentLog.append(try result.get().server)
                return .receive { _, _ in .exit(.custom("parent gone")) }
            }
        }
        node.runUntilIdle()
        let child = parentLog.entries[0]
        try node.replaceState(child) { var s = $0; s.events = events; return s }
        try node.send(1, to: parent)
        node.runUntilIdle()
        #expect(events.entries.last == "terminate parent gone")
        #expect(!node.isAlive(child.pid!))
    }

    @Test("an error thrown by terminate is reported and becomes the exit reason")
    func terminateThrows() throws {
        struct Fragile: GenServer {
            enum Call: Sendable { case stop }
            typealias Reply = Int
            mutating func handleCall(_ request: Call, from caller: Caller<Int>, _ server: ServerContext<Fragile>) throws
                -> ServerResult<Fragile> { .stop(.normal) }
            mutating func terminate(_ reason: ExitReason, _ server: ServerContext<Fragile>) throws {
                throw TestFailure(text: "cleanup failed")
            }
        }
        let reports = Reports()
        let node = makeNode(reports: reports)
        let server = try node.start(Fragile())
        #expect(throws: CallError.serverExited(server.pid!, reason: .error(TestFailure(text: "cleanup failed")))) {
            try node.call(server, .stop)
        }
        #expect(reports.log.entries.contains { $0.description.contains("terminate(normal) threw cleanup failed") })
    }

    @Test("normal and shutdown stops are quiet; other reasons write a crash report")
    func quietReasons() throws {
        let reports = Reports()
        let node = makeNode(reports: reports)
        for reason in [ExitReason.normal, .shutdown, .shutdownWith("x")] {
            try node.stop(try node.start(Counter.self, 0), reason: reason)
        }
        #expect(reports.log.entries.isEmpty)
        try node.stop(try node.start(Counter.self, 0), reason: .custom("odd"))
        #expect(reports.log.count == 1)
    }
}

@Suite("GenServer: actions and introspection")
struct GenServerActionTests {
    @Test("handleContinue runs right after init and before an already queued message")
    func continueBeforeQueuedMessage() throws {
        let node = makeNode()
        let log = Log<String>()
        let server = try node.start(Recorder.self, log)
        node.cast(server, .noteThenContinue("a"))
        node.cast(server, .note("b"))
        node.runUntilIdle()
        #expect(log.entries == ["init", "after init", "a", "continued a", "b"])
    }

    @Test("the idle timeout fires after the time without messages and a message cancels it")
    func idleTimeout() throws {
        let node = makeNode()
        let log = Log<String>()
        let server = try node.start(Recorder.self, log)
        node.cast(server, .idle(100))
        node.runUntilIdle()
        node.advance(by: 60)
        node.cast(server, .note("in time"))  // cancels the idle timeout (no new one is set)
        node.advance(by: 500)
        node.cast(server, .idle(100))
        node.advance(by: 100)
        #expect(log.entries.suffix(4) == ["idle 100", "in time", "idle 100", "timeout at 660"])
    }

    @Test("hibernate releases the mailbox buffer until the next message")
    func hibernate() throws {
        let node = makeNode()
        let server = try node.start(Recorder.self, Log<String>())
        for _ in 0..<100 { node.cast(server, .note("x")) }
        node.runUntilIdle()
        let before = try #require(node.processInfo(server.pid!)).memory
        node.cast(server, .hibernate)
        node.runUntilIdle()
        let after = try #require(node.processInfo(server.pid!)).memory
        #expect(after < before)
        #expect(try node.call(server, .ping) == "pong")
    }

    @Test("suspend queues calls and casts; get-state still answers; resume handles them in order")
    func suspendResume() throws {
        let node = makeNode()
        let counter = try node.start(Counter.self, 1)
        try node.suspend(counter)
        node.cast(counter, .add(10))
        let log = Log<String>()
        try node.spawn(of: Never.self) { process in
            try process.call(counter, .get) { result, _ in
                log.append("got \(try result.get())")
                return .exit(.normal)
            }
        }
        node.runUntilIdle()
        #expect(log.entries.isEmpty)
        #expect(try node.getState(counter).count == 1)
        try node.resume(counter)
        node.runUntilIdle()
        #expect(log.entries == ["got 11"])
    }

    @Test("replace-state changes the state; a throwing replacement leaves it unchanged and reports the error")
    func replaceState() throws {
        let node = makeNode()
        let counter = try node.start(Counter.self, 1)
        #expect(try node.replaceState(counter) { var s = $0; s.count = 40; return s }.count == 40)
        #expect(throws: TestFailure(text: "no")) {
            try node.replaceState(counter) { _ in throw TestFailure(text: "no") }
        }
        #expect(try node.call(counter, .add(2)) == 42)
    }

    @Test("trace reports every message in and every reply out while enabled")
    func trace() throws {
        let reports = Reports()
        let node = makeNode(reports: reports)
        let counter = try node.start(Counter.self, 0, options: StartOptions(name: "traced"))
        try node.trace(counter, true)
        _ = try node.call(counter, .add(3))
        node.cast(counter, .add(1))
        node.runUntilIdle()
        try node.trace(counter, false)
        _ = try node.call(counter, .get)
        let events = reports.log.entries.compactMap { entry -> String? in
            if case .trace(_, let name, let event) = entry { return "\(name ?? "-") \(event)" }
            return nil
        }
        #expect(events.count == 3)
        #expect(events[0].hasPrefix("traced in: call add(3) from <0."))
        #expect(events[1].hasPrefix("traced out: reply 3 to <0."))
        #expect(events[2] == "traced in: cast add(1)")
    }

    @Test("send_request, check_response and request-id collections let a server keep serving")
    func sendRequestCollections() throws {
        struct Fanout: GenServer {
            enum Call: Sendable { case sum([ServerRef<Counter>]) }
            typealias Reply = Int
            var requests = RequestIDCollection<Int, Int>()
            var total = 0
            var client: Caller<Int>?
            mutating func handleCall(_ request: Call, from caller: Caller<Int>, _ server: ServerContext<Fanout>) throws
                -> ServerResult<Fanout> {
                guard case .sum(let counters) = request else { return .noReply }
                for (i, counter) in counters.enumerated() {
                    requests.add(try server.sendRequest(counter, .get).get(), label: i)
                }
                client = caller
                total = 0
                return .noReply
            }
            mutating func handleInfo(_ message: InfoMessage<Never>, _ server: ServerContext<Fanout>) throws
                -> ServerResult<Fanout> {
                if let (_, result) = requests.check(message, server) {
                    total += (try? result.get()) ?? 1000
                    if requests.isEmpty, let client { server.reply(to: client, total) }
                }
                return .noReply
            }
        }
        let node = makeNode()
        let counters = try (1...3).map { try node.start(Counter.self, $0 * 10) }
        let dead = try node.start(Counter.self, 0)
        try node.stop(dead)
        let fanout = try node.start(Fanout())
        #expect(try node.call(fanout, .sum(counters + [dead])) == 10 + 20 + 30 + 1000)
        #expect(node.statistics.monitors == 0)
    }

    @Test("100,000 callers time out after 1 ms; the replies 20 ms later reach no mailbox; no request is left")
    func hundredThousandTimeouts() throws {
        let node = makeNode()
        let delayer = try node.start(Delayer.self, 20)
        let outcomes = Log<Bool>()
        var callers: [PID] = []
        callers.reserveCapacity(100_000)
        for _ in 0..<100_000 {
            callers.append(try node.spawn(of: Never.self) { process in
                try process.call(delayer, .slow, timeout: .milliseconds(1)) { result, _ in
                    if case .failure(.timeout) = result { outcomes.append(true) } else { outcomes.append(false) }
                    return .receive { _, _ in .same }
                }
            }.pid)
        }
        node.runUntilIdle()
        node.advance(by: 1)
        #expect(outcomes.count == 100_000)
        #expect(outcomes.entries.allSatisfy { $0 })
        node.advance(by: 50)  // the server answers all 100,000 stale callers now
        #expect(callers.allSatisfy { node.processInfo($0)?.mailboxLength == 0 })
        #expect(node.statistics.monitors == 0)
        #expect(node.statistics.ignoredReplies == 200_000)
        #expect(try node.call(delayer, .pending) == "0")
    }
}
