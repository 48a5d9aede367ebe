/// Async work from a process: start a Swift task, get its outcome back as a message.
extension ProcessContext where Message: Sendable {
    /// Starts `operation` as a Swift task, off the loop thread; when it ends, `message(result)` — the value,
    /// or the error it threw — arrives in this process's mailbox like any message (past the mailbox bound:
    /// the process asked for it). The task is cancelled when this process exits, and its result is then
    /// dropped; `message` runs on the task, so nothing but the delivery runs on the loop.
    ///
    /// Outcomes arrive in the order the tasks end; one never arrives inside the turn that started it.
    ///
    /// Thread: this process's turn. Cost: one `Task`; its hand-back is one post to the loop's inbox.
    /// - Throws: `ProcessError.tooManyTasks` when this process runs `limitTasks(to:)`'s number (by default
    ///   `NodeConfiguration.maximumTasksPerProcess`) of tasks already.
    @discardableResult
    public func startTask<T: Sendable>(
        _ operation: @escaping @Sendable () async throws -> T,
        then message: @escaping @Sendable (Result<T, any Error>) -> Message
    ) throws(ProcessError) -> TaskRef {
        try startTask(ownedBy: pid, operation, then: message)
    }

    /// Starts a task owned by `owner` (this process, or a `TaskSupervisor`) whose outcome comes back to this
    /// process as `message(result)`.
    func startTask<T: Sendable>(
        ownedBy owner: PID, _ operation: @escaping @Sendable () async throws -> T,
        then message: @escaping @Sendable (Result<T, any Error>) -> Message
    ) throws(ProcessError) -> TaskRef {
        let requester = pid
        return try node.startTask(for: owner, Node.mapping(operation, message),
                                  handBack: { node, outcome in node.deliverTaskMessage(outcome, to: requester) })
    }
}

extension ProcessContext {
    /// Cancels a task this process started: its outcome will not arrive. Returns whether it was still
    /// running (`false` once its outcome was delivered, or for a task of another process).
    @discardableResult
    public func cancelTask(_ task: TaskRef) -> Bool { node.cancelTask(task, of: pid) }

    /// At most `limit` tasks of this process at once; `startTask` refuses more (`tooManyTasks`). Default:
    /// `NodeConfiguration.maximumTasksPerProcess`.
    public func limitTasks(to limit: Int) {
        node.core(pid)?.relations.taskLimit = max(limit, 0)
    }

    /// How many tasks of this process are running (started, outcome not yet delivered).
    public var runningTasks: Int { node.core(pid)?.extras?.tasks.count ?? 0 }
}
