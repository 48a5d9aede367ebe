/// `gen_server:multi_call` and `abcast` to a registered name on several nodes of the cluster.
///
/// Thread: any (async). Cost: one remote call or cast per node, all in flight at once.
extension Node {
    /// Calls the server registered as `name` on each of `nodes` with `request` (Erlang's
    /// `gen_server:multi_call(Nodes, Name, Request, Timeout)`), concurrently; each node's outcome by node
    /// name: its reply decoded as `R`, or the `CallError` (`noProcess` where the name is not registered,
    /// `serverExited(_, noconnection)` for a node that cannot be reached, `timeout`). This node's own name is
    /// not one of the cluster's remote nodes: call its server directly.
    public func multiCall<R: TermDecodable & Sendable>(
        _ name: String, _ request: some TermEncodable & Sendable, as replyType: R.Type = R.self, on nodes: [String],
        timeout: Timeout = .seconds(5)
    ) async -> [String: Result<R, CallError>] {
        await withTaskGroup(of: (String, Result<R, CallError>).self) { tasks in
            for peer in Set(nodes) {
                tasks.addTask {
                    do throws(CallError) {
                        return (peer, .success(try await self.call(remote: PID.remote(.name(name, node: peer)), request,
                                                                   as: R.self, timeout: timeout)))
                    } catch {
                        return (peer, .failure(error))
                    }
                }
            }
            var outcomes: [String: Result<R, CallError>] = [:]
            for await (peer, outcome) in tasks { outcomes[peer] = outcome }
            return outcomes
        }
    }

    /// Casts `message` to the server registered as `name` on each of `nodes` (Erlang's
    /// `gen_server:abcast(Nodes, Name, Request)`); each node's refusal, if any, by node name (a cast to a
    /// node that cannot be reached is dropped, as Erlang's is).
    /// - Throws: `ProcessError.nodeStopped` or `.cancelled` (the facade's).
    public func abcast(_ name: String, _ message: some TermEncodable & Sendable, on nodes: [String]) async throws(ProcessError)
        -> [String: ProcessError]
    {
        try await facade(ProcessError.self) {
            try await perform { node in
                var refusals: [String: ProcessError] = [:]
                for peer in Set(nodes) {
                    do throws(ProcessError) { try node.cast(remote: PID.remote(.name(name, node: peer)), message) } catch {
                        refusals[peer] = error
                    }
                }
                return refusals
            }
        }
    }
}
