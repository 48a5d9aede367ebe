/// The request/reply protocol under every call, as in Erlang's `gen:call`:
///
/// 1. the caller monitors the server; the monitor's reference is the request tag (`openRequest`);
/// 2. the request travels in the server's own message type, carrying a `Caller` (pid + tag);
/// 3. the server's reply is delivered as `Envelope.reply(tag, value)` — only while the request is still
///    awaiting a reply (`reply(to:_:)`);
/// 4. the caller waits with a selective receive for the reply or the monitor's `DOWN`
///    (`Envelope.isResponse(to:)`), then `closeRequest` removes the monitor and anything it left queued.
///
/// Timeout, reply and server death each end the request, and whichever comes second finds nothing: a
/// late reply is dropped before it reaches the caller's mailbox and counted in
/// `NodeStatistics.ignoredReplies`. When a caller exits, its requests go with its monitors.
extension Node {
    /// Opens a request from `caller` to `server`: a monitor awaiting one reply. A dead server gives an
    /// immediate `DOWN` with `noproc`, which `response(to:in:)` turns into `CallError.noProcess`.
    /// Thread: loop thread only.
    public func openRequest(from caller: PID, to server: PID) -> Ref {
        preconditionInLoop()
        return openMonitor(server, by: caller, awaitingReply: true)
    }

    /// Opens a request from `caller` before its server exists (a start acknowledgement): attach it with
    /// `attachRequest` once the server is spawned.
    @usableFromInline
    func reserveRequest(from caller: PID) -> Ref {
        guard let process = core(caller) else { return monitors.detachedRef() }
        return monitors.insert(watcher: caller, watching: &process.relations.watching, awaitingReply: true)
    }

    @usableFromInline
    func attachRequest(_ ref: Ref, to server: PID) {
        guard let slot = monitors.slot(ref), let target = core(server) else { return }
        monitors.attach(slot, to: server, watchedBy: &target.relations.watchedBy)
    }

    /// Ends request `ref` of `caller`: removes its monitor, its queued `DOWN` and any reply already queued.
    /// `replyConsumed` says the caller has just taken the reply, so nothing of the request can be left in
    /// its mailbox and the mailbox scan is skipped (the common path of every call).
    /// Thread: loop thread only.
    public func closeRequest(_ ref: Ref, of caller: PID, replyConsumed: Bool = false) {
        closeRequest(ref, of: caller, replyConsumed: replyConsumed, outcome: nil)
    }

    /// Ends request `ref` as above; a call's `outcome` is counted (and its duration recorded) when metrics
    /// are on.
    @usableFromInline
    func closeRequest(_ ref: Ref, of caller: PID, replyConsumed: Bool = false, outcome: CallOutcome?) {
        if let outcome, instruments != nil { callEnded(ref, outcome) }
        let awaiting = monitors.slot(ref).map { monitors[$0].awaitingReply }
        let active = demonitor(ref, by: caller, flush: false)
        // A DOWN can be queued only if the monitor already fired; a reply only if one was delivered.
        if !active || (awaiting == false && !replyConsumed) {
            _ = core(caller)?.flush(ref, replies: true)
        }
    }

    /// Replies to `caller`. Delivered only while the request awaits its reply; otherwise (already answered,
    /// timed out, cancelled, caller gone) it is dropped and counted. Returns whether it was delivered.
    /// Thread: loop thread only.
    @discardableResult
    @inlinable
    public func reply<Reply: Sendable>(to caller: Caller<Reply>, _ value: Reply) -> Bool {
        preconditionInLoop()
        return deliverReply(caller.ref, to: caller.pid, value)
    }

    /// Delivers `value` as the reply to request `ref` of `caller`, while the request awaits one.
    @inlinable
    func deliverReply<R: Sendable>(_ ref: Ref, to caller: PID, _ value: R) -> Bool {
        guard let slot = monitors.slot(ref), monitors[slot].watcher == caller, monitors[slot].awaitingReply,
              let object = table.object(for: caller)
        else {
            if caller.isRemote, let distribution, distribution.reply(ref, value) { return true }
            counters.ignoredReplies &+= 1
            return false
        }
        monitors[slot].awaitingReply = false
        monitors.storeReply(value, in: slot)
        if caller == externalCaller {
            // A call from outside the loop: finish it right here, without a trip through the external
            // caller's mailbox and turn.
            completeExternal(ref, with: .reply(ref))
        } else {
            var unused = 0
            _ = Unmanaged<ProcessCore>.fromOpaque(object)._withUnsafeGuaranteedRef { process in
                process.operate(process, self, .pushReply(ref), &unused)
            }
        }
        return true
    }

    /// The outcome carried by `envelope`, the response to request `ref` made by `caller` to `server`
    /// (nil when it is not that response). Closes the request.
    @inlinable
    public func response<Reply>(
        to ref: Ref, of caller: PID, server: PID, in envelope: Envelope<some Any>, as replyType: Reply.Type
    ) -> Result<Reply, CallError>? {
        switch envelope {
        case .reply(let r) where r == ref:
            let taken = monitors.slot(ref).map { monitors.takeReply(from: $0, as: Reply.self) } ?? .none
            closeRequest(ref, of: caller, replyConsumed: true, outcome: .reply)
            switch taken {
            case .value(let reply): return .success(reply)
            case .wrongType(let got):
                return .failure(.wrongReplyType(server, expected: String(describing: Reply.self), got: got))
            case .none:
                return .failure(.wrongReplyType(server, expected: String(describing: Reply.self), got: "nothing"))
            }
        case .down(let down) where down.monitor == ref:
            if case .noproc = down.reason {
                closeRequest(ref, of: caller, outcome: .noproc)
                return .failure(.noProcess(server))
            }
            closeRequest(ref, of: caller, outcome: .exited)
            return .failure(.serverExited(server, reason: down.reason))
        default:
            return nil
        }
    }
}
