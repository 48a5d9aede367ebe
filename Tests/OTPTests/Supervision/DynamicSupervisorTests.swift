import Testing
@testable import OTP

@Suite("DynamicSupervisor")
struct DynamicSupervisorTests {
    @Test func startsChildrenOnDemandUpToItsLimit() throws {
        let stage = Stage()
        let node = supervisionNode()
        let sup = try node.start(DynamicSupervisor.self, DynamicSupervisorSpec(maxChildren: 2))
        #expect(try node.whichChildren(sup).isEmpty)
        let a = try #require(try node.startChild(sup, worker("w", stage)))
        let b = try #require(try node.startChild(sup, worker("w", stage)))  // ids need not be unique
        #expect(throws: SupervisorError.maxChildren(2)) { try node.startChild(sup, worker("w", stage)) }
        #expect(try node.whichChildren(sup).map(\.pid) == [a, b])
        #expect(try node.countChildren(sup) == ChildCounts(specs: 2, active: 2, supervisors: 0, workers: 2))
        try node.terminateChild(sup, pid: a)
        #expect(!node.isAlive(a))
        #expect(stage.events.entries == ["init w", "init w", "terminate w shutdown"])
        #expect(throws: SupervisorError.notFound("\(a)")) { try node.terminateChild(sup, pid: a) }
        #expect(try node.startChild(sup, worker("w", stage)) != nil)  // room again
    }

    @Test func restartTypesAreHonoured() throws {
        let stage = Stage()
        let node = supervisionNode()
        let sup = try node.start(DynamicSupervisor.self, DynamicSupervisorSpec(
            intensity: RestartIntensity(maxRestarts: 10, period: .seconds(5))))
        let permanent = try #require(try node.startChild(sup, worker("p", stage)))
        let transient = try #require(try node.startChild(sup, worker("t", stage, restart: .transient)))
        let temporary = try #require(try node.startChild(sup, worker("x", stage, restart: .temporary)))
        node.crash(permanent)
        node.crash(temporary)
        node.cast(ServerRef<Worker>(pid: transient), .exit(.normal))
        node.runUntilIdle()
        let children = try node.whichChildren(sup)
        #expect(children.map(\.id) == ["p"])  // transient (normal exit) and temporary are forgotten
        #expect(children[0].pid != nil && children[0].pid != permanent)
        let t2 = try #require(try node.startChild(sup, worker("t", stage, restart: .transient)))
        node.crash(t2)
        #expect(try node.whichChildren(sup).map(\.id) == ["p", "t"])
    }

    @Test func intensityExceededStopsItsChildrenAndItself() throws {
        let stage = Stage()
        let node = supervisionNode(reports: Reports())
        let sup = try node.start(DynamicSupervisor.self, DynamicSupervisorSpec())  // 1 restart in 5 s
        let supPID = try #require(sup.pid)
        let exits = try watchExit(node, supPID)
        _ = try node.startChild(sup, worker("a", stage))
        let b = try #require(try node.startChild(sup, worker("b", stage)))
        node.crash(b)
        node.crash(try #require(try node.whichChildren(sup).last?.pid))
        #expect(!node.isAlive(supPID))
        #expect(exits.entries == [.error(SupervisorError.reachedMaxRestartIntensity(maxRestarts: 1,
                                                                                     period: .seconds(5)))])
        #expect(stage.events.entries.last == "terminate a shutdown")
        #expect(node.processes().isEmpty)
    }

    @Test func aFailedStartIsReportedAndNotKept() throws {
        let stage = Stage()
        stage.failStarts(of: "f")
        let node = supervisionNode()
        let sup = try node.start(DynamicSupervisor.self, DynamicSupervisorSpec(maxChildren: 1))
        #expect(throws: SupervisorError.childStartFailed(id: "f", .initFailed(.custom("f refused to start")))) {
            try node.startChild(sup, worker("f", stage))
        }
        #expect(try node.whichChildren(sup).isEmpty)
        #expect(try node.startChild(sup, worker("ok", stage)) != nil)
    }

    @Test func shutdownStopsChildrenNewestFirst() throws {
        let stage = Stage()
        let node = supervisionNode()
        let sup = try node.start(DynamicSupervisor.self, DynamicSupervisorSpec())
        for id in ["a", "b", "c"] { _ = try node.startChild(sup, worker(id, stage)) }
        try node.stop(sup, reason: .shutdown)
        #expect(Array(stage.events.entries.dropFirst(3))
                == ["terminate c shutdown", "terminate b shutdown", "terminate a shutdown"])
        #expect(node.processes().isEmpty)
    }

    @Test func aDynamicSupervisorUnderAStaticOne() throws {
        let stage = Stage()
        let node = supervisionNode()
        let root = try node.start(Supervisor.self, SupervisorSpec(children: [
            .dynamicSupervisor("pool", DynamicSupervisorSpec(maxChildren: 5), name: "pool"),
        ]))
        let pool = ServerRef<DynamicSupervisor>.named("pool")
        _ = try node.startChild(pool, worker("job", stage))
        #expect(try node.countChildren(root) == ChildCounts(specs: 1, active: 1, supervisors: 1, workers: 0))
        try node.stop(root, reason: .shutdown)
        #expect(stage.events.entries == ["init job", "terminate job shutdown"])
        #expect(node.processes().isEmpty)
    }
}
