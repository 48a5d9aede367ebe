#if canImport(Glibc)
import Glibc
#endif

/// The node's cross-thread entry point: a multi-producer queue of jobs, drained on the loop thread.
///
/// Any thread may `post`; the loop drains the whole queue in one go (`drain`). Only the post that finds the
/// queue empty wakes the loop (`uv_async_send`): every later one is taken by the same drain, which has not
/// happened yet. The lock is a `pthread_mutex_t` of glibc's adaptive kind (it spins briefly before sleeping:
/// it is held for a few instructions), which ThreadSanitizer understands (it reports false races on
/// `Synchronization.Mutex`). Jobs never run under the lock. The drained buffer is the next queue, so posting does
/// not allocate once the queue has grown to its working size.
///
/// Thread: `post`, `nudge`, `setWake` and `isEmpty` are thread-safe; `drain` and `close` are the loop
/// thread's. `jobs`, `closed` and `wake` are guarded by `mutex`; `spare` is the loop thread's.
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
    /// An empty buffer with capacity, which `drain` puts in the taken queue's place. Loop thread only.
    private var spare: [Job] = []
    private var closed = false
    /// Wakes the loop (`uv_async_send`); nil on the manual clock. Called under the lock, so it never races
    /// with the handle being closed.
    private var wake: (() -> Void)?

    init() {
        mutex = .allocate(capacity: 1)
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_ADAPTIVE_NP))
        pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
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

    /// Sets the loop's wake-up, and calls it when jobs are queued already (their post found no wake-up to
    /// call, and a post finding the queue non-empty does not wake).
    func setWake(_ wake: (() -> Void)?) {
        withLock {
            self.wake = wake
            if !jobs.isEmpty { wake?() }
        }
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
            if jobs.count == 1 { wake?() }
            return true
        }
    }

    /// Runs every queued job, outside the lock, in the order they were posted. Jobs posted meanwhile wait
    /// for the next drain. The drained buffer, emptied, becomes the next one's — unless a burst made it
    /// larger than `recycledCapacity` jobs: that memory is given back. Loop thread only.
    func drain(_ run: (Job) -> Void) {
        var taken: [Job] = []
        swap(&taken, &spare)
        withLock { swap(&taken, &jobs) }
        for index in taken.indices { run(taken[index]) }
        guard taken.capacity <= Inbox.recycledCapacity else { return }
        taken.removeAll(keepingCapacity: true)
        spare = taken
    }

    /// The largest buffer `drain` keeps, in jobs (a few words each).
    static let recycledCapacity = 4096

    /// The capacity of the buffer the next drain will take (for tests). Loop thread only.
    var spareCapacity: Int { spare.capacity }

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
