/// What a process mailbox holds: the process's own typed messages, and the two kinds of system message
/// that Erlang delivers as messages (monitor `DOWN` and trapped exit signals).
///
/// Thread: created and consumed on the loop thread. Cost: moved into and out of the mailbox ring buffer
/// without copying or reference counting when `Message` is trivial.
public enum Envelope<Message> {
    /// A message sent to the process (`send`, `sendAfter`).
    case message(Message)
    /// A monitored process went down (Erlang's `{'DOWN', Ref, process, Pid, Reason}`).
    case down(Down)
    /// A linked process exited, or someone called `exit(_:reason:)` on this process, while it traps exits
    /// (Erlang's `{'EXIT', From, Reason}`).
    case exit(ExitSignal)

    /// The user message, if this is one.
    @inlinable
    public var message: Message? {
        if case .message(let m) = self { return m }
        return nil
    }
}

extension Envelope: Sendable where Message: Sendable {}
extension Envelope: Equatable where Message: Equatable {}

/// A monitor notification: the monitored process `pid` went down with `reason`.
public struct Down: Sendable, Equatable, CustomStringConvertible {
    public let monitor: Ref
    public let pid: PID
    public let reason: ExitReason

    public init(monitor: Ref, pid: PID, reason: ExitReason) {
        self.monitor = monitor
        self.pid = pid
        self.reason = reason
    }

    public var description: String { "{'DOWN', \(monitor), process, \(pid), \(reason)}" }
}

/// An exit signal turned into a message because the receiver traps exits.
public struct ExitSignal: Sendable, Equatable, CustomStringConvertible {
    /// The process that exited (a link) or that called `exit(_:reason:)`; `nil` when the node sent it.
    public let from: PID?
    public let reason: ExitReason

    public init(from: PID?, reason: ExitReason) {
        self.from = from
        self.reason = reason
    }

    public var description: String { "{'EXIT', \(from.map(String.init(describing:)) ?? "node"), \(reason)}" }
}
