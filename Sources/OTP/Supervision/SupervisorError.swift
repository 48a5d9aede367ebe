/// Why a supervisor refused a request or exited. Each case names the child (its id or pid).
public enum SupervisorError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A child failed to start: while the supervisor started (the supervisor then fails to start, with
    /// this reason), or through `startChild` / `restartChild`.
    case childStartFailed(id: String, StartError)
    /// More than `maxRestarts` restarts within `period`: the supervisor stopped its children and exited.
    case reachedMaxRestartIntensity(maxRestarts: Int, period: Duration)
    /// No child has this id (or, for a dynamic supervisor, this pid).
    case notFound(String)
    /// `restartChild` / `deleteChild` on a child that is running.
    case running(id: String, PID)
    /// `restartChild` / `deleteChild` on a child the supervisor is restarting.
    case restarting(id: String)
    /// `startChild` with the id of a running child.
    case alreadyStarted(id: String, PID)
    /// `startChild` with the id of a stopped child that is still specified (restart or delete it).
    case alreadyPresent(id: String)
    /// A dynamic supervisor at its `maxChildren`.
    case maxChildren(Int)
    /// Two children in one specification share an id.
    case duplicateChildID(String)
    /// A child specification the supervisor cannot run (e.g. a negative shutdown timeout).
    case invalidChildSpec(id: String, String)

    public var description: String {
        switch self {
        case .childStartFailed(let id, let error): return "child \(id) failed to start: \(error)"
        case .reachedMaxRestartIntensity(let max, let period):
            return "reached max restart intensity (\(max) restarts in \(period))"
        case .notFound(let id): return "no child \(id)"
        case .running(let id, let pid): return "child \(id) is running as \(pid)"
        case .restarting(let id): return "child \(id) is restarting"
        case .alreadyStarted(let id, let pid): return "child \(id) already started as \(pid)"
        case .alreadyPresent(let id): return "child \(id) is already present (stopped)"
        case .maxChildren(let limit): return "dynamic supervisor at its limit of \(limit) children"
        case .duplicateChildID(let id): return "two children have the id \(id)"
        case .invalidChildSpec(let id, let text): return "invalid child specification \(id): \(text)"
        }
    }
}

/// One child as `whichChildren` reports it.
public struct ChildInfo: Sendable, Equatable, CustomStringConvertible {
    /// What the child is doing now (Erlang's `Pid | restarting | undefined`).
    public enum State: Sendable, Equatable {
        case running(PID)
        /// Its last start failed; the supervisor tries again.
        case restarting
        /// Not running: stopped by `terminateChild`, exited without a restart, or `initialize` ignored.
        case undefined
    }

    public let id: String
    public let state: State
    public let type: ChildType
    public let restart: RestartType

    public var pid: PID? {
        if case .running(let pid) = state { return pid }
        return nil
    }

    public var description: String {
        switch state {
        case .running(let pid): return "\(id) \(pid) \(type)"
        case .restarting: return "\(id) restarting \(type)"
        case .undefined: return "\(id) undefined \(type)"
        }
    }
}

/// Erlang's `count_children`.
public struct ChildCounts: Sendable, Equatable {
    /// Child specifications held (running or not).
    public var specs: Int
    /// Children running now.
    public var active: Int
    public var supervisors: Int
    public var workers: Int

    public init(specs: Int, active: Int, supervisors: Int, workers: Int) {
        self.specs = specs
        self.active = active
        self.supervisors = supervisors
        self.workers = workers
    }
}
