/// Starting a GenServer, as `gen:start` does: the starter opens a request (the start acknowledgement)
/// before the server exists, spawns the server with it, and waits for its response: the server's
/// `initialize` answers `StartAck` through `ServerLoop.acknowledge`, or the server exits first, or the
/// start's timeout passes (the starter then kills it). Used by `ProcessContext.startServer`, the blocking
/// and async `start`, and supervisors. Thread: loop thread only.
extension Node {
    /// Spawns the server process and opens the start request from `starter`. Thread: loop thread only.
    @inlinable
    func beginStart<S: GenServer>(_ type: S.Type, _ argument: S.Argument, options: StartOptions, starter: PID)
        -> Result<(pid: PID, ack: RequestID<StartAck>, monitor: Ref?), StartError>
    {
        let ack = reserveRequest(from: starter)
        let parent = options.link ? starter : nil
        let spawned: (address: Address<ServerMessage<S>>, monitor: Ref?)
        do {
            spawned = try spawnServerProcess(type, argument,
                                             options: options.spawnOptions,
                                             starter: (starter, ack), parent: parent,
                                             monitoredBy: options.monitor ? starter : nil)
        } catch {
            closeRequest(ack, of: starter)
            if case .nameTaken(_, let holder) = error { return .failure(.alreadyStarted(holder)) }
            return .failure(.invalidOptions(error.description))
        }
        attachRequest(ack, to: spawned.address.pid)
        // Its parent's exit signal stops it in order (terminate runs), trapping or not.
        if options.link { setParent(starter, of: spawned.address.pid) }
        return .success((spawned.address.pid, RequestID(ref: ack, server: spawned.address.pid), spawned.monitor))
    }

    /// The server just spawned by `beginStart` (last in the run queue, not yet run) runs its first turn
    /// now, inside the starter's handler (`runNested`, as `serveNow` runs a served call), instead of after every process queued
    /// before it: the starter, `starter`, whose messages are `Message`, then takes its acknowledgement — or
    /// the `DOWN` of a server whose `initialize` failed — from its mailbox at once. `nil` when the server is
    /// not this loop's, a turn is lent meanwhile, or no acknowledgement came in that turn (`initialize`
    /// awaits something): the starter waits as usual. Thread: loop thread, from process code.
    @inlinable
    func startAtOnce<Message>(_ server: PID, ack: RequestID<StartAck>, starter: PID, as _: Message.Type)
        -> Result<StartAck, CallError>?
    {
        guard !scheduler.lending, scheduler.current != nil, scheduler.runQueue.last == server.rawValue,
              let object = table.object(for: server)
        else { return nil }
        scheduler.runQueue.removeLast()
        runNested(object, raw: server.rawValue)
        return takeQueuedResponse(to: ack, of: starter, as: Message.self)
    }

    /// Spawns a server process, its loop built in place in the process object (a copy would go through its
    /// value witnesses): the one spawn path of `beginStart` and `spawnServer`.
    @inlinable
    func spawnServerProcess<S: GenServer>(
        _ type: S.Type, _ argument: S.Argument, options: SpawnOptions, starter: (pid: PID, ref: Ref)?,
        parent: PID?, monitoredBy watcher: PID?
    ) throws(ProcessError) -> (address: Address<ServerMessage<S>>, monitor: Ref?) {
        let startTime = currentTime
        let spawned = try spawn(options: options, linkedTo: parent, monitoredBy: watcher) { pid, capacity in
            ServerProcess<S>(pid: pid, behavior: ServerLoop<S>(argument: argument, starter: starter, parent: parent,
                                                              startTime: startTime),
                             capacity: capacity)
        }
        return spawned
    }

    /// The start's outcome from the starter's response envelope.
    @inlinable
    func startOutcome<S: GenServer>(_ outcome: Result<StartAck, CallError>, pid: PID, monitor: Ref?)
        -> Result<Started<S>, StartError>
    {
        switch outcome {
        case .success(.ok): return .success(Started(server: ServerRef(pid: pid), monitor: monitor))
        case .success(.ignore): return .failure(.ignored)
        case .failure(.serverExited(_, let reason)): return .failure(.initFailed(reason))
        case .failure: return .failure(.initFailed(.noproc))
        }
    }
}

extension Node {
    /// Spawns a GenServer without waiting for its `initialize` (Erlang's `proc_lib:spawn` of a process that
    /// enters the `gen_server` loop): when this returns, the server process exists and holds its name, and
    /// `initialize` runs in its first turn. If `initialize` fails, the process exits with that reason — seen
    /// by links, monitors and callers (`serverExited`), not by this method. Use it where a start cannot
    /// wait: an attached host's callback, a C host (`otp_register_process`), a job on the running loop.
    /// `start` waits, and reports a failed `initialize` as a `StartError`.
    ///
    /// Thread: loop thread (process code included). Cost: one spawn.
    /// - Throws: `ProcessError` (`nameTaken`, `invalidName`, `invalidCapacity`, `nodeStopped`).
    @inlinable @discardableResult
    public func spawnServer<S: GenServer>(_ type: S.Type, _ argument: S.Argument, options: SpawnOptions = .init())
        throws(ProcessError) -> ServerRef<S>
    {
        ServerRef(pid: try spawnServerProcess(type, argument, options: options, starter: nil, parent: nil,
                                              monitoredBy: nil).address.pid)
    }

    /// `spawnServer(_:_:options:)` for a server whose argument is its initial state.
    @inlinable @discardableResult
    public func spawnServer<S: GenServer>(_ server: S, options: SpawnOptions = .init()) throws(ProcessError)
        -> ServerRef<S> where S.Argument == S
    {
        try spawnServer(S.self, server, options: options)
    }
}

