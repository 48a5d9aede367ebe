import Testing
@testable import OTP

/// Kills random members of a three-level tree for many simulated seconds and checks, after every kill,
/// that the tree is back in its specified shape — or that it is gone exactly when a model of Erlang's
/// restart-intensity rule says the root must give up.
@Suite("Supervision chaos")
struct SupervisionChaosTests {
    /// The model: the specified tree, with each supervisor's restart times.
    final class Model {
        let id: String
        let strategy: RestartStrategy
        let intensity: RestartIntensity
        let children: [Model]
        weak var parent: Model?
        var restarts: [UInt64] = []

        init(_ id: String, _ strategy: RestartStrategy = .oneForOne, _ intensity: RestartIntensity = RestartIntensity(),
             _ children: [Model] = []) {
            self.id = id
            self.strategy = strategy
            self.intensity = intensity
            self.children = children
            for child in children { child.parent = self }
        }

        var isSupervisor: Bool { !children.isEmpty }
        var all: [Model] { [self] + children.flatMap(\.all) }
        var path: [String] { (parent?.path ?? []) + (parent == nil ? [] : [id]) }

        func reset() {
            restarts = []
            for child in children { child.reset() }
        }

        /// `child` died at `now`: true when this supervisor copes, false when it gives up (and dies).
        func childDied(_ child: Model, at now: UInt64) -> Bool {
            let period = UInt64(intensity.period.components.seconds) * 1_000
            restarts = restarts.filter { now - $0 < period } + [now]
            if restarts.count > intensity.maxRestarts { return false }
            if strategy == .oneForAll { children.forEach { $0.reset() } } else { child.reset() }
            return true
        }

        func spec(_ stage: Stage) -> ChildSpec {
            isSupervisor ? .supervisor(id, supervisorSpec(stage)) : worker(id, stage)
        }

        func supervisorSpec(_ stage: Stage) -> SupervisorSpec {
            SupervisorSpec(strategy: strategy, intensity: intensity, children: children.map { $0.spec(stage) })
        }
    }

    static func tree() -> Model {
        Model("root", .oneForOne, RestartIntensity(maxRestarts: 4, period: .seconds(10)), [
            Model("w1"),
            Model("mid1", .oneForAll, RestartIntensity(maxRestarts: 2, period: .seconds(5)), [
                Model("w2"), Model("w3"),
                Model("leaf", .oneForOne, RestartIntensity(maxRestarts: 1, period: .seconds(3)), [Model("w4"), Model("w5")]),
            ]),
            Model("mid2", .restForOne, RestartIntensity(maxRestarts: 3, period: .seconds(4)), [Model("w6"), Model("w7")]),
        ])
    }

    /// The real pid at `path` under `root`, checking on the way that every supervisor runs exactly its
    /// specified children; adds every pid seen to `seen`.
    func checkShape(_ node: Node, _ supervisor: ServerRef<Supervisor>, _ model: Model, _ seen: inout Set<PID>) throws {
        let children = try node.whichChildren(supervisor)
        #expect(children.map(\.id) == model.children.map(\.id))
        for (child, spec) in zip(children, model.children) {
            let pid = try #require(child.pid, "\(spec.id) is not running")
            seen.insert(pid)
            if spec.isSupervisor { try checkShape(node, ServerRef(pid: pid), spec, &seen) }
        }
    }

    func pid(_ node: Node, _ root: ServerRef<Supervisor>, _ path: [String]) throws -> PID {
        var current = try #require(root.pid)
        for id in path {
            let children = try node.whichChildren(ServerRef<Supervisor>(pid: current))
            current = try #require(children.first { $0.id == id }?.pid)
        }
        return current
    }

    @Test func theTreeConvergesOrGivesUpExactlyWhenTheIntensityRuleSays() throws {
        var rng = SplitMix64(seed: 0xC4A05)
        let stage = Stage()
        let node = supervisionNode(reports: Reports())
        var model = Self.tree()
        var root = try node.start(Supervisor.self, model.supervisorSpec(stage))
        var kills = 0, rootExits = 0, innerGiveUps = 0
        while node.currentTime < 3_600_000 {  // one simulated hour
            node.advance(by: rng.next() % 2_500)
            let members = model.all.dropFirst()  // anything but the root
            let victim = members[members.startIndex + Int(rng.next() % UInt64(members.count))]
            let target = try pid(node, root, victim.path)
            if victim.isSupervisor || rng.next() % 2 == 0 {
                node.crash(target, reason: .kill)  // supervisors trap exits: only kill stops them from outside
            } else {
                node.cast(ServerRef<Worker>(pid: target), .exit(.custom("chaos")))  // a worker that crashes
                node.runUntilIdle()
            }
            kills += 1
            // The model: the victim's supervisor counts a restart; one too many and it dies, and so on up.
            var died = victim
            var rootSurvives = true
            while let parent = died.parent {
                if parent.childDied(died, at: node.currentTime) { break }
                if parent.parent == nil { rootSurvives = false; break }
                innerGiveUps += 1
                died = parent
            }
            if rootSurvives {
                var seen: Set<PID> = [try #require(root.pid)]
                try checkShape(node, root, model, &seen)
                #expect(seen.count == model.all.count)
                #expect(Set(node.processes()) == seen)  // nothing else alive: no orphans
            } else {
                #expect(!node.isAlive(try #require(root.pid)))
                #expect(node.processes().isEmpty)
                rootExits += 1
                model = Self.tree()
                root = try node.start(Supervisor.self, model.supervisorSpec(stage))
            }
        }
        #expect(kills > 2_000)
        #expect(rootExits > 0 && innerGiveUps > 0)  // the run reached both rules
    }
}
