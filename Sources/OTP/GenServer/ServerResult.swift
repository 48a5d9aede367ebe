/// What a GenServer handler asks for next.
public enum ServerResult<S: GenServer> {
    /// Reply to the current call, then take the action. Only valid while handling a call.
    case reply(S.Reply, Action<S>)
    /// Do not reply now (a cast, an info, or a call answered later), then take the action.
    case noReply(Action<S>)
    /// Stop: `terminate` runs, then `reply` (if any) goes to the current caller, then the server exits.
    /// Without a reply, a caller waiting on the current call gets `CallError.serverExited` with `reason`.
    case stop(ExitReason, reply: S.Reply?)
    /// Wait for the reply of a call this handler made (`ServerContext.call`), handling nothing else
    /// meanwhile, then continue with the call's continuation.
    case await(PendingCall<S>)

    public static func reply(_ value: S.Reply) -> ServerResult { .reply(value, .none) }
    public static var noReply: ServerResult { .noReply(.none) }
    public static func stop(_ reason: ExitReason) -> ServerResult { .stop(reason, reply: nil) }
}

/// What a server does after a handler, before it waits for the next message.
public enum Action<S: GenServer> {
    case none
    /// Deliver `InfoMessage.timeout` when no message arrives within this time (cancelled by any message).
    case timeout(Timeout)
    /// Run `handleContinue(value)` before the next message.
    case `continue`(S.Continue)
    /// Release the mailbox buffer (when empty) until the next message arrives.
    case hibernate
}

/// What `GenServer.initialize` decides.
public enum Initialization<S: GenServer> {
    /// Run with this state, then take the action.
    case ok(S, Action<S>)
    /// Do not start: `start` fails with `StartError.initFailed(reason)`; no process or name remains.
    case stop(ExitReason)
    /// Do not start, quietly: `start` fails with `StartError.ignored`.
    case ignore
    /// Wait for a call's reply first (`ServerContext.call(_:_:timeout:then:)` with an init continuation).
    case await(PendingCall<S>)

    public static func ok(_ state: S) -> Initialization { .ok(state, .none) }
}

/// Messages that reach `handleInfo`.
public enum InfoMessage<Info> {
    /// A plain message of the server's `Info` type (sent to it directly, or by a timer).
    case message(Info)
    /// A monitored process went down.
    case down(Down)
    /// A linked process exited, or an exit signal arrived, while the server traps exits.
    case exit(ExitSignal)
    /// No message arrived within the idle timeout of `Action.timeout`.
    case timeout
    /// A response to a `sendRequest` the server made; match it with `ServerContext.check(_:for:)`.
    case reply(Ref)
}
