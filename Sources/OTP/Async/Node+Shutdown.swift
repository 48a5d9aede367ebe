/// Orderly shutdown: every process stops, GenServers through their `terminate`, newest first; a
/// supervision tree stops from its root, which stops its children in order.
extension Node {
    /// Stops every process of the node in an orderly way and returns when all are gone; the loop keeps
    /// running (stop it afterwards). GenServers get a system stop request one at a time, so their
    /// `terminate` runs with `reason`; a server that does not finish within `timeout` is killed (a
    /// supervisor is waited for: its children's shutdown policies bound it). Other
    /// processes get an exit signal with `reason`, and are killed if they trap it. Processes go newest
    /// first (reverse table order — start order until process slots are reused), except those a live
    /// supervisor manages: a root supervisor stops its whole tree, children newest first, each by its
    /// shutdown policy (so `timeout` bounds the tree's stop as a whole only through those policies).
    /// Thread-safe (async). - Throws: `CallError.nodeStopped` when the node is already closed.
    public func shutdown(reason: ExitReason = .shutdown, timeout: Timeout = .seconds(5)) async throws {
        let _: Bool = try await external { node, call in
            guard !call.isFinished else { return }
            let caller = node.externalCallerPID()
            // A supervised process is stopped by its supervisor, in its tree's order.
            let order = node.processes().filter { $0 != caller && node.liveSupervisor(of: $0) == nil }.reversed()
            node.stopNext(Array(order), reason: reason, timeout: timeout, caller: caller) { call.finish(.success(true)) }
        }
    }

    /// Stops `pids[0]`, then the rest, then calls `done`. Loop thread only.
    private func stopNext(_ pids: [PID], reason: ExitReason, timeout: Timeout, caller: PID,
                          done: @escaping () -> Void) {
        var remaining = pids[...]
        while let pid = remaining.popFirst() {
            guard let process = core(pid) else { continue }
            let ref = openRequest(from: caller, to: pid)
            if process.requestSystemStop(reason, caller: caller, ref: ref, node: self) {
                // A server: wait for its reply (terminate has run) or its DOWN, then continue.
                let rest = Array(remaining)
                // A supervisor's tree stop is bounded by its children's shutdown policies instead.
                let limit = process.isSupervisor ? Timeout.infinity : timeout
                let timer = (try? limit.validated())?.map {
                    armTimer(after: $0, kind: .externalCall, target: ref.rawValue, payload: nil)
                }
                registerExternal(ref, PendingExternalCall(timer: timer) { node, ending in
                    switch ending {
                    case .failure:
                        done()
                        return
                    case .timeout:
                        node.exit(pid, reason: .kill)  // terminate took too long: kill it
                    case .response:
                        break
                    }
                    node.closeRequest(ref, of: caller)
                    node.stopNext(rest, reason: reason, timeout: timeout, caller: caller, done: done)
                })
                return
            }
            closeRequest(ref, of: caller)
            exit(pid, reason: reason)
            if isAlive(pid) { exit(pid, reason: .kill) }  // it trapped the signal
        }
        done()
    }
}
