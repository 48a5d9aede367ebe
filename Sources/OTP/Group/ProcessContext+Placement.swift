/// Placing processes on other loops of the group, from process code. A spawn or start on another loop is
/// asynchronous, as Erlang's `spawn_request` and `proc_lib:start` are underneath: the process waits in a
/// receive for the answer (its other messages stay queued), then `then` runs with the outcome. On the
/// process's own loop both run at once.
extension ProcessContext {
    /// Spawns `behavior` on `loop` (a loop of this process's group: `NodeGroup.loop(forKey:)`,
    /// `leastLoaded()`, ...), linked to this process with `link`, and runs `then` with its address or
    /// the spawn's error (`nameTaken`, `invalidCapacity`, `notInGroup`, ...).
    ///
    /// Thread: process code. Cost on another loop: one channel item each way; the behaviour is moved there
    /// (boxed when larger than 64 bytes).
    public func spawn<B: ProcessBehavior & Sendable>(
        _ behavior: B, on loop: Node, options: SpawnOptions = .init(), link: Bool = false,
        then: @escaping (Result<Address<B.Message>, ProcessError>, ProcessContext<Message>) throws -> Step<Message>
    ) throws -> Step<Message> {
        try spawn(on: loop, link: link, then: then) { node, parent throws(ProcessError) in
            try node.spawn(behavior, options: options, linkedTo: parent).address.pid
        }
    }

    /// `spawn(_:on:options:link:then:)` for a closure process (its code must be `@Sendable`: it runs on
    /// the other loop's thread).
    public func spawn<M>(
        of type: M.Type = M.self, on loop: Node, options: SpawnOptions = .init(), link: Bool = false,
        _ body: @escaping @Sendable (ProcessContext<M>) throws -> Step<M>,
        then: @escaping (Result<Address<M>, ProcessError>, ProcessContext<Message>) throws -> Step<Message>
    ) throws -> Step<Message> {
        try spawn(on: loop, link: link, then: then) { node, parent throws(ProcessError) in
            try node.spawn(ClosureBehavior(body), options: options, linkedTo: parent).address.pid
        }
    }

    /// The shared part of both spawns: `make` spawns on the node it is given (linked to `parent`).
    private func spawn<M>(
        on loop: Node, link: Bool,
        then: @escaping (Result<Address<M>, ProcessError>, ProcessContext<Message>) throws -> Step<Message>,
        make: @escaping @Sendable (Node, PID?) throws(ProcessError) -> PID
    ) throws -> Step<Message> {
        let parent = link ? pid : nil
        if loop === node {
            return try then(Result { () throws(ProcessError) in Address(unchecked: try make(node, parent)) }, self)
        }
        let order = SpawnOrder { node in Result { () throws(ProcessError) in try make(node, parent) } }
        return try awaitSpawn(node.requestSpawn(on: loop, by: pid, order)) { outcome, process in
            try then(outcome.map { Address(unchecked: $0) }, process)
        }
    }

    /// Starts a GenServer on `loop` (`startServer` there): runs `then` once its `initialize` has decided,
    /// or `options.timeout` has passed (the server is then killed). `options.link` links it to this
    /// process; `options.monitor` monitors it once it is started.
    ///
    /// Thread: process code. - Throws: what `then` throws.
    public func startServer<S: GenServer>(
        _ type: S.Type, _ argument: S.Argument, on loop: Node, options: StartOptions = StartOptions(),
        then: @escaping (Result<Started<S>, StartError>, ProcessContext<Message>) throws -> Step<Message>
    ) throws -> Step<Message> where S.Argument: Sendable {
        if loop === node { return try startServer(type, argument, options: options, then: then) }
        let starter = pid
        let request: Result<RequestID<Node.SpawnOutcome>, ProcessError>
        let ack: Ref
        switch node.beginStart(type, argument, on: loop, options: options, starter: starter) {
        case .failure(let error): return try then(.failure(error), self)
        case .success(let started): (request, ack) = (.success(started.spawn), started.ack)
        }
        return try awaitSpawn(request) { outcome, process in
            let node = process.node
            let pid: PID
            switch outcome {
            case .success(let started): pid = started
            case .failure(let error):
                node.closeRequest(ack, of: starter)
                return try then(.failure(Node.startError(error)), process)
            }
            node.attachSiblingRequest(ack, to: pid)
            let monitor = options.monitor ? node.monitor(pid, by: starter) : nil
            return process.awaitStart(pid, ack: RequestID(ref: ack, server: pid), monitor: monitor,
                                      timeout: options.timeout, then: then)
        }
    }

    /// Waits for the answer to a spawn request (no timeout: a loop of the group always answers).
    private func awaitSpawn(
        _ request: Result<RequestID<Node.SpawnOutcome>, ProcessError>,
        then: @escaping (Node.SpawnOutcome, ProcessContext<Message>) throws -> Step<Message>
    ) throws -> Step<Message> {
        let id: RequestID<Node.SpawnOutcome>
        switch request {
        case .failure(let error): return try then(.failure(error), self)
        case .success(let value): id = value
        }
        return .receive(Receive(response: id.ref, timeout: .infinity) { envelope, process in
            try then(process.node.spawnOutcome(id, of: process.pid, in: envelope), process)
        })
    }
}
