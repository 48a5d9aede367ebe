/// How a supervisor starts, restarts and stops one child (Erlang's child specification).
///
/// Build one with `server(_:_:_:)`, `process(_:_:)` or `supervisor(_:_:)`. The start is kept as a
/// value: a restart starts the child again from the same argument, as Erlang restarts from the same
/// `{M, F, A}`. Children are linked to their supervisor.
///
/// Thread: `Sendable`, so a tree can be described on any thread and started through the async facade.
public struct ChildSpec: Sendable {
    /// Unique among the children of one supervisor; names the child in reports and in the runtime API.
    public var id: String
    public var restart: RestartType
    public var shutdown: ShutdownPolicy
    public var type: ChildType
    /// Where the child runs when its supervisor is a process of a `NodeGroup`: `nil` (the default) on the
    /// supervisor's own loop; set with `onLoop(_:)` or `onLoop(forKey:)`. Ignored on a single node.
    public var placement: LoopPlacement?
    /// The `Registry` key the child is started under (`server(…, via:)`, `process(…, via:)`), if any:
    /// `Node.findOrStartChild` looks it up before asking the supervisor.
    public internal(set) var via: ViaName?
    /// A growing delay before each restart (`withBackoff(_:)`); `nil` (the default): at once, as Erlang.
    public var backoff: RestartBackoff?
    /// Starts the child on `target` (the supervisor's node, or another loop of its group), linked to
    /// `supervisor`. Loop thread.
    let launch: @Sendable (_ node: Node, _ supervisor: PID, _ target: Node) -> ChildLaunch

    init(id: String, restart: RestartType, shutdown: ShutdownPolicy, type: ChildType,
         launch: @escaping @Sendable (Node, PID, Node) -> ChildLaunch) {
        self.id = id
        self.restart = restart
        self.shutdown = shutdown
        self.type = type
        self.launch = launch
    }

    /// A GenServer child: `initialize(argument)` runs on every (re)start; `name` or `via` (a `Registry`
    /// key), when given, is registered on every start. The supervisor's exit signal (its shutdown) runs the server's `terminate` whether or
    /// not it traps exits; a signal from any other process follows Erlang's rules (`normal` ignored, any
    /// other reason ends it) unless `trapExits` turns them into `EXIT` messages for `handleInfo`.
    /// `startTimeout` bounds `initialize` (then the child is killed and the start fails with
    /// `StartError.timeout`).
    public static func server<S: GenServer>(
        _ id: String, _ type: S.Type, _ argument: S.Argument, name: String? = nil, via: ViaName? = nil,
        restart: RestartType = .permanent, shutdown: ShutdownPolicy = .timeout(.seconds(5)),
        trapExits: Bool = false, startTimeout: Timeout = .infinity
    ) -> ChildSpec where S.Argument: Sendable {
        var spec = ChildSpec(id: id, restart: restart, shutdown: shutdown, type: .worker) { node, supervisor, target in
            let options = StartOptions(name: name, via: via, timeout: startTimeout, link: true, trapExits: trapExits)
            guard target === node else { return node.launchServer(type, argument, on: target, options: options, supervisor: supervisor) }
            return node.launchServer(type, argument, options: options, supervisor: supervisor)
        }
        spec.via = via
        return spec
    }

    /// A GenServer child whose argument is its initial state.
    public static func server<S: GenServer & Sendable>(
        _ id: String, _ server: S, name: String? = nil, via: ViaName? = nil, restart: RestartType = .permanent,
        shutdown: ShutdownPolicy = .timeout(.seconds(5)), trapExits: Bool = false, startTimeout: Timeout = .infinity
    ) -> ChildSpec where S.Argument == S {
        .server(id, S.self, server, name: name, via: via, restart: restart, shutdown: shutdown, trapExits: trapExits,
                startTimeout: startTimeout)
    }

