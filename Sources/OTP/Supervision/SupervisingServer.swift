/// What supervisors share: a GenServer whose state holds a `SupervisionState`, and the steps that start
/// and stop children.
///
/// Starting a GenServer child and stopping any child wait for another process (its start acknowledgement,
/// its `DOWN`). A step that waits returns the handler's `.await` on that response: the supervisor handles
/// nothing else meanwhile, as Erlang's supervisor blocks in `receive` while it starts or stops a child.
/// Each step takes the supervisor's state `inout`; when it has to wait it keeps a copy, which the
/// continuation updates and writes back (nothing else can change the state during the wait). In
/// `initialize` there is no server state yet, so the copy is all there is, and the last step returns it
/// with `.ok`. Thread: loop thread only.
protocol SupervisingServer: GenServer where Reply == SupervisorReply, Info == RetryRestart {
    var supervision: SupervisionState { get set }
    /// Whether a child that exited for good is forgotten (dynamic supervisors) or kept as a stopped
    /// specification (static supervisors keep permanent and transient ones).
    static var removesStoppedChildren: Bool { get }
}

/// Whether a supervision step runs inside `initialize` or inside a handler (decides the shape of a wait).
enum SupervisionPhase {
    case initializing
    case running
}

extension SupervisingServer {
    typealias Continuation = (inout Self, ServerContext<Self>) -> AwaitOutcome<Self>

    // MARK: Waiting

    /// Waits for the response to `ref` (a start acknowledgement, or a monitor's `DOWN`) from `peer`, at
    /// most `timeout`; then runs `then` with how it ended (which ends a request with `Node.endRequest`,
    /// and removes a plain monitor that timed out).
    static func wait(
        for ref: Ref, timeout: Timeout, state: Self, _ phase: SupervisionPhase,
        then: @escaping (RequestEnding, inout Self, ServerContext<Self>) -> AwaitOutcome<Self>
    ) -> AwaitOutcome<Self> {
        let pending = PendingCall<Self>(ref: ref, timeout: timeout, immediate: nil) { ending, slot, server in
            var value = state
            let outcome = then(ending, &value, server)
            if phase == .running { slot = value }
            return outcome
        }
        switch phase {
        case .initializing: return .initialization(.await(pending))
        case .running: return .result(.await(pending))
        }
    }

    // MARK: Starting

    /// Starts the child `key` (linked), records its pid, then runs `then` with the outcome (`nil`: its
    /// `initialize` returned `ignore`).
    static func startChild(
        _ key: Int, _ state: inout Self, _ server: ServerContext<Self>, _ phase: SupervisionPhase,
        then: @escaping (Result<PID?, StartError>, inout Self, ServerContext<Self>) -> AwaitOutcome<Self>
    ) -> AwaitOutcome<Self> {
        guard let child = state.supervision[key: key] else { return then(.failure(.ignored), &state, server) }
        let node = server.node, me = server.pid
        switch child.spec.launch(node, me, child.spec.target(from: node)) {
        case .started(let pid):
            started(key, pid: pid, &state, server)
            return then(.success(pid), &state, server)
        case .failed(let error):
            return then(.failure(error), &state, server)
        case .awaiting(let pid, let ack, let timeout):
            return awaitAcknowledgement(key, pid: pid, ack: ack, timeout: timeout, &state, phase, then: then)
        case .spawning(let request, let ack, let timeout):
            // On another loop: first the pid (the spawn's answer), then, for a GenServer, its acknowledgement.
            return wait(for: request.ref, timeout: .infinity, state: state, phase) { ending, state, server in
                let spawned: Node.SpawnOutcome
                switch node.endRequest(request, of: me, ending) {
                case .success(let outcome): spawned = outcome
                case .failure: spawned = .failure(.nodeStopped)
                }
                switch spawned {
                case .failure(let error):
                    if let ack { node.closeRequest(ack, of: me) }
                    return then(.failure(Node.startError(error)), &state, server)
                case .success(let pid):
                    guard let ack else {
                        Self.started(key, pid: pid, &state, server)
                        return then(.success(pid), &state, server)
                    }
                    node.attachSiblingRequest(ack, to: pid)
                    return awaitAcknowledgement(key, pid: pid, ack: RequestID(ref: ack, server: pid), timeout: timeout,
                                                &state, phase, then: then)
                }
            }
        }
    }

