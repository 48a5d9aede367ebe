/// Starting a scope of process groups (`pg:start_link/1`).
extension Node {
    /// Starts the process-group scope `scope` (`pg` by default, Erlang's default scope): its process is
    /// registered under that name and discovers the scopes of the same name on every connected node and on
    /// every node that connects later. Start it on the loop that runs the distribution (loop 0 of a group).
    ///
    /// Thread: loop thread only. - Throws: `ProcessError.nameTaken` when a process holds the name (a scope
    /// of that name runs already), `noDistribution` when the node has not joined a cluster.
    public func startProcessGroups(scope: String = "pg") throws(ProcessError) -> ProcessGroups {
        preconditionInLoop("startProcessGroups")
        guard let distribution, distribution.isStarted else { throw .noDistribution(remote(scope, on: "?")) }
        let groups = ProcessGroups(scope: scope, node: self)
        let address = try spawn(of: ProcessGroups.ScopeMessage.self, options: SpawnOptions(name: scope)) { process in
            process.subscribeNodeEvents { .node($0) }
            return .receive { envelope, _ in
                switch envelope {
                case .message(.term(let term)): groups.handle(term)
                case .message(.node(.up(let peer))): groups.nodeUp(peer)
                case .message(.node(.down)): break  // the DOWN of that node's scope says what to remove
                case .down(let down): groups.down(down)
                default: break
                }
                return .same
            }
        }
        groups.pid = address.pid
        for peer in nodes(.connected) { groups.nodeUp(peer) }
        return groups
    }
}

/// The scope's messages from other nodes are terms.
extension ProcessGroups.ScopeMessage: TermDecodable {
    init(term: Term) throws(TermConversionError) { self = .term(term) }
}
