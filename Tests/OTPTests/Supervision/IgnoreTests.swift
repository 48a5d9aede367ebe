import Testing
@testable import OTP

/// `initialize` returning `ignore`, as Erlang's supervisor treats it (supervisor_SUITE's ignore cases): a
/// temporary child is not kept; any other is kept with no process (`undefined`), at start, through
/// `startChild` and after a restart, and `restartChild`/`deleteChild` work on it.
@Suite("Supervisors and ignore")
struct IgnoreTests {
    @Test("A temporary child that ignores at the supervisor's start is not kept; permanent and transient ones are",
          arguments: [RestartType.temporary, .transient, .permanent])
    func ignoreAtStart(restart: RestartType) throws {
        let stage = Stage()
        stage.ignoreStarts(of: "i")
        let node = supervisionNode()
        let sup = try node.start(Supervisor.self, SupervisorSpec(children: [
            worker("a", stage), worker("i", stage, restart: restart),
        ]))
        let a = try node.child(sup, "a")
        if restart == .temporary {
            #expect(try node.whichChildren(sup).map(\.state) == [.running(a)])
            #expect(try node.countChildren(sup) == ChildCounts(specs: 1, active: 1, supervisors: 0, workers: 1))
        } else {
            #expect(try node.whichChildren(sup).map(\.state) == [.running(a), .undefined])
            #expect(try node.countChildren(sup) == ChildCounts(specs: 2, active: 1, supervisors: 0, workers: 2))
        }
    }

    @Test("A temporary child that ignores through startChild is not kept")
    func ignoreThroughStartChild() throws {
        let stage = Stage()
        stage.ignoreStarts(of: "t")
        let node = supervisionNode()
        let sup = try node.start(Supervisor.self, SupervisorSpec(children: []))
        #expect(try node.startChild(sup, worker("t", stage, restart: .temporary)) == nil)
        #expect(try node.whichChildren(sup).isEmpty)
        #expect(try node.countChildren(sup) == ChildCounts(specs: 0, active: 0, supervisors: 0, workers: 0))
        // Not kept: the same id can be started again.
        stage.ignoreStarts(of: "t", false)
        #expect(try node.startChild(sup, worker("t", stage, restart: .temporary)) != nil)
    }

    @Test("A restart that ignores leaves a child with no process, not one stuck restarting; restartChild and deleteChild work on it",
          arguments: [RestartType.permanent, .transient])
    func ignoreAtRestart(restart: RestartType) throws {
        let stage = Stage()
        let node = supervisionNode()
        let sup = try node.start(Supervisor.self, SupervisorSpec(children: [worker("r", stage, restart: restart)]))
        stage.ignoreStarts(of: "r")
        node.crash(try node.child(sup, "r"))
        #expect(try node.whichChildren(sup).map(\.state) == [.undefined])
        #expect(try node.countChildren(sup) == ChildCounts(specs: 1, active: 0, supervisors: 0, workers: 1))
        // restartChild works on it: ignored again (still undefined), then started.
        #expect(try node.restartChild(sup, id: "r") == nil)
        #expect(try node.whichChildren(sup).map(\.state) == [.undefined])
        stage.ignoreStarts(of: "r", false)
        let pid = try #require(try node.restartChild(sup, id: "r"))
        #expect(try node.whichChildren(sup).map(\.state) == [.running(pid)])
        // deleteChild works on an undefined child, and refuses a running one.
        #expect(throws: SupervisorError.running(id: "r", pid)) { try node.deleteChild(sup, id: "r") }
        try node.terminateChild(sup, id: "r")
        try node.deleteChild(sup, id: "r")
        #expect(try node.whichChildren(sup).isEmpty)
    }

    @Test("One-for-all: a group restart whose member ignores leaves that member undefined and the rest running")
    func ignoreInAGroupRestart() throws {
        let stage = Stage()
        let node = supervisionNode()
        let sup = try node.start(Supervisor.self, SupervisorSpec(strategy: .oneForAll, children: [
            worker("a", stage), worker("b", stage), worker("c", stage),
        ]))
        stage.ignoreStarts(of: "b")
        node.crash(try node.child(sup, "a"))
        let states = try node.whichChildren(sup).map(\.state)
        #expect(states.count == 3 && states[1] == .undefined)
        #expect(states[0] != .undefined && states[0] != .restarting && states[2] != .undefined && states[2] != .restarting)
    }
}
