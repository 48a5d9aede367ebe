/// A process that owns Swift tasks for others (Elixir's `Task.Supervisor` with `async_nolink`): a process
/// starts work *under* it (`ProcessContext.startTask(under:_:then:)`), the outcome comes back to that
/// process as a message, and the task belongs to the supervisor — it outlives the process that started it,
/// it counts against the supervisor's bound (`maximumTasks`), and it is cancelled when the supervisor stops
/// (its place in a supervision tree decides when: `ChildSpec.taskSupervisor`).
///
/// Thread: loop thread. Errors: `ProcessError.tooManyTasks` naming the supervisor at its bound.
public struct TaskSupervisor: GenServer, Sendable {
    public typealias Argument = Int

    /// The most tasks it runs at once.
    public let maximumTasks: Int

    public static func initialize(_ maximumTasks: Int, _ server: ServerContext<TaskSupervisor>) throws
        -> Initialization<TaskSupervisor>
    {
        guard maximumTasks > 0 else { return .stop(.error(ProcessError.invalidCapacity(maximumTasks))) }
        server.process.limitTasks(to: maximumTasks)
        return .ok(TaskSupervisor(maximumTasks: maximumTasks))
    }
}

extension ProcessContext where Message: Sendable {
    /// Starts `operation` as a task owned by `supervisor` (a `TaskSupervisor` of this loop); when it ends,
    /// `message(result)` arrives in this process's mailbox, if this process is still alive. The task goes on
    /// if this process exits first; it is cancelled when the supervisor exits.
    ///
    /// Thread: this process's turn. Cost: as `startTask(_:then:)`.
    /// - Throws: `ProcessError.tooManyTasks(supervisor, limit:)` at its bound; `noProcess(supervisor)` when
    ///   it is not a live process of this loop; `wrongMessageType` when it is no `TaskSupervisor`.
    @discardableResult
    public func startTask<T: Sendable>(
        under supervisor: ServerRef<TaskSupervisor>, _ operation: @escaping @Sendable () async throws -> T,
        then message: @escaping @Sendable (Result<T, any Error>) -> Message
    ) throws(ProcessError) -> TaskRef {
        let owner: PID
        do throws(CallError) { owner = try node.resolve(supervisor).pid } catch {
            switch error {
            case .unknownName(let name): throw .unknownName(name)
            case .wrongServerType(let pid, let expected, let got):
                throw .wrongMessageType(pid, expected: expected, accepted: got)
            case .noProcess(let pid): throw .noProcess(pid)
            default: throw .unknownName(supervisor.description)  // resolve throws none other
            }
        }
        return try startTask(ownedBy: owner, operation, then: message)
    }
}

extension ChildSpec {
    /// A `TaskSupervisor` child running at most `maximumTasks` tasks at once; its shutdown cancels them.
    public static func taskSupervisor(_ id: String, name: String? = nil, maximumTasks: Int = 1_024,
                                      shutdown: ShutdownPolicy = .timeout(.seconds(5))) -> ChildSpec {
        .server(id, TaskSupervisor.self, maximumTasks, name: name, shutdown: shutdown)
    }
}
