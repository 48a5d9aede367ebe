/// How to start a GenServer.
public struct StartOptions: Sendable {
    /// `name` and `via`, boxed: a start's options without a name copy without reference counting.
    @usableFromInline var naming: RequestedName?
    /// How long `initialize` (with any call it awaits) may take; then the server is killed and the start
    /// fails with `StartError.timeout`. Erlang's default: infinity.
    public var timeout: Timeout
    public var mailboxCapacity: Int?
    /// Link the server to the starting process (Erlang's `start_link`). Process-level starts only.
    public var link: Bool
    /// Monitor the server from the starting process (Erlang's `start_monitor`). Process-level starts only.
    public var monitor: Bool
    /// Start with exits trapped (a linked parent's exit then runs `terminate`).
    public var trapExits: Bool

    public init(name: String? = nil, via: ViaName? = nil, timeout: Timeout = .infinity,
                mailboxCapacity: Int? = nil, link: Bool = false, monitor: Bool = false, trapExits: Bool = false) {
        self.naming = RequestedName.make(name: name, via: via)
        self.timeout = timeout
        self.mailboxCapacity = mailboxCapacity
        self.link = link
        self.monitor = monitor
        self.trapExits = trapExits
    }
}

extension StartOptions {
    /// Register the server under this name, atomically with the start. A taken name gives
    /// `StartError.alreadyStarted` with the holder's pid.
    public var name: String? { get { naming.name } set { naming.name = newValue } }

    /// Register the server under this key of a `Registry`, atomically with the start (before `initialize`
    /// runs, as Erlang's `{via, …}` names). A key held already gives `StartError.alreadyStarted` with the
    /// holder's pid. A server takes one name: this or `name`.
    public var via: ViaName? { get { naming.via } set { naming.via = newValue } }

    /// The options of the server's spawn.
    @inlinable
    var spawnOptions: SpawnOptions {
        SpawnOptions(mailboxCapacity: mailboxCapacity, trapExits: trapExits, naming: naming)
    }
}

/// Why a GenServer did not start. When `start` fails, neither the process nor its name remains.
public enum StartError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The name is registered already, by this pid.
    case alreadyStarted(PID)
    /// `initialize` threw (`.error`) or returned `.stop(reason)`.
    case initFailed(ExitReason)
    /// `initialize` returned `.ignore`.
    case ignored
    /// `initialize` did not finish within `StartOptions.timeout`; the server was killed.
    case timeout
    /// The options were refused (e.g. a mailbox capacity below one, or link/monitor without a process).
    case invalidOptions(String)
    /// The node stopped (closed) before the server started (async facade).
    case nodeStopped
    /// The awaiting Swift task was cancelled before the loop took the start (async facade): nothing started.
    case cancelled
    /// The blocking `Node.start` was used on the running loop (process code, `perform`); `operation` names
    /// it. Use `ProcessContext.startServer` in process code, the async overload elsewhere.
    case wouldBlock(operation: String)

    public var description: String {
        switch self {
        case .alreadyStarted(let pid): return "already started as \(pid)"
        case .initFailed(let reason): return "init failed: \(reason)"
        case .ignored: return "init returned ignore"
        case .timeout: return "init timed out"
        case .invalidOptions(let text): return "invalid start options: \(text)"
        case .nodeStopped: return "the node stopped before the server started"
        case .cancelled: return "the awaiting task was cancelled before the start began"
        case .wouldBlock(let operation):
            return "\(operation) blocks until the loop answers, but it was called on the running loop "
                + "(process code or perform): use ProcessContext.startServer there, or the async overload"
        }
    }
}

/// A started server, and the monitor on it when `StartOptions.monitor` asked for one.
public struct Started<S: GenServer>: Sendable {
    public let server: ServerRef<S>
    public let monitor: Ref?

    @usableFromInline
    init(server: ServerRef<S>, monitor: Ref?) {
        self.server = server
        self.monitor = monitor
    }
}

// MARK: Timeouts as a Swift `Duration` (rounded up to whole milliseconds; disfavoured, so a literal
// such as `.seconds(2)` stays a `Timeout`)

extension StartOptions {
    /// Start options whose `initialize` may take at most `timeout`.
    @_disfavoredOverload
    public init(name: String? = nil, via: ViaName? = nil, timeout: Duration, mailboxCapacity: Int? = nil,
                link: Bool = false, monitor: Bool = false, trapExits: Bool = false) {
        self.init(name: name, via: via, timeout: Timeout(timeout), mailboxCapacity: mailboxCapacity, link: link,
                  monitor: monitor, trapExits: trapExits)
    }
}
