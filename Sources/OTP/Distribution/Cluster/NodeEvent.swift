/// A node of the cluster came up or went down: what `monitorNode` (Erlang's `monitor_node/2`) and
/// `subscribeNodeEvents` (Erlang's `net_kernel:monitor_nodes/1`) deliver, turned into the process's own
/// message type by the function it gave.
public enum NodeEvent: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// `{nodeup, Node}`: a connection to the node is up.
    case up(String)
    /// `{nodedown, Node}`: the connection went down, or (for `monitorNode`) could not be made.
    case down(String)

    /// The node the event is about.
    public var node: String {
        switch self {
        case .up(let node), .down(let node): return node
        }
    }

    public var description: String {
        switch self {
        case .up(let node): return "{nodeup, \(LogText(node))}"
        case .down(let node): return "{nodedown, \(LogText(node))}"
        }
    }
}

/// Which connected nodes `Node.nodes(_:)` lists (Erlang's `nodes/1` arguments).
public enum NodeVisibility: Sendable {
    /// Nodes that publish themselves (ordinary Erlang nodes): `nodes()` / `nodes(visible)`.
    case visible
    /// Nodes connected as hidden (`erl -hidden`, C nodes): `nodes(hidden)`.
    case hidden
    /// Both: `nodes(connected)`.
    case connected
}
