/// A misuse of the process API, naming the process or name involved.
///
/// Every operation that can be refused throws one of these (typed throws: no allocation on the error path
/// beyond the payload). Sending to a dead pid is *not* an error, as in Erlang: the message is dropped and
/// counted in `NodeStatistics.droppedToDeadProcesses`.
public enum ProcessError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No process is registered under this name.
    case unknownName(String)
    /// The process is not alive.
    case noProcess(PID)
    /// The name is already registered, by `by`.
    case nameTaken(String, by: PID)
    /// The process already has a registered name (a process holds at most one).
    case alreadyRegistered(PID, as: String)
    /// The mailbox of `pid` holds `capacity` messages already; the message was not delivered.
    case mailboxFull(PID, capacity: Int)
    /// The process registered as `name` (or `pid`) accepts messages of another type.
    case wrongMessageType(PID, expected: String, accepted: String)
    /// A timeout that is negative or too large to represent.
    case invalidTimeout(String)
    /// A mailbox capacity that is not positive.
    case invalidCapacity(Int)
    /// The node is stopped or closed; the request was not carried out.
    case nodeStopped
    /// A message for a remote pid that has no term form (its type is not `TermEncodable`, or encoding failed).
    case notTermEncodable(PID, reason: String)
    /// A remote pid was used on a node that has not joined a cluster (`startDistribution`).
    case noDistribution(PID)
    /// The pid belongs to another node of this OS process, and the two are not in one cluster (that node is
    /// closed, or either has not started distribution): nothing routes to it from here.
    case otherNode(PID)
    /// A name that cannot be registered: empty, longer than 255 characters, or holding a control or
    /// invisible character (`reason` says which).
    case invalidName(String, reason: String)
    /// A signal number libuv refused to watch (`Node.stopLoop(on:)`); `reason` is libuv's.
    case invalidSignal(Int32, reason: String)
    /// The awaiting Swift task was cancelled before the loop took the operation (async facade): it did not run.
    case cancelled
    /// A placement on a node that is not a loop of this node's `NodeGroup` (its number is given).
    case notInGroup(node: UInt32)
    /// The process runs `limit` Swift tasks already (`startTask`): the new one was not started.
    case tooManyTasks(PID, limit: Int)
    /// The connection to the node of remote process `PID` holds more unsent bytes than its busy limit
    /// (`DistributionOptions.busyLimit`, Erlang's `+zdbbl`): that node is not reading. Nothing was sent
    /// (Erlang's `erlang:send(Dest, Msg, [nosuspend])` answering `nosuspend`).
    case busy(PID, queuedBytes: Int)

    public var description: String {
        switch self {
        case .unknownName(let name): return "no process is registered as '\(LogText(name))'"
        case .noProcess(let pid): return "process \(pid) is not alive"
        case .nameTaken(let name, let pid): return "name '\(LogText(name))' is already registered by \(pid)"
        case .alreadyRegistered(let pid, let name): return "process \(pid) is already registered as '\(LogText(name))'"
        case .mailboxFull(let pid, let capacity): return "mailbox of \(pid) is full (\(capacity) messages)"
        case .wrongMessageType(let pid, let expected, let accepted):
            return "process \(pid) accepts \(accepted), not \(expected)"
        case .invalidTimeout(let text): return "invalid timeout: \(text)"
        case .invalidCapacity(let capacity): return "invalid mailbox capacity: \(capacity)"
        case .nodeStopped: return "the node is stopped"
        case .notTermEncodable(let pid, let reason): return "cannot send to \(pid): \(reason)"
        case .noDistribution(let pid): return "cannot reach \(pid): this node has not started distribution"
        case .busy(let pid, let queued): return "cannot send to \(pid): its node's connection is busy (\(queued) bytes unsent)"
        case .otherNode(let pid):
            return "cannot reach \(pid): it belongs to another node of this OS process, closed or not in a cluster with this one"
        case .invalidName(let name, let reason): return "invalid name '\(LogText(name))': \(reason)"
        case .cancelled: return "the awaiting task was cancelled before the loop took the operation"
        case .invalidSignal(let signal, let reason): return "cannot watch signal \(signal): \(reason)"
        case .notInGroup(let number): return "node \(number) is not a loop of this node's group"
        case .tooManyTasks(let pid, let limit):
            return "process \(pid) runs \(limit) tasks already (its limit): the new task was not started"
        }
    }
}
