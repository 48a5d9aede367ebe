import Foundation
import Logging
import Testing
@testable import OTP

/// What the supervised workers did, in order ("init a", "terminate b shutdown"), and which of them must
/// fail their next start.
final class Stage: @unchecked Sendable {
    let events = Log<String>()
    private let lock = NSLock()
    private var failing: Set<String> = []
    private var ignoring: Set<String> = []

    func failStarts(of id: String, _ enabled: Bool = true) {
        lock.withLock { if enabled { failing.insert(id) } else { failing.remove(id) } }
    }
    func ignoreStarts(of id: String, _ enabled: Bool = true) {
        lock.withLock { if enabled { ignoring.insert(id) } else { ignoring.remove(id) } }
    }
    func fails(_ id: String) -> Bool { lock.withLock { failing.contains(id) } }
    func ignores(_ id: String) -> Bool { lock.withLock { ignoring.contains(id) } }

    /// The events that start with `prefix`, in order.
    func events(_ prefix: String) -> [String] { events.entries.filter { $0.hasPrefix(prefix) } }
}

/// A supervised GenServer that records its init and terminate; `exit` stops it with a reason.
struct Worker: GenServer {
    struct Argument: Sendable {
        let id: String
        let stage: Stage
    }
    enum Call: Sendable { case id }
    enum Cast: Sendable { case exit(ExitReason) }
    typealias Reply = String

    let id: String
    let stage: Stage

    static func initialize(_ argument: Argument, _ server: ServerContext<Worker>) throws -> Initialization<Worker> {
        if argument.stage.fails(argument.id) { return .stop(.custom("\(argument.id) refused to start")) }
        if argument.stage.ignores(argument.id) { return .ignore }
        argument.stage.events.append("init \(argument.id)")
        return .ok(Worker(id: argument.id, stage: argument.stage))
    }

    mutating func handleCall(_ request: Call, from caller: Caller<String>, _ server: ServerContext<Worker>) throws
        -> ServerResult<Worker> { .reply(id) }

    mutating func handleCast(_ message: Cast, _ server: ServerContext<Worker>) throws -> ServerResult<Worker> {
        guard case .exit(let reason) = message else { return .noReply }
        return .stop(reason)
    }

    mutating func terminate(_ reason: ExitReason, _ server: ServerContext<Worker>) throws {
        stage.events.append("terminate \(id) \(reason)")
    }
}

/// A plain process that traps exits and ignores them: only `kill` stops it.
struct Stubborn: ProcessBehavior, Sendable {
    typealias Message = Int
    mutating func receive(_ envelope: consuming Envelope<Int>, _ process: ProcessContext<Int>) throws -> Next {
        .receive
    }
}

func worker(_ id: String, _ stage: Stage, name: String? = nil, restart: RestartType = .permanent,
            shutdown: ShutdownPolicy = .timeout(.seconds(5))) -> ChildSpec {
    .server(id, Worker.self, Worker.Argument(id: id, stage: stage), name: name, restart: restart, shutdown: shutdown)
}

/// swift-log records, captured for assertions.
final class CapturedLog: @unchecked Sendable {
    struct Record: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }
    let records = Log<Record>()

    var logger: Logger {
        Logger(label: "test") { _ in Handler(sink: self) }
    }

    func messages(_ text: String) -> [Record] { records.entries.filter { $0.message == text } }

    struct Handler: LogHandler {
        let sink: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String,
                 file: String, function: String, line: UInt) {
            let flat = (metadata ?? [:]).mapValues { "\($0)" }
            sink.records.append(Record(level: level, message: "\(message)", metadata: flat))
        }
    }
}

/// A logger that drops everything (tests that do not look at supervisor reports).
let quietLogger = Logger(label: "quiet") { _ in SwiftLogNoOpLogHandler() }

/// A deterministic node for supervision tests: reports and logs captured.
func supervisionNode(_ log: CapturedLog = CapturedLog(), reports: Reports = Reports()) -> Node {
    Node.deterministic(report: reports.handler, logger: log.logger)
}

extension Node {
    /// The pids of the supervisor's children in start order (`nil` for one not running).
    func childPIDs(_ supervisor: ServerRef<Supervisor>) throws -> [PID?] {
        try whichChildren(supervisor).map(\.pid)
    }

    /// The pid of child `id`.
    func child(_ supervisor: ServerRef<Supervisor>, _ id: String) throws -> PID {
        try #require(try whichChildren(supervisor).first { $0.id == id }?.pid)
    }

    /// Kills `pid` (or exits it with `reason`) and lets the supervisors react.
    func crash(_ pid: PID, reason: ExitReason = .kill) {
        exit(pid, reason: reason)
        runUntilIdle()
    }
}

/// Watches `pid` and records the reason it exits with.
func watchExit(_ node: Node, _ pid: PID) throws -> Log<ExitReason> {
    let reasons = Log<ExitReason>()
    let watcher = try node.spawn(of: Never.self) { process in
        _ = process.monitor(pid)
        return .receive { envelope, _ in
            if case .down(let down) = envelope { reasons.append(down.reason) }
            return .exit(.normal)
        }
    }
    _ = watcher
    node.runUntilIdle()
    return reasons
}
