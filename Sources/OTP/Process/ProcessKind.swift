/// What kind of process it is, as snapshots and the view show it: the process layer's own answer is
/// `process`; a GenServer's process (`ServerProcess`) says `server` or `supervisor`.
public enum ProcessKind: String, Sendable, Equatable {
    /// A plain process (a `ProcessBehavior` or a closure).
    case process
    /// A GenServer.
    case server
    /// A supervisor (`Supervisor`, `DynamicSupervisor`).
    case supervisor
    /// A process the runtime runs for itself: the async facade's stand-in caller, a helper of a blocking or
    /// async start or call, a shutdown sequence. `otp-top` hides them unless asked.
    case system
}
