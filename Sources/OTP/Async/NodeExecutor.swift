/// A Swift executor that runs jobs on a node's loop thread (embedding mode 4).
///
/// An actor whose `unownedExecutor` is this executor runs on the loop, as does a task created with
/// `Task(executorPreference: node.executor)`; such code may call the loop-thread API directly, without
/// thread hops. Process code can enter such an actor's isolation with `assumeIsolated`, because
/// `checkIsolated` compares the current thread with the loop thread.
///
/// Jobs travel through the node's inbox (a mutex and a `uv_async_send` per job; libuv coalesces the
/// wake-ups, so jobs enqueued before the loop wakes run in one callback), so enqueueing is
/// thread-safe; on the manual clock they run in `runUntilIdle()`. A job enqueued after the node closed is
/// dropped (its task never resumes), so close a node only after the work bound to its executor has finished.
///
/// Thread: `enqueue` is thread-safe; `node` is set once, at the node's initialisation.
public final class NodeExecutor: SerialExecutor, TaskExecutor, @unchecked Sendable {
    unowned(unsafe) var node: Node!

    init() {}

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        _ = node.execute { node in
            job.runSynchronously(isolatedTo: node.executor.asUnownedSerialExecutor(),
                                 taskExecutor: node.executor.asUnownedTaskExecutor())
        }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    public func asUnownedTaskExecutor() -> UnownedTaskExecutor {
        UnownedTaskExecutor(ordinary: self)
    }

    public func checkIsolated() {
        precondition(node.inLoopThread, "expected to run on the node's loop thread")
    }

    public func isIsolatingCurrentContext() -> Bool? {
        node.inLoopThread
    }
}
