import OTPServiceLifecycle
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing
@testable import OTP

@Suite("Service lifecycle")
struct ServiceLifecycleTests {
    @Test("graceful shutdown stops GenServers through terminate, newest first, then the service returns")
    func gracefulShutdown() async throws {
        let events = Log<String>()
        let node = Node(configuration: NodeConfiguration(report: Reports().handler))
        let (first, second, plain) = try Self.setUp(node, events)
        try await Self.runThenShutDown(node, first, second)
        #expect(events.entries == ["terminate 2 shutdown", "terminate 1 shutdown"])
        #expect(!node.execute { _ in })  // the node is closed
        _ = plain
    }

    @Test("a node whose loop was started before run(): the service takes it over and stops it in order")
    func nodeStartedBefore() async throws {
        let events = Log<String>()
        let node = Node(configuration: NodeConfiguration(report: Reports().handler))
        let (first, second, _) = try Self.setUp(node, events)
        node.startLoop()
        try await Self.runThenShutDown(node, first, second)
        #expect(events.entries == ["terminate 2 shutdown", "terminate 1 shutdown"])
        #expect(!node.execute { _ in })  // the node is closed
    }

    @Test("a NodeGroup as a service: every loop runs, then stops its servers in order, last loop first")
    func groupService() async throws {
        let events = Log<String>()
        let group = NodeGroup(loops: 2, configuration: NodeConfiguration(report: Reports().handler, logger: quietLogger))
        let (first, second) = try Self.setUp(group, events)
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await NodeGroupService(group: group).run() }
                #expect(try await group.call(first, .get) == 1)
                #expect(try await group.call(second, .get) == 2)
                trigger.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }
        #expect(events.entries == ["terminate 2 shutdown", "terminate 1 shutdown"])
        #expect(group.loops.allSatisfy { !$0.execute { _ in } })  // every loop is closed
    }

    /// A server with a terminate log on each of two loops; on the creating thread, before the loops start.
    static func setUp(_ group: NodeGroup, _ events: Log<String>) throws -> (ServerRef<Counter>, ServerRef<Counter>) {
        let first = try group.loop(0).start(Counter.self, 1)
        let second = try group.loop(1).start(Counter.self, 2)
        try group.loop(0).replaceState(first) { var state = $0; state.events = TerminateLog(tag: "1", into: events); return state }
        try group.loop(1).replaceState(second) { var state = $0; state.events = TerminateLog(tag: "2", into: events); return state }
        return (first, second)
    }

    /// Runs `node` as a `NodeService`, calls both servers through it, then triggers graceful shutdown and
    /// waits for the service to return.
    static func runThenShutDown(_ node: Node, _ first: ServerRef<Counter>, _ second: ServerRef<Counter>) async throws {
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await NodeService(node: node).run() }
                #expect(try await node.call(first, .get) == 1)
                #expect(try await node.call(second, .get) == 2)
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
    }

    /// Two servers that log their terminate, and a plain process; on the creating thread, before startLoop().
    static func setUp(_ node: Node, _ events: Log<String>) throws
        -> (ServerRef<Counter>, ServerRef<Counter>, Address<Command>)
    {
        let first = try node.start(Counter.self, 1)
        let second = try node.start(Counter.self, 2)
        // Terminate order is observed through a shared log.
        try node.replaceState(first) { var state = $0; state.events = TerminateLog(tag: "1", into: events); return state }
        try node.replaceState(second) { var state = $0; state.events = TerminateLog(tag: "2", into: events); return state }
        let plain = try spawnIdler(node)
        return (first, second, plain)
    }
}

/// A log that records terminate events with a tag into a shared log.
final class TerminateLog: Log<String>, @unchecked Sendable {
    let tag: String
    let shared: Log<String>
    init(tag: String, into shared: Log<String>) {
        self.tag = tag
        self.shared = shared
    }
    override func append(_ entry: String) {
        if entry.hasPrefix("terminate ") { shared.append("terminate \(tag) \(entry.dropFirst("terminate ".count))") }
    }
}
