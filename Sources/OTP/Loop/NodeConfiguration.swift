#if canImport(Glibc)
import Glibc
#endif
import Logging

/// How a node is set up. All fields have defaults suited to a server; tests use `clock: .manual`.
public struct NodeConfiguration: Sendable {
    /// Where time comes from.
    public enum Clock: Sendable {
        /// libuv's loop clock (milliseconds, monotonic); the node runs a real libuv loop.
        case system
        /// A clock that starts at 0 and moves only in `Node.advance(by:)`: the deterministic driver for tests.
        /// No libuv loop is created; `runUntilIdle()` and `advance(by:)` drive the same scheduler.
        case manual
    }

    public var clock: Clock
    /// Mailbox capacity of a process spawned without its own (`SpawnOptions.mailboxCapacity`).
    public var defaultMailboxCapacity: Int
    /// How many messages a process may handle in one turn before others get theirs.
    public var messagesPerTurn: Int
    /// How many messages the scheduler handles in one loop iteration before libuv runs timers and I/O.
    public var messagesPerIteration: Int
    /// Receives crash reports and refused cross-thread sends. Called on the loop thread.
    public var report: @Sendable (NodeReport) -> Void
    /// Where supervisors log (swift-log): child started, child terminated, restart, intensity exceeded,
    /// with the supervisor, child id, pid and reason as metadata. Default label: `swift-otp`.
    public var logger: Logger

    public init(
        clock: Clock = .system,
        defaultMailboxCapacity: Int = 100_000,
        messagesPerTurn: Int = 64,
        messagesPerIteration: Int = 16_384,
        report: @escaping @Sendable (NodeReport) -> Void = NodeReport.printToStandardError,
        logger: Logger = Logger(label: "swift-otp")
    ) {
        self.logger = logger
        self.clock = clock
        self.defaultMailboxCapacity = defaultMailboxCapacity
        self.messagesPerTurn = messagesPerTurn
        self.messagesPerIteration = messagesPerIteration
        self.report = report
    }
}

/// Something the node tells its host: a process crashed, or a message from another thread was refused.
public enum NodeReport: Sendable, CustomStringConvertible {
    /// A process exited with a reason that is not quiet (not normal, shutdown or killed by its supervisor).
    case crash(pid: PID, name: String?, reason: ExitReason)
    /// A message posted from another thread without a refusal handler could not be delivered.
    case refused(target: String, error: ProcessError)
    /// A GenServer stopped with a reason that is not quiet: its last message, its state as its
    /// `formatStatus` describes it, and the reason (Erlang's crash report).
    case serverCrash(pid: PID, name: String?, lastMessage: String, state: String, reason: ExitReason)
    /// A traced GenServer received a message or sent a reply (`Node.trace(_:_:)`).
    case trace(pid: PID, name: String?, event: String)
    /// Something worth a warning, e.g. a GenServer's `terminate` threw.
    case warning(pid: PID, name: String?, text: String)

    public var description: String {
        switch self {
        case .crash(let pid, let name, let reason):
            return "crash report: process \(pid)\(name.map { " (\($0))" } ?? "") exited: \(reason)"
        case .refused(let target, let error):
            return "refused message to \(target): \(error)"
        case .serverCrash(let pid, let name, let lastMessage, let state, let reason):
            return "crash report: server \(pid)\(name.map { " (\($0))" } ?? "") terminating: reason \(reason); "
                + "last message: \(lastMessage); state: \(state)"
        case .trace(let pid, let name, let event):
            return "trace \(pid)\(name.map { " (\($0))" } ?? ""): \(event)"
        case .warning(let pid, let name, let text):
            return "warning \(pid)\(name.map { " (\($0))" } ?? ""): \(text)"
        }
    }

    /// The default: one line on standard error.
    public static let printToStandardError: @Sendable (NodeReport) -> Void = { report in
        var line = report.description + "\n"
        line.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
    }
}

/// Options for one spawn.
public struct SpawnOptions: Sendable {
    /// Mailbox capacity; the node's default when `nil`. Must be positive.
    public var mailboxCapacity: Int?
    /// Start with exits trapped.
    public var trapExits: Bool
    /// Register the new process under this name, atomically with the spawn.
    public var name: String?

    public init(mailboxCapacity: Int? = nil, trapExits: Bool = false, name: String? = nil) {
        self.mailboxCapacity = mailboxCapacity
        self.trapExits = trapExits
        self.name = name
    }
}

/// Node-wide counters, for tests and observability.
public struct NodeStatistics: Sendable, Equatable {
    public var spawned: UInt64 = 0
    public var exited: UInt64 = 0
    /// Processes alive now.
    public var live: Int = 0
    /// Messages delivered into mailboxes (user messages; DOWN and EXIT not included).
    public var delivered: UInt64 = 0
    /// Messages sent to a pid that was no longer alive (dropped, as in Erlang).
    public var droppedToDeadProcesses: UInt64 = 0
    /// Messages refused because the target's mailbox was full (each reported to its sender).
    public var refusedMailboxFull: UInt64 = 0
    /// Replies dropped because their request was no longer awaiting one (answered already, timed out,
    /// cancelled, or the caller exited).
    public var ignoredReplies: UInt64 = 0
    /// Timers armed and not yet fired or cancelled (receive timeouts and `sendAfter`).
    public var pendingTimers: Int = 0
    /// Monitors in place.
    public var monitors: Int = 0
    /// Registered names.
    public var registeredNames: Int = 0
    /// Processes waiting in the run queue.
    public var runQueueLength: Int = 0
}
