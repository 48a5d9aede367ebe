/// Calling or casting to a set of servers at once: every process registered under one key of a `Registry`
/// (one server per loop of a group, say, or per partition) — Erlang's `gen_server:multi_call` and `abcast`
/// for servers found by key. For the same name on several nodes of a cluster, see
/// `multiCall(_:_:as:on:timeout:)`.
///
/// Thread: any (async). Cost: one call or cast per server, all in flight at once.
extension Node {
    /// Calls every server registered under `key` in `registry` with `request`, concurrently, and returns
    /// each one's outcome by pid (a server that does not answer within `timeout` gives `.timeout`).
    public func multiCall<S: GenServer, K, V>(_ registry: Registry<K, V>, _ key: K, as type: S.Type,
                                              _ request: S.Call, timeout: Timeout = .seconds(5)) async
        -> [PID: Result<S.Reply, CallError>] where S.Call: Sendable
    {
        await Node.gather(registry, key) { (server: ServerRef<S>) async throws(CallError) in
            try await self.call(server, request, timeout: timeout)
        }
    }

    /// Casts `message` to every server registered under `key` in `registry` (Erlang's `abcast`), returning
    /// what each cast did by pid.
    public func abcast<S: GenServer, K, V>(_ registry: Registry<K, V>, _ key: K, as type: S.Type,
                                           _ message: S.Cast) async -> [PID: Result<CastOutcome, CallError>]
        where S.Cast: Sendable
    {
        await Node.gather(registry, key) { (server: ServerRef<S>) async throws(CallError) in
            try await self.cast(server, message)
        }
    }

    /// Runs `body` for each server registered under `key`, concurrently, and gathers the outcomes by pid.
    static func gather<S: GenServer, K, V, R: Sendable>(
        _ registry: Registry<K, V>, _ key: K, _ body: @escaping @Sendable (ServerRef<S>) async throws(CallError) -> R
    ) async -> [PID: Result<R, CallError>] {
        await withTaskGroup(of: (PID, Result<R, CallError>).self) { tasks in
            for pid in Set(registry.lookup(key).map(\.pid)) {
                tasks.addTask {
                    do throws(CallError) { return (pid, .success(try await body(ServerRef(pid: pid)))) } catch {
                        return (pid, .failure(error))
                    }
                }
            }
            var outcomes: [PID: Result<R, CallError>] = [:]
            for await (pid, outcome) in tasks { outcomes[pid] = outcome }
            return outcomes
        }
    }
}
