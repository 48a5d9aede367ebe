/// Why a call (or a response to `sendRequest`) produced no reply. Each case names the process involved.
public enum CallError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No process is registered under this name (reported at once).
    case unknownName(String)
    /// The server is not alive (reported at once, or through the request's monitor as `noproc`).
    case noProcess(PID)
    /// A process called itself: the call could never be answered.
    case callingSelf(PID)
    /// No reply within the timeout. The server keeps running; a late reply is dropped.
    case timeout(PID)
    /// The server exited before replying; `reason` is its exit reason.
    case serverExited(PID, reason: ExitReason)
    /// The server's mailbox was full; the request was not delivered.
    case mailboxFull(PID, capacity: Int)
    /// The process is not a server of the expected type (`ServerRef<S>` names a process running another
    /// GenServer, or a plain process); `got` names what it runs.
    case wrongServerType(PID, expected: String, got: String)
    /// The server's reply was not of the expected type (a server answering with the wrong reply type).
    case wrongReplyType(PID, expected: String, got: String)
    /// The node stopped (closed) before the call completed; nothing was left waiting.
    case nodeStopped
    /// The request has no term form for a remote server (its type is not `TermEncodable`, or encoding failed).
    case notTermEncodable(PID, reason: String)
    /// A remote server was called on a node that has not joined a cluster (`startDistribution`).
    case noDistribution(PID)
    /// The connection to a remote server's node holds more unsent bytes than its busy limit
    /// (`DistributionOptions.busyLimit`, Erlang's `+zdbbl`): that node is not reading. The request was not sent.
    case busy(PID, queuedBytes: Int)
    /// The awaiting Swift task was cancelled (async facade): the call was withdrawn on the loop and a late
    /// reply is dropped.
    case cancelled
    /// A blocking node operation (`Node.call`, `stop`, `getState`, ...) was used where it would have to run
    /// the loop it is already inside: from process code, or from `perform` or another job on the running
    /// loop. `operation` names it. Use `ProcessContext.call` in process code, the async overload elsewhere.
    case wouldBlock(operation: String)
    /// The timeout was refused (negative); `reason` says why.
    case invalidTimeout(String)

    public var description: String {
        switch self {
        case .unknownName(let name): return "no process is registered as '\(name)'"
        case .noProcess(let pid): return "process \(pid) is not alive (noproc)"
        case .callingSelf(let pid): return "process \(pid) called itself"
        case .timeout(let pid): return "call to \(pid) timed out"
        case .serverExited(let pid, let reason): return "server \(pid) exited during the call: \(reason)"
        case .mailboxFull(let pid, let capacity): return "mailbox of \(pid) is full (\(capacity) messages)"
        case .wrongServerType(let pid, let expected, let got):
            return "process \(pid) is not a \(expected) server (it runs \(got))"
        case .wrongReplyType(let pid, let expected, let got):
            return "server \(pid) replied with \(got), expected \(expected)"
        case .nodeStopped: return "the node stopped before the call completed"
        case .notTermEncodable(let pid, let reason): return "cannot call \(pid): \(reason)"
        case .noDistribution(let pid): return "cannot call \(pid): this node has not started distribution"
        case .busy(let pid, let queued): return "cannot call \(pid): its node's connection is busy (\(queued) bytes unsent)"
        case .cancelled: return "the awaiting task was cancelled"
        case .wouldBlock(let operation):
            return "\(operation) blocks until the loop answers, but it was called on the running loop "
                + "(process code or perform): use ProcessContext.call there, or the async overload"
        case .invalidTimeout(let reason): return "invalid timeout: \(reason)"
        }
    }
}
