/// The node's stand-in caller for code outside the loop (Swift tasks, other threads): one process that is
/// the requester of every external call, plus the table of calls in flight.
///
/// No temporary process per call: an external call opens an ordinary request from this process (so
/// replies, server deaths and late replies follow the in-loop call protocol exactly), and the table maps
/// the request's reference to the waiting `ExternalCall`. The call's timeout is a timer message to this
/// process. Cancellation removes the entry and closes the request, so a reply that arrives later is
/// dropped; closing the node fails every entry with `CallError.nodeStopped`.
///
/// Thread: loop thread only.
struct ExternalCaller: ProcessBehavior {
    enum Message: Sendable {
        /// The timeout of the external call with this request reference.
        case timeout(Ref)
    }

    mutating func receive(_ envelope: consuming Envelope<Message>, _ process: ProcessContext<Message>) throws -> Next {
        let node = process.currentNode
        switch consume envelope {
        case .reply(let ref): node.completeExternal(ref, with: .reply(ref))
        case .down(let down): node.completeExternal(down.monitor, with: .down(down))
        case .message(.timeout(let ref)): node.completeExternal(ref, with: nil)
        case .exit: break
        }
        return .receive
    }
}

/// An external call in flight, as the loop sees it.
struct PendingExternalCall {
    var timer: TimerRef?
    /// Finishes the call from the response envelope, or as a timeout when `nil`.
    let complete: (Node, Envelope<ExternalCaller.Message>?) -> Void
    /// Fails the call (node shutdown).
    let fail: (CallError) -> Void
}

extension Node {
    /// The external caller's pid, spawned on first use.
    func externalCallerPID() -> PID {
        if let pid = externalCaller, isAlive(pid) { return pid }
        let pid = try! spawn(ExternalCaller(), options: SpawnOptions(mailboxCapacity: Int.max)).pid
        externalCaller = pid
        return pid
    }

    /// External calls in flight (for tests and introspection). Loop thread only.
    public var pendingExternalCalls: Int {
        preconditionInLoop()
        return externalCalls.count
    }

    /// Opens the request `begin` makes on behalf of the external caller and registers `call` for its
    /// outcome. A call cancelled before it got here is skipped (the call object is its own tombstone).
    func beginExternal<R: Sendable>(
        _ call: ExternalCall<R>, timeout: Timeout, _ begin: (PID) -> Result<RequestID<R>, CallError>
    ) {
        guard !call.isFinished else { return }
        let milliseconds: UInt64?
        do {
            milliseconds = try timeout.validated()
        } catch {
            call.finish(.failure(error))
            return
        }
        let caller = externalCallerPID()
        let id: RequestID<R>
        switch begin(caller) {
        case .failure(let error):
            call.finish(.failure(error))
            return
        case .success(let value):
            id = value
        }
        var timer: TimerRef?
        if let milliseconds {
            timer = try? sendAfter(.milliseconds(Int64(clamping: milliseconds)), ExternalCaller.Message.timeout(id.ref),
                                   to: Address<ExternalCaller.Message>(unchecked: caller))
        }
        externalCalls[id.ref] = PendingExternalCall(timer: timer, complete: { node, envelope in
            if let envelope, let result = node.response(to: id.ref, of: caller, server: id.server, in: envelope,
                                                        as: R.self) {
                call.finish(result.mapError { $0 })
            } else {
                node.closeRequest(id.ref, of: caller)
                call.finish(.failure(CallError.timeout(id.server)))
            }
        }, fail: { error in call.finish(.failure(error)) })
        call.ref = id.ref
    }

    /// The response (or timeout, for `nil`) of an external call arrived.
    func completeExternal(_ ref: Ref, with envelope: Envelope<ExternalCaller.Message>?) {
        guard let pending = externalCalls.removeValue(forKey: ref) else { return }
        if envelope != nil, let timer = pending.timer { cancelTimer(timer) }
        pending.complete(self, envelope)
    }

    /// The awaiting task was cancelled: forget the call and close its request, so a late reply is dropped.
    func cancelExternal(_ ref: Ref?) {
        guard let ref, let pending = externalCalls.removeValue(forKey: ref) else { return }
        if let timer = pending.timer { cancelTimer(timer) }
        if let caller = externalCaller { closeRequest(ref, of: caller) }
    }

    /// Fails every external call in flight (the node is closing).
    func failExternalCalls() {
        let pending = externalCalls
        externalCalls = [:]
        for (_, call) in pending { call.fail(.nodeStopped) }
    }
}
