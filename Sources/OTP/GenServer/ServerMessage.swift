/// The mailbox message type of a GenServer process: the protocol envelope around the server's own types.
/// Built by the GenServer API; users send `Info` messages with `Node.send(_:to:)` on a `ServerRef`.
public enum ServerMessage<S: GenServer> {
    case call(S.Call, Caller<S.Reply>)
    case cast(S.Cast)
    case info(S.Info)
    /// Introspection and control (Erlang's `sys` messages), answered even while the server is suspended.
    case system(SystemRequest<S>, Caller<SystemReply<S>>)
}

/// A `sys` request to a server.
public enum SystemRequest<S: GenServer> {
    case getState
    case replaceState((S) throws -> S)
    case suspend
    case resume
    case statistics
    case trace(Bool)
    case stop(ExitReason)
}

/// The answer to a `SystemRequest`. It crosses no thread (both ends run on the loop), hence the unchecked
/// `Sendable`.
public enum SystemReply<S: GenServer>: @unchecked Sendable {
    case ok
    case state(S)
    case failed(any Error)
    case statistics(ServerStatistics)
}

/// Counters of one server (Erlang's `sys:statistics`).
public struct ServerStatistics: Sendable, Equatable {
    /// Node time (ms) when the server started.
    public var startTime: UInt64
    /// Messages handled: calls, casts, infos, system requests.
    public var messagesIn: UInt64 = 0
    /// Replies sent.
    public var repliesOut: UInt64 = 0
    public var calls: UInt64 = 0
    public var casts: UInt64 = 0
    public var infos: UInt64 = 0

    @usableFromInline
    init(startTime: UInt64) { self.startTime = startTime }
}

/// How a server acknowledges its start to the process that started it. A failed `initialize` sends no
/// acknowledgement: the server exits with the reason, which the start request's monitor reports (its
/// `DOWN`), so the acknowledgement stays plain data — stored inline in the request, taken without a cast.
@usableFromInline
enum StartAck: Sendable {
    case ok
    case ignore
}
