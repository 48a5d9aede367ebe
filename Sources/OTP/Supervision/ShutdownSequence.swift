/// Orderly shutdown of a whole node: every process stops, GenServers through their `terminate`, newest
/// first; a supervision tree stops from its root, which stops its children in order.
///
/// The sequence is a process of its own, like Erlang's `init:stop` walking the application tree: it asks
/// one server at a time to stop (a `sys` stop request, answered after `terminate`) and waits for the reply
/// or the server's exit (the call race, `Node.endRequest`); a server that does not answer within the
/// timeout is killed. A process that is not a server gets an exit signal, and is killed if it traps it.
/// Thread: loop thread only.
struct ShutdownSequence: ProcessBehavior {
    typealias Message = Never

    var reason: ExitReason
    var timeout: Timeout
    /// Processes the sequence leaves alone (the async facade's stand-in requester).
    var spared: Set<PID>
    /// Runs once every process is gone (or the sequence itself is stopped).
    var done: () -> Void
    var remaining: [PID] = []
    /// The server being stopped and the request it answers.
    var current: RequestID<Any>?

    init(reason: ExitReason, timeout: Timeout, sparing spared: Set<PID>, done: @escaping () -> Void) {
        self.reason = reason
        self.timeout = timeout
        self.spared = spared
        self.done = done
    }

    mutating func start(_ process: ProcessContext<Never>) throws -> Next {
        let node = process.currentNode
        // A supervised process is stopped by its supervisor, in its tree's order; the rest newest first
        // (reverse table order: start order until process slots are reused).
        remaining = node.processes().filter {
            $0 != process.pid && !spared.contains($0) && node.liveSupervisor(of: $0) == nil
        }
        return stopNext(process)
    }

    func accepts(_ envelope: borrowing Envelope<Never>) -> Bool {
        guard let current else { return false }
        return envelope.isResponse(to: current.ref)
    }

    mutating func receive(_ envelope: consuming Envelope<Never>, _ process: ProcessContext<Never>) throws -> Next {
        if let current = current.take() {
            // Its terminate has run (the reply), or it exited: the reply's value is not needed.
            _ = process.currentNode.response(to: current, of: process.pid, in: envelope)
        }
        return stopNext(process)
    }

    mutating func timeout(_ process: ProcessContext<Never>) throws -> Next {
        if let current = current.take() {
            // terminate took too long: kill it, and end the request.
            process.currentNode.exit(current.server, reason: .kill)
            _ = process.currentNode.endRequest(current, of: process.pid, .timeout)
        }
        return stopNext(process)
    }

    /// Stops the next process; waits when it is a server, else goes on. Exits when none is left.
    mutating func stopNext(_ process: ProcessContext<Never>) -> Next {
        let node = process.currentNode
        while let pid = remaining.popLast() {
            guard let core = node.core(pid) else { continue }
            let ref = node.openRequest(from: process.pid, to: pid)
            if core.requestSystemStop(reason, caller: process.pid, ref: ref, node: node) {
                current = RequestID(ref: ref, server: pid)
                // A supervisor's tree stop is bounded by its children's shutdown policies instead.
                return .receive(timeout: core.isSupervisor ? .infinity : timeout)
            }
            node.closeRequest(ref, of: process.pid)
            node.exit(pid, reason: reason)
            if node.isAlive(pid) { node.exit(pid, reason: .kill) }  // it trapped the signal
        }
        done()
        return .exit(.normal)
    }
}

extension Node {
    /// Stops every process of the node but `spared` in an orderly way (see `ShutdownSequence`), then runs
    /// `done`; the loop keeps running. `timeout` bounds each server's `terminate` (a supervisor is waited
    /// for: its children's shutdown policies bound it). Thread: loop thread only.
    /// - Throws: `ProcessError.nodeStopped` when the node is closed.
    func beginShutdown(reason: ExitReason, timeout: Timeout, sparing spared: Set<PID>,
                       done: @escaping () -> Void) throws(ProcessError) {
        _ = try timeout.validated()
        let sequence = try spawn(ShutdownSequence(reason: reason, timeout: timeout, sparing: spared, done: done),
                                 options: SpawnOptions(mailboxCapacity: Int.max))
        markSystem(sequence.pid)
    }
}
