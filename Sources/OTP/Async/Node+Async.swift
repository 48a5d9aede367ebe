/// The async facade: ordinary Swift async code on any thread or task calls into the node.
///
/// Each method hands its work to the loop through the inbox (one `uv_async_send` wakes the loop for any
/// number of posts) and suspends until the loop answers. Each throws the loop's own typed error, as its
/// synchronous twin does — `throws(CallError)`, `throws(ProcessError)`, `throws(StartError)` — so
/// `catch .timeout(let pid)` works in async code too. Two cases exist for the facade:
/// - `.cancelled` when the awaiting task is cancelled: the call is withdrawn on the loop and a reply
///   that arrives later is dropped (the call is tracked by an object allocated before suspending, so a
///   cancellation that wins the race against registration is still honoured). `send`, `spawn` and
///   `start` have exactly one outcome: either they did not run and throw `.cancelled`, or the loop had
///   already taken them (cancellation came too late) and they report what happened;
/// - `.nodeStopped` when the node closes first — nothing hangs.
///
/// `perform` runs arbitrary code, so it throws whatever that code throws, `CancellationError` or
/// `CallError.nodeStopped`. Every timeout takes a `Timeout` or a Swift `Duration`.
///
/// The synchronous methods of the same names remain for code that runs on the loop thread outside any
/// process; in an async context these async overloads are chosen.
extension Node {
    /// Calls `server` from async code and returns its reply.
    /// - Throws: `CallError` (unknown name, no process, calling self, timeout, server exited, mailbox full,
    ///   invalid timeout, node stopped, cancelled).
    @inlinable
    public func call<S: GenServer>(_ server: ServerRef<S>, _ request: S.Call, timeout: Timeout = .seconds(5))
        async throws(CallError) -> S.Reply where S.Call: Sendable
    {
        try await facade(CallError.self) {
            try await external { node, call in
                node.beginExternal(call, timeout: timeout) { caller in node.beginCall(from: caller, to: server, request) }
            }
        }
    }

    /// Calls `server` from async code with a request that names its own reply type (Akka's ask pattern),
    /// and returns that reply: `let name = try await node.ask(kv) { .get("name", $0) }` for
    /// `case get(String, Caller<String?>)`.
    /// - Throws: as `call(_:_:timeout:)`.
    @inlinable
    public func ask<S: GenServer, R: Sendable>(
        _ server: ServerRef<S>, timeout: Timeout = .seconds(5), _ request: @escaping @Sendable (Caller<R>) -> S.Call
    ) async throws(CallError) -> R {
        try await facade(CallError.self) {
            try await external { node, call in
                node.beginExternal(call, timeout: timeout) { caller in node.beginCall(from: caller, to: server, request) }
            }
        }
    }

    /// Stops `server` from async code; `terminate` has run when this returns (Erlang's `gen_server:stop`).
    /// - Throws: `CallError` (`noProcess` / `unknownName` when it is not running, timeout, node stopped,
    ///   cancelled).
    @inlinable
    public func stop<S: GenServer>(_ server: ServerRef<S>, reason: ExitReason = .normal, timeout: Timeout = .infinity)
        async throws(CallError)
    {
        _ = try await systemCall(server, .stop(reason), timeout: timeout)
    }

    /// Casts to `server` from async code; returns what happened to the message.
    /// - Throws: `CallError.nodeStopped` or `.cancelled` (then the cast was not made).
    @inlinable
    public func cast<S: GenServer>(_ server: ServerRef<S>, _ message: S.Cast) async throws(CallError) -> CastOutcome
        where S.Cast: Sendable
    {
        try await facade(CallError.self) { try await perform { node in node.cast(server, message) } }
    }