    /// A plain process running `behavior` (a fresh copy on every start). Spawning cannot fail but for a
    /// taken name or `Registry` key, which fails the start with `StartError.alreadyStarted`.
    public static func process<B: ProcessBehavior & Sendable>(
        _ id: String, _ behavior: B, name: String? = nil, via: ViaName? = nil, restart: RestartType = .permanent,
        shutdown: ShutdownPolicy = .timeout(.seconds(5)), trapExits: Bool = false
    ) -> ChildSpec {
        var spec = ChildSpec(id: id, restart: restart, shutdown: shutdown, type: .worker) { node, supervisor, target in
            guard target === node else {
                let order = SpawnOrder { node in
                    Result { () throws(ProcessError) in
                        try node.spawn(behavior, options: SpawnOptions(trapExits: trapExits, name: name, via: via),
                                       linkedTo: supervisor).address.pid
                    }
                }
                switch node.requestSpawn(on: target, by: supervisor, order) {
                case .success(let request): return .spawning(request, ack: nil, timeout: .infinity)
                case .failure(let error): return .failed(Node.startError(error))
                }
            }
            do throws(ProcessError) {
                let spawned = try node.spawn(behavior, options: SpawnOptions(trapExits: trapExits, name: name, via: via),
                                             linkedTo: supervisor)
                return .started(spawned.address.pid)
            } catch {
                if case .nameTaken(_, let holder) = error { return .failed(.alreadyStarted(holder)) }
                return .failed(.invalidOptions(error.description))
            }
        }
        spec.via = via
        return spec
    }

    /// A nested supervisor: a subtree. Its shutdown defaults to `infinity`, as Erlang's, so that it can
    /// stop its own children in order.
    public static func supervisor(
        _ id: String, _ spec: SupervisorSpec, name: String? = nil, restart: RestartType = .permanent,
        shutdown: ShutdownPolicy = .infinity
    ) -> ChildSpec {
        var child = ChildSpec.server(id, Supervisor.self, spec, name: name, restart: restart, shutdown: shutdown)
        child.type = .supervisor
        return child
    }

    /// A nested dynamic supervisor.
    public static func dynamicSupervisor(
        _ id: String, _ spec: DynamicSupervisorSpec = DynamicSupervisorSpec(), name: String? = nil,
        restart: RestartType = .permanent, shutdown: ShutdownPolicy = .infinity
    ) -> ChildSpec {
        var child = ChildSpec.server(id, DynamicSupervisor.self, spec, name: name, restart: restart,
                                     shutdown: shutdown)
        child.type = .supervisor
        return child
    }
}

/// Placing a child on another loop of its supervisor's `NodeGroup` (docs/multicore.md).
extension ChildSpec {
    /// This child on loop `index` of the supervisor's group (modulo the number of loops).
    public func onLoop(_ index: Int) -> ChildSpec {
        var child = self
        child.placement = .index(index)
        return child
    }

    /// This child on the loop of `key`: the loop `NodeGroup.loop(forKey:)` gives it, so every child
    /// started for one key runs on one loop.
    public func onLoop(forKey key: some Hashable) -> ChildSpec {
        var child = self
        child.placement = .hash(Int(bitPattern: PlacementKey.number(of: key)))
        return child
    }

    /// The node the child runs on when started by a supervisor on `node`.
    func target(from node: Node) -> Node {
        guard let placement, let group = node.group else { return node }
        switch placement {
        case .index(let index): return group.node(((index % group.count) + group.count) % group.count)
        case .hash(let number): return group.node(group.loopIndex(forNumber: UInt(bitPattern: number)))
        }
    }
}

/// Which loop of a `NodeGroup` a child runs on (`ChildSpec.onLoop`).
public enum LoopPlacement: Sendable, Equatable {
    /// Loop `index` (modulo the number of loops).
    case index(Int)
    /// The loop of a key with this placement number (`NodeGroup.loop(forKey:)`: an integer key's
    /// magnitude, a string's fixed hash, another key's `hashValue`), modulo the number of loops.
    case hash(Int)
}

