import Testing
@testable import OTP

@Suite("Supervisor")
struct SupervisorTests {
    func threeWorkers(_ stage: Stage) -> [ChildSpec] {
        [worker("a", stage), worker("b", stage), worker("c", stage)]
    }

    @Test func childrenStartInOrderAndAreReported() throws {
        let stage = Stage()
        let node = supervisionNode()
        let sup = try node.start(Supervisor.self, SupervisorSpec(children: threeWorkers(stage)))
        #expect(stage.events.entries == ["init a", "init b", "init c"])
        let children = try node.whichChildren(sup)
        #expect(children.map(\.id) == ["a", "b", "c"])
        #expect(children.allSatisfy { $0.pid != nil && $0.type == .worker && $0.restart == .permanent })
        #expect(try node.countChildren(sup) == ChildCounts(specs: 3, active: 3, supervisors: 0, workers: 3))
        #expect(try node.call(ServerRef<Worker>(pid: node.child(sup, "b")), .id) == "b")
    }

    @Test func oneForOneRestartsOnlyTheChildThatExited() throws {
        let stage = Stage()
        let node = supervisionNode()
        let sup = try node.start(Supervisor.self, SupervisorSpec(strategy: .oneForOne, children: threeWorkers(stage)))
        let before = try node.childPIDs(sup)
        node.crash(before[1]!)
        let after = try node.childPIDs(sup)
        #expect(after[0] == before[0] && after[2] == before[2])
        #expect(after[1] != nil && after[1] != before[1])
        #expect(stage.events.entries == ["init a", "init b", "init c", "init b"])
    }

