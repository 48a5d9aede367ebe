/// The supervisors' runtime API, for code outside any process: blocking on the loop thread (tests,
/// scripts; like the other node-level GenServer calls) and async from any task. From process code, call
/// the supervisor with its `Call` values through `ProcessContext.call` / `ServerContext.call`.
///
/// Errors: `SupervisorError` for a refusal (not found, running, start failed, ...), `CallError` when the
/// supervisor cannot be reached.
extension Node {
    // MARK: Supervisor, blocking (loop thread, outside processes)

    /// Erlang's `which_children`: every child in start order, with its pid or state.
    @available(*, noasync, message: "drives the loop; from async code use the async overload")
    public func whichChildren(_ supervisor: ServerRef<Supervisor>) throws -> [ChildInfo] {
        try Self.children(call(supervisor, .whichChildren))
    }

    /// Erlang's `count_children`.
    @available(*, noasync, message: "drives the loop; from async code use the async overload")
    public func countChildren(_ supervisor: ServerRef<Supervisor>) throws -> ChildCounts {
        try Self.counts(call(supervisor, .countChildren))
    }

    /// Erlang's `terminate_child`: stops the child by its shutdown policy; its specification stays.
    @available(*, noasync, message: "drives the loop; from async code use the async overload")
    public func terminateChild(_ supervisor: ServerRef<Supervisor>, id: String) throws {
        try Self.done(call(supervisor, .terminateChild(id), timeout: .infinity))
    }

    /// Erlang's `restart_child`: starts a stopped child again; its new pid (`nil`: `initialize` ignored).
    @available(*, noasync, message: "drives the loop; from async code use the async overload")
    @discardableResult
    public func restartChild(_ supervisor: ServerRef<Supervisor>, id: String) throws -> PID? {
        try Self.started(call(supervisor, .restartChild(id), timeout: .infinity))
    }

    /// Erlang's `delete_child`: removes a stopped child's specification.
    @available(*, noasync, message: "drives the loop; from async code use the async overload")
    public func deleteChild(_ supervisor: ServerRef<Supervisor>, id: String) throws {
        try Self.done(call(supervisor, .deleteChild(id)))
    }

    /// Erlang's `start_child`: adds `spec` (last in start order) and starts it.
    @available(*, noasync, message: "drives the loop; from async code use the async overload")
    @discardableResult
    public func startChild(_ supervisor: ServerRef<Supervisor>, _ spec: ChildSpec) throws -> PID? {
        try Self.started(call(supervisor, .startChild(spec), timeout: .infinity))
    }

    /// `start_child` for a server child, returning its typed reference (`nil`: `initialize` ignored).
    /// - Throws: `SupervisorError`, or `CallError.wrongServerType` when the child runs another server type.
    @available(*, noasync, message: "drives the loop; from async code use the async overload")
    @discardableResult
    public func startChild<S: GenServer>(_ supervisor: ServerRef<Supervisor>, _ spec: ChildSpec, as type: S.Type)
        throws -> ServerRef<S>?
    {
        try startChild(supervisor, spec).map { pid throws(CallError) in try ServerRef<S>(pid: pid, on: self) }
    }

    // MARK: Dynamic supervisor, blocking

    /// `start_child` for a server child, returning its typed reference (`nil`: `initialize` ignored).
    /// - Throws: `SupervisorError`, or `CallError.wrongServerType` when the child runs another server type.
    @available(*, noasync, message: "drives the loop; from async code use the async overload")
    @discardableResult
    public func startChild<S: GenServer>(_ supervisor: ServerRef<DynamicSupervisor>, _ spec: ChildSpec,
                                         as type: S.Type) throws -> ServerRef<S>? {
        try startChild(supervisor, spec).map { pid throws(CallError) in try ServerRef<S>(pid: pid, on: self) }
    }

    @available(*, noasync, message: "drives the loop; from async code use the async overload")
    @discardableResult
    public func startChild(_ supervisor: ServerRef<DynamicSupervisor>, _ spec: ChildSpec) throws -> PID? {
        try Self.started(call(supervisor, .startChild(spec), timeout: .infinity))
    }

