#if canImport(Glibc)
import Glibc
#endif
import CLibUV

/// GenServer operations for code that runs on the loop thread *outside* any process: a program's main
/// code, tests, the demo. Each one runs the node's loop on the calling thread until its outcome is known
/// (like a blocking `gen_server:call` from the shell), through a short-lived helper process.
///
/// - They cannot run inside the loop: from process code (use `ProcessContext` / `ServerContext`) or from
///   a job on the running loop (`perform`, `execute`; use the async overloads). There they throw
///   `wouldBlock` naming the operation, and nothing happens. On a closed node they throw `nodeStopped`.
/// - **Manual clock:** they run the scheduler and, when nothing else can happen, advance the clock to the
///   next timer — so a timeout resolves deterministically, and `now` may be later when they return.
/// - When nothing is left that could ever answer (no runnable process, no timer), a call reports
///   `timeout` at once instead of hanging.
extension Node {
    /// Starts a GenServer and returns once `initialize` has decided (Erlang's `gen_server:start`).
    /// - Throws: `StartError` (already started, init failed, ignored, timeout, invalid options; `wouldBlock`
    ///   on the running loop, `nodeStopped` on a closed node).
    /// - Note: on the manual clock this may advance the clock to the next timer (see above).
    @inlinable @discardableResult
    @available(*, noasync, message: "drives the loop; from async code use the async overload")
    public func start<S: GenServer>(_ type: S.Type, _ argument: S.Argument, options: StartOptions = StartOptions())
        throws(StartError) -> ServerRef<S>
    {
        guard !options.link && !options.monitor else {
            throw .invalidOptions("link and monitor need a starting process: use ProcessContext.startServer")
        }
        switch blockingState() {
        case .free: break
        case .insideLoop: throw .wouldBlock(operation: "Node.start")
        case .closed: throw .nodeStopped
        }
        let outcome: Result<Started<S>, StartError>? = blocking { process, done in
            try process.startServer(type, argument, options: options) { result, _ in
                done(result)
                return .exit(.normal)
            }
        }
        guard let outcome else { throw .timeout }
        return try outcome.get().server
    }

    /// Starts a GenServer whose argument is its initial state.
    @inlinable @discardableResult
    @available(*, noasync, message: "drives the loop; from async code use the async overload")
    public func start<S: GenServer>(_ server: S, options: StartOptions = StartOptions()) throws(StartError)
        -> ServerRef<S> where S.Argument == S
    {
        try start(S.self, server, options: options)
    }

    /// Calls `server` and returns its reply (Erlang's `gen_server:call`).
    /// - Throws: `CallError`: unknown name, no process, timeout, server exited, mailbox full; `wouldBlock`
    ///   on the running loop, `nodeStopped` on a closed node.
    /// - Note: on the manual clock this may advance the clock to the next timer (see above).
    @inlinable
    @available(*, noasync, message: "drives the loop; from async code use the async overload")
    public func call<S: GenServer>(_ server: ServerRef<S>, _ request: S.Call, timeout: Timeout = .seconds(5))
        throws(CallError) -> S.Reply
    {
        try blockingCall(server) { process, then in
            try process.call(server, request, timeout: timeout, then: then)
        }
    }

    /// Calls `server` with a request that names its own reply type (Akka's ask pattern), and returns that
    /// reply: `let name = try node.ask(kv) { .get("name", $0) }` for `case get(String, Caller<String?>)`.
    /// - Throws: as `call(_:_:timeout:)`.
    @inlinable
    @available(*, noasync, message: "drives the loop; from async code use the async overload")
    public func ask<S: GenServer, R>(_ server: ServerRef<S>, timeout: Timeout = .seconds(5),
                                      _ request: @escaping (Caller<R>) -> S.Call) throws(CallError) -> R
    {
        try blockingCall(server) { process, then in
            try process.ask(server, timeout: timeout, request, then: then)
        }
    }

