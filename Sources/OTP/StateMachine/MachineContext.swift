/// What a `StateMachine` handler sees: its identity, replies, and the GenServer context it runs in (calls to
/// other servers, `sendAfter`, links, monitors).
///
/// Thread: loop thread only; valid during the handler it was given to.
public struct MachineContext<M: StateMachine> {
    /// The GenServer context of the machine's process.
    public let server: ServerContext<StateMachineServer<M>>

    @inlinable
    init(_ server: ServerContext<StateMachineServer<M>>) { self.server = server }

    @inlinable public var pid: PID { server.pid }
    /// A reference to this machine.
    @inlinable public var ref: ServerRef<StateMachineServer<M>> { server.ref }
    /// The node. Loop-thread use only.
    @inlinable public var node: Node { server.node }
    /// The machine's process: links, monitors, exit signals, names, raw sends, tasks.
    @inlinable public var process: ProcessContext<ServerMessage<StateMachineServer<M>>> { server.process }

    /// Replies to a caller (kept from a `.call` event, postponed or not). Returns whether it was delivered.
    @inlinable @discardableResult
    public func reply<R: Sendable>(to caller: Caller<R>, _ value: R) -> Bool { server.reply(to: caller, value) }
}