/// Whether a supervisor can run this specification: a valid shutdown time (the supervisor checks that ids
/// are unique among its children).
extension ChildSpec {
    func validated() -> SupervisorError? {
        switch shutdown {
        case .brutalKill: break
        case .timeout(let timeout):
            if let ms = timeout.milliseconds, ms < 0 {
                return .invalidChildSpec(id: id, "negative shutdown timeout \(ms) ms")
            }
        }
        if let problem = backoff?.problem { return .invalidChildSpec(id: id, problem) }
        return nil
    }
}

/// When a child that exited is restarted (Erlang's restart types).
public enum RestartType: Sendable, Equatable, CustomStringConvertible {
    /// Always.
    case permanent
    /// Only after an abnormal exit: not after `normal`, `shutdown` or `shutdownWith(_:)`.
    case transient
    /// Never; the child is removed from the supervisor when it exits.
    case temporary

    /// Whether a child of this type that exited with `reason` is restarted.
    public func restarts(after reason: ExitReason) -> Bool {
        switch self {
        case .permanent: return true
        case .transient: return !reason.isQuiet
        case .temporary: return false
        }
    }

    public var description: String {
        switch self {
        case .permanent: return "permanent"
        case .transient: return "transient"
        case .temporary: return "temporary"
        }
    }
}

/// How a supervisor stops a child: Erlang's `brutal_kill`, a timeout, or `infinity`.
public enum ShutdownPolicy: Sendable, Equatable, CustomStringConvertible {
    /// Killed at once (`kill`, untrappable): no `terminate`.
    case brutalKill
    /// Sent `shutdown`; killed if it has not exited within the timeout (`Timeout.infinity` waits forever,
    /// Erlang's `infinity`, meant for supervisors).
    case timeout(Timeout)

    public static let infinity = ShutdownPolicy.timeout(.infinity)

    public var description: String {
        switch self {
        case .brutalKill: return "brutal_kill"
        case .timeout(let timeout): return timeout.description
        }
    }
}

/// Whether a child is a worker or a supervisor (reported by `whichChildren` and `countChildren`).
public enum ChildType: Sendable, Equatable, CustomStringConvertible {
    case worker
    case supervisor

    public var description: String { self == .worker ? "worker" : "supervisor" }
}

/// What starting a child did: started at once (a plain process), started and waits for its `initialize`
/// (a GenServer: its acknowledgement comes as the response to `ack`), or failed at once.
enum ChildLaunch {
    case started(PID)
    case awaiting(pid: PID, ack: RequestID<StartAck>, timeout: Timeout)
    /// Spawning on another loop of the group: the pid comes as the response to the spawn request; a
    /// GenServer's acknowledgement `ack` follows (none for a plain process).
    case spawning(RequestID<Node.SpawnOutcome>, ack: Ref?, timeout: Timeout)
    case failed(StartError)
}

extension Node {
    /// Spawns a GenServer child linked to `supervisor` and opens its start acknowledgement.
    func launchServer<S: GenServer>(_ type: S.Type, _ argument: S.Argument, options: StartOptions,
                                    supervisor: PID) -> ChildLaunch {
        switch beginStart(type, argument, options: options, starter: supervisor) {
        case .failure(let error): return .failed(error)
        case .success(let started): return .awaiting(pid: started.pid, ack: started.ack, timeout: options.timeout)
        }
    }

    /// `launchServer` on another loop of the group (`beginStart(_:_:on:options:starter:)`).
    func launchServer<S: GenServer>(_ type: S.Type, _ argument: S.Argument, on target: Node, options: StartOptions,
                                    supervisor: PID) -> ChildLaunch where S.Argument: Sendable {
        switch beginStart(type, argument, on: target, options: options, starter: supervisor) {
        case .failure(let error): return .failed(error)
        case .success(let started): return .spawning(started.spawn, ack: started.ack, timeout: options.timeout)
        }
    }
}

// MARK: Timeouts as a Swift `Duration` (rounded up to whole milliseconds; disfavoured, so a literal
// such as `.seconds(2)` stays a `Timeout`)

extension ShutdownPolicy {
    /// Sent `shutdown`; killed if it has not exited within `duration`.
    @_disfavoredOverload
    public static func timeout(_ duration: Duration) -> ShutdownPolicy {
        .timeout(Timeout(duration))
    }
}