    /// Stops `server`: `terminate` runs with `reason` before this returns (Erlang's `gen_server:stop`).
    /// - Throws: `noProcess` / `unknownName` when it is not running; `timeout`; `wouldBlock` on the running loop.
    /// - Note: on the manual clock this may advance the clock to the next timer (see above).
    @inlinable
    @available(*, noasync, message: "drives the loop; from async code use the async overload")
    public func stop<S: GenServer>(_ server: ServerRef<S>, reason: ExitReason = .normal,
                                   timeout: Timeout = .infinity) throws(CallError) {
        _ = try systemCall(server, .stop(reason), timeout: timeout, operation: "Node.stop")
    }

    // MARK: sys

    /// The server's current state (Erlang's `sys:get_state`).
    @inlinable
    @available(*, noasync, message: "drives the loop; from async code use the async overload")
    public func getState<S: GenServer>(_ server: ServerRef<S>) throws(CallError) -> S {
        guard case .state(let state) = try systemCall(server, .getState, operation: "Node.getState") else { preconditionFailure("a server answered a sys request with the wrong reply") }
        return state
    }

    /// Replaces the server's state with `replace(state)` (Erlang's `sys:replace_state`) and returns the new
    /// state. When `replace` throws, the state stays unchanged and its error is rethrown.
    @inlinable @discardableResult
    @available(*, noasync, message: "drives the loop; from async code use the async overload")
    public func replaceState<S: GenServer>(_ server: ServerRef<S>, _ replace: @escaping (S) throws -> S) throws -> S {
        switch try systemCall(server, .replaceState(replace), operation: "Node.replaceState") {
        case .state(let state): return state
        case .failed(let error): throw error
        default: preconditionFailure("a server answered a sys request with the wrong reply")
        }
    }

    /// Suspends the server: calls and casts wait in its mailbox; `sys` requests are still answered.
    @inlinable
    @available(*, noasync, message: "drives the loop; from async code use the async overload")
    public func suspend<S: GenServer>(_ server: ServerRef<S>) throws(CallError) {
        _ = try systemCall(server, .suspend, operation: "Node.suspend")
    }

    /// Resumes a suspended server.
    @inlinable
    @available(*, noasync, message: "drives the loop; from async code use the async overload")
    public func resume<S: GenServer>(_ server: ServerRef<S>) throws(CallError) {
        _ = try systemCall(server, .resume, operation: "Node.resume")
    }

    /// The server's counters (Erlang's `sys:statistics`).
    @inlinable
    @available(*, noasync, message: "drives the loop; from async code use the async overload")
    public func statistics<S: GenServer>(of server: ServerRef<S>) throws(CallError) -> ServerStatistics {
        guard case .statistics(let statistics) = try systemCall(server, .statistics, operation: "Node.statistics") else { preconditionFailure("a server answered a sys request with the wrong reply") }
        return statistics
    }

    /// Turns tracing on or off: every message in and every reply out goes to the report handler as
    /// `NodeReport.trace` (Erlang's `sys:trace`).
    @inlinable
    @available(*, noasync, message: "drives the loop; from async code use the async overload")
    public func trace<S: GenServer>(_ server: ServerRef<S>, _ enabled: Bool) throws(CallError) {
        _ = try systemCall(server, .trace(enabled), operation: "Node.trace")
    }

    @inlinable
    func systemCall<S: GenServer>(_ server: ServerRef<S>, _ request: SystemRequest<S>, timeout: Timeout = .seconds(5),
                                  operation: String)
        throws(CallError) -> SystemReply<S>
    {
        try blockingCall(server, operation: operation) { process, then in
            try process.system(server, request, timeout: timeout, then: then)
        }
    }

    // MARK: Driving the loop from outside a process

