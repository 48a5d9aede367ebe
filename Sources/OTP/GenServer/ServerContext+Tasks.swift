/// Async work from a GenServer handler: the handler stays synchronous on the loop; the work runs as a Swift
/// task and its outcome comes back to the server — as an `Info` message for `handleInfo`, or as the reply to
/// a caller the handler left waiting (`.noReply`).
extension ServerContext {
    /// Starts `operation` as a Swift task, off the loop thread; when it ends, `message(result)` arrives in
    /// `handleInfo` as `.message(_)` (Akka's `pipeToSelf`). The task is cancelled when the server exits, and
    /// its result then dropped. Outcomes arrive in the order the tasks end, never inside the turn that
    /// started them.
    ///
    /// Thread: a handler's turn. Cost: one `Task`; its hand-back is one post to the loop's inbox.
    /// - Throws: `ProcessError.tooManyTasks` at the server's limit (`process.limitTasks(to:)`).
    @discardableResult
    public func startTask<T: Sendable>(
        _ operation: @escaping @Sendable () async throws -> T,
        then message: @escaping @Sendable (Result<T, any Error>) -> S.Info
    ) throws(ProcessError) -> TaskRef where S.Info: Sendable {
        let owner = pid
        return try node.startTask(for: owner, Node.mapping(operation, message), handBack: { node, info in node.deliverTaskMessage(ServerMessage<S>.info(info), to: owner) })
    }

    /// Answers `caller` — kept by a `handleCall` that returned `.noReply` — with what `operation` returns,
    /// or with `orElse(error)` when it throws: a call whose answer needs async I/O, without an `Info` case.
    /// The answer is sent from the loop when the task ends, unless the server exited first (the task is
    /// then cancelled, and the caller gets `serverExited`, as for any call to a server that exits).
    ///
    /// Thread: a handler's turn. - Throws: `ProcessError.tooManyTasks` at the server's limit.
    @discardableResult
    public func startTask<R: Sendable>(
        answering caller: Caller<R>, _ operation: @escaping @Sendable () async throws -> R,
        orElse: @escaping @Sendable (any Error) -> R
    ) throws(ProcessError) -> TaskRef {
        try node.startTask(for: pid, {
            do { return try await operation() } catch { return orElse(error) }
        }, handBack: { node, value in node.reply(to: caller, value) })
    }

    /// Cancels a task this server started: its outcome will not arrive. Returns whether it was running.
    @discardableResult
    public func cancelTask(_ task: TaskRef) -> Bool { process.cancelTask(task) }
}
