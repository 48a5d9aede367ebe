/// The call race, decided in one place as `gen.erl`'s `do_call` decides it in one receive: the reply, the
/// server's exit, the caller's deadline or a failure before the request went out — whichever comes first
/// (`RequestEnding`) — ends the request, and whatever comes second finds nothing. Every kind of caller
/// ends its requests here: a process's `call` and `receiveResponse`, a handler's awaited call
/// (`ServerLoop`, `PendingCall`), the supervisor's waits, the start protocol, the async facade (through a
/// request's owner) and the node-wide shutdown. Thread: loop thread only.
extension Node {
    /// Ends request `id`, made by `caller`, as `ending` says — the one place where a call's race is decided
    /// (Erlang's `gen:do_call`): the request's monitor, its queued `DOWN` and any reply left in the caller's
    /// mailbox are removed, the outcome is counted (with metrics on), and the typed result returned:
    /// the reply, `wrongReplyType` for a reply of another type, `noProcess`, `serverExited`, `timeout`, or
    /// the immediate failure. Whatever arrives for the request afterwards finds nothing.
    @inlinable
    func endRequest<R>(_ id: RequestID<R>, of caller: PID, _ ending: RequestEnding) -> Result<R, CallError> {
        switch ending {
        case .reply:
            return endReplied(id, of: caller)
        case .down(.noproc):
            closeRequest(id.ref, of: caller, outcome: .noproc)
            return .failure(.noProcess(id.server))
        case .down(let reason):
            closeRequest(id.ref, of: caller, outcome: .exited)
            return .failure(.serverExited(id.server, reason: reason))
        case .timeout:
            closeRequest(id.ref, of: caller, outcome: .timeout)
            return .failure(.timeout(id.server))
        case .failed(let error):
            if monitors.slot(id.ref) != nil { closeRequest(id.ref, of: caller, outcome: CallOutcome(error)) }
            return .failure(error)
        }
    }

    /// `endRequest(id, of: caller, .reply)`: the reply won the race. The common path of every call, kept
    /// apart so that it builds no `RequestEnding`.
    @inlinable
    func endReplied<R>(_ id: RequestID<R>, of caller: PID) -> Result<R, CallError> {
        guard let slot = monitors.slot(id.ref) else {
            closeRequest(id.ref, of: caller, replyConsumed: true, outcome: .reply)
            return replied(id, .none)
        }
        let taken = monitors.takeReply(from: slot, as: R.self)
        closeReplied(id.ref, in: slot, of: caller)
        return replied(id, taken)
    }

    /// `closeRequest(ref, of: caller, replyConsumed: true, outcome: .reply)` for a request whose monitor
    /// is in `slot` (looked up once, by `endReplied`): counted, and its monitor removed.
    @usableFromInline
    func closeReplied(_ ref: Ref, in slot: Int, of caller: PID) {
        requestEnded(ref, .reply)
        guard monitors[slot].watcher == caller else {
            _ = core(caller)?.flush(ref, replies: true)
            return
        }
        if monitors[slot].siblingRequest && parkSiblingRequest(slot, of: caller) { return }
        removeMonitor(slot)
    }

    /// `endReplied` for a call served at once whose reply was held (`Node.serve(_:_:request:from:)`): it
    /// waits in the spare slot whose reference the request borrowed, and no monitor is to be removed.
    @inlinable
    func endHeld<R>(_ id: RequestID<R>) -> Result<R, CallError> {
        let taken = monitors.takeReply(from: monitors.spare, as: R.self)
        requestEnded(id.ref, .reply)
        monitors.renewSpareRef()
        return replied(id, taken)
    }

    @inlinable
    func replied<R>(_ id: RequestID<R>, _ taken: TakenReply<R>) -> Result<R, CallError> {
        switch taken {
        case .value(let reply): return .success(reply)
        case .wrongType(let got):
            return .failure(.wrongReplyType(id.server, expected: String(describing: R.self), got: got))
        case .none:
            return .failure(.wrongReplyType(id.server, expected: String(describing: R.self), got: "nothing"))
        }
    }

    /// The outcome carried by `envelope` if it is the response to request `id` of `caller`, else `nil`
    /// (Erlang's `check_response`). Ends the request when it is.
    @inlinable
    func response<R>(to id: RequestID<R>, of caller: PID, in envelope: Envelope<some Any>) -> Result<R, CallError>? {
        switch envelope {
        case .reply(let ref) where ref == id.ref: return endReplied(id, of: caller)
        case .down(let down) where down.monitor == id.ref: return endRequest(id, of: caller, .down(down.reason))
        default: return nil
        }
    }

    /// The outcome of request `id` if its response is held for it (`Node.serve(_:_:request:from:)`) or in the
    /// mailbox of `caller` (a process whose messages are `Message`) already — its server ran at once
    /// (`serveNow`) — taken out and the request ended; else
    /// `nil`, and the caller waits for it as usual. Also `nil` once `SchedulerState.nestedContinuations`
    /// continuations run inside each other: the caller then waits, finds the response in the same turn, and
    /// the stack unwinds. Cost: a monitor-slot test when the response is not there; a scan from the
    /// request's receive mark when it is (the response is usually the last message).
    @inlinable
    func takeQueuedResponse<R, Message>(to id: RequestID<R>, of caller: PID, as _: Message.Type)
        -> Result<R, CallError>?
    {
        if scheduler.heldReply == id.ref.rawValue {  // the reply its server gave during `serve` (0 is no reference)
            scheduler.heldReply = 0
            return endHeld(id)
        }
        guard scheduler.nestedContinuations < SchedulerState.continuationDepth else { return nil }
        // A request awaiting its reply whose monitor has not fired has nothing queued.
        if let slot = monitors.slot(id.ref), monitors[slot].awaitingReply { return nil }
        let envelope = table.withMailbox(caller, of: Message.self) { process -> Envelope<Message>? in
            let count = process.mailbox.count
            // Usually the response is the newest message: the server's last act was to reply.
            if count > 0, UnsafePointer(process.mailbox.slot(count &- 1)).pointee.isResponse(to: id.ref) {
                process.received &+= 1
                return process.take(at: count &- 1)
            }
            var index = receiveMark(id.ref, of: process, count: count)
            while index < count && !UnsafePointer(process.mailbox.slot(index)).pointee.isResponse(to: id.ref) {
                index &+= 1
            }
            guard index < count else { return nil }
            process.received &+= 1  // as a receive would count it (the receive marks rely on it)
            return process.take(at: index)
        }
        guard let envelope = envelope ?? nil else { return nil }
        return response(to: id, of: caller, in: envelope)
    }
}
