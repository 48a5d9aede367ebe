/// One event a `StateMachine` handles (Erlang's event types: `{call, From}`, `cast`, `info`, `timeout`,
/// `state_timeout`, `{timeout, Name}`, `internal`, and the state enter call).
public enum StateMachineEvent<M: StateMachine> {
    /// A call; answer it with `StateMachineAction.reply` or `machine.reply(to:_:)`, now or later.
    case call(M.Call, Caller<M.Reply>)
    case cast(M.Cast)
    /// A plain message, a monitor's `DOWN`, a trapped `EXIT`, a `sendRequest` response.
    case info(InfoMessage<M.Info>)
    /// The machine entered its state (from `from`; the same state for the first one, and for
    /// `repeatState`). Only with `StateMachine.enterCalls`.
    case enter(from: M.State)
    /// The event timeout fired: no event arrived within its time.
    case eventTimeout(M.TimeoutEvent)
    /// The state timeout fired: the machine stayed in the state it was set in for its time.
    case stateTimeout(M.TimeoutEvent)
    /// The generic timeout of this name fired.
    case timeout(name: String, M.TimeoutEvent)
    /// An event the machine inserted (`StateMachineAction.nextEvent(.internal(_))`).
    case `internal`(M.Internal)
}

extension StateMachineEvent: CustomStringConvertible {
    public var description: String {
        switch self {
        case .call(let request, let caller): return "call \(request) from \(caller)"
        case .cast(let message): return "cast \(message)"
        case .info(let message): return "info \(message)"
        case .enter(let from): return "enter from \(from)"
        case .eventTimeout(let content): return "event timeout \(content)"
        case .stateTimeout(let content): return "state timeout \(content)"
        case .timeout(let name, let content): return "timeout \(name) \(content)"
        case .internal(let content): return "internal \(content)"
        }
    }
}
