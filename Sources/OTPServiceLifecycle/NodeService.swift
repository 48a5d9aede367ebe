#if canImport(Glibc)
import Glibc
#endif
import OTP
import ServiceLifecycle

/// A node as a swift-service-lifecycle `Service`: run it in a `ServiceGroup` next to the rest of a server.
///
/// `run()` starts the node's loop on its dedicated thread (unless `startLoop()` started it already: then
/// it takes over that loop), starts the
/// application's root supervision tree when `root` is given (a failed start makes `run()` throw), and
/// waits for graceful shutdown (SIGTERM in a `ServiceGroup`, or `triggerGracefulShutdown()`). Then every
/// process stops in order (`Node.shutdown`): the tree from its root, children newest first, each by its
/// shutdown policy; other GenServers through `terminate`, newest first. Then the loop stops and `run()`
/// returns. Cancellation of the task running the service does the same.
///
/// ```swift
/// let node = Node()
/// try node.start(MyServer(), options: StartOptions(name: "my_server"))   // before start: loop thread
/// let group = ServiceGroup(services: [NodeService(node: node)], gracefulShutdownSignals: [.sigterm],
///                          logger: logger)
/// try await group.run()
/// ```
///
/// Thread: `Sendable`; `run()` may be called from any task, once.
public struct NodeService: Service {
    public let node: Node
    /// The exit reason the node's processes stop with.
    public var reason: ExitReason
    /// How long each GenServer's `terminate` may take before it is killed (supervisors: see `Node.shutdown`).
    public var stopTimeout: Timeout
    /// The application's root supervision tree, started by `run()` (registered as `rootName` if given).
    public var root: SupervisorSpec?
    public var rootName: String?

    public init(node: Node, root: SupervisorSpec? = nil, rootName: String? = nil, reason: ExitReason = .shutdown,
                stopTimeout: Timeout = .seconds(5)) {
        self.node = node
        self.root = root
        self.rootName = rootName
        self.reason = reason
        self.stopTimeout = stopTimeout
    }

    public func run() async throws {
        node.startLoopIfNeeded()
        if let root {
            do {
                _ = try await node.startApplication(root, name: rootName)
            } catch {
                await stopNode()
                throw error
            }
        }
        // Returns when graceful shutdown is triggered; throws when the task is cancelled.
        try? await gracefulShutdown()
        await stopNode()
    }

    /// Stops every process in order, then the loop, and waits for the loop thread to end.
    private func stopNode() async {
        try? await node.shutdown(reason: reason, timeout: stopTimeout)
        node.stopLoop()
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            LoopJoiner.join(node) { done.resume() }
        }
    }
}

/// Joins the node's loop thread without blocking a task's thread.
enum LoopJoiner {
    static func join(_ node: Node, then: @escaping @Sendable () -> Void) {
        let box = JoinBox(node: node, then: then)
        var thread = pthread_t()
        let context = Unmanaged.passRetained(box).toOpaque()
        pthread_create(&thread, nil, { context in
            let box = Unmanaged<JoinBox>.fromOpaque(context!).takeRetainedValue()
            box.node.join()
            box.then()
            return nil
        }, context)
        pthread_detach(thread)
    }

    private final class JoinBox: Sendable {
        let node: Node
        let then: @Sendable () -> Void
        init(node: Node, then: @escaping @Sendable () -> Void) {
            self.node = node
            self.then = then
        }
    }
}
