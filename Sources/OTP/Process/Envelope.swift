/// What a process mailbox holds: the process's own typed messages, the two kinds of system message that
/// Erlang delivers as messages (monitor `DOWN` and trapped exit signals), and replies to this process's
/// requests (`call`, `sendRequest`).
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
    /// The reply to a request this process made, tagged with the request's reference (Erlang's
    /// `{Ref, Reply}`). Only replies to requests still pending are delivered: a reply that arrives after the
    /// request timed out or was cancelled is dropped before it reaches the mailbox.
    case reply(Ref, any Sendable)

    /// The user message, if this is one.
    @inlinable
    public var message: Message? {
        if case .message(let m) = self { return m }
        return nil
    }
}

extension Envelope: Sendable where Message: Sendable {}

extension Envelope: Equatable where Message: Equatable {
    /// Replies compare by reference and by the reply's description.
    public static func == (lhs: Envelope, rhs: Envelope) -> Bool {
        switch (lhs, rhs) {
        case (.message(let a), .message(let b)): return a == b
        case (.down(let a), .down(let b)): return a == b
        case (.exit(let a), .exit(let b)): return a == b
        case (.reply(let r1, let v1), .reply(let r2, let v2)):
            return r1 == r2 && String(describing: v1) == String(describing: v2)
        default: return false
        }
    }
}

extension Envelope {
    /// Whether this is the response to request `ref`: its reply, or the `DOWN` of its monitor.
    @inlinable
    public func isResponse(to ref: Ref) -> Bool {
        switch self {
        case .reply(let r, _): return r == ref
        case .down(let down): return down.monitor == ref
        default: return false
        }
    }
}

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
