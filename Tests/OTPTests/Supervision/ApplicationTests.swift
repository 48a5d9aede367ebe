import OTPServiceLifecycle
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing
@testable import OTP

@Suite("Application root")
struct ApplicationTests {
    static func tree(_ stage: Stage) -> SupervisorSpec {
        SupervisorSpec(children: [
            worker("db", stage),
            .supervisor("web", SupervisorSpec(strategy: .oneForAll, children: [worker("http", stage), worker("ws", stage)])),
            worker("metrics", stage),
        ])
    }

    static let stopOrder = ["terminate metrics shutdown", "terminate ws shutdown", "terminate http shutdown",
                            "terminate db shutdown"]

    @Test("Node.shutdown stops a root tree in order, not child by child")
    func nodeShutdownStopsTheTreeFromItsRoot() async throws {
        let stage = Stage()
        let node = startedNode()
        let root = try await node.startApplication(Self.tree(stage), name: "app")
        #expect(try await node.whichChildren(root).map(\.id) == ["db", "web", "metrics"])
        // A plain server started after the tree: stopped first (newest), then the tree from its root.
        let extra = try await node.start(Worker.self, Worker.Argument(id: "extra", stage: stage))
        _ = extra
        try await node.shutdown()
        #expect(Array(stage.events.entries.dropFirst(5)) == ["terminate extra shutdown"] + Self.stopOrder)
        #expect(try await node.inspect { $0.processes().count } == 1)  // the facade's own caller process
        node.finish()
    }

    @Test("NodeService starts the root tree and stops it in order on graceful shutdown")
    func serviceRunsTheApplication() async throws {
        let stage = Stage()
        let node = Node(configuration: NodeConfiguration(report: Reports().handler, logger: quietLogger))
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await NodeService(node: node, root: Self.tree(stage), rootName: "app").run() }
                var counts: ChildCounts?
                while counts == nil {  // the service starts the tree on its own task
                    counts = try? await node.countChildren(ServerRef<Supervisor>.named("app"))
                }
                #expect(counts == ChildCounts(specs: 3, active: 3, supervisors: 1, workers: 2))
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
        #expect(Array(stage.events.entries.dropFirst(4)) == Self.stopOrder)
    }

    @Test("a root tree that cannot start makes the service throw")
    func failedRootStart() async throws {
        let stage = Stage()
        stage.failStarts(of: "metrics")
        let node = Node(configuration: NodeConfiguration(report: Reports().handler, logger: quietLogger))
        await #expect(throws: StartError.initFailed(.error(SupervisorError.childStartFailed(
            id: "metrics", .initFailed(.custom("metrics refused to start")))))) {
            try await NodeService(node: node, root: Self.tree(stage)).run()
        }
        #expect(stage.events("terminate") == ["terminate ws shutdown", "terminate http shutdown",
                                              "terminate db shutdown"])
    }
}
