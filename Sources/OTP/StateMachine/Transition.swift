/// What a `StateMachine` handler returns: the next state (Erlang's `next_state`), the same one
/// (`keep_state`), the same one entered again (`repeat_state`), or a stop — with actions.
///
/// Changing to a state that is not `==` the current one cancels the state timeout and retries every
/// postponed event; keeping the state does neither. Cost: actions are an array (no allocation when none).
public struct Transition<M: StateMachine> {
    @usableFromInline
    enum Kind {
        case next(M.State)
        case keep
        case `repeat`
        case stop(ExitReason)
    }

    @usableFromInline let kind: Kind
    @usableFromInline let actions: [StateMachineAction<M>]

    @usableFromInline
    init(_ kind: Kind, _ actions: [StateMachineAction<M>]) {
        self.kind = kind
        self.actions = actions
    }

    /// Go to `state` (Erlang's `{next_state, State, Data, Actions}`); the same state keeps it.
    public static func next(_ state: M.State, _ actions: StateMachineAction<M>...) -> Transition {
        Transition(.next(state), actions)
    }

    /// Stay in the state (Erlang's `keep_state_and_data`).
    public static var keep: Transition { Transition(.keep, []) }

    /// Stay in the state, with actions (Erlang's `{keep_state, Data, Actions}`).
    public static func keep(_ actions: StateMachineAction<M>...) -> Transition { Transition(.keep, actions) }

    /// Stay in the state and enter it again: the state enter call runs again (Erlang's `repeat_state`).
    public static var repeatState: Transition { Transition(.repeat, []) }

    /// `repeatState` with actions.
    public static func repeatState(_ actions: StateMachineAction<M>...) -> Transition { Transition(.repeat, actions) }

    /// Stop with `reason` (Erlang's `{stop, Reason}`): `terminate` runs. Reply first with `machine.reply`
    /// for `stop_and_reply`.
    public static func stop(_ reason: ExitReason) -> Transition { Transition(.stop(reason), []) }
}

/// An action of a transition (Erlang's transition actions), carried out in order.
public enum StateMachineAction<M: StateMachine> {
    /// Keep the current event until the state changes; then it is handled again, before newer events.
    /// Not from a state enter call.
    case postpone
    /// Handle `event` next, before any event not yet handled (inserted events keep their order). Not from a
    /// state enter call.
    case nextEvent(StateMachineEvent<M>)
    /// Answer a call.
    case reply(Caller<M.Reply>, M.Reply)
    /// Deliver `.eventTimeout(content)` if no event arrives within `time` (any event cancels it; zero fires
    /// only when no event is waiting). `.infinity` sets none.
    case eventTimeout(Timeout, M.TimeoutEvent)
    /// Deliver `.stateTimeout(content)` after `time` unless the state changes first; set again, it
    /// restarts. `.infinity` cancels it.
    case stateTimeout(Timeout, M.TimeoutEvent)
    /// Cancel the state timeout.
    case cancelStateTimeout
    /// Deliver `.timeout(name:content)` after `time` (Erlang's generic `{timeout, Name}`): neither events nor
    /// state changes cancel it; set again, it restarts. `.infinity` cancels it.
    case timeout(String, Timeout, M.TimeoutEvent)
    /// Cancel the generic timeout `name`.
    case cancelTimeout(String)
    /// Release the mailbox buffer until the next event (as `Action.hibernate`).
    case hibernate
}
