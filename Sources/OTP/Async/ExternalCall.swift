#if canImport(Glibc)
import Glibc
#endif

/// One operation awaited by Swift async code outside the loop: the continuation plus a tiny state machine
/// that guarantees exactly one outcome, whichever comes first — the loop's answer, the task's
/// cancellation, or the node's shutdown.
///
/// The continuation may be installed after the outcome is known (cancellation before the operation even
/// started): the outcome is then kept and delivered on installation. No continuation is ever resumed under
/// the lock.
///
/// Thread: every method is thread-safe; `state` is guarded by `mutex`.
@usableFromInline
final class ExternalCall<Value: Sendable>: @unchecked Sendable {
    @usableFromInline
    enum State {
        case waiting(CheckedContinuation<Value, any Error>?)
        case finished(Result<Value, any Error>?)
    }

    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>
    @usableFromInline var state = State.waiting(nil)
    /// The request this call opened on the loop, once registered. Loop thread only.
    @usableFromInline var ref: Ref?

    @usableFromInline
    init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Installs the continuation; resumes it at once if the outcome is already known.
    @inlinable
    func install(_ continuation: CheckedContinuation<Value, any Error>) {
        pthread_mutex_lock(mutex)
        switch state {
        case .waiting:
            state = .waiting(continuation)
            pthread_mutex_unlock(mutex)
        case .finished(let result):
            state = .finished(nil)
            pthread_mutex_unlock(mutex)
            continuation.resume(with: result!)
        }
    }

    /// Delivers the outcome; returns `false` when an outcome was delivered before (this one is dropped).
    @inlinable @discardableResult
    func finish(_ result: Result<Value, any Error>) -> Bool {
        pthread_mutex_lock(mutex)
        guard case .waiting(let continuation) = state else {
            pthread_mutex_unlock(mutex)
            return false
        }
        if let continuation {
            state = .finished(nil)
            pthread_mutex_unlock(mutex)
            continuation.resume(with: result)
        } else {
            state = .finished(result)
            pthread_mutex_unlock(mutex)
        }
        return true
    }

    @inlinable
    var isFinished: Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if case .finished = state { return true }
        return false
    }
}
