/// Async work started from process code: a Swift task per piece of work, off the loop, whose outcome is
/// handed back to the loop as one inbox job (Akka's `pipeToSelf`, Elixir's `Task.Supervisor.async_nolink`
/// with the result in `handle_info`).
///
/// A process keeps its running tasks (in its extras); the hand-back delivers the outcome only while the
/// task is still its own, so a cancelled task's late result is dropped. When the process exits, each of its
/// tasks is cancelled (Swift cooperative cancellation: `Task.isCancelled`, a cancellable `await` throws).
///
/// Thread: loop thread, but for the task's own work, which runs on Swift's global executor and touches no
/// loop state. Cost: starting one is a `Task` and a dictionary insertion; its hand-back is one post to the
/// loop's inbox (a lock and at most one `uv_async_send` per loop iteration).
extension Node {
    /// Starts `work` for `owner`; `handBack` runs on the loop with the work's outcome, if the task is still
    /// `owner`'s then.
    /// - Throws: `noProcess` when `owner` is not alive here, `tooManyTasks` at its limit.
    func startTask<Outcome: Sendable>(
        for owner: PID, _ work: @escaping @Sendable () async -> Outcome,
        handBack: @escaping @Sendable (Node, Outcome) -> Void
    ) throws(ProcessError) -> TaskRef {
        guard let process = core(owner), process.status != .stopping else { throw .noProcess(owner) }
        let extras = process.relations
        let limit = extras.taskLimit ?? configuration.maximumTasksPerProcess
        guard extras.tasks.count < limit else { throw .tooManyTasks(owner, limit: limit) }
        taskSerial &+= 1
        let ref = TaskRef(owner: owner, id: taskSerial)
        // With tracing, the work runs in the starting handler's trace context and its outcome comes back in it.
        let trace = traces ? outgoingTrace ?? tracing?.currentContext() : nil
        let handle = Task.detached { [self] in
            let outcome: Outcome
            if let tracing, let trace { outcome = await tracing.withContext(trace, work) } else { outcome = await work() }
            // A closed node runs no job: the outcome goes with it, as its process did.
            execute { node in
                guard node.endTask(ref) else { return node.counters.droppedTaskResults &+= 1 }
                node.sending(with: trace) { handBack(node, outcome) }
            }
        }
        extras.tasks[ref.id] = handle
        return ref
    }

    /// The work of a task whose outcome, value or error, becomes `message(result)` on the task itself.
    static func mapping<T, M>(_ operation: @escaping @Sendable () async throws -> T,
                              _ message: @escaping @Sendable (Result<T, any Error>) -> M) -> @Sendable () async -> M {
        { do { return message(.success(try await operation())) } catch { return message(.failure(error)) } }
    }

    /// Whether `ref` was still running for its owner; it is not any more.
    func endTask(_ ref: TaskRef) -> Bool {
        core(ref.owner)?.extras?.tasks.removeValue(forKey: ref.id) != nil
    }

    /// Cancels `ref` if it is still running for `owner`: its outcome will not be handed back. Returns
    /// whether it was running.
    func cancelTask(_ ref: TaskRef, of owner: PID) -> Bool {
        guard ref.owner == owner, let task = core(owner)?.extras?.tasks.removeValue(forKey: ref.id) else {
            return false
        }
        task.cancel()
        return true
    }

    /// Delivers a task's message to its owner, past the mailbox bound: the process asked for it (as for a
    /// reply), and its task limit bounds how many can be outstanding.
    func deliverTaskMessage<M>(_ message: M, to owner: PID) {
        table.withMailbox(owner, of: M.self) { process in
            // Past the mailbox bound, as a reply: the process asked for it.
            process.mailbox.forcePush(.message(message))
            if process.tracesMessages { traceQueued(process) }
            process.wake(self)
        }
    }
}

/// A value crossing from a task to the loop that is not `Sendable` by type but is by construction (made on
/// the task, used only on the loop after the hand-back).
struct TaskOutcome<Value>: @unchecked Sendable {
    var value: Value
}