    @Test func oneForAllRestartsEveryChildInOrder() throws {
        let stage = Stage()
        let node = supervisionNode()
        let sup = try node.start(Supervisor.self, SupervisorSpec(strategy: .oneForAll, children: threeWorkers(stage)))
        let before = try node.childPIDs(sup)
        node.crash(before[1]!)
        let after = try node.childPIDs(sup)
        #expect(zip(before, after).allSatisfy { $0 != $1 && $1 != nil })
        // b died (killed: no terminate); the others stop newest first, then all start in order.
        #expect(Array(stage.events.entries.dropFirst(3))
                == ["terminate c shutdown", "terminate a shutdown", "init a", "init b", "init c"])
    }

    @Test func restForOneRestartsTheChildAndThoseStartedAfterIt() throws {
        let stage = Stage()
        let node = supervisionNode()
        let sup = try node.start(Supervisor.self, SupervisorSpec(strategy: .restForOne, children: threeWorkers(stage)))
        let before = try node.childPIDs(sup)
        node.crash(before[1]!)
        let after = try node.childPIDs(sup)
        #expect(after[0] == before[0])
        #expect(after[1] != before[1] && after[2] != before[2] && after[1] != nil && after[2] != nil)
        #expect(Array(stage.events.entries.dropFirst(3)) == ["terminate c shutdown", "init b", "init c"])
    }

    static let exits: [(RestartType, ExitReason, Bool)] = [
        (.permanent, .normal, true), (.permanent, .shutdown, true), (.permanent, .custom("crash"), true),
        (.transient, .normal, false), (.transient, .shutdown, false), (.transient, .shutdownWith("done"), false),
        (.transient, .custom("crash"), true), (.transient, .killed, true),
        (.temporary, .normal, false), (.temporary, .shutdown, false), (.temporary, .custom("crash"), false),
    ]

    @Test(arguments: 0..<exits.count)
    func restartTypeDecidesWhetherAnExitIsRestarted(_ index: Int) throws {
        let (restart, reason, restarted) = Self.exits[index]
        let stage = Stage()
        let node = supervisionNode(reports: Reports())
        let sup = try node.start(Supervisor.self, SupervisorSpec(children: [worker("w", stage, restart: restart)]))
        let first = try node.child(sup, "w")
        if reason == .killed {
            node.crash(first, reason: .kill)
        } else {
            node.cast(ServerRef<Worker>(pid: first), .exit(reason))
            node.runUntilIdle()
        }
        let children = try node.whichChildren(sup)
        if restarted {
            #expect(children.count == 1 && children[0].pid != nil && children[0].pid != first)
        } else if restart == .temporary {
            #expect(children.isEmpty)  // a temporary child is forgotten
        } else {
            #expect(children.map(\.state) == [.undefined])
        }
        #expect(stage.events("init").count == (restarted ? 2 : 1))
    }

    @Test func intensityExceededWithinThePeriodStopsTheSupervisorAbnormally() throws {
        let stage = Stage()
        let log = CapturedLog()
        let node = supervisionNode(log, reports: Reports())
        let spec = SupervisorSpec(intensity: RestartIntensity(maxRestarts: 2, period: .seconds(5)),
                                  children: threeWorkers(stage))
        let sup = try node.start(Supervisor.self, spec)
        let supPID = try #require(sup.pid)
        let exits = try watchExit(node, supPID)
        node.crash(try node.child(sup, "a"))
        node.advance(by: 2_000)
        node.crash(try node.child(sup, "a"))
        node.advance(by: 2_000)
        #expect(node.isAlive(supPID))
        node.crash(try node.child(sup, "a"))  // third restart within 5 s: one too many
        #expect(!node.isAlive(supPID))
        #expect(exits.entries == [.error(SupervisorError.reachedMaxRestartIntensity(maxRestarts: 2,
                                                                                     period: .seconds(5)))])
        #expect(Array(stage.events.entries.suffix(2)) == ["terminate c shutdown", "terminate b shutdown"])
        #expect(node.processes().isEmpty)
        #expect(log.messages("reached max restart intensity, shutting down").count == 1)
    }

    @Test func restartsOlderThanThePeriodAreForgotten() throws {
        let stage = Stage()
        let node = supervisionNode()
        let spec = SupervisorSpec(intensity: RestartIntensity(maxRestarts: 2, period: .seconds(5)),
                                  children: threeWorkers(stage))
        let sup = try node.start(Supervisor.self, spec)
        let supPID = try #require(sup.pid)
        for _ in 0..<6 {  // one restart every 2.5 s: never more than two within any 5 s
            node.crash(try node.child(sup, "b"))
            node.advance(by: 2_500)
        }
        #expect(node.isAlive(supPID))
        #expect(stage.events("init b").count == 7)
    }

    @Test func zeroIntensityStopsAtTheFirstRestart() throws {
        let stage = Stage()
        let node = supervisionNode(reports: Reports())
        let spec = SupervisorSpec(intensity: RestartIntensity(maxRestarts: 0, period: .seconds(1)),
                                  children: [worker("a", stage), worker("t", stage, restart: .transient)])
        let sup = try node.start(Supervisor.self, spec)
        let supPID = try #require(sup.pid)
        node.cast(ServerRef<Worker>(pid: try node.child(sup, "t")), .exit(.normal))  // not restarted: no count
        node.runUntilIdle()
        #expect(node.isAlive(supPID))
        node.crash(try node.child(sup, "a"))
        #expect(!node.isAlive(supPID))
    }

    @Test func aFailedChildStartRollsBackAndFailsTheSupervisorStart() throws {
        let stage = Stage()
        stage.failStarts(of: "b")
        let log = CapturedLog()
        let node = supervisionNode(log)
        #expect(throws: StartError.initFailed(.error(SupervisorError.childStartFailed(
            id: "b", .initFailed(.custom("b refused to start")))))) {
            try node.start(Supervisor.self, SupervisorSpec(children: threeWorkers(stage)))
        }
        #expect(stage.events.entries == ["init a", "terminate a shutdown"])
        #expect(node.processes().isEmpty)
        #expect(log.messages("child failed to start").first?.metadata["child"] == "b")
    }

    @Test func duplicateIDsAndInvalidSpecsAreRefused() throws {
        let stage = Stage()
        let node = supervisionNode()
        #expect(throws: StartError.initFailed(.error(SupervisorError.duplicateChildID("a")))) {
            try node.start(Supervisor.self, SupervisorSpec(children: [worker("a", stage), worker("a", stage)]))
        }
        #expect(throws: StartError.initFailed(.error(SupervisorError.invalidChildSpec(
            id: "x", "negative shutdown timeout -1 ms")))) {
            try node.start(Supervisor.self, SupervisorSpec(children: [
                worker("x", stage, shutdown: .timeout(.milliseconds(-1)))]))
        }
        #expect(node.processes().isEmpty)
    }

    @Test func shutdownStopsChildrenNewestFirstEachByItsPolicy() throws {
        let stage = Stage()
        let log = CapturedLog()
        let node = supervisionNode(log)
        let spec = SupervisorSpec(children: [
            worker("a", stage),
            .process("stubborn", Stubborn(), shutdown: .timeout(.seconds(2)), trapExits: true),
            worker("brutal", stage, shutdown: .brutalKill),
            worker("c", stage),
        ])
        let sup = try node.start(Supervisor.self, spec)
        let stubborn = try node.child(sup, "stubborn")
        let t0 = node.currentTime
        try node.stop(sup, reason: .shutdown)
        // c (terminate), brutal (killed: no terminate), stubborn (killed after 2 s), a (terminate).
        #expect(Array(stage.events.entries.dropFirst(3)) == ["terminate c shutdown", "terminate a shutdown"])
        #expect(node.currentTime - t0 == 2_000)
        #expect(!node.isAlive(stubborn))
        let killed = log.messages("child killed after its shutdown timeout")
        #expect(killed.map { $0.metadata["child"] } == ["stubborn"])
        #expect(node.processes().isEmpty)
    }

    @Test func namedChildrenAreRegisteredAgainOnRestart() throws {
        let stage = Stage()
        let node = supervisionNode()
        let sup = try node.start(Supervisor.self, SupervisorSpec(children: [worker("cache", stage, name: "cache")]))
        let first = try #require(node.whereis("cache"))
        node.crash(first)
        let second = try #require(node.whereis("cache"))
        #expect(second != first)
        #expect(try node.child(sup, "cache") == second)
    }

    @Test func exitSignalsFromStrangersRestartNothing() throws {
        let stage = Stage()
        let node = supervisionNode()
        let sup = try node.start(Supervisor.self, SupervisorSpec(children: threeWorkers(stage)))
        let supPID = try #require(sup.pid)
        let before = try node.childPIDs(sup)
        let stranger = try spawnIdler(node)
        node.link(stranger.pid, supPID)
        try node.send(.exit(.custom("stranger died")), to: stranger)
        node.runUntilIdle()
        node.exit(supPID, reason: .custom("not from a child"), from: before[0])  // a child's pid, but no exit
        node.runUntilIdle()
        #expect(try node.childPIDs(sup) == before)
        #expect(stage.events.count == 3)
    }

    @Test func theParentsExitSignalStopsTheTreeInOrder() throws {
        let stage = Stage()
        let node = supervisionNode()
        let started = Log<PID>()
        let parent = try node.spawn(of: Command.self) { process in
            try process.startServer(Supervisor.self, SupervisorSpec(children: [worker("a", stage), worker("b", stage)]),
                                    options: StartOptions(link: true)) { result, _ in
                started.append(try result.get().server.pid!)
                return .receive { envelope, _ in
                    if case .message(.exit(let reason)) = envelope { return .exit(reason) }
                    return .same
                }
            }
        }
        node.runUntilIdle()
        let supPID = try #require(started.entries.first)
        let exits = try watchExit(node, supPID)
        try node.send(.exit(.custom("parent failed")), to: parent)
        node.runUntilIdle()
        #expect(exits.entries == [.custom("parent failed")])
        #expect(Array(stage.events.entries.dropFirst(2)) == ["terminate b shutdown", "terminate a shutdown"])
        #expect(node.processes().isEmpty)
    }

    @Test func nestedSupervisorsFormATree() throws {
        let stage = Stage()
        let node = supervisionNode()
        let inner = SupervisorSpec(strategy: .oneForAll, children: [worker("x", stage), worker("y", stage)])
        let sup = try node.start(Supervisor.self, SupervisorSpec(children: [
            worker("a", stage), .supervisor("inner", inner, name: "inner"),
        ]))
        #expect(try node.whichChildren(sup).map(\.type) == [.worker, .supervisor])
        #expect(try node.countChildren(sup) == ChildCounts(specs: 2, active: 2, supervisors: 1, workers: 1))
        let innerRef = ServerRef<Supervisor>.named("inner")
        let innerBefore = try node.childPIDs(innerRef)
        let a = try node.child(sup, "a"), innerPID = try node.child(sup, "inner")
        node.crash(innerBefore[0]!)  // x: the inner one-for-all restarts x and y, the root sees nothing
        #expect(try node.child(sup, "a") == a && node.child(sup, "inner") == innerPID)
        #expect(try node.childPIDs(innerRef).allSatisfy { $0 != nil && !innerBefore.contains($0) })
        node.crash(innerPID)  // the inner supervisor itself: the root restarts it, with fresh children
        let newInner = try node.child(sup, "inner")
        #expect(newInner != innerPID && node.whereis("inner") == newInner)
        #expect(try node.childPIDs(innerRef).count == 2)
        let mark = stage.events.count
        try node.stop(sup, reason: .shutdown)
        #expect(Array(stage.events.entries.dropFirst(mark))
                == ["terminate y shutdown", "terminate x shutdown", "terminate a shutdown"])
        #expect(node.processes().isEmpty)
    }

    @Test func runtimeAPI() throws {
        let stage = Stage()
        let node = supervisionNode()
        let sup = try node.start(Supervisor.self, SupervisorSpec(children: [worker("a", stage),
                                                                            worker("t", stage, restart: .temporary)]))
        let a = try node.child(sup, "a")
        #expect(throws: SupervisorError.running(id: "a", a)) { try node.restartChild(sup, id: "a") }
        #expect(throws: SupervisorError.running(id: "a", a)) { try node.deleteChild(sup, id: "a") }
        #expect(throws: SupervisorError.notFound("zz")) { try node.terminateChild(sup, id: "zz") }
        #expect(throws: SupervisorError.alreadyStarted(id: "a", a)) { try node.startChild(sup, worker("a", stage)) }

        try node.terminateChild(sup, id: "a")
        #expect(!node.isAlive(a))
        #expect(try node.whichChildren(sup).first?.state == .undefined)
        #expect(throws: SupervisorError.alreadyPresent(id: "a")) { try node.startChild(sup, worker("a", stage)) }
        let restarted = try #require(try node.restartChild(sup, id: "a"))
        #expect(restarted != a && node.isAlive(restarted))
        try node.terminateChild(sup, id: "a")
        try node.deleteChild(sup, id: "a")
        #expect(try node.whichChildren(sup).map(\.id) == ["t"])
        try node.terminateChild(sup, id: "t")  // a temporary child's spec goes with it
        #expect(try node.whichChildren(sup).isEmpty)

        let d = try #require(try node.startChild(sup, worker("d", stage)))
        #expect(try node.childPIDs(sup) == [d])
        stage.failStarts(of: "e")
        #expect(throws: SupervisorError.childStartFailed(id: "e", .initFailed(.custom("e refused to start")))) {
            try node.startChild(sup, worker("e", stage))
        }
        #expect(try node.whichChildren(sup).map(\.id) == ["d"])  // a failed start keeps no spec
        stage.ignoreStarts(of: "g")
        #expect(try node.startChild(sup, worker("g", stage)) == nil)  // ignore: kept, not running
        #expect(try node.whichChildren(sup).map(\.state) == [.running(d), .undefined])
    }

    @Test func aFailedRestartIsRetriedAndShownAsRestarting() throws {
        let stage = Stage()
        let node = supervisionNode()
        let spec = SupervisorSpec(intensity: RestartIntensity(maxRestarts: 3, period: .seconds(5)),
                                  children: [worker("a", stage)])
        let sup = try node.start(Supervisor.self, spec)
        let supPID = try #require(sup.pid)
        stage.failStarts(of: "a")
        node.exit(try node.child(sup, "a"), reason: .kill)
        node.runUntilIdle()
        // The restart and each retry count: 1 restart + 3 retries > 3 within 5 s.
        #expect(!node.isAlive(supPID))
    }

    @Test func supervisorReportsGoThroughSwiftLog() throws {
        let stage = Stage()
        let log = CapturedLog()
        let node = supervisionNode(log)
        let sup = try node.start(Supervisor.self, SupervisorSpec(children: [worker("a", stage),
                                                                            worker("t", stage, restart: .transient)]))
        let a = try node.child(sup, "a")
        #expect(log.messages("child started").map { $0.metadata["child"] } == ["a", "t"])
        node.cast(ServerRef<Worker>(pid: try node.child(sup, "t")), .exit(.normal))  // quiet
        node.runUntilIdle()
        #expect(log.messages("child terminated").isEmpty)
        node.crash(a)
        let terminated = try #require(log.messages("child terminated").first)
        #expect(terminated.level == .error)
        #expect(terminated.metadata["pid"] == "\(a)" && terminated.metadata["reason"] == "killed")
        #expect(terminated.metadata["supervisor"] == "\(sup.pid!)")
        #expect(log.messages("restarting child").first?.metadata["child"] == "a")
        #expect(log.messages("child started").count == 3)
    }
}
