/// A supervisor (Erlang's `supervisor`): starts its children in order, restarts them by their restart
/// type and its strategy within its restart intensity, and stops them in reverse order.
///
/// It is a GenServer: start it with `Node.start(Supervisor.self, spec)` (or as a child with
/// `ChildSpec.supervisor`), call it with the runtime API (`Node.whichChildren`, `terminateChild`, ... or
/// `Call` through any `call`). Semantics, as Erlang's:
/// - `initialize` starts the children in order; when one fails, those started are stopped newest first
///   and the start fails with `SupervisorError.childStartFailed(id:_:)`.
/// - It traps exits. A child's exit is handled by restart type (`RestartType`) and strategy; an `EXIT`
///   from anything that is not a current child (pids are never reused) is ignored.
/// - More than `intensity.maxRestarts` restarts within `intensity.period`: every child stops and the
///   supervisor exits with `SupervisorError.reachedMaxRestartIntensity` (abnormal).
/// - Its parent's exit signal, a `sys` stop (`Node.stop(_:)`) or `Node.shutdown` stop every child newest
///   first, each by its `ShutdownPolicy`, then the supervisor.
/// - While it starts or stops a child it handles nothing else; calls wait in its mailbox.
///
/// Thread: loop thread (it is a process); reach it from other threads through the async facade.
public struct Supervisor: SupervisingServer {
    public typealias Argument = SupervisorSpec
    public typealias Reply = SupervisorReply
    public typealias Info = RetryRestart

    /// The runtime API (Erlang's `which_children`, `count_children`, `terminate_child`, `restart_child`,
    /// `delete_child`, `start_child`).
    public enum Call: Sendable {
        case whichChildren
        case countChildren
        /// Stops the child by its shutdown policy and keeps its specification (a temporary child's is
        /// removed). Replies `.done`, or `.failed(.notFound)`.
        case terminateChild(String)
        /// Starts a stopped child again. Replies `.started`, or `.failed` with `notFound`, `running`,
        /// `restarting` or `childStartFailed`.
        case restartChild(String)
        /// Removes a stopped child's specification. Replies `.done`, or `.failed` with `notFound`, `running`,
        /// `restarting`.
        case deleteChild(String)
        /// Adds a child and starts it (last in start order). Replies `.started`, or `.failed` with
        /// `alreadyStarted`, `alreadyPresent`, `invalidChildSpec` or `childStartFailed` (then the
        /// specification is not kept).
        case startChild(ChildSpec)
    }

    var supervision: SupervisionState

    public static func initialize(_ spec: SupervisorSpec, _ server: ServerContext<Supervisor>) throws
        -> Initialization<Supervisor>
    {
        _ = server.node.setTrapExits(server.pid, true)
        var ids = Set<String>()
        for child in spec.children {
            guard ids.insert(child.id).inserted else { return .stop(.error(SupervisorError.duplicateChildID(child.id))) }
            if let invalid = child.validated() { return .stop(.error(invalid)) }
        }
        var state = Supervisor(supervision: SupervisionState(strategy: spec.strategy, intensity: spec.intensity))
        let keys = spec.children.map { state.supervision.append($0) }
        return startChildren(keys[...], &state, server, .initializing) { outcome, state, server in
            guard case .failure(let failure) = outcome else { return .initialization(.ok(state)) }
            let child = state.supervision[key: failure.key]!
            SupervisionLog.startFailed(child, failure.error, server)
            return stopAll(&state, server, phase: .initializing) { _, _ in
                .initialization(.stop(.error(SupervisorError.childStartFailed(id: child.spec.id, failure.error))))
            }
        }.initialization
    }

    public mutating func handleCall(_ request: Call, from caller: Caller<SupervisorReply>,
                                    _ server: ServerContext<Supervisor>) throws -> ServerResult<Supervisor> {
        switch request {
        case .whichChildren:
            return .reply(.children(supervision.children.map(\.info)))
        case .countChildren:
            return .reply(.counts(supervision.counts))
        case .terminateChild(let id):
            guard let index = supervision.index(id: id) else { return .reply(.failed(.notFound(id))) }
            return Self.stopChild(supervision.children[index].key, &self, server, .running) { _, _, _ in
                .result(.reply(.done))
            }.result
        case .restartChild(let id):
            guard let index = supervision.index(id: id) else { return .reply(.failed(.notFound(id))) }
            let child = supervision.children[index]
            if let pid = child.pid { return .reply(.failed(.running(id: id, pid))) }
            if child.restarting { return .reply(.failed(.restarting(id: id))) }
            return Self.startChild(child.key, &self, server, .running) { outcome, _, _ in
                switch outcome {
                case .success(let pid): return .result(.reply(.started(pid)))
                case .failure(let error): return .result(.reply(.failed(.childStartFailed(id: id, error))))
                }
            }.result
        case .deleteChild(let id):
            guard let index = supervision.index(id: id) else { return .reply(.failed(.notFound(id))) }
            let child = supervision.children[index]
            if let pid = child.pid { return .reply(.failed(.running(id: id, pid))) }
            if child.restarting { return .reply(.failed(.restarting(id: id))) }
            supervision[key: child.key] = nil
            return .reply(.done)
        case .startChild(let spec):
            if let index = supervision.index(id: spec.id) {
                if let pid = supervision.children[index].pid {
                    return .reply(.failed(.alreadyStarted(id: spec.id, pid)))
                }
                return .reply(.failed(.alreadyPresent(id: spec.id)))
            }
            if let invalid = spec.validated() { return .reply(.failed(invalid)) }
            let key = supervision.append(spec)
            return Self.startChild(key, &self, server, .running) { outcome, state, _ in
                switch outcome {
                case .success(let pid): return .result(.reply(.started(pid)))
                case .failure(let error):
                    state.supervision[key: key] = nil
                    return .result(.reply(.failed(.childStartFailed(id: spec.id, error))))
                }
            }.result
        }
    }

    public mutating func handleInfo(_ message: InfoMessage<RetryRestart>, _ server: ServerContext<Supervisor>) throws
        -> ServerResult<Supervisor>
    {
        switch message {
        case .exit(let signal): return Self.childExited(signal, &self, server)
        case .message(let retry): return Self.retry(retry, &self, server)
        default: return .noReply
        }
    }

    public func formatStatus() -> String {
        "Supervisor(\(supervision.strategy), children: \(supervision.children.map(\.info.description)))"
    }
}

extension Supervisor {
    /// A supervisor stops in steps: its children first, newest first, each by its shutdown policy.
    public static func _beginOrderlyStop(_ reason: ExitReason, replyingTo request: (pid: PID, ref: Ref)?,
                                         _ state: inout Self, _ server: ServerContext<Self>) -> ServerResult<Self>? {
        stopInOrder(reason, replyingTo: request, &state, server)
    }

    public static var _stopsInSteps: Bool { true }
}