    /// `findOrStartChild` (async) on the loop thread, outside processes: the child registered under
    /// `spec.via`, started now if there is none.
    @available(*, noasync, message: "drives the loop; from async code use the async overload")
    public func findOrStartChild<S: GenServer>(_ supervisor: ServerRef<DynamicSupervisor>, _ spec: ChildSpec,
                                               as type: S.Type) throws -> ServerRef<S> {
        guard let via = spec.via else { throw Self.notKeyed(spec) }
        if let pid = via.pid { return ServerRef(pid: pid) }
        do {
            guard let pid = try startChild(supervisor, spec) else {
                throw SupervisorError.childStartFailed(id: spec.id, .ignored)
            }
            return ServerRef(pid: pid)
        } catch SupervisorError.childStartFailed(_, .alreadyStarted(let pid)) {
            return ServerRef(pid: pid)
        }
    }

    /// The refusal of a get-or-start whose child has no registry key.
    static func notKeyed(_ spec: ChildSpec) -> SupervisorError {
        .childStartFailed(id: spec.id, .invalidOptions("findOrStartChild needs a child started under a "
                                                       + "Registry key: ChildSpec.server(…, via:)"))
    }

    @available(*, noasync, message: "drives the loop; from async code use the async overload")
    public func terminateChild(_ supervisor: ServerRef<DynamicSupervisor>, pid: PID) throws {
        try Self.done(call(supervisor, .terminateChild(pid), timeout: .infinity))
    }

    @available(*, noasync, message: "drives the loop; from async code use the async overload")
    public func whichChildren(_ supervisor: ServerRef<DynamicSupervisor>) throws -> [ChildInfo] {
        try Self.children(call(supervisor, .whichChildren))
    }

    @available(*, noasync, message: "drives the loop; from async code use the async overload")
    public func countChildren(_ supervisor: ServerRef<DynamicSupervisor>) throws -> ChildCounts {
        try Self.counts(call(supervisor, .countChildren))
    }

    // MARK: Async, from any task

    public func whichChildren(_ supervisor: ServerRef<Supervisor>) async throws -> [ChildInfo] {
        try Self.children(await call(supervisor, .whichChildren))
    }

    public func countChildren(_ supervisor: ServerRef<Supervisor>) async throws -> ChildCounts {
        try Self.counts(await call(supervisor, .countChildren))
    }

    public func terminateChild(_ supervisor: ServerRef<Supervisor>, id: String) async throws {
        try Self.done(await call(supervisor, .terminateChild(id), timeout: .infinity))
    }

    @discardableResult
    public func restartChild(_ supervisor: ServerRef<Supervisor>, id: String) async throws -> PID? {
        try Self.started(await call(supervisor, .restartChild(id), timeout: .infinity))
    }

    public func deleteChild(_ supervisor: ServerRef<Supervisor>, id: String) async throws {
        try Self.done(await call(supervisor, .deleteChild(id)))
    }

    @discardableResult
    public func startChild(_ supervisor: ServerRef<Supervisor>, _ spec: ChildSpec) async throws -> PID? {
        try Self.started(await call(supervisor, .startChild(spec), timeout: .infinity))
    }

    @discardableResult
    public func startChild(_ supervisor: ServerRef<DynamicSupervisor>, _ spec: ChildSpec) async throws -> PID? {
        try Self.started(await call(supervisor, .startChild(spec), timeout: .infinity))
    }

    /// `start_child` for a server child, from async code, returning its typed reference.
    @discardableResult
    public func startChild<S: GenServer>(_ supervisor: ServerRef<Supervisor>, _ spec: ChildSpec, as type: S.Type)
        async throws -> ServerRef<S>?
    {
        guard let pid = try await startChild(supervisor, spec) else { return nil }
        return try await serverRef(S.self, pid: pid)
    }

    /// `start_child` for a server child of a dynamic supervisor, from async code, returning its typed reference.
    @discardableResult
    public func startChild<S: GenServer>(_ supervisor: ServerRef<DynamicSupervisor>, _ spec: ChildSpec,
                                         as type: S.Type) async throws -> ServerRef<S>? {
        guard let pid = try await startChild(supervisor, spec) else { return nil }
        return try await serverRef(S.self, pid: pid)
    }