    /// Waits for GenServer child `key`'s start acknowledgement, records the outcome, then runs `then`.
    private static func awaitAcknowledgement(
        _ key: Int, pid: PID, ack: RequestID<StartAck>, timeout: Timeout, _ state: inout Self,
        _ phase: SupervisionPhase,
        then: @escaping (Result<PID?, StartError>, inout Self, ServerContext<Self>) -> AwaitOutcome<Self>
    ) -> AwaitOutcome<Self> {
        wait(for: ack.ref, timeout: timeout, state: state, phase) { ending, state, server in
            let node = server.node, me = server.pid
            let outcome: Result<PID?, StartError>
            switch node.endRequest(ack, of: me, ending) {
            case .success(.ok): outcome = .success(pid)
            case .success(.ignore): outcome = .success(nil)
            case .failure(.serverExited(_, let reason)): outcome = .failure(.initFailed(reason))
            case .failure(.timeout):
                // Its initialize took too long: kill it, as gen_server's start timeout does.
                node.unlink(me, pid)
                node.exit(pid, reason: .kill, from: me)
                outcome = .failure(.timeout)
            case .failure: outcome = .failure(.initFailed(.noproc))
            }
            switch outcome {
            case .success(let started?): Self.started(key, pid: started, &state, server)
            case .success(nil): Self.ignored(key, &state)
            case .failure: break
            }
            return then(outcome, &state, server)
        }
    }

    /// The child's `initialize` returned `ignore` (Erlang's `{ok, undefined}`): a temporary child is not
    /// kept at all; any other stays as a child with no process (`undefined`) — not `restarting` — so
    /// `restartChild` and `deleteChild` work on it.
    private static func ignored(_ key: Int, _ state: inout Self) {
        if state.supervision[key: key]?.spec.restart == .temporary {
            state.supervision[key: key] = nil
        } else {
            state.supervision[key: key]?.restarting = false
        }
    }

    private static func started(_ key: Int, pid: PID, _ state: inout Self, _ server: ServerContext<Self>) {
        state.supervision[key: key]?.pid = pid
        state.supervision[key: key]?.restarting = false
        state.supervision[key: key]?.startedAt = server.node.currentTime
        server.node.markSupervised(pid, by: server.pid)
        if let child = state.supervision[key: key] { SupervisionLog.started(child, server) }
    }

    /// Starts `keys` one after another, in order; stops at the first failure and runs `then` with the key
    /// that failed and why.
    static func startChildren(
        _ keys: ArraySlice<Int>, _ state: inout Self, _ server: ServerContext<Self>, _ phase: SupervisionPhase,
        then: @escaping (Result<Void, ChildStartFailure>, inout Self, ServerContext<Self>) -> AwaitOutcome<Self>
    ) -> AwaitOutcome<Self> {
        guard let key = keys.first else { return then(.success(()), &state, server) }
        let rest = keys.dropFirst()
        return startChild(key, &state, server, phase) { outcome, state, server in
            if case .failure(let error) = outcome { return then(.failure(ChildStartFailure(key: key, error: error)), &state, server) }
            return startChildren(rest, &state, server, phase, then: then)
        }
    }

    // MARK: Stopping

    /// Stops the child `key` according to its shutdown policy (Erlang's `shutdown/2`): unlink, monitor,
    /// `shutdown` (or `kill`), wait for the `DOWN`, kill after the timeout. Then runs `then` with the
    /// reason it exited with. A temporary child is removed; any other keeps its specification.
    static func stopChild(
        _ key: Int, _ state: inout Self, _ server: ServerContext<Self>, _ phase: SupervisionPhase,
        then: @escaping (ExitReason, inout Self, ServerContext<Self>) -> AwaitOutcome<Self>
    ) -> AwaitOutcome<Self> {
        guard let child = state.supervision[key: key], let pid = child.pid else {
            state.supervision[key: key]?.restarting = false
            return then(.noproc, &state, server)
        }
        let node = server.node, me = server.pid
        node.unlink(me, pid)
        let monitor = node.monitor(pid, by: me)
        let finish: (RequestEnding, inout Self, ServerContext<Self>) -> AwaitOutcome<Self> = { ending, state, server in
            var reason = ExitReason.killed
            if case .down(let down) = ending { reason = down }
            stopped(key, pid: pid, reason: reason, &state, server)
            return then(reason, &state, server)
        }
        switch child.spec.shutdown {
        case .brutalKill:
            node.exit(pid, reason: .kill, from: me)
            return wait(for: monitor, timeout: .infinity, state: state, phase, then: finish)
        case .timeout(let timeout):
            node.exit(pid, reason: .shutdown, from: me)
            return wait(for: monitor, timeout: timeout, state: state, phase) { ending, state, server in
                guard case .timeout = ending else { return finish(ending, &state, server) }
                // Still alive after its shutdown time: remove the monitor and kill it.
                node.demonitor(monitor, by: me, flush: true)
                SupervisionLog.killedAfterTimeout(state.supervision[key: key], pid: pid, timeout: timeout, server)
                node.exit(pid, reason: .kill, from: me)
                let again = node.monitor(pid, by: me)
                return wait(for: again, timeout: .infinity, state: state, phase, then: finish)
            }
        }
    }

