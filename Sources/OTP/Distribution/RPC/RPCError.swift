/// Why an rpc to another node (`Node.rpc`, `ProcessContext.rpc`) or an export (`Node.export`) failed.
public enum RPCError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A module or function name that is not a valid atom (empty, or longer than 255 characters).
    case invalidName(String, reason: String)
    /// The node could not be reached, or the connection dropped before the answer (`{badrpc, nodedown}`).
    case nodeDown(String)
    /// No answer within the timeout (`{badrpc, timeout}`); a late one is dropped.
    case timeout(String)
    /// The function failed there: `{badrpc, Reason}`'s reason — `{'EXIT', {undef, _}}` for a function the
    /// node does not have, `{'EXIT', {Reason, Stack}}` for an error, `{'EXIT', Reason}` for an exit.
    case failed(String, reason: Term)
    /// The result did not decode as the type asked for.
    case wrongResultType(String, TermConversionError)
    /// The call itself could not be made (no distribution, node stopped, cancelled, ...).
    case call(CallError)

    public var description: String {
        switch self {
        case .invalidName(let name, let reason): return "invalid rpc name \(LogText(name)): \(reason)"
        case .nodeDown(let node): return "rpc to \(LogText(node)): nodedown"
        case .timeout(let node): return "rpc to \(LogText(node)): timeout"
        case .failed(let node, let reason): return "rpc to \(LogText(node)) failed: \(LogText(reason.description, limit: 1_000))"
        case .wrongResultType(let node, let error): return "rpc to \(LogText(node)): unexpected result: \(error)"
        case .call(let error): return "rpc: \(error)"
        }
    }
}
