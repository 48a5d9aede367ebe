/// The node's stand-in caller for code outside the loop (Swift tasks, other threads): one process that is
/// the requester of every external call, plus the table of calls in flight.
///
/// No temporary process per call: an external call opens an ordinary request from this process (so
/// replies, server deaths and late replies follow the in-loop call protocol exactly), and the request's
/// monitor slot holds the waiting `ExternalCall` (no table, no hashing). The call's timeout is a wheel timer keyed by the
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
    /// How an external call ends on the loop.
    @usableFromInline
    enum Ending {
        /// Its response arrived (a reply or the server's DOWN).
        case response(Envelope<Never>)
        /// Its timer fired.
        case timeout
        /// The node is closing.
        case failure(CallError)
    }

    @usableFromInline var timer: TimerRef?
    /// Finishes the call.
    @usableFromInline let finish: (Node, Ending) -> Void

    @usableFromInline
    init(timer: TimerRef?, finish: @escaping (Node, Ending) -> Void) {
        self.timer = timer
        self.finish = finish
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
        return externalCallCount
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
        registerExternal(id.ref, PendingExternalCall(timer: timer) { node, ending in
            switch ending {
            case .response(let envelope):
                if let result = node.response(to: id.ref, of: caller, server: id.server, in: envelope, as: R.self) {
                    call.finish(result.mapError { $0 })
                }
            case .timeout:
                node.closeRequest(id.ref, of: caller, outcome: .timeout)
                call.finish(.failure(CallError.timeout(id.server)))
            case .failure(let error):
                call.finish(.failure(error))
            }
        })
        call.ref = id.ref
    }

    @usableFromInline
    func registerExternal(_ ref: Ref, _ pending: PendingExternalCall) {
        // Every external request is opened to a live process, so its monitor has a slot.
        guard let slot = monitors.slot(ref) else { preconditionFailure("external call \(ref) without a request slot") }
        monitors.storeExternal(pending, in: slot)
        externalCallCount += 1
    }

    /// Takes the waiting external call of request `ref` out of its monitor slot.
    private func takeExternal(_ ref: Ref) -> PendingExternalCall? {
        guard let slot = monitors.slot(ref), let pending = monitors.takeExternal(from: slot) else { return nil }
        externalCallCount -= 1
        return pending
    }

    /// The response (or timeout, for `nil`) of an external call arrived.
    @usableFromInline
    func completeExternal(_ ref: Ref, with envelope: Envelope<ExternalCaller.Message>?) {
        guard let pending = takeExternal(ref) else { return }
        guard let envelope else {
            pending.finish(self, .timeout)
            return
        }
        if let timer = pending.timer { cancelExternalTimer(timer) }
        pending.finish(self, .response(envelope))
    }

    /// The awaiting task was cancelled: forget the call and close its request, so a late reply is dropped.
    @usableFromInline
    func cancelExternal(_ ref: Ref?) {
        guard let ref, let pending = takeExternal(ref) else { return }
        if let timer = pending.timer { cancelExternalTimer(timer) }
        if let caller = externalCaller { closeRequest(ref, of: caller, outcome: .cancelled) }
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
        let pending = monitors.takeAllExternals()
        externalCallCount = 0
        for call in pending { call.finish(self, .failure(.nodeStopped)) }
    }
}
