/// How a request ended: the first of the runners in the call race (Erlang's `gen:do_call` receive).
///
/// Whichever comes first — the reply, the server's exit, the caller's deadline, or a failure before the
/// request went out — ends the request (`Node.endRequest`); whatever comes second finds nothing.
@usableFromInline
enum RequestEnding {
    /// The reply was delivered (it waits in the request's slot).
    case reply
    /// The server exited first (`noproc`: it was not alive when the request was opened).
    case down(ExitReason)
    /// The caller's deadline passed first.
    case timeout
    /// The request never went out (unknown name, calling self, full mailbox, ...), or its requester is gone.
    case failed(CallError)

    /// The ending that `envelope` brings to request `ref`, or `nil` when it is not that request's response.
    @inlinable
    init?<M>(_ envelope: Envelope<M>, of ref: Ref) {
        switch envelope {
        case .reply(let r) where r == ref: self = .reply
        case .down(let down) where down.monitor == ref: self = .down(down.reason)
        default: return nil
        }
    }

    /// The ending an owned request's first event brings (`MonitorOwner`).
    @inlinable
    init(_ event: MonitorEvent) {
        switch event {
        case .replied: self = .reply
        case .down(let reason): self = .down(reason)
        case .deadline: self = .timeout
        case .watcherExited: self = .failed(.nodeStopped)
        }
    }
}
