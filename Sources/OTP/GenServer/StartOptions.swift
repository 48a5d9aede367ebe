/// How to start a GenServer.
public struct StartOptions: Sendable {
    /// Register the server under this name, atomically with the start. A taken name gives
    /// `StartError.alreadyStarted` with the holder's pid.
    public var name: String?
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

    public init(name: String? = nil, timeout: Timeout = .infinity, mailboxCapacity: Int? = nil,
                link: Bool = false, monitor: Bool = false, trapExits: Bool = false) {
        self.name = name
        self.timeout = timeout
        self.mailboxCapacity = mailboxCapacity
        self.link = link
        self.monitor = monitor
        self.trapExits = trapExits
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

    public var description: String {
        switch self {
        case .alreadyStarted(let pid): return "already started as \(pid)"
        case .initFailed(let reason): return "init failed: \(reason)"
        case .ignored: return "init returned ignore"
        case .timeout: return "init timed out"
        case .invalidOptions(let text): return "invalid start options: \(text)"
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

extension Node {
    /// Spawns the server process and opens the start request from `starter`. Thread: loop thread only.
    @inlinable
    func beginStart<S: GenServer>(_ type: S.Type, _ argument: S.Argument, options: StartOptions, starter: PID)
        -> Result<(pid: PID, ack: Ref, monitor: Ref?), StartError>
    {
        let ack = reserveRequest(from: starter)
        let behavior = ServerLoop<S>(argument: argument, starter: (starter, ack),
                                     parent: options.link ? starter : nil, startTime: currentTime)
        let spawned: (address: Address<ServerMessage<S>>, monitor: Ref?)
        do {
            spawned = try spawn(behavior, options: SpawnOptions(mailboxCapacity: options.mailboxCapacity,
                                                                trapExits: options.trapExits, name: options.name),
                                linkedTo: options.link ? starter : nil, monitoredBy: options.monitor ? starter : nil)
        } catch {
            closeRequest(ack, of: starter)
            if case .nameTaken(_, let holder) = error { return .failure(.alreadyStarted(holder)) }
            return .failure(.invalidOptions(error.description))
        }
        attachRequest(ack, to: spawned.address.pid)
        return .success((spawned.address.pid, ack, spawned.monitor))
    }

    /// The start's outcome from the starter's response envelope.
    @inlinable
    func startOutcome<S: GenServer>(_ outcome: Result<StartAck, CallError>, pid: PID, monitor: Ref?)
        -> Result<Started<S>, StartError>
    {
        switch outcome {
        case .success(.ok): return .success(Started(server: ServerRef(pid: pid), monitor: monitor))
        case .success(.ignore): return .failure(.ignored)
        case .success(.stop(let reason)): return .failure(.initFailed(reason))
        case .failure(.serverExited(_, let reason)): return .failure(.initFailed(reason))
        case .failure: return .failure(.initFailed(.noproc))
        }
    }
}
