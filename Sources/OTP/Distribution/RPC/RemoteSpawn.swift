/// Spawning processes on other nodes: Erlang's `spawn_request/5` (what `spawn/4`, `spawn_link/4` and
/// `spawn_monitor/4` to another node send), from a process or from async code.
///
/// The request goes out as `SPAWN_REQUEST` with this node's group leader (`GroupLeader.swift`: the spawned
/// process's output comes back here) and the answer is `SPAWN_REPLY`: the new pid, or the error the node
/// gives (`badarg`, `system_limit`, `notsup`, ...). A `link` or `monitor` option is set up by the other node
/// before it answers, as Erlang does, so nothing the new process does can be missed: its `EXIT` and `DOWN`
/// come after the reply. A reply that comes after the request ended (timed out, or its process exited) is
/// abandoned as Erlang abandons one: a link is broken with an exit signal `abandoned`, a monitor removed.
///
/// Thread: the request is made on the node's loop (loop 0 of a group, which holds the connections).

/// How a process spawned on another node is tied to the process that asked for it.
public struct RemoteSpawnOptions: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Linked to the requester (`spawn_link`): when either exits, the other gets the exit signal.
    public static let link = Self(rawValue: 1)
    /// Monitored by the requester (`spawn_monitor`): its `DOWN` carries `RemoteSpawned.monitor`.
    public static let monitor = Self(rawValue: 2)
}

/// A process spawned on another node: its pid and, when asked for, the requester's monitor on it.
public struct RemoteSpawned: Sendable, Equatable {
    public let pid: PID
    public let monitor: Ref?
}

extension ProcessContext {
    /// Spawns `module:function(arguments...)` on node `peer` (Erlang's `spawn_request(Node, M, F, A, Opts)`),
    /// continuation-passing: `then` gets the new process's pid (and monitor), or an `RPCError` —
    /// `nodeDown` (not reachable, or the connection dropped before the answer), `timeout`, `failed` with the
    /// node's reason (`badarg`, `system_limit`, ...), `invalidName`, or `call(noDistribution)` from a
    /// process of another loop than the one holding the connections. A function the node does not have
    /// still spawns (Erlang checks when the process runs): the process exits with `undef`.
    public func spawn(
        on peer: String, _ module: String, _ function: String, _ arguments: [Term],
        options: RemoteSpawnOptions = [], timeout: Timeout = .seconds(5),
        then: @escaping (Result<RemoteSpawned, RPCError>, ProcessContext<Message>) throws -> Step<Message>
    ) throws -> Step<Message> {
        switch node.beginRemoteSpawn(from: pid, on: peer, module, function, arguments, options: options) {
        case .failure(let error): return try then(.failure(error), self)
        case .success(let (id, monitor)):
            return receiveResponse(id, timeout: timeout) { outcome, process in
                try then(process.node.remoteSpawnResult(outcome, monitor: monitor, of: process.pid, on: peer), process)
            }
        }
    }
}

extension Node {
    /// Spawns `module:function(arguments...)` on node `peer` from async code (no link or monitor: there is
    /// no process to tie it to). Errors as `ProcessContext.spawn(on:_:_:_:options:timeout:then:)`.
    public func spawn(on peer: String, _ module: String, _ function: String, _ arguments: [Term],
                      timeout: Timeout = .seconds(5)) async throws(RPCError) -> PID {
        let reply: Term
        do {
            reply = try await external { node, call in
                node.beginExternal(call, timeout: timeout) { caller in
                    switch node.beginRemoteSpawn(from: caller, on: peer, module, function, arguments, options: []) {
                    case .success(let (id, _)): return .success(id)
                    case .failure(let error):
                        _ = call.finish(.failure(error))  // the outcome; what follows is not used
                        return .failure(.nodeStopped)
                    }
                }
            }
        } catch let error as RPCError {
            throw error
        } catch let error as CallError {
            throw Self.spawnFailure(error, peer)
        } catch is CancellationError {
            throw .call(.cancelled)
        } catch {
            throw .call(.nodeStopped)
        }
        if case .tuple(let e) = reply, e.count == 2, case .pid(let pid) = e[1] { return PID.remote(.pid(pid)) }
        throw .failed(peer, reason: reply.tupleElements?.last ?? reply)
    }

    /// Sends the spawn request of `caller` (loop thread): the request to await, the monitor it will carry.
    /// The request watches the peer's `net_kernel`, so a connection that fails or drops ends it.
    func beginRemoteSpawn(from caller: PID, on peer: String, _ module: String, _ function: String,
                          _ arguments: [Term], options: RemoteSpawnOptions) -> Result<(RequestID<Term>, Ref?), RPCError> {
        do { _ = try Self.rpcRequest(module, function, arguments) } catch { return .failure(error) }
        let server = remote("net_kernel", on: peer)
        guard let distribution, distribution.isStarted, core(caller) != nil else {
            return .failure(.call(.noDistribution(server)))
        }
        guard peer != distribution.name else {
            return .failure(.failed(peer, reason: .atom("notsup")))  // no Erlang code to run here
        }
        let request = openRequest(from: caller, to: server)
        // The request id, which is also the monitor's reference when one is asked for (as in Erlang).
        let id: Ref
        if options.contains(.monitor) {
            id = withProcess(caller) { watching in
                monitors.insert(watcher: caller, watching: &watching.watchingHead, awaitingReply: false,
                                mark: watching.mailboxMark)
            } ?? monitors.detachedRef()
        } else {
            id = monitors.detachedRef()
        }
        distribution.requestSpawn(id: id, request: request, caller: caller, peer: peer, module: module,
                                  function: function, arguments: arguments, options: options)
        return .success((RequestID(ref: request, server: server), options.contains(.monitor) ? id : nil))
    }

