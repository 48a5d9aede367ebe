/// A Swift task started by a process (`ProcessContext.startTask`, `ServerContext.startTask`): async work off
/// the loop whose result comes back to its process as a message. Cancel it with `cancelTask(_:)`.
///
/// Thread: a plain value, `Sendable`. Unique per loop.
public struct TaskRef: Hashable, Sendable, CustomStringConvertible {
    /// The process that started it and gets its result.
    public let owner: PID
    let id: UInt64

    init(owner: PID, id: UInt64) {
        self.owner = owner
        self.id = id
    }

    public var description: String { "#Task<\(owner).\(id)>" }
}
