/// Spawn requests from other nodes (`SPAWN_REQUEST`, OTP 23's `erlang:spawn_request/5`), as far as a
/// swift-otp node can run Erlang code: `erpc`'s own two — what `erpc:call/4,5`, `erpc:cast/4` and (since
/// OTP 25) `rpc:call/4,5` send — run this node's exports (`Node.export`). The spawned process is a real
/// process of this node: the requester's `monitor` and `link` options hold on it, and a call's outcome is its
/// exit reason, as `erpc:execute_call/4` makes it: `{Ref, return, Value}`, `{Ref, throw, Value}`,
/// `{Ref, exit, Reason}` or `{Ref, error, Reason, Stack}`. A module and function registered with
/// `Node.exportSpawn` (Erlang's `spawn(Node, M, F, A)`, Elixir's `Node.spawn/4`) starts the process its
/// factory makes. Any other starts a process that exits at once with `{undef, [{M, F, Args, []}]}`, as
/// an Erlang node's would; a factory that throws, one that exits with the error (`RexServer.failure`).
///
/// Thread: loop thread only.
extension Distribution {
    func spawnRequested(id: ExternalReference, from requester: ExternalPID, module: String, function: String,
                        arity: Int, options: [Term], arguments: Term, on connection: NodeConnection) {
        guard let peer = connection.peer else { return }
        let work: SpawnedWork
        switch (module, function, arguments) {
        case ("erpc", "execute_call", .list(let a)) where arity == 4 && a.count == 4:
            guard let m = a[1].atomValue, let f = a[2].atomValue else { fallthrough }
            work = .call(result: a[0], module: m, function: f, arguments: a[3])
        case ("erpc", "execute_cast", .list(let a)) where arity == 3 && a.count == 3:
            guard let m = a[0].atomValue, let f = a[1].atomValue else { fallthrough }
            work = .cast(module: m, function: f, arguments: a[2])
        default:
            work = .undefined(Self.stack(module, function, arguments))
        }
        let spawned: PID
        do {
            if case .undefined = work, case .list(let values) = arguments,
               let factory = node.cluster.spawnables[RPCKey(module: module, function: function, arity: values.count)] {
                spawned = try spawnFromFactory(factory, values, module, function)
            } else {
                spawned = try node.spawn(of: Term.self) { [unowned(unsafe) self] process in
                    self.start(work, in: process)
                }.pid
            }
        } catch {
            connection.send(ControlMessage.spawnReply(id: id, to: requester, flags: 0, result: .atom("system_limit")).control)
            return
        }
        let local = external(spawned), remote = pid(for: requester)
        var flags = 0
        if options.contains(.atom("link")) {
            node.core(spawned)?.relations.links.insert(remote)
            links[peer, default: []].insert(LinkPair(local: spawned, remote: remote))
            flags |= 1
        }
        let alive = node.core(spawned).map { $0.status != .terminated && $0.status != .stopping } ?? false
        if options.contains(where: { $0 == .atom("monitor") || $0.tupleElements?.first == .atom("monitor") }) {
            if alive {
                incomingMonitors[spawned, default: []].append(IncomingMonitor(ref: id, watcher: requester, target: .pid(local)))
            }
            flags |= 2
        }
        connection.send(ControlMessage.spawnReply(id: id, to: requester, flags: flags, result: .pid(local)).control)
        if !alive {
            // Gone before the reply (a factory's process that exited at once): its links and monitors say so.
            if flags & 2 != 0 {
                sendExit(.monitorExit(target: .pid(local), to: requester, ref: id, reason: .atom("noproc")), on: connection)
            }
            if flags & 1 != 0, links[peer]?.remove(LinkPair(local: spawned, remote: remote)) != nil {
                sendExit(.exit(from: local, to: requester, reason: .atom("noproc")), on: connection)
            }
        }
    }

    /// Runs a registered factory; a factory that throws, or gives a pid that is not a process of this loop,
    /// yields a process that exits at once with the error.
    private func spawnFromFactory(_ factory: SpawnFactory, _ arguments: [Term], _ module: String,
                                  _ function: String) throws(ProcessError) -> PID {
        let reason: Term
        do {
            let pid = try factory.make(arguments, node)
            if node.core(pid) != nil { return pid }
            reason = .tuple([.atom("badarg"), Self.stack(module, function, .integer(arguments.count))])
        } catch {
            let stack = Self.stack(module, function, .integer(arguments.count))
            switch Self.failure(error) {
            case .error(let error): reason = .tuple([error, stack])
            case .exit(let exit): reason = exit
            case .thrown(let value): reason = .tuple([.tuple([.atom("nocatch"), value]), stack])
            }
        }
        return try node.spawn(of: Term.self) { _ in .exit(ExitReason(term: reason)) }.pid
    }

    /// The first step of a process spawned for a request: run the export and exit with its outcome.
    private func start(_ work: SpawnedWork, in process: ProcessContext<Term>) -> Step<Term> {
        switch work {
        case .undefined(let stack):
            return .exit(ExitReason(term: .tuple([.atom("undef"), stack])))
        case .cast(let module, let function, let arguments):
            runExport(module, function, arguments) { [pid = process.pid, node] _, _ in node.end(pid, reason: .normal) }
        case .call(let result, let module, let function, let arguments):
            runExport(module, function, arguments) { [pid = process.pid, node] outcome, stack in
                node.end(pid, reason: ExitReason(term: Self.erpcExit(result, outcome, stack)))
            }
        }
        // An export that ran on the loop has already exited the process (at the end of this step).
        return .receive { _, _ in .same }
    }

    /// `erpc:execute_call/4`'s exit reason for an outcome.
    static func erpcExit(_ result: Term, _ outcome: Result<Term, RPCFailure>, _ stack: Term) -> Term {
        switch outcome {
        case .success(let value): return .tuple([result, .atom("return"), value])
        case .failure(.thrown(let value)): return .tuple([result, .atom("throw"), value])
        case .failure(.exit(let reason)): return .tuple([result, .atom("exit"), reason])
        case .failure(.error(let reason)): return .tuple([result, .atom("error"), reason, stack])
        }
    }
}

/// What a process spawned for another node's request does.
private enum SpawnedWork {
    /// `erpc:execute_call(Result, M, F, A)`.
    case call(result: Term, module: String, function: String, arguments: Term)
    /// `erpc:execute_cast(M, F, A)`.
    case cast(module: String, function: String, arguments: Term)
    /// Any other function: none of this node's.
    case undefined(Term)
}

extension Node {
    /// Makes process `pid` exit with `reason`, as if it had returned `.exit(reason)` (no crash report).
    fileprivate func end(_ pid: PID, reason: ExitReason) {
        if let process = core(pid) { kill(process, reason: reason) }
    }
}
