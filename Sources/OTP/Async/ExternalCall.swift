import Synchronization

/// One operation awaited by Swift async code outside the loop: the continuation plus a tiny state machine
/// that guarantees exactly one outcome, whichever comes first — the loop's answer, the task's
/// cancellation, or the node's shutdown.
///
/// The continuation may be installed after the outcome is known (cancellation before the operation even
/// started): the outcome is then kept and delivered on installation. No continuation is ever resumed under
/// the lock.
///
/// Thread: every method is thread-safe; `state` is guarded by `lockWord`, a spin lock held for a few
/// instructions (an atomic, which ThreadSanitizer understands, and nothing to allocate per call).
@usableFromInline
final class ExternalCall<Value: Sendable>: @unchecked Sendable {
    @usableFromInline
    enum State {
        case waiting(CheckedContinuation<Value, any Error>?)
        case finished(Result<Value, any Error>?)
    }

    @usableFromInline let lockWord = Atomic<Bool>(false)
    @usableFromInline var state = State.waiting(nil)
    /// The request this call opened on the loop, once registered. Loop thread only.
    @usableFromInline var ref: Ref?

    @usableFromInline
    init() {}

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
    func install(_ continuation: CheckedContinuation<Value, any Error>) {
        lock()
        switch state {
        case .waiting:
            state = .waiting(continuation)
            unlock()
        case .finished(let result):
            state = .finished(nil)
            unlock()
            continuation.resume(with: result!)
        }
    }

    /// Delivers the outcome; returns `false` when an outcome was delivered before (this one is dropped).
    @inlinable @discardableResult
    func finish(_ result: Result<Value, any Error>) -> Bool {
        lock()
        guard case .waiting(let continuation) = state else {
            unlock()
            return false
        }
        if let continuation {
            state = .finished(nil)
            unlock()
            continuation.resume(with: result)
        } else {
            state = .finished(result)
            unlock()
        }
        return true
    }

    @inlinable
    var isFinished: Bool {
        lock()
        defer { unlock() }
        if case .finished = state { return true }
        return false
    }
}