    private static func stopped(_ key: Int, pid: PID, reason: ExitReason, _ state: inout Self,
                                _ server: ServerContext<Self>) {
        guard let child = state.supervision[key: key] else { return }
        SupervisionLog.stopped(child, pid: pid, reason: reason, server)
        if child.spec.restart == .temporary {
            state.supervision[key: key] = nil
        } else {
            state.supervision[key: key]?.pid = nil
            state.supervision[key: key]?.restarting = false
        }
    }

    /// Stops `keys` one after another, in the order given (callers pass newest first).
    static func stopChildren(
        _ keys: ArraySlice<Int>, _ state: inout Self, _ server: ServerContext<Self>, _ phase: SupervisionPhase,
        then: @escaping Continuation
    ) -> AwaitOutcome<Self> {
        guard let key = keys.first else { return then(&state, server) }
        let rest = keys.dropFirst()
        return stopChild(key, &state, server, phase) { _, state, server in
            stopChildren(rest, &state, server, phase, then: then)
        }
    }

    // MARK: Exits and restarts

    /// A linked process exited. A child: restart it as its restart type and the strategy say. Anything
    /// else (a child already stopped or replaced, a stranger, a live child that sent an exit signal):
    /// ignored, so nothing but a current child's death can restart anything.
    static func childExited(_ signal: ExitSignal, _ state: inout Self, _ server: ServerContext<Self>)
        -> ServerResult<Self>
    {
        // A live sender did not exit: it called `exit(supervisor, reason)`. Only a child's death counts.
        guard let from = signal.from, let index = state.supervision.index(pid: from), !server.node.isAlive(from)
        else { return .noReply }
        let child = state.supervision.children[index]
        state.supervision[key: child.key]?.pid = nil
        SupervisionLog.terminated(child, pid: from, reason: signal.reason, server)
        guard child.spec.restart.restarts(after: signal.reason) else {
            if child.spec.restart == .temporary || Self.removesStoppedChildren {
                state.supervision[key: child.key] = nil
            }
            return .noReply
        }
        if let backoff = child.spec.backoff { return backOff(child, backoff, &state, server) }
        return restart(child.key, &state, server)
    }

    /// Restarts `child` after its backoff delay: a retry message to itself when the delay is over (the
    /// child is `restarting` meanwhile). The delay grows with each restart, and starts over after the child
    /// ran for `resetAfter`.
    static func backOff(_ child: SupervisedChild, _ backoff: RestartBackoff, _ state: inout Self,
                        _ server: ServerContext<Self>) -> ServerResult<Self> {
        let ran = server.node.currentTime &- child.startedAt
        let stable = ran >= (backoff.resetAfter ?? backoff.maximum).wholeMilliseconds
        let delay = stable ? backoff.initial : (child.nextDelay ?? backoff.initial)
        state.supervision[key: child.key]?.nextDelay = backoff.next(after: delay)
        state.supervision[key: child.key]?.restarting = true
        SupervisionLog.backingOff(child, delay: delay, server)
        if delay <= .zero { return restart(child.key, &state, server) }
        _ = try? server.sendAfter(Timeout(delay), RetryRestart(key: child.key))
        return .noReply
    }

    static var removesStoppedChildren: Bool { false }

