/// A dynamic supervisor (Elixir's `DynamicSupervisor`, Erlang's `simple_one_for_one`): starts with no
/// children; each `startChild` adds one from a specification. One-for-one restarts by restart type,
/// within its restart intensity; a child that exits for good is forgotten. `maxChildren` bounds how many
/// run at once. On shutdown the children stop newest first, each by its `ShutdownPolicy`.
///
/// Thread: loop thread (it is a process); reach it from other threads through the async facade.
public struct DynamicSupervisor: SupervisingServer {
    public typealias Argument = DynamicSupervisorSpec
    public typealias Reply = SupervisorReply
    public typealias Info = RetryRestart

    public enum Call: Sendable {
        /// Starts a child from `spec` (ids need not be unique here). Replies `.started`, or `.failed` with
        /// `maxChildren`, `invalidChildSpec` or `childStartFailed`.
        case startChild(ChildSpec)
        /// Stops the child `pid` by its shutdown policy and forgets it. Replies `.done`, or
        /// `.failed(.notFound)` when `pid` is not its child.
        case terminateChild(PID)
        case whichChildren
        case countChildren
    }

    var supervision: SupervisionState
    let maxChildren: Int?

    static var removesStoppedChildren: Bool { true }

    public static func initialize(_ spec: DynamicSupervisorSpec, _ server: ServerContext<DynamicSupervisor>) throws
        -> Initialization<DynamicSupervisor>
    {
        _ = server.node.setTrapExits(server.pid, true)
        return .ok(DynamicSupervisor(supervision: SupervisionState(strategy: .oneForOne, intensity: spec.intensity),
                                     maxChildren: spec.maxChildren))
    }

    public mutating func handleCall(_ request: Call, from caller: Caller<SupervisorReply>,
                                    _ server: ServerContext<DynamicSupervisor>) throws
        -> ServerResult<DynamicSupervisor>
    {
        switch request {
        case .whichChildren:
            return .reply(.children(supervision.children.map(\.info)))
        case .countChildren:
            return .reply(.counts(supervision.counts))
        case .terminateChild(let pid):
            guard let index = supervision.index(pid: pid) else { return .reply(.failed(.notFound("\(pid)"))) }
            let key = supervision.children[index].key
            return Self.stopChild(key, &self, server, .running) { _, state, _ in
                state.supervision[key: key] = nil
                return .result(.reply(.done))
            }.result
        case .startChild(let spec):
            if let maxChildren, supervision.children.count >= maxChildren {
                return .reply(.failed(.maxChildren(maxChildren)))
            }
            if let invalid = spec.validated() { return .reply(.failed(invalid)) }
            let key = supervision.append(spec)
            return Self.startChild(key, &self, server, .running) { outcome, state, _ in
                switch outcome {
                case .success(let pid?): return .result(.reply(.started(pid)))
                case .success(nil):
                    state.supervision[key: key] = nil
                    return .result(.reply(.started(nil)))
                case .failure(let error):
                    state.supervision[key: key] = nil
                    return .result(.reply(.failed(.childStartFailed(id: spec.id, error))))
                }
            }.result
        }
    }

    public mutating func handleInfo(_ message: InfoMessage<RetryRestart>,
                                    _ server: ServerContext<DynamicSupervisor>) throws
        -> ServerResult<DynamicSupervisor>
    {
        switch message {
        case .exit(let signal): return Self.childExited(signal, &self, server)
        case .message(let retry): return Self.retry(retry, &self, server)
        default: return .noReply
        }
    }

    public func formatStatus() -> String {
        "DynamicSupervisor(children: \(supervision.children.count), max: \(maxChildren.map(String.init) ?? "none"))"
    }
}

extension DynamicSupervisor {
    /// A supervisor stops in steps: its children first, newest first, each by its shutdown policy.
    public static func _beginOrderlyStop(_ reason: ExitReason, replyingTo request: (pid: PID, ref: Ref)?,
                                         _ state: inout Self, _ server: ServerContext<Self>) -> ServerResult<Self>? {
        stopInOrder(reason, replyingTo: request, &state, server)
    }

    public static var _stopsInSteps: Bool { true }
}
