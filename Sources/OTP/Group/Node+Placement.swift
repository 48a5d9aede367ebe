/// Spawning on another loop of the group: the requesting loop sends a `SpawnOrder` through the channel,
/// the destination loop spawns and answers with the new pid (or the spawn's error) as the response to a
/// request of the requester, as Erlang's `spawn_request` does. What the requester does meanwhile is its own
/// business: `ProcessContext.spawn(_:on:options:link:then:)` waits for the answer in a receive.
///
/// Thread: loop thread only.
extension Node {
    /// The response a spawn on another loop gives: the new pid, or why nothing was spawned.
    typealias SpawnOutcome = Result<PID, ProcessError>

    /// Sends `order` to `loop` for `requester`. Returns the request whose response is the outcome; fails at
    /// once when `loop` is not a loop of this group, or the channel to it is full.
    func requestSpawn(on loop: Node, by requester: PID, _ order: SpawnOrder)
        -> Result<RequestID<SpawnOutcome>, ProcessError>
    {
        guard let group, loop.group === group else { return .failure(.notInGroup(node: loop.number)) }
        let ref = reserveRequest(from: requester)
        let target = PID(node: loop.number, index: 0, serial: 0)
        guard ship(Transit(.spawn, to: target, from: requester, ref: ref, carrying: order)) else {
            closeRequest(ref, of: requester)
            return .failure(.mailboxFull(target, capacity: group.overflowLimit))
        }
        return .success(RequestID(ref: ref, server: target))
    }

    /// The outcome of spawn request `id` from its response envelope (the reply, or nothing else: the request
    /// is attached to no process, so no `DOWN` can end it).
    func spawnOutcome(_ id: RequestID<SpawnOutcome>, of requester: PID, in envelope: Envelope<some Any>) -> SpawnOutcome {
        switch response(to: id, of: requester, in: envelope) {
        case .success(let outcome)?: return outcome
        case .failure?, nil: return .failure(.nodeStopped)
        }
    }

    /// Starts a GenServer on `loop` for `starter`: its start acknowledgement `ack` is reserved here, the
    /// server spawned there (with `starter` as its starter and, with `options.link`, its parent), and its
    /// `DOWN` before acknowledging ends `ack` (`watchForSibling`). The spawn's answer comes as the response
    /// to `spawn`; then attach `ack` to the server (`attachSiblingRequest`) and wait for it.
    func beginStart<S: GenServer>(_ type: S.Type, _ argument: S.Argument, on loop: Node, options: StartOptions,
                                  starter: PID) -> Result<(spawn: RequestID<SpawnOutcome>, ack: Ref), StartError>
        where S.Argument: Sendable
    {
        let ack = reserveRequest(from: starter)
        let order = SpawnOrder { node in
            Result { () throws(ProcessError) in
                let pid = try node.spawnServerProcess(
                    type, argument,
                    options: options.spawnOptions,
                    starter: (starter, ack), parent: options.link ? starter : nil, monitoredBy: nil
                ).address.pid
                node.watchForSibling(pid, by: starter, ref: ack)
                if options.link { node.setParent(starter, of: pid) }
                return pid
            }
        }
        switch requestSpawn(on: loop, by: starter, order) {
        case .success(let spawn): return .success((spawn, ack))
        case .failure(let error):
            closeRequest(ack, of: starter)
            return .failure(Node.startError(error))
        }
    }

    /// Start acknowledgement `ack` now waits on `server`, a process of another loop: removing it tells
    /// that loop, which watches the server for it.
    func attachSiblingRequest(_ ack: Ref, to server: PID) {
        if let slot = monitors.slot(ack) { monitors.setRemoteTarget(slot, server) }
    }

    /// A spawn's error as a start's.
    static func startError(_ error: ProcessError) -> StartError {
        switch error {
        case .nameTaken(_, let holder): return .alreadyStarted(holder)
        case .nodeStopped: return .nodeStopped
        default: return .invalidOptions(error.description)
        }
    }

    /// On the destination loop: the spawned server's start request `ack` of `starter` (a process of another
    /// loop) ends with the server's `DOWN` if it exits before acknowledging — the cross-loop form of
    /// `attachRequest`.
    func watchForSibling(_ server: PID, by starter: PID, ref: Ref) {
        transit.watchers.insert(starter, ref: ref, on: server)
    }
}