    /// What the awaited spawn reply means for the requester; a monitor that was asked for and not set up
    /// is removed.
    func remoteSpawnResult(_ outcome: Result<Term, CallError>, monitor: Ref?, of caller: PID, on peer: String)
        -> Result<RemoteSpawned, RPCError> {
        if case .success(.tuple(let e)) = outcome, e.count == 2, case .pid(let pid) = e[1] {
            let monitored = e[0].intValue.map { $0 & 2 != 0 } ?? false
            if !monitored, let monitor { demonitor(monitor, by: caller) }  // a peer that did not set it up
            return .success(RemoteSpawned(pid: PID.remote(.pid(pid)), monitor: monitored ? monitor : nil))
        }
        if let monitor { demonitor(monitor, by: caller) }
        switch outcome {
        case .success(.tuple(let e)) where e.count == 2: return .failure(.failed(peer, reason: e[1]))
        case .success(let other): return .failure(.failed(peer, reason: other))
        case .failure(let error): return .failure(Self.spawnFailure(error, peer))
        }
    }

    static func spawnFailure(_ error: CallError, _ peer: String) -> RPCError {
        switch error {
        case .timeout: return .timeout(peer)
        case .serverExited(_, .noconnection), .noProcess: return .nodeDown(peer)
        default: return .call(error)
        }
    }
}

/// The requesting side of spawn requests. Thread: loop thread only.
extension Distribution {
    /// A spawn request waiting for its reply.
    struct PendingSpawn {
        let caller: PID
        /// The request the caller awaits (it watches the peer's `net_kernel`).
        let request: Ref
        let peer: String
    }

    func requestSpawn(id: Ref, request: Ref, caller: PID, peer: String, module: String, function: String,
                      arguments: [Term], options: RemoteSpawnOptions) {
        guard let connection = connection(to: peer), let leader = groupLeader() else { return }
        pendingSpawns[id] = PendingSpawn(caller: caller, request: request, peer: peer)
        spawnsByRequest[request] = id
        var flags: [Term] = []
        if options.contains(.link) { flags.append(.atom("link")) }
        if options.contains(.monitor) { flags.append(.atom("monitor")) }
        connection.send(ControlMessage.spawnRequest(id: external(id), from: external(caller), groupLeader: .pid(external(leader)),
                                                    module: module, function: function, arity: arguments.count,
                                                    options: flags, arguments: .list(arguments)).control,
                        payload: .list(arguments))
    }

    /// The request of a spawn ended (replied, timed out, its process exited, the node went down): a reply
    /// that comes later is abandoned.
    func spawnRequestEnded(_ request: Ref) {
        guard let id = spawnsByRequest.removeValue(forKey: request) else { return }
        pendingSpawns[id] = nil
    }

    /// `SPAWN_REPLY` for request `id` of `requester`: the link and monitor the peer set up are recorded,
    /// and the requester gets `{Flags, PidOrError}` as the request's reply — or, when it no longer waits,
    /// the link is broken (`abandoned`) and the monitor removed on the peer.
    func spawnReplied(id: ExternalReference, to requester: ExternalPID, flags: Int, result: Term,
                      on connection: NodeConnection) {
        guard let peer = connection.peer else { return }
        let ref = localRef(id)
        let pending = ref.flatMap { $0.loop == node.loopIndex ? pendingSpawns.removeValue(forKey: $0.ref) : nil }
        guard case .pid(let spawned) = result else {
            if let pending {
                spawnsByRequest[pending.request] = nil
                _ = node.deliverReply(pending.request, to: pending.caller, Term.tuple([.integer(flags), result]))
            }
            return
        }
        let child = pid(for: spawned)
        guard let pending, let ref, node.core(pending.caller) != nil else {
            if flags & 1 != 0 { sendExit(.exit2(from: requester, to: spawned, reason: .atom("abandoned")), on: connection) }
            if flags & 2 != 0 { connection.send(ControlMessage.demonitor(from: requester, target: .pid(spawned), ref: id).control) }
            return
        }
        spawnsByRequest[pending.request] = nil
        if flags & 1 != 0 {
            node.core(pending.caller)?.relations.links.insert(child)
            links[peer, default: []].insert(LinkPair(local: pending.caller, remote: child))
        }
        if flags & 2 != 0, let slot = node.monitors.slot(ref.ref) {
            node.monitors.setRemoteTarget(slot, child)
            outgoingMonitors[ref] = (pending.caller, child)
        }
        _ = node.deliverReply(pending.request, to: pending.caller, Term.tuple([.integer(flags), .pid(spawned)]))
    }
}
