/// The async facade of a group: each operation goes straight to the loop that owns its target (the loop of
/// the pid, or of the process registered under the name), so a call from any thread costs the same hop as
/// on a single node — never a second one through another loop.
///
/// Thread: any (Swift async code). Errors: those of the same `Node` methods.
extension NodeGroup {
    /// The loop that owns `server`: its pid's loop; for a name or a registry key, the loop of the process
    /// registered under it
    /// (loop 0 when none is: the call then fails there with `unknownName`).
    public func owner<S>(of server: ServerRef<S>) -> Node {
        switch server.target {
        case .pid(let pid): return loop(of: pid) ?? loops[0]
        case .name(let name): return core.names[name].flatMap { loop(of: $0) } ?? loops[0]
        case .via(let name): return name.pid.flatMap { loop(of: $0) } ?? loops[0]
        }
    }

    /// Calls `server` from async code (`Node.call`), through the loop that owns it.
    public func call<S: GenServer>(_ server: ServerRef<S>, _ request: S.Call, timeout: Timeout = .seconds(5))
        async throws(CallError) -> S.Reply where S.Call: Sendable
    {
        try await owner(of: server).call(server, request, timeout: timeout)
    }

    /// Calls `server` from async code with a request that names its own reply type (`Node.ask(_:timeout:_:)`),
    /// through the loop that owns it.
    public func ask<S: GenServer, R: Sendable>(
        _ server: ServerRef<S>, timeout: Timeout = .seconds(5), _ request: @escaping @Sendable (Caller<R>) -> S.Call
    ) async throws(CallError) -> R {
        try await owner(of: server).ask(server, timeout: timeout, request)
    }

    /// Casts to `server` from async code (`Node.cast`), through the loop that owns it.
    @discardableResult
    public func cast<S: GenServer>(_ server: ServerRef<S>, _ message: S.Cast) async throws(CallError) -> CastOutcome
        where S.Cast: Sendable
    {
        try await owner(of: server).cast(server, message)
    }

    /// Calls every server registered under `key` in `registry` — one per loop, say — concurrently, each
    /// through the loop that owns it (`Node.multiCall(_:_:as:_:timeout:)`); each outcome by pid.
    public func multiCall<S: GenServer, K, V>(_ registry: Registry<K, V>, _ key: K, as type: S.Type,
                                              _ request: S.Call, timeout: Timeout = .seconds(5)) async
        -> [PID: Result<S.Reply, CallError>] where S.Call: Sendable
    {
        await Node.gather(registry, key) { (server: ServerRef<S>) async throws(CallError) in
            try await self.call(server, request, timeout: timeout)
        }
    }

    /// Casts `message` to every server registered under `key` in `registry`, each through its loop
    /// (`Node.abcast(_:_:as:_:)`); what each cast did by pid.
    public func abcast<S: GenServer, K, V>(_ registry: Registry<K, V>, _ key: K, as type: S.Type,
                                           _ message: S.Cast) async -> [PID: Result<CastOutcome, CallError>]
        where S.Cast: Sendable
    {
        await Node.gather(registry, key) { (server: ServerRef<S>) async throws(CallError) in
            try await self.cast(server, message)
        }
    }

    /// Sends `message` to `address` from async code (`Node.send`), through the loop that owns it.
    public func send<M: Sendable>(_ message: M, to address: Address<M>) async throws(ProcessError) {
        try await (loop(of: address.pid) ?? loops[0]).send(message, to: address)
    }

    /// Sends `message` to the process registered as `name` from async code, through its loop.
    public func send<M: Sendable>(_ message: M, to name: String) async throws(ProcessError) {
        try await (core.names[name].flatMap { loop(of: $0) } ?? loops[0]).send(message, to: name)
    }

    /// The pid registered as `name` in the group, if any. Thread: any (the group's name table).
    public func whereis(_ name: String) -> PID? { core.names[name] }
}

// MARK: The group in a cluster

extension NodeGroup {
    /// Joins the cluster as one Erlang node, `options.name`: loop 0 runs the distribution (listener, EPMD,
    /// connections), and the processes of every loop are reachable from other nodes and reach them
    /// (`docs/distribution.md`, "A group in a cluster"). Returns once EPMD has registered the node.
    /// - Throws: `DistributionError` (as `Node.startDistribution`).
    public func startDistribution(_ options: DistributionOptions) async throws {
        try await loops[0].startDistribution(options)
    }

    /// Leaves the cluster (`Node.stopDistribution` on loop 0). Thread-safe.
    public func stopDistribution() {
        loops[0].execute { $0.stopDistribution() }
    }

    /// Connects to `peer` (Erlang's `net_kernel:connect_node/1`, on loop 0, which holds the connections);
    /// returns whether the connection is up.
    public func connect(to peer: String) async throws -> Bool {
        try await loops[0].connect(to: peer)
    }

    /// The nodes connected now (Erlang's `nodes()`), sorted, as loop 0 sees them.
    public func connectedNodes() async throws -> [String] {
        try await loops[0].perform { $0.connectedNodes() }
    }
}
