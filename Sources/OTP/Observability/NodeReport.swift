#if canImport(Glibc)
import Glibc
#endif
import Logging

/// Something the node tells its host: a process crashed, a message was refused, a traced server did
/// something, or something else went wrong. Every report is logged through `NodeConfiguration.logger` with
/// metadata (`pid`, `name`, `reason` and the like), then given to `NodeConfiguration.report` if set.
/// Every text in the description and the metadata is escaped and bounded (`LogText`, 1,000 characters): a
/// last message, a reason or a name may hold what a peer sent, and one report is always one line.
public enum NodeReport: Sendable, CustomStringConvertible {
    /// A process exited with a reason that is not quiet (not normal, shutdown or killed by its supervisor).
    case crash(pid: PID, name: String?, reason: ExitReason)
    /// A message posted from another thread without a refusal handler, or fired by a timer, could not be
    /// delivered.
    case refused(target: String, error: ProcessError)
    /// A GenServer stopped with a reason that is not quiet: its last message, its state as its
    /// `formatStatus` describes it, and the reason (Erlang's crash report).
    case serverCrash(pid: PID, name: String?, lastMessage: String, state: String, reason: ExitReason)
    /// A traced GenServer received a message or sent a reply (`Node.trace(_:_:)`).
    case trace(pid: PID, name: String?, event: String)
    /// Something worth a warning, e.g. a GenServer's `terminate` threw.
    case warning(pid: PID, name: String?, text: String)

    public var description: String {
        func t(_ text: String) -> LogText { LogText(text, limit: Term.descriptionLimit) }
        let name: String? = switch self {
        case .crash(_, let name, _), .serverCrash(_, let name, _, _, _), .trace(_, let name, _), .warning(_, let name, _): name
        case .refused: nil
        }
        let named = name.map { " (\(t($0)))" } ?? ""
        switch self {
        case .crash(let pid, _, let reason):
            return "crash report: process \(pid)\(named) exited: \(reason)"
        case .refused(let target, let error):
            return "refused message to \(t(target)): \(t(error.description))"
        case .serverCrash(let pid, _, let lastMessage, let state, let reason):
            return "crash report: server \(pid)\(named) terminating: reason \(reason); "
                + "last message: \(t(lastMessage)); state: \(t(state))"
        case .trace(let pid, _, let event):
            return "trace \(pid)\(named): \(t(event))"
        case .warning(let pid, _, let text):
            return "warning \(pid)\(named): \(t(text))"
        }
    }

    /// The level it is logged at: crashes are errors, refusals and warnings warnings, traces info (a trace
    /// is switched on by hand, so it shows at the default level).
    public var level: Logger.Level {
        switch self {
        case .crash, .serverCrash: return .error
        case .refused, .warning: return .warning
        case .trace: return .info
        }
    }

    /// The log message: what happened, without the details that go into `metadata`.
    public var message: Logger.Message {
        switch self {
        case .crash: return "crash report: process exited"
        case .serverCrash: return "crash report: server terminating"
        case .refused: return "message refused"
        case .trace(_, _, let event): return "trace: \(LogText(event, limit: Term.descriptionLimit))"
        case .warning(_, _, let text): return "\(LogText(text, limit: Term.descriptionLimit))"
        }
    }

    /// `pid`, `name` (when registered), `reason`, and for a server crash `last_message` and `state`;
    /// for a refusal `target` and `error`.
    public var metadata: Logger.Metadata {
        var metadata: Logger.Metadata = [:]
        func t(_ text: String) -> Logger.MetadataValue { "\(LogText(text, limit: Term.descriptionLimit))" }
        func process(_ pid: PID, _ name: String?) {
            metadata["pid"] = "\(pid)"
            if let name { metadata["name"] = t(name) }
        }
        switch self {
        case .crash(let pid, let name, let reason):
            process(pid, name)
            metadata["reason"] = "\(reason)"
        case .serverCrash(let pid, let name, let lastMessage, let state, let reason):
            process(pid, name)
            metadata["reason"] = "\(reason)"
            metadata["last_message"] = t(lastMessage)
            metadata["state"] = t(state)
        case .refused(let target, let error):
            metadata["target"] = t(target)
            metadata["error"] = t(error.description)
        case .trace(let pid, let name, _), .warning(let pid, let name, _):
            process(pid, name)
        }
        return metadata
    }

    /// One line on standard error, without swift-log (for a `report` hook in a program that has no log
    /// backend).
    public static let printToStandardError: @Sendable (NodeReport) -> Void = { report in
        var line = report.description + "\n"
        line.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
    }
}

extension Node {
    /// Logs `report` and hands it to the configuration's `report` hook. Thread: any (the logger and the
    /// hook are `Sendable`). Cost: only on the paths that report (crashes, refusals, traces).
    @usableFromInline
    func emit(_ report: NodeReport) {
        configuration.logger.log(level: report.level, report.message, metadata: report.metadata)
        configuration.report?(report)
    }
}