    /// Starts a GenServer from async code (anonymous or named; linked to nothing) once `initialize` has
    /// decided. - Throws: `StartError` (including `nodeStopped` and `cancelled`).
    @inlinable
    public func start<S: GenServer>(_ type: S.Type, _ argument: S.Argument, options: StartOptions = StartOptions())
        async throws(StartError) -> ServerRef<S> where S.Argument: Sendable
    {
        guard !options.link && !options.monitor else {
            throw .invalidOptions("link and monitor need a starting process: use ProcessContext.startServer")
        }
        let started: Started<S> = try await facade(StartError.self) {
            try await external { node, call in
                guard call.claim() else { return }
                let helper = try? node.spawn(of: Never.self) { process in
                    try process.startServer(type, argument, options: options) { result, _ in
                        call.finish(result.mapError { $0 })
                        return .exit(.normal)
                    }
                }
                if let helper { node.markSystem(helper.pid) }
            }
        }
        return started.server
    }

    /// Starts a GenServer whose argument is its initial state, from async code.
    @inlinable
    public func start<S: GenServer & Sendable>(_ server: S, options: StartOptions = StartOptions())
        async throws(StartError) -> ServerRef<S> where S.Argument == S
    {
        try await start(S.self, server, options: options)
    }

    /// Spawns a process from async code. - Throws: `ProcessError` (including `nodeStopped`, `cancelled`).
    @inlinable
    public func spawn<B: ProcessBehavior & Sendable>(_ behavior: B, options: SpawnOptions = .init())
        async throws(ProcessError) -> Address<B.Message>
    {
        try await facade(ProcessError.self) { try await perform { node in try node.spawn(behavior, options: options) } }
    }

    /// Sends `message` from async code and reports a refusal (`mailboxFull`, `unknownName`, ...) by throwing.
    public func send<M: Sendable>(_ message: M, to address: Address<M>) async throws(ProcessError) {
        try await facade(ProcessError.self) { try await perform { node in try node.send(message, to: address) } }
    }

    /// Sends `message` to the process registered as `name`, from async code.
    public func send<M: Sendable>(_ message: M, to name: String) async throws(ProcessError) {
        try await facade(ProcessError.self) { try await perform { node in try node.send(message, to: name) } }
    }

    /// Sends a plain `Info` message to a server, from async code.
    public func send<S: GenServer>(_ message: S.Info, to server: ServerRef<S>) async throws(ProcessError)
        where S.Info: Sendable
    {
        try await facade(ProcessError.self) { try await perform { node in try node.send(message, to: server) } }
    }

    /// The pid registered as `name`, from async code. - Throws: `ProcessError.nodeStopped` or `.cancelled`.
    public func whereis(_ name: String) async throws(ProcessError) -> PID? {
        try await facade(ProcessError.self) { try await perform { node in node.whereis(name) } }
    }

    /// A typed reference to the server `pid`, from async code: checked on the loop (see
    /// `ServerRef.init(pid:on:)`). - Throws: `CallError.noProcess`, `.wrongServerType`, `.nodeStopped`,
    /// `.cancelled`.
    public func serverRef<S: GenServer>(_ type: S.Type, pid: PID) async throws(CallError) -> ServerRef<S> {
        try await facade(CallError.self) { try await perform { node in try ServerRef<S>(pid: pid, on: node) } }
    }

    // MARK: sys, from async code

    /// The server's current state (Erlang's `sys:get_state`), from async code.
    /// - Throws: `CallError` (unknown name, no process, timeout after 5 s, node stopped, cancelled).
    @inlinable
    public func getState<S: GenServer & Sendable>(_ server: ServerRef<S>) async throws(CallError) -> S {
        guard case .state(let state) = try await systemCall(server, .getState) else {
            preconditionFailure("a server answered a sys request with the wrong reply")
        }
        return state
    }

    /// Replaces the server's state with `replace(state)` (Erlang's `sys:replace_state`), from async code,
    /// and returns the new state. `replace` runs on the loop, inside the server. When it throws, the state
    /// stays unchanged and its error is rethrown as is; otherwise the errors are `CallError`s.
    @inlinable @discardableResult
    public func replaceState<S: GenServer & Sendable>(_ server: ServerRef<S>, _ replace: @escaping @Sendable (S) throws -> S)
        async throws -> S
    {
        switch try await systemCall(server, .replaceState(replace)) {
        case .state(let state): return state
        case .failed(let error): throw error
        default: preconditionFailure("a server answered a sys request with the wrong reply")
        }
    }

