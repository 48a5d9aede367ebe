/// Where a process is in its life, as `processInfo` reports it.
public enum ProcessStatus: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Spawned, waiting for its first turn (`ProcessBehavior.start` has not run yet).
    case initializing
    /// Has work and sits in the run queue.
    case running
    /// Blocked in a receive: no queued message matches its current wait.
    case waiting
    /// Its code is executing right now.
    case processing
    /// Exit has begun: links and monitors are being told.
    case stopping
    /// Gone. Only reported for a process that is observed while its exit completes.
    case terminated

    public var description: String {
        switch self {
        case .initializing: return "initializing"
        case .running: return "running"
        case .waiting: return "waiting"
        case .processing: return "processing"
        case .stopping: return "stopping"
        case .terminated: return "terminated"
        }
    }
}
