import OTP
import ServiceLifecycle

/// A `NodeGroup` as a swift-service-lifecycle `Service`: every loop on its own thread for as long as the
/// service runs.
///
/// `run()` starts every loop that is not running yet (set-up done before, on the thread that made the
/// group, stays), then waits for graceful shutdown (SIGTERM in a `ServiceGroup`, or
/// `triggerGracefulShutdown()`) or the task's cancellation. Then each loop stops its processes in order
/// (`Node.shutdown`: supervision trees from their roots, other GenServers through `terminate`, newest
/// first), last loop first, and every loop's thread ends before `run()` returns.
///
/// ```swift
/// let loops = NodeGroup()
/// for loop in loops.loops { try loop.start(Router(), options: StartOptions(name: "router-\(loop.loopIndex)")) }
/// let services = ServiceGroup(services: [NodeGroupService(group: loops)], gracefulShutdownSignals: [.sigterm],
///                             logger: logger)
/// try await services.run()
/// ```
///
/// Thread: `Sendable`; `run()` may be called from any task, once.
public struct NodeGroupService: Service {
    public let group: NodeGroup
    /// The exit reason the processes stop with.
    public var reason: ExitReason
    /// How long each GenServer's `terminate` may take before it is killed (supervisors: see `Node.shutdown`).
    public var stopTimeout: Timeout

    public init(group: NodeGroup, reason: ExitReason = .shutdown, stopTimeout: Timeout = .seconds(5)) {
        self.group = group
        self.reason = reason
        self.stopTimeout = stopTimeout
    }

    public func run() async throws {
        for loop in group.loops { loop.startLoopIfNeeded() }
        // Returns when graceful shutdown is triggered; throws when the task is cancelled.
        try? await gracefulShutdown()
        for loop in group.loops.reversed() {
            try? await loop.shutdown(reason: reason, timeout: stopTimeout)
        }
        group.stopLoops()
        for loop in group.loops {
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                LoopJoiner.join(loop) { done.resume() }
            }
        }
    }
}
