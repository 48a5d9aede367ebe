/// Orderly shutdown: every process stops, GenServers through their `terminate`, newest first.
extension Node {
    /// Stops every process of the node in an orderly way and returns when all are gone; the loop keeps
    /// running (stop it afterwards). GenServers get a system stop request one at a time, so their
    /// `terminate` runs with `reason`; a server that does not finish within `timeout` is killed. Other
    /// processes get an exit signal with `reason`, and are killed if they trap it. Processes go newest
    /// first (reverse table order — start order until process slots are reused).
    /// Thread-safe (async). - Throws: `CallError.nodeStopped` when the node is already closed.
    public func shutdown(reason: ExitReason = .shutdown, timeout: Timeout = .seconds(5)) async throws {
        let _: Bool = try await external { node, call in
            guard !call.isFinished else { return }
            let caller = node.externalCallerPID()
            let order = node.processes().filter { $0 != caller }.reversed()
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
                let timer = (try? timeout.validated())?.map {
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
