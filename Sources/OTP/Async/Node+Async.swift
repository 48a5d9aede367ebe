/// The async facade: ordinary Swift async code on any thread or task calls into the node.
///
/// Each method hands its work to the loop through the inbox (one `uv_async_send` wakes the loop for any
/// number of posts) and suspends until the loop answers. The errors are the loop's own typed errors
/// (`CallError`, `ProcessError`, `StartError`), plus:
/// - `CancellationError` when the awaiting task is cancelled: the call is withdrawn on the loop and a reply
///   that arrives later is dropped (the call is tracked by an object allocated before suspending, so a
///   cancellation that wins the race against registration is still honoured). `perform`, `send`, `spawn`
///   and `start` have exactly one outcome: either they did not run and throw `CancellationError`, or the
///   loop had already taken them (cancellation came too late) and they report what happened;
/// - `CallError.nodeStopped` (or `ProcessError.nodeStopped`) when the node closes first — nothing hangs.
///
/// The synchronous methods of the same names remain for code that runs on the loop thread outside any
/// process; in an async context these async overloads are chosen.
extension Node {
    /// Calls `server` from async code and returns its reply.
    /// - Throws: `CallError` (unknown name, no process, calling self, timeout, server exited, mailbox full,
    ///   node stopped) or `CancellationError`.
    @inlinable
    public func call<S: GenServer>(_ server: ServerRef<S>, _ request: S.Call, timeout: Timeout = .seconds(5))
        async throws -> S.Reply where S.Call: Sendable
    {
        try await external { node, call in
            node.beginExternal(call, timeout: timeout) { caller in node.beginCall(from: caller, to: server, request) }
        }
    }

    /// Stops `server` from async code; `terminate` has run when this returns.
    @inlinable
    public func stop<S: GenServer>(_ server: ServerRef<S>, reason: ExitReason = .normal, timeout: Timeout = .infinity)
        async throws
    {
        let _: SystemReply<S> = try await external { node, call in
            node.beginExternal(call, timeout: timeout) { caller in
                node.beginSystemCall(from: caller, to: server, .stop(reason))
            }
        }
    }

    /// Casts to `server` from async code; returns what happened to the message.
    @inlinable
    public func cast<S: GenServer>(_ server: ServerRef<S>, _ message: S.Cast) async throws -> CastOutcome
        where S.Cast: Sendable
    {
        try await perform { node in node.cast(server, message) }
    }

    /// Starts a GenServer from async code (anonymous or named; linked to nothing) once `initialize` has
    /// decided. - Throws: `StartError`, `CallError.nodeStopped`, `CancellationError`.
    @inlinable
    public func start<S: GenServer>(_ type: S.Type, _ argument: S.Argument, options: StartOptions = StartOptions())
        async throws -> ServerRef<S> where S.Argument: Sendable
    {
        guard !options.link && !options.monitor else {
            throw StartError.invalidOptions("link and monitor need a starting process: use ProcessContext.startServer")
        }
        let started: Started<S> = try await external { node, call in
            guard call.claim() else { return }
            _ = try? node.spawn(of: Never.self) { process in
                try process.startServer(type, argument, options: options) { result, _ in
                    call.finish(result.mapError { $0 })
                    return .exit(.normal)
                }
            }
        }
        return started.server
    }

    /// Starts a GenServer whose argument is its initial state, from async code.
    @inlinable
    public func start<S: GenServer & Sendable>(_ server: S, options: StartOptions = StartOptions()) async throws
        -> ServerRef<S> where S.Argument == S
    {
        try await start(S.self, server, options: options)
    }

    /// Spawns a process from async code. - Throws: `ProcessError`, `CancellationError`.
    @inlinable
    public func spawn<B: ProcessBehavior & Sendable>(_ behavior: B, options: SpawnOptions = .init()) async throws
        -> Address<B.Message>
    {
        try await perform { node in try node.spawn(behavior, options: options) }
    }

    /// Sends `message` from async code and reports a refusal (`mailboxFull`, `unknownName`, ...) by throwing.
    public func send<M: Sendable>(_ message: M, to address: Address<M>) async throws {
        try await perform { node in try node.send(message, to: address) }
    }

    /// Sends `message` to the process registered as `name`, from async code.
    public func send<M: Sendable>(_ message: M, to name: String) async throws {
        try await perform { node in try node.send(message, to: name) }
    }

    /// Sends a plain `Info` message to a server, from async code.
    public func send<S: GenServer>(_ message: S.Info, to server: ServerRef<S>) async throws where S.Info: Sendable {
        try await perform { node in try node.send(message, to: server) }
    }

    /// The pid registered as `name`, from async code.
    public func whereis(_ name: String) async throws -> PID? {
        try await perform { node in node.whereis(name) }
    }

    /// Stops every process of the node in an orderly way and returns when all are gone; the loop keeps
    /// running (stop it afterwards). GenServers get a system stop request one at a time, so their
    /// `terminate` runs with `reason`; a server that does not finish within `timeout` is killed (a
    /// supervisor is waited for: its children's shutdown policies bound it). Other processes get an exit
    /// signal with `reason`, and are killed if they trap it. Processes go newest first, except those a live
    /// supervisor manages: a root supervisor stops its whole tree, children newest first, each by its
    /// shutdown policy (see `ShutdownSequence`). Once begun, it runs to the end even if the awaiting task
    /// is cancelled. Thread-safe (async).
    /// - Throws: `CallError.nodeStopped` when the node is closed (before or during the shutdown),
    ///   `ProcessError.invalidTimeout` for a negative timeout.
    public func shutdown(reason: ExitReason = .shutdown, timeout: Timeout = .seconds(5)) async throws {
        let _: Bool = try await external { node, call in
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
        }
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
    /// or later; cancellation and node shutdown finish it too.
    @inlinable
    func external<R: Sendable>(_ start: @escaping @Sendable (Node, ExternalCall<R>) -> Void) async throws -> R {
        let call = ExternalCall<R>()
        call.start = start
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