    /// Runs a process-level request to `server` (`start` hands it the continuation that ends the helper)
    /// and returns its reply; `timeout` when nothing is left that could ever answer.
    @inlinable
    func blockingCall<S: GenServer, R>(
        _ server: ServerRef<S>, operation: String = "Node.call",
        _ start: @escaping (ProcessContext<Never>,
                            @escaping (Result<R, CallError>, ProcessContext<Never>) throws -> Step<Never>) throws
            -> Step<Never>
    ) throws(CallError) -> R {
        switch blockingState() {
        case .free: break
        case .insideLoop: throw .wouldBlock(operation: operation)
        case .closed: throw .nodeStopped
        }
        let pid: PID
        do {
            pid = try resolve(server).pid
        } catch {
            callFailed(error)
            throw error
        }
        let outcome: Result<R, CallError>? = blocking { process, done in
            try start(process) { result, _ in
                done(result)
                return .exit(.normal)
            }
        }
        guard let outcome else {
            callFailed(.timeout(pid))
            throw .timeout(pid)
        }
        return try outcome.get()
    }

    /// Whether a blocking operation may run the loop from here. Process code and jobs on the running loop
    /// (`perform`, `execute`) are inside it: blocking there would have to run the loop re-entrantly.
    @usableFromInline
    enum BlockingState { case free, insideLoop, closed }

    @usableFromInline
    func blockingState() -> BlockingState {
        if scheduler.draining { return .insideLoop }
        guard uv != nil else { return .free }
        switch phase {
        case .ready, .attached: return .free
        case .running: return .insideLoop
        case .closed: return .closed
        }
    }

    /// Runs `body` in a helper process and drives the loop until it calls `done`; `nil` when nothing is left
    /// that could make progress (the helper is then ended).
    @inlinable
    func blocking<R>(_ body: @escaping (ProcessContext<Never>, @escaping (R) -> Void) throws -> Step<Never>) -> R? {
        let box = OutcomeBox<R>()
        let helper = try! spawn(of: Never.self) { process in
            try body(process) { box.value = $0 }
        }
        markSystem(helper.pid)
        if !drive(until: { box.value != nil }) { exit(helper.pid, reason: .kill) }
        return box.value
    }

    /// Runs the loop on the calling thread until `done()`; returns `false` when nothing is left that could
    /// make progress.
    @usableFromInline
    func drive(until done: () -> Bool) -> Bool {
        precondition(!scheduler.draining, "blocking Node GenServer operations cannot run from process code; "
            + "use ProcessContext.call/startServer or ServerContext.call")
        guard let uv else {
            preconditionInLoop()
            runUntilIdle()
            while !done() {
                guard let next = timers.wheel.nextTick() else { return false }
                advance(by: next > timers.manualNow ? next - timers.manualNow : 0)
            }
            return true
        }
        precondition(phase == .ready || phase == .attached,
                     "blocking Node GenServer operations cannot run while the loop is running; use the process-level API")
        let previous = phase
        loopThread = pthread_self()
        phase = .running
        defer { phase = previous }
        uv.keepAlive(false)
        uv_update_time(uv.loop)  // the cached time may be stale: the loop has not run for a while
        drainInbox()
        while !done() {
            if uv_run(uv.loop, UV_RUN_ONCE) == 0 && !done() && scheduler.runQueue.isEmpty { return false }
        }
        return true
    }
}

/// Where a helper process leaves its outcome. Loop thread only.
@usableFromInline
final class OutcomeBox<R> {
    @usableFromInline var value: R?
    @usableFromInline init() {}
}

// MARK: Timeouts as a Swift `Duration` (rounded up to whole milliseconds; disfavoured, so a literal
// such as `.seconds(2)` stays a `Timeout`)

extension Node {
    /// `call(_:_:timeout:)` waiting at most `timeout`.
    @inlinable @_disfavoredOverload
    @available(*, noasync, message: "drives the loop; from async code use the async overload")
    public func call<S: GenServer>(_ server: ServerRef<S>, _ request: S.Call, timeout: Duration)
        throws(CallError) -> S.Reply
    {
        try call(server, request, timeout: Timeout(timeout))
    }

    /// `stop(_:reason:timeout:)` waiting at most `timeout`.
    @inlinable @_disfavoredOverload
    @available(*, noasync, message: "drives the loop; from async code use the async overload")
    public func stop<S: GenServer>(_ server: ServerRef<S>, reason: ExitReason = .normal, timeout: Duration)
        throws(CallError)
    {
        try stop(server, reason: reason, timeout: Timeout(timeout))
    }
}
