import Testing
@testable import OTP

@Suite("Supervisors: restart backoff")
struct RestartBackoffTests {
    /// Crashes the running child `id` and returns at which node times (ms) it was running again, checking
    /// every 10 ms up to `within`.
    func crashAndTimeRestart(_ node: Node, _ sup: ServerRef<Supervisor>, within: UInt64 = 1_000) throws -> UInt64? {
        let before = try node.child(sup, "w")
        let crashedAt = node.now
        node.crash(before)
        #expect(try node.whichChildren(sup).first?.state == .restarting)
        var waited: UInt64 = 0
        while waited < within {
            node.advance(by: 10)
            waited += 10
            if let pid = try node.whichChildren(sup).first?.pid, pid != before { return node.now - crashedAt }
        }
        return nil
    }

    @Test("Each restart waits longer, up to the maximum; a child that ran past resetAfter starts over")
    func growsAndResets() throws {
        let stage = Stage()
        let node = supervisionNode()
        let backoff = RestartBackoff(initial: .milliseconds(100), maximum: .milliseconds(400), resetAfter: .seconds(2))
        let sup = try node.start(Supervisor.self, SupervisorSpec(
            intensity: RestartIntensity(maxRestarts: 100, period: .seconds(5)),
            children: [worker("w", stage).withBackoff(backoff)]))
        var delays: [UInt64?] = []
        for _ in 0..<4 { delays.append(try crashAndTimeRestart(node, sup)) }
        #expect(delays == [100, 200, 400, 400])
        node.advance(by: 2_000)  // stable for resetAfter
        #expect(try crashAndTimeRestart(node, sup) == 100)
        #expect(stage.events.entries.filter { $0 == "init w" }.count == 6)
    }

    @Test("The supervisor serves requests while a child waits; the intensity still counts each restart")
    func servesWhileWaitingAndCountsIntensity() throws {
        let stage = Stage()
        let node = supervisionNode()
        let sup = try node.start(Supervisor.self, SupervisorSpec(
            intensity: RestartIntensity(maxRestarts: 1, period: .seconds(60)),
            children: [worker("w", stage).withBackoff(RestartBackoff(initial: .milliseconds(50), maximum: .seconds(1)))]))
        let supPID = try #require(sup.pid)
        let exits = try watchExit(node, supPID)
        node.crash(try node.child(sup, "w"))
        #expect(try node.countChildren(sup) == ChildCounts(specs: 1, active: 0, supervisors: 0, workers: 1))
        node.advance(by: 50)
        node.crash(try node.child(sup, "w"))  // second restart within the period: one too many
        node.advance(by: 200)
        #expect(exits.entries == [.error(SupervisorError.reachedMaxRestartIntensity(maxRestarts: 1, period: .seconds(60)))])
    }

    @Test("An invalid backoff is refused as an invalid child spec, naming the child")
    func invalid() throws {
        let node = supervisionNode()
        let sup = try node.start(Supervisor.self, SupervisorSpec(children: []))
        #expect(throws: SupervisorError.invalidChildSpec(id: "w", "the backoff's multiplier is below 1")) {
            try node.startChild(sup, worker("w", Stage()).withBackoff(
                RestartBackoff(initial: .milliseconds(10), maximum: .seconds(1), multiplier: 0.5)))
        }
    }
}
