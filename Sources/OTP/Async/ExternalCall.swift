import Synchronization

#if OTP_TSAN
/// Under ThreadSanitizer (`make test-tsan` builds with `-DOTP_TSAN`) the facade awaits a checked continuation:
/// TSan cannot see the concurrency runtime's hand-off after an unsafe one is resumed on the loop thread and
/// reports it as a race now and then (../shared/reference/toolchain-notes.md); the checked one it follows.
/// The state machine below is the same in both builds.
@usableFromInline typealias ExternalContinuation<Value: Sendable> = CheckedContinuation<Value, any Error>
#else
@usableFromInline typealias ExternalContinuation<Value: Sendable> = UnsafeContinuation<Value, any Error>
#endif

/// One operation awaited by Swift async code outside the loop: the continuation plus a tiny state machine
/// that guarantees exactly one outcome, whichever comes first — the loop's answer, the task's
/// cancellation, or the node's shutdown.
///
/// The continuation may be installed after the outcome is known (cancellation before the operation even
/// started): the outcome is then kept and delivered on installation. No continuation is ever resumed under
/// the lock. Because this state machine resumes exactly once, the continuation is an `UnsafeContinuation`
/// (a checked one costs an extra object per call).
///
/// Thread: every method is thread-safe; the state is guarded by `lockWord`, a spin lock held for a few
/// instructions (an atomic, which ThreadSanitizer understands, and nothing to allocate per call). The
/// fields are `@exclusivity(unchecked)`: the lock, or the loop thread, already makes each access the only one.
@usableFromInline
final class ExternalCall<Value: Sendable>: ExternalWaiter, InboxWork, @unchecked Sendable {
    @usableFromInline let lockWord = Atomic<Bool>(false)
    /// Guarded by `lockWord`. Plain optionals rather than one generic enum: their destruction stays
    /// specialised (a generic enum's value witnesses cost a metadata lookup per call).
    @usableFromInline @exclusivity(unchecked) var continuation: ExternalContinuation<Value>?
    /// The outcome known before the continuation was installed (cancelled first), as a closure that gives
    /// it: a closure's layout does not depend on `Value`, so the object's deinitialiser — compiled once,
    /// unspecialised — destroys it with no generic metadata. Stored as a `Result<Value, any Error>?`, it
    /// made every deallocation look up two metadata records (perf: about 3% of the async calls' time).
    @usableFromInline @exclusivity(unchecked) var outcome: (() -> Result<Value, any Error>)?
    @usableFromInline @exclusivity(unchecked) var finished = false
    /// The loop took the operation (`claim`): cancellation is too late from then on.
    @usableFromInline @exclusivity(unchecked) var claimed = false
    /// The request this call opened on the loop, once registered; its server and requester. Loop thread only.
    @usableFromInline @exclusivity(unchecked) var ref: Ref?
    @usableFromInline @exclusivity(unchecked) var server = PID(node: 0, index: 0, serial: 0)
    @usableFromInline @exclusivity(unchecked) var caller = PID(node: 0, index: 0, serial: 0)
    /// Ends the call when its request ends (`MonitorOwner`). Set where the call is registered, in inlinable
    /// code, so that this closure (which captures nothing: no allocation) is compiled specialised for `Value`
    /// in the caller's module; the conformance below is generic and would run unspecialised, paying a
    /// metadata lookup at every step. Loop thread only.
    @usableFromInline @exclusivity(unchecked) var ended: ((ExternalCall<Value>, Node, Ref, MonitorEvent) -> Void)?
    /// What the loop does to start the call (the call is its own inbox job).
    @usableFromInline @exclusivity(unchecked) var start: ((Node, ExternalCall<Value>) -> Void)?

    @inlinable
    override init() {}

    @usableFromInline
    func run(on node: Node) {
        let start = self.start
        self.start = nil
        start?(node, self)
    }

    @usableFromInline
    func cancel() {
        finish(.failure(CallError.nodeStopped))
    }

    @usableFromInline
    override func fail(_ error: any Error) {
        finish(.failure(error))
    }

    @inlinable
    func lock() {
        while !lockWord.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {}
    }

    @inlinable
    func unlock() {
        lockWord.store(false, ordering: .releasing)
    }

    /// Installs the continuation; resumes it at once if the outcome is already known.
    @inlinable
    func install(_ continuation: ExternalContinuation<Value>) {
        lock()
        if finished, let outcome {
            self.outcome = nil
            unlock()
            continuation.resume(with: outcome())
            return
        }
        self.continuation = continuation
        unlock()
    }

    /// Delivers the outcome; returns `false` when an outcome was delivered before (this one is dropped).
    @inlinable @discardableResult
    func finish(_ result: Result<Value, any Error>) -> Bool {
        lock()
        return settle(result, unless: false)
    }

    /// With the lock held: delivers `result` unless there is an outcome already or `refused`; unlocks.
    @inlinable
    func settle(_ result: Result<Value, any Error>, unless refused: Bool) -> Bool {
        guard !finished, !refused else {
            unlock()
            return false
        }
        finished = true
        guard let continuation = continuation.take() else {
            outcome = { result }
            unlock()
            return true
        }
        unlock()
        continuation.resume(with: result)
        return true
    }

    /// The loop is about to carry the operation out: returns `false` when it already has an outcome
    /// (cancelled, node stopped), and then it must not run. After a `true`, only `finish` ends the call —
    /// `withdraw` (cancellation) no longer can — so the operation has exactly one outcome: it ran and
    /// reports its result, or it did not run.
    @inlinable
    func claim() -> Bool {
        lock()
        defer { unlock() }
        guard !finished else { return false }
        claimed = true
        return true
    }

    /// Finishes with `result` (a cancellation) unless the loop has claimed the operation or it has an
    /// outcome already; returns whether it did.
    @inlinable
    func withdraw(_ result: Result<Value, any Error>) -> Bool {
        lock()
        return settle(result, unless: claimed)
    }

    @inlinable
    var isFinished: Bool {
        lock()
        defer { unlock() }
        return finished
    }
}
