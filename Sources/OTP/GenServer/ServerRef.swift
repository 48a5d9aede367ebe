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

    /// The pid of a pid reference (unused for a name or a key).
    @usableFromInline let storedPID: PID
    /// The name or registry key, in a box; `nil` for a pid. So a pid reference, the common kind, is copied
    /// and destroyed as plain data and one nil reference, inline, where a `Target` took the outlined copy of
    /// an enum with string payloads (about 36 instructions a call, which copies the reference).
    @usableFromInline let name: ServerName?

    /// What the reference names.
    @inlinable var target: Target {
        guard let name else { return .pid(storedPID) }
        switch name.name {
        case .name(let string): return .name(string)
        case .via(let via): return .via(via)
        }
    }

    @inlinable init(pid: PID) {
        storedPID = pid
        name = nil
    }

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

    @usableFromInline init(target: Target) {
        switch target {
        case .pid(let pid): self.init(pid: pid)
        case .name(let string): self.init(named: ServerName(.name(string)))
        case .via(let via): self.init(named: ServerName(.via(via)))
        }
    }

    private init(named name: ServerName) {
        storedPID = PID(node: 0, index: 0, serial: 0)
        self.name = name
    }

    /// The pid, for a reference returned by `start`; `nil` for a name or a registry key.
    @inlinable public var pid: PID? { name == nil ? storedPID : nil }

    public static func == (a: ServerRef, b: ServerRef) -> Bool { a.target == b.target }
    public func hash(into hasher: inout Hasher) { hasher.combine(target) }

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
        switch server.target {  // a pid reference builds `.pid` inline, with no copy of a name
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

/// The name or registry key a `ServerRef` names (its `Target` other than a pid), boxed so that the common
/// pid reference carries only a `nil` reference.
@usableFromInline
final class ServerName: Sendable {
    @usableFromInline enum Name: Sendable {
        case name(String)
        case via(ViaName)
    }

    @usableFromInline let name: Name

    init(_ name: Name) { self.name = name }
}
