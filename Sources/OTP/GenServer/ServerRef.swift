/// A typed reference to a running server: its pid, or a registered name or `Registry` key resolved at each
/// use. Each works wherever a server is expected (`call`, `cast`, `stop`, `getState`, `monitor`, ...).
///
/// Thread: a plain value, `Sendable`.
public struct ServerRef<S: GenServer>: Hashable, Sendable, CustomStringConvertible {
    @usableFromInline
    enum Target: Hashable, Sendable {
        case pid(PID)
        case name(String)
        case via(ViaName)
    }

    @usableFromInline let target: Target

    @inlinable init(pid: PID) { target = .pid(pid) }

    /// A typed reference to the process `pid` — one that `startChild`, `whichChildren`, `whereis` or a
    /// message handed out as a plain `PID` — checked now: it must be alive on `node` and run a server of
    /// type `S`. A pid of another node is taken unchecked (its type is only known there); a call to it
    /// fails there if it runs something else.
    ///
    /// Thread: `node`'s loop thread (process code, or `perform`); from async code use
    /// `Node.serverRef(_:pid:)`.
    /// - Throws: `CallError.noProcess(pid)` when no such process is alive, `.wrongServerType(pid, ...)`
    ///   naming what it runs otherwise.
    public init(pid: PID, on node: Node) throws(CallError) {
        node.preconditionInLoop()
        if !pid.isRemote {  // a pid of this node (or of another node of this OS process: noProcess)
            _ = try node.resolve(ServerRef(pid: pid))
        }
        self.init(pid: pid)
    }

    /// The server registered as `name` (looked up, and its type checked, at each use).
    public static func named(_ name: String) -> ServerRef { ServerRef(target: .name(name)) }

    /// The server registered under `key` in `registry` (looked up, and its type checked, at each use).
    public static func via<Key, Value>(_ registry: Registry<Key, Value>, _ key: Key) -> ServerRef {
        ServerRef(target: .via(ViaName(RegistryKey(registry, key, nil))))
    }

    /// The server registered under a `Registry` key (`Registry.via(_:value:)`).
    public static func via(_ name: ViaName) -> ServerRef { ServerRef(target: .via(name)) }

    @usableFromInline init(target: Target) { self.target = target }

    /// The pid, for a reference returned by `start`; `nil` for a name or a registry key.
    public var pid: PID? {
        if case .pid(let pid) = target { return pid }
        return nil
    }

    public var description: String {
        switch target {
        case .pid(let pid): return pid.description
        case .name(let name): return name
        case .via(let name): return name.description
        }
    }
}

extension Node {
    /// The typed address behind `server`. Thread: loop thread only.
    /// - Throws: `unknownName`, `noProcess` (a dead pid) or `wrongServerType` for a process of another type.
    @inlinable
    func resolve<S>(_ server: ServerRef<S>) throws(CallError) -> Address<ServerMessage<S>> {
        let pid: PID
        switch server.target {
        case .pid(let p): pid = p
        case .name(let name):
            guard let p = registeredPID(name) else { throw .unknownName(name) }
            pid = p
        case .via(let name):
            guard let p = name.pid else { throw .unknownName(name.description) }
            pid = p
        }
        guard let type = withProcess(pid, { $0.messageType }) else { throw .noProcess(pid) }
        guard type == ObjectIdentifier(ServerMessage<S>.self) else { throw wrongServerType(pid, expected: S.self) }
        return Address(unchecked: pid)
    }

    /// The pid behind `server` now, untyped: for a monitor or a link.
    /// - Throws: `unknownName` when nothing is registered under its name or registry key.
    func pid<S>(of server: ServerRef<S>) throws(ProcessError) -> PID {
        switch server.target {
        case .pid(let pid): return pid
        case .name(let name):
            guard let pid = registeredPID(name) else { throw .unknownName(name) }
            return pid
        case .via(let name):
            guard let pid = name.pid else { throw .unknownName(name.description) }
            return pid
        }
    }

    /// A server pid that is no process of this loop: a server of another loop of the group is taken as it
    /// is (its type is checked there when the request arrives); anything else is not alive. Out of line:
    /// the call path stays small enough to inline.
    @usableFromInline @inline(never)
    func unresolved<S>(_ pid: PID) throws(CallError) -> Address<ServerMessage<S>> {
        if isSibling(pid) { return Address(unchecked: pid) }
        throw .noProcess(pid)
    }

    /// The error for a process that is not a server of type `expected`. Out of line: the call path stays small.
    @usableFromInline @inline(never)
    func wrongServerType(_ pid: PID, expected: Any.Type) -> CallError {
        .wrongServerType(pid, expected: String(describing: expected), got: core(pid)?.kind.1 ?? "no process")
    }
}
