#if canImport(Glibc)
import Glibc
#endif

/// The node's cross-thread entry point: a multi-producer queue of jobs, drained on the loop thread.
///
/// Any thread may `post`; the loop drains the whole queue in one go (`take`) because `uv_async_send`
/// coalesces: several posts before the loop wakes give one callback. The lock is a plain
/// `pthread_mutex_t`, which ThreadSanitizer understands (it reports false races on `Synchronization.Mutex`).
/// Jobs never run under the lock.
///
/// Thread: every method is thread-safe; `jobs`, `closed` and `wake` are guarded by `mutex`.
final class Inbox: @unchecked Sendable {
    /// A job: a closure pair, or an object that is its own job (an external call: no closure to allocate).
    struct Job {
        private enum Kind {
            case closure(run: @Sendable (Node) -> Void, cancel: (@Sendable () -> Void)?)
            case work(any InboxWork)
        }

        private let kind: Kind

        init(run: @escaping @Sendable (Node) -> Void, cancel: (@Sendable () -> Void)?) {
            kind = .closure(run: run, cancel: cancel)
        }

        init(_ work: any InboxWork) {
            kind = .work(work)
        }

        /// Runs on the loop thread.
        func run(_ node: Node) {
            switch kind {
            case .closure(let run, _): run(node)
            case .work(let work): work.run(on: node)
            }
        }

        /// Runs instead of `run` when the node closes before the job could run.
        func cancel() {
            switch kind {
            case .closure(_, let cancel): cancel?()
            case .work(let work): work.cancel()
            }
        }
    }

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var jobs: [Job] = []
    private var closed = false
    /// Wakes the loop (`uv_async_send`); nil on the manual clock. Called under the lock, so it never races
    /// with the handle being closed.
    private var wake: (() -> Void)?

    init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    func setWake(_ wake: (() -> Void)?) {
        withLock { self.wake = wake }
    }

    /// Wakes the loop without a job (another loop of its group queued items for it: `Node.drainTransit`
    /// runs with the inbox). No-op once the node is closed.
    func nudge() {
        withLock {
            guard !closed else { return }
            wake?()
        }
    }

    /// Queues `job` and wakes the loop. Returns `false` when the node is closed (the job is not queued).
    func post(_ job: Job) -> Bool {
        withLock {
            guard !closed else { return false }
            jobs.append(job)
            wake?()
            return true
        }
    }

    /// Takes every queued job.
    func take() -> [Job] {
        withLock {
            let taken = jobs
            jobs = []
            return taken
        }
    }

    var isEmpty: Bool { withLock { jobs.isEmpty } }

    /// Refuses further jobs and returns those still queued.
    func close() -> [Job] {
        withLock {
            closed = true
            wake = nil
            let taken = jobs
            jobs = []
            return taken
        }
    }
}

/// An object that is its own inbox job.
@usableFromInline
protocol InboxWork: AnyObject, Sendable {
    /// Runs on the loop thread.
    func run(on node: Node)
    /// Runs instead when the node closes before the job could run.
    func cancel()
}