    /// Restarts the child `key` with the strategy, after recording the restart; one restart too many
    /// stops every child and the supervisor.
    static func restart(_ key: Int, _ state: inout Self, _ server: ServerContext<Self>) -> ServerResult<Self> {
        let intensity = state.supervision.history.limit
        guard state.supervision.history.record(at: server.node.currentTime) else {
            SupervisionLog.intensityExceeded(state.supervision[key: key], intensity, server)
            let reason = ExitReason.error(SupervisorError.reachedMaxRestartIntensity(
                maxRestarts: intensity.maxRestarts, period: intensity.period))
            return stopAll(&state, server) { state, server in .result(.stop(reason)) }.result
        }
        let children = state.supervision.children
        guard let index = state.supervision.index(key: key) else { return .noReply }
        let group: [SupervisedChild]
        switch state.supervision.strategy {
        case .oneForOne: group = [children[index]]
        case .oneForAll: group = children
        case .restForOne: group = Array(children[index...])
        }
        for member in group { state.supervision[key: member.key]?.restarting = true }
        SupervisionLog.restarting(children[index], strategy: state.supervision.strategy, server)
        let toStop = group.reversed().filter { $0.pid != nil }.map(\.key)
        return stopChildren(toStop[...], &state, server, .running) { state, server in
            // Temporary members stopped for the restart are gone; the rest start again, in order.
            let keys = group.map(\.key).filter { state.supervision[key: $0] != nil }
            return startChildren(keys[...], &state, server, .running) { outcome, state, server in
                if case .failure(let failure) = outcome {
                    retryLater(failure.key, failure.error, group: keys, &state, server)
                }
                return .result(.noReply)
            }
        }.result
    }

    /// A restart failed to start `key`: it and the rest of its group wait as `restarting`; a retry message
    /// to itself tries again (and counts as another restart), as Erlang's `try_again_restart`.
    private static func retryLater(_ key: Int, _ error: StartError, group: [Int], _ state: inout Self,
                                   _ server: ServerContext<Self>) {
        if let child = state.supervision[key: key] { SupervisionLog.startFailed(child, error, server) }
        if let position = group.firstIndex(of: key) {
            for member in group[position...] { state.supervision[key: member]?.restarting = true }
        }
        _ = try? server.node.send(ServerMessage<Self>.info(RetryRestart(key: key)), to: server.pid)
    }

    /// Handles a queued retry: restarts `key` if it still waits for one.
    static func retry(_ message: RetryRestart, _ state: inout Self, _ server: ServerContext<Self>)
        -> ServerResult<Self>
    {
        guard let child = state.supervision[key: message.key], child.pid == nil, child.restarting else {
            return .noReply
        }
        return restart(message.key, &state, server)
    }

    /// Stops every running child, newest first, then runs `then`.
    static func stopAll(_ state: inout Self, _ server: ServerContext<Self>, phase: SupervisionPhase = .running,
                        then: @escaping Continuation) -> AwaitOutcome<Self> {
        stopChildren(state.supervision.runningKeysNewestFirst[...], &state, server, phase, then: then)
    }

    /// The orderly stop (parent's exit signal, `sys` stop, node shutdown): every child stops, newest first,
    /// each by its shutdown policy; then the supervisor stops with `reason`.
    static func stopInOrder(_ reason: ExitReason, replyingTo request: (pid: PID, ref: Ref)?, _ state: inout Self,
                            _ server: ServerContext<Self>) -> ServerResult<Self>
    {
        state.supervision.stopRequest = request
        return stopAll(&state, server) { state, server in
            if let request = state.supervision.stopRequest.take() {
                _ = server.node.deliverReply(request.ref, to: request.pid, SystemReply<Self>.ok)
            }
            return .result(.stop(reason))
        }.result
    }
}

extension AwaitOutcome {
    /// The handler result of a step run in a handler.
    var result: ServerResult<S> {
        switch self {
        case .result(let result): return result
        case .initialization: preconditionFailure("a running supervision step produced an initialization")
        }
    }

    /// The initialization of a step run in `initialize`.
    var initialization: Initialization<S> {
        switch self {
        case .initialization(let initialization): return initialization
        case .result: preconditionFailure("an initializing supervision step produced a handler result")
        }
    }
}

/// Which child of a group failed to start, and why.
struct ChildStartFailure: Error {
    let key: Int
    let error: StartError
}

/// A supervisor's message to itself: try again to restart a child whose restart failed.
public struct RetryRestart: Sendable {
    let key: Int
}

/// What the supervisors' runtime API answers.
public enum SupervisorReply: Sendable, Equatable {
    case children([ChildInfo])
    case counts(ChildCounts)
    /// A child started: its pid, or `nil` when its `initialize` returned `ignore`.
    case started(PID?)
    case done
    case failed(SupervisorError)
}
