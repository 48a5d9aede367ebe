/// A reference to a running `StateMachine`: the GenServer it runs as. Call, cast, stop, monitor and
/// inspect it as any server (`node.call(lock, .button(1))`).
public typealias StateMachineRef<M: StateMachine> = ServerRef<StateMachineServer<M>>

/// Starting state machines: each is a GenServer start of its `StateMachineServer` (same options, errors
/// and guarantees: `initialize` has run when the start returns).
extension Node {
    /// Starts `type` from node code, outside processes (`Node.start`). Thread: the loop thread.
    /// - Throws: `StartError`.
    @available(*, noasync, message: "drives the loop; from async code use the async overload")
    public func startMachine<M: StateMachine>(_ type: M.Type, _ argument: M.Argument,
                                              options: StartOptions = StartOptions()) throws(StartError)
        -> StateMachineRef<M>
    {
        try start(StateMachineServer<M>.self, argument, options: options)
    }

    /// Starts `type` from async code (`Node.start`). - Throws: `StartError`.
    public func startMachine<M: StateMachine>(_ type: M.Type, _ argument: M.Argument,
                                              options: StartOptions = StartOptions()) async throws(StartError)
        -> StateMachineRef<M> where M.Argument: Sendable
    {
        try await start(StateMachineServer<M>.self, argument, options: options)
    }
}

extension ProcessContext {
    /// Starts `type` from process code (`startServer`), then runs `then` with the outcome.
    public func startMachine<M: StateMachine>(
        _ type: M.Type, _ argument: M.Argument, options: StartOptions = StartOptions(),
        then: @escaping (Result<Started<StateMachineServer<M>>, StartError>, ProcessContext<Message>) throws
            -> Step<Message>
    ) throws -> Step<Message> {
        try startServer(StateMachineServer<M>.self, argument, options: options, then: then)
    }
}

extension ChildSpec {
    /// A `StateMachine` child: `initialize(argument)` runs on every (re)start; supervised as a GenServer
    /// child (`server(_:_:_:…)`), with the same options.
    public static func stateMachine<M: StateMachine>(
        _ id: String, _ type: M.Type, _ argument: M.Argument, name: String? = nil, via: ViaName? = nil,
        restart: RestartType = .permanent, shutdown: ShutdownPolicy = .timeout(.seconds(5)),
        trapExits: Bool = false, startTimeout: Timeout = .infinity
    ) -> ChildSpec where M.Argument: Sendable {
        .server(id, StateMachineServer<M>.self, argument, name: name, via: via, restart: restart, shutdown: shutdown,
                trapExits: trapExits, startTimeout: startTimeout)
    }
}
