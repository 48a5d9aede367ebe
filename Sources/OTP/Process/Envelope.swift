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
    /// `{Ref, Reply}`). The value itself waits in the request's slot of the node's monitor table until the
    /// caller takes it (`ProcessContext.check(_:for:)`), so that an envelope of a plain message never
    /// carries an existential. Only replies to requests still pending are delivered: a reply that arrives
    /// after the request timed out or was cancelled is dropped before it reaches the mailbox.
    case reply(Ref)

    /// The user message, if this is one.
    @inlinable
    public var message: Message? {
        if case .message(let m) = self { return m }
        return nil
    }
}

extension Envelope: Sendable where Message: Sendable {}

extension Envelope: Equatable where Message: Equatable {
}

extension Envelope {
    /// Whether this is the response to request `ref`: its reply, or the `DOWN` of its monitor.
    @inlinable
    public func isResponse(to ref: Ref) -> Bool {
        switch self {
        case .reply(let r): return r == ref
        case .down(let down): return down.monitor == ref
        default: return false
        }
    }
}

/// A monitor notification: the monitored process `pid` went down with `reason`.
///
/// An immutable object rather than a struct, so that an `Envelope` stays small (one pointer for this
/// rare case): a mailbox slot of a plain message then costs 16 bytes instead of 64.
public final class Down: Sendable, Equatable, CustomStringConvertible {
    public let monitor: Ref
    public let pid: PID
    public let reason: ExitReason

    public init(monitor: Ref, pid: PID, reason: ExitReason) {
        self.monitor = monitor
        self.pid = pid
        self.reason = reason
    }

    public var description: String { "{'DOWN', \(monitor), process, \(pid), \(reason)}" }

    public static func == (lhs: Down, rhs: Down) -> Bool {
        lhs.monitor == rhs.monitor && lhs.pid == rhs.pid && lhs.reason == rhs.reason
    }
}

/// An exit signal turned into a message because the receiver traps exits. An immutable object, like `Down`.
public final class ExitSignal: Sendable, Equatable, CustomStringConvertible {
    /// The process that exited (a link) or that called `exit(_:reason:)`; `nil` when the node sent it.
    public let from: PID?
    public let reason: ExitReason

    public init(from: PID?, reason: ExitReason) {
        self.from = from
        self.reason = reason
    }

    public var description: String { "{'EXIT', \(from.map(String.init(describing:)) ?? "node"), \(reason)}" }

    public static func == (lhs: ExitSignal, rhs: ExitSignal) -> Bool {
        lhs.from == rhs.from && lhs.reason == rhs.reason
    }
}
