/// The node's stand-in caller for code outside the loop (Swift tasks, other threads): one process that is
/// the requester of every external call, plus the table of calls in flight.
///
/// No temporary process per call: an external call opens an ordinary request from this process (so
/// replies, server deaths and late replies follow the in-loop call protocol exactly), and the table maps
/// the request's reference to the waiting `ExternalCall`. The call's timeout is a wheel timer keyed by the
/// request (`TimerWheel.Kind.externalCall`), so a call allocates nothing on the loop beyond its table
/// entry. Cancellation removes the entry and closes the request, so a reply that arrives later is dropped;
/// closing the node fails every entry with `CallError.nodeStopped`.
///
/// Thread: loop thread only.
@usableFromInline
struct ExternalCaller: ProcessBehavior {
    @usableFromInline typealias Message = Never

    @usableFromInline
    mutating func receive(_ envelope: consuming Envelope<Message>, _ process: ProcessContext<Message>) throws -> Next {
        let node = process.currentNode
        switch consume envelope {
        case .reply(let ref): node.completeExternal(ref, with: .reply(ref))
        case .down(let down): node.completeExternal(down.monitor, with: .down(down))
        case .exit: break
        }
        return .receive
    }
}

/// An external call in flight, as the loop sees it.
@usableFromInline
struct PendingExternalCall {
    @usableFromInline var timer: TimerRef?
    /// Finishes the call from the response envelope, or as a timeout when `nil`.
    @usableFromInline let complete: (Node, Envelope<ExternalCaller.Message>?) -> Void
    /// Fails the call (node shutdown).
    @usableFromInline let fail: (CallError) -> Void

    @usableFromInline
    init(timer: TimerRef?, complete: @escaping (Node, Envelope<ExternalCaller.Message>?) -> Void,
         fail: @escaping (CallError) -> Void) {
        self.timer = timer
        self.complete = complete
        self.fail = fail
    }
}

extension Node {
    /// The external caller's pid, spawned on first use.
    @usableFromInline
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
    @inlinable
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
        // The timeout is a plain wheel timer keyed by the request: no allocation, no message.
        let timer = milliseconds.map { armExternalTimeout(after: $0, for: id.ref) }
        registerExternal(id.ref, PendingExternalCall(timer: timer, complete: { node, envelope in
            if let envelope, let result = node.response(to: id.ref, of: caller, server: id.server, in: envelope,
                                                        as: R.self) {
                call.finish(result.mapError { $0 })
            } else {
                node.closeRequest(id.ref, of: caller)
                call.finish(.failure(CallError.timeout(id.server)))
            }
        }, fail: { error in call.finish(.failure(error)) }))
        call.ref = id.ref
    }

    @usableFromInline
    func registerExternal(_ ref: Ref, _ pending: PendingExternalCall) {
        externalCalls[ref] = pending
    }

    /// The response (or timeout, for `nil`) of an external call arrived.
    func completeExternal(_ ref: Ref, with envelope: Envelope<ExternalCaller.Message>?) {
        guard let pending = externalCalls.removeValue(forKey: ref) else { return }
        if envelope != nil, let timer = pending.timer { cancelExternalTimer(timer) }
        pending.complete(self, envelope)
    }

    /// The awaiting task was cancelled: forget the call and close its request, so a late reply is dropped.
    @usableFromInline
    func cancelExternal(_ ref: Ref?) {
        guard let ref, let pending = externalCalls.removeValue(forKey: ref) else { return }
        if let timer = pending.timer { cancelExternalTimer(timer) }
        if let caller = externalCaller { closeRequest(ref, of: caller) }
    }

    @usableFromInline
    func armExternalTimeout(after milliseconds: UInt64, for ref: Ref) -> TimerRef {
        armTimer(after: milliseconds, kind: .externalCall, target: ref.rawValue, payload: nil)
    }

    private func cancelExternalTimer(_ timer: TimerRef) {
        _ = wheel.cancel(timer)
        if wheel.count == 0 { uv?.timerIdle() }
    }

    /// Fails every external call in flight (the node is closing).
    func failExternalCalls() {
        let pending = externalCalls
        externalCalls = [:]
        for (_, call) in pending { call.fail(.nodeStopped) }
    }
}
