/// The node's stand-in requester for code outside the loop (Swift tasks, other threads): one process that
/// is the caller of every external call.
///
/// No temporary process per call: an external call opens an ordinary request from this process and makes
/// its `ExternalCall` the request's owner (`Node.deliverOutcome(of:to:deadline:)`). The reply, the
/// server's exit or the deadline — whichever comes first — is handed straight to the call object, which
/// ends the request through the call race (`Node.endRequest`) and resumes the awaiting task; nothing goes
/// through this process's mailbox or turn. The deadline is a wheel timer owned by the request, so a call
/// allocates nothing on the loop beyond its table entry (`ExternalCalls`). Cancellation closes the request,
/// so a reply that arrives later is dropped; closing the node fails every entry with
/// `CallError.nodeStopped`.
///
/// Thread: loop thread only.
@usableFromInline
struct ExternalCaller: ProcessBehavior {
    @usableFromInline typealias Message = Never

    /// Nothing reaches this mailbox but a stray `DOWN` of a request that ended at once, which the call
    /// removes itself (`closeRequest` flushes it).
    @usableFromInline
    mutating func receive(_ envelope: consuming Envelope<Message>, _ process: ProcessContext<Message>) throws -> Next {
        .receive
    }
}

extension ExternalCall: MonitorOwner {
    /// The call's request ended: the first of reply, server exit, deadline — or the stand-in requester
    /// exited. Ends the request and resumes the task with the typed outcome (`ended`).
    @usableFromInline
    func monitorEnded(_ ref: Ref, _ event: MonitorEvent, on node: Node) {
        ended?(self, node, ref, event)
    }
}

extension Node {
    /// The external caller's pid, spawned on first use.
    @usableFromInline
    func externalCallerPID() -> PID {
        if let pid = external.caller, isAlive(pid) { return pid }
        let pid = try! spawn(ExternalCaller(), options: SpawnOptions(mailboxCapacity: Int.max)).pid
        markSystem(pid)
        external.caller = pid
        return pid
    }

    /// External calls in flight (for tests and introspection). Loop thread only.
    public var pendingExternalCalls: Int {
        preconditionInLoop()
        return external.count
    }

    /// Opens the request `begin` makes on behalf of the external caller and hands its outcome to `call`.
    /// A call cancelled before it got here is skipped (the call object is its own tombstone).
    @inlinable
    func beginExternal<R: Sendable>(
        _ call: ExternalCall<R>, timeout: Timeout, _ begin: (PID) -> Result<RequestID<R>, CallError>
    ) {
        guard !call.isFinished else { return }
        let milliseconds: UInt64?
        do {
            milliseconds = try timeout.validated()
        } catch {
            guard case .invalidTimeout(let reason) = error else { preconditionFailure("\(error)") }
            call.finish(.failure(CallError.invalidTimeout(reason)))
            return
        }
        let caller = externalCallerPID()
        switch begin(caller) {
        case .failure(let error): call.finish(.failure(error))
        case .success(let id): awaitExternal(call, id, caller: caller, deadline: milliseconds)
        }
    }

    @inlinable
    func awaitExternal<R: Sendable>(_ call: ExternalCall<R>, _ id: RequestID<R>, caller: PID, deadline: UInt64?) {
        call.ref = id.ref
        call.server = id.server
        call.caller = caller
        call.ended = { call, node, ref, event in
            node.external.remove(call)
            call.finish(node.endRequest(RequestID<R>(ref: ref, server: call.server), of: call.caller,
                                        RequestEnding(event)).mapError { $0 })
        }
        if deliverOutcome(of: id.ref, to: call, deadline: deadline) {
            external.add(call)
        } else {
            // The server was gone when the request was opened.
            call.finish(endRequest(id, of: caller, .down(.noproc)).mapError { $0 })
        }
    }

    /// The awaiting task was cancelled: forget the call and close its request, so a late reply is dropped.
    @usableFromInline
    func cancelExternal(_ call: ExternalWaiter, ref: Ref?) {
        guard external.remove(call), let ref, let caller = external.caller else { return }
        closeRequest(ref, of: caller, outcome: .cancelled)
    }

    /// Fails every operation in flight (the node is closing).
    func failExternalCalls() {
        for waiter in external.removeAll() { waiter.fail(CallError.nodeStopped) }
    }
}
