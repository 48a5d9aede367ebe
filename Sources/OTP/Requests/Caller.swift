/// Who is waiting for a reply, and to which request: the `From` of Erlang's `handle_call`.
///
/// A server may reply at once (by returning `.reply`) or keep the caller and reply later, from any process,
/// after any number of other messages (`Node.reply(to:_:)`). Replying to a caller that has gone away or
/// has timed out is a no-op; a second reply to the same request is ignored and counted
/// (`NodeStatistics.ignoredReplies`).
///
/// Thread: a plain value, `Sendable`; replying is loop-thread only.
public struct Caller<Reply>: Hashable, Sendable, CustomStringConvertible {
    /// The calling process.
    public let pid: PID
    /// The request's reference (also the monitor the caller holds on the server).
    public let ref: Ref

    @usableFromInline
    init(pid: PID, ref: Ref) {
        self.pid = pid
        self.ref = ref
    }

    public var description: String { "{\(pid), \(ref)}" }
}

/// A request sent with `sendRequest`, whose reply arrives later as a message (Erlang's request id).
/// Match responses with `Envelope.isResponse(to:)` or `check`, or wait for one with `receiveResponse`.
public struct RequestID<Reply>: Hashable, Sendable, CustomStringConvertible {
    public let ref: Ref
    /// The server the request went to.
    public let server: PID

    @usableFromInline
    init(ref: Ref, server: PID) {
        self.ref = ref
        self.server = server
    }

    public var description: String { "request \(ref) to \(server)" }
}