    /// Suspends the server from async code: calls and casts wait in its mailbox; `sys` requests are still
    /// answered (Erlang's `sys:suspend`). - Throws: `CallError`.
    @inlinable
    public func suspend<S: GenServer>(_ server: ServerRef<S>) async throws(CallError) {
        _ = try await systemCall(server, .suspend)
    }

    /// Resumes a suspended server, from async code (Erlang's `sys:resume`). - Throws: `CallError`.
    @inlinable
    public func resume<S: GenServer>(_ server: ServerRef<S>) async throws(CallError) {
        _ = try await systemCall(server, .resume)
    }

    /// The server's counters (Erlang's `sys:statistics`), from async code. - Throws: `CallError`.
    @inlinable
    public func statistics<S: GenServer>(of server: ServerRef<S>) async throws(CallError) -> ServerStatistics {
        guard case .statistics(let statistics) = try await systemCall(server, .statistics) else {
            preconditionFailure("a server answered a sys request with the wrong reply")
        }
        return statistics
    }

    /// Turns tracing on or off (Erlang's `sys:trace`), from async code. - Throws: `CallError`.
    @inlinable
    public func trace<S: GenServer>(_ server: ServerRef<S>, _ enabled: Bool) async throws(CallError) {
        _ = try await systemCall(server, .trace(enabled))
    }

    @inlinable
    func systemCall<S: GenServer>(_ server: ServerRef<S>, _ request: SystemRequest<S>, timeout: Timeout = .seconds(5))
        async throws(CallError) -> SystemReply<S>
    {
        let request = UncheckedRequest(request)  // crosses to the loop once; only the server uses it
        return try await facade(CallError.self) {
            try await external { node, call in
                node.beginExternal(call, timeout: timeout) { caller in
                    node.beginSystemCall(from: caller, to: server, request.value)
                }
            }
        }
    }

    /// Stops every process of the node in an orderly way and returns when all are gone; the loop keeps
    /// running (stop it afterwards). GenServers get a system stop request one at a time, so their
    /// `terminate` runs with `reason`; a server that does not finish within `timeout` is killed (a
    /// supervisor is waited for: its children's shutdown policies bound it). Other processes get an exit
    /// signal with `reason`, and are killed if they trap it. Processes go newest first, except those a live
    /// supervisor manages: a root supervisor stops its whole tree, children newest first, each by its
    /// shutdown policy (see `ShutdownSequence`). Once begun, it runs to the end even if the awaiting task
    /// is cancelled. Thread-safe (async).
    /// - Throws: `ProcessError.nodeStopped` when the node is closed (before or during the shutdown),
    ///   `.invalidTimeout` for a negative timeout.
    public func shutdown(reason: ExitReason = .shutdown, timeout: Timeout = .seconds(5)) async throws(ProcessError) {
        let _: Bool = try await facade(ProcessError.self) { try await external { node, call in
            guard call.claim() else { return }
            node.external.add(call)
            do {
                try node.beginShutdown(reason: reason, timeout: timeout,
                                       sparing: Set(node.external.caller.map { [$0] } ?? [])) { [unowned node] in
                    node.external.remove(call)
                    call.finish(.success(true))
                }
            } catch {
                node.external.remove(call)
                call.finish(.failure(error))
            }
        } }
    }

    /// Runs `body` on the loop thread and returns its result to async code.
    @inlinable
    public func perform<R: Sendable>(_ body: @escaping @Sendable (Node) throws -> R) async throws -> R {
        try await external { node, call in
            guard call.claim() else { return }
            call.finish(Result { try body(node) })
        }
    }

    /// Posts a job to the inbox (thread-safe); `false` when the node is closed.
    @usableFromInline
    func post(run: @escaping @Sendable (Node) -> Void, cancel: (@Sendable () -> Void)?) -> Bool {
        inbox.post(Inbox.Job(run: run, cancel: cancel))
    }

    /// Posts an object that is its own job (thread-safe); `false` when the node is closed.
    @usableFromInline
    func post(_ work: any InboxWork) -> Bool {
        inbox.post(Inbox.Job(work))
    }