    /// The child of `supervisor` registered under `spec.via` (a `Registry` key), started now if there is
    /// none: the get-or-start of a process per key, in one call. Race-free: of two starts under one key
    /// (from any loop or thread), one registers the key and the other gets its pid, as Elixir's
    /// `{:error, {:already_started, pid}}`.
    ///
    /// The reference is not type-checked here (a call checks it): the child of `spec` runs `S`.
    /// - Throws: `SupervisorError.childStartFailed` (with `StartError.invalidOptions` when `spec` has no
    ///   registry key, `.ignored` when `initialize` ignored the start), `CallError` when the supervisor
    ///   cannot be reached.
    public func findOrStartChild<S: GenServer>(_ supervisor: ServerRef<DynamicSupervisor>, _ spec: ChildSpec,
                                               as type: S.Type) async throws -> ServerRef<S> {
        guard let via = spec.via else { throw Self.notKeyed(spec) }
        if let pid = via.pid { return ServerRef(pid: pid) }
        do {
            guard let pid = try await startChild(supervisor, spec) else {
                throw SupervisorError.childStartFailed(id: spec.id, .ignored)
            }
            return ServerRef(pid: pid)
        } catch SupervisorError.childStartFailed(_, .alreadyStarted(let pid)) {
            return ServerRef(pid: pid)
        }
    }

    public func terminateChild(_ supervisor: ServerRef<DynamicSupervisor>, pid: PID) async throws {
        try Self.done(await call(supervisor, .terminateChild(pid), timeout: .infinity))
    }

    public func whichChildren(_ supervisor: ServerRef<DynamicSupervisor>) async throws -> [ChildInfo] {
        try Self.children(await call(supervisor, .whichChildren))
    }

    public func countChildren(_ supervisor: ServerRef<DynamicSupervisor>) async throws -> ChildCounts {
        try Self.counts(await call(supervisor, .countChildren))
    }

    // MARK: Application root

    /// Starts `spec` as a root of the node's supervision (Erlang's application master starting the top
    /// supervisor): a supervisor no other supervisor manages. `Node.shutdown` (and so
    /// `OTPServiceLifecycle.NodeService`'s graceful shutdown) stops each root newest first, and each root
    /// stops its tree in order; `Node.stop(_:)` on the returned reference stops this tree alone and waits.
    /// - Throws: `StartError`, e.g. `initFailed(.error(SupervisorError.childStartFailed(...)))`.
    public func startApplication(_ spec: SupervisorSpec, name: String? = nil) async throws -> ServerRef<Supervisor> {
        try await start(Supervisor.self, spec, options: StartOptions(name: name))
    }

    // MARK: Replies

    private static func children(_ reply: SupervisorReply) throws -> [ChildInfo] {
        guard case .children(let children) = reply else { throw unexpected(reply) }
        return children
    }

    private static func counts(_ reply: SupervisorReply) throws -> ChildCounts {
        guard case .counts(let counts) = reply else { throw unexpected(reply) }
        return counts
    }

    private static func done(_ reply: SupervisorReply) throws {
        guard case .done = reply else { throw unexpected(reply) }
    }

    private static func started(_ reply: SupervisorReply) throws -> PID? {
        guard case .started(let pid) = reply else { throw unexpected(reply) }
        return pid
    }

    /// A refusal; any other mismatch would be a bug in the supervisor (each request has one reply shape).
    private static func unexpected(_ reply: SupervisorReply) -> any Error {
        guard case .failed(let error) = reply else { preconditionFailure("supervisor answered \(reply)") }
        return error
    }
}

/// Which supervisor manages a process (loop thread only).
extension Node {
    /// Records that `supervisor` manages `child`: `Node.shutdown` then leaves it to its supervisor.
    func markSupervised(_ child: PID, by supervisor: PID) {
        core(child)?.relations.supervisor = supervisor
    }

    /// The live supervisor managing `pid`, if any.
    func liveSupervisor(of pid: PID) -> PID? {
        guard let supervisor = core(pid)?.extras?.supervisor, core(supervisor) != nil else { return nil }
        return supervisor
    }
}
