/// A state machine with the semantics of Erlang's `gen_statem` (its `handle_event_function` mode): typed
/// states and events, state enter calls, event, state and named timeouts, postponed and inserted events,
/// replies from any event — and everything a GenServer has (calls, casts, `sys`, supervision, names,
/// registry keys), because it runs as one (`StateMachineServer`).
///
/// The conforming type is the machine's *data*; `State` is its state, kept by the runtime and passed to
/// each handler. One handler, `handleEvent`, gets every event — a call, a cast, an info message, a timeout,
/// an inserted event, or (with `enterCalls`) the entry into a state — and returns a `Transition`: the next
/// state (or the same), with `StateMachineAction`s: reply, postpone, insert an event, set or cancel a
/// timeout, hibernate.
///
/// Thread: handlers run on the loop thread, synchronously, as a GenServer's do.
/// Errors: a handler that throws crashes the machine (as a GenServer's); a state enter call that changes
/// the state, postpones or inserts an event exits it with an error naming the state (Erlang's
/// `bad_state_enter_return` / `bad_state_enter_action`).
public protocol StateMachine: SendableMetatype {
    associatedtype State: Equatable
    associatedtype Argument
    associatedtype Call = Never
    associatedtype Reply: Sendable = Never
    associatedtype Cast = Never
    associatedtype Info = Never
    /// Events the machine inserts itself (`StateMachineAction.nextEvent(.internal(_))`).
    associatedtype Internal = Never
    /// What a timeout delivers when it fires (Erlang's timeout content).
    associatedtype TimeoutEvent = Void

    /// Whether the machine gets `.enter(from:)` each time it enters a state (and for its first state, with
    /// `from` the same state): Erlang's `state_enter`. Default: `false`.
    static var enterCalls: Bool { get }

    /// The first data, state and actions (timeouts, inserted events). `start` returns after this.
    static func initialize(_ argument: Argument, _ machine: MachineContext<Self>) throws -> MachineStart<Self>

    /// Handles one event in `state`.
    mutating func handleEvent(_ event: StateMachineEvent<Self>, in state: State, _ machine: MachineContext<Self>)
        throws -> Transition<Self>

    /// Runs when the machine stops (as `GenServer.terminate`).
    mutating func terminate(_ reason: ExitReason, in state: State, _ machine: MachineContext<Self>) throws

    /// How crash reports and `sys` show the machine. Default: its state and data.
    func formatStatus(in state: State) -> String
}

extension StateMachine {
    public static var enterCalls: Bool { false }
    public mutating func terminate(_ reason: ExitReason, in state: State, _ machine: MachineContext<Self>) throws {}
    public func formatStatus(in state: State) -> String { "state: \(state), data: \(self)" }
}

/// What `StateMachine.initialize` decides.
public enum MachineStart<M: StateMachine> {
    /// Start with this data, in this state, carrying out `actions` (timeouts, inserted events; no postpone).
    case ok(M, M.State, [StateMachineAction<M>])
    /// Do not start: `start` fails with this reason.
    case stop(ExitReason)
    /// Do not start, without an error (`StartError.ignored`).
    case ignore

    /// Start with this data in this state.
    public static func ok(_ data: M, _ state: M.State) -> MachineStart { .ok(data, state, []) }
}