    /// Suspends until `start` (run on the loop) has finished `call`, which it must do exactly once directly
    /// or later; cancellation and node shutdown finish it too. With `tracing`, what `start` sends carries
    /// the trace context current on the calling task.
    @inlinable
    func external<R: Sendable>(_ start: @escaping @Sendable (Node, ExternalCall<R>) -> Void) async throws -> R {
        let call = ExternalCall<R>()
        if _slowPath(traces), let trace = tracing?.currentContext() {
            call.start = { node, call in node.sending(with: trace) { start(node, call) } }
        } else {
            call.start = start
        }
        return try await withTaskCancellationHandler {
            try await withExternalContinuation { continuation in
                call.install(continuation)
                if !post(call) { call.finish(.failure(CallError.nodeStopped)) }
            }
        } onCancel: {
            // Too late once the loop has claimed an operation (perform, start): it then reports its own outcome.
            if call.withdraw(.failure(CancellationError())) {
                _ = post(run: { node in node.cancelExternal(call, ref: call.ref) }, cancel: nil)
            }
        }
    }
}

/// An error type of the async facade: the loop's own typed error, which can also say that the node
/// stopped or that the awaiting task was cancelled.
@usableFromInline
protocol FacadeError: Error {
    static var nodeStopped: Self { get }
    static var cancelled: Self { get }
}

extension CallError: FacadeError {}
extension ProcessError: FacadeError {}
extension StartError: FacadeError {}

/// Runs `body` (which awaits the loop) and gives its failure as `E`: `E` itself as is, the task's
/// cancellation as `.cancelled`, a closed node as `.nodeStopped`. Only the error path pays (a cast).
@inlinable
func facade<R, E: FacadeError>(_ type: E.Type, _ body: () async throws -> R) async throws(E) -> R {
    do {
        return try await body()
    } catch let error as E {
        throw error
    } catch is CancellationError {
        throw .cancelled
    } catch let error as CallError where error == .nodeStopped {
        throw .nodeStopped
    } catch let error as ProcessError where error == .nodeStopped {
        throw .nodeStopped
    } catch {
        preconditionFailure("the async facade met an error of an unexpected type: \(error)")
    }
}

/// A system request on its way to the loop. Its `replaceState` closure is `@Sendable` where the facade
/// makes it, and only the server runs it, on the loop.
@usableFromInline
struct UncheckedRequest<S: GenServer>: @unchecked Sendable {
    @usableFromInline let value: SystemRequest<S>
    @inlinable init(_ value: SystemRequest<S>) { self.value = value }
}

/// Suspends until `body`'s continuation is resumed: an unsafe continuation, or a checked one in the
/// ThreadSanitizer build (see `ExternalContinuation`).
@inlinable
func withExternalContinuation<Value: Sendable>(
    _ body: (ExternalContinuation<Value>) -> Void
) async throws -> Value {
    #if OTP_TSAN
    try await withCheckedThrowingContinuation(body)
    #else
    try await withUnsafeThrowingContinuation(body)
    #endif
}

// MARK: Timeouts as a Swift `Duration` (rounded up to whole milliseconds; disfavoured, so a literal
// such as `.seconds(2)` stays a `Timeout`)

extension Node {
    /// Calls `server` from async code, waiting at most `timeout`.
    @inlinable @_disfavoredOverload
    public func call<S: GenServer>(_ server: ServerRef<S>, _ request: S.Call, timeout: Duration)
        async throws(CallError) -> S.Reply where S.Call: Sendable
    {
        try await call(server, request, timeout: Timeout(timeout))
    }

    /// Stops `server` from async code, waiting at most `timeout`.
    @inlinable @_disfavoredOverload
    public func stop<S: GenServer>(_ server: ServerRef<S>, reason: ExitReason = .normal, timeout: Duration)
        async throws(CallError)
    {
        try await stop(server, reason: reason, timeout: Timeout(timeout))
    }

    /// Shuts the node's processes down, giving each server at most `timeout`.
    @_disfavoredOverload
    public func shutdown(reason: ExitReason = .shutdown, timeout: Duration) async throws(ProcessError) {
        try await shutdown(reason: reason, timeout: Timeout(timeout))
    }
}
