/// The code of a process: a value that consumes the next matching message and says what happens next.
///
/// This is the scheduler's whole view of a process (no coroutine, task or thread behind it): a mailbox plus
/// this continuation. The scheduler calls `start` once, then `receive` for each message that `accepts`
/// lets through, and `timeout` when a wait with a time limit elapses. Each call returns a `Next`: wait for
/// the next message (optionally with a timeout), or exit with a reason. State lives in the value itself;
/// a behaviour is free to change `accepts` between messages to implement a selective receive (messages it
/// does not accept stay queued in order and are offered again to the next wait).
///
/// Thread: every method runs on the node's loop thread. Cost: the scheduler calls these methods through
/// generic specialisation, without boxing the value or allocating per message.
/// Errors: a method that throws makes the process exit with `.error(thrownError)`.
public protocol ProcessBehavior {
    associatedtype Message

    /// Runs once when the process is first scheduled.
    mutating func start(_ process: ProcessContext<Message>) throws -> Next

    /// Consumes one message that `accepts` let through.
    mutating func receive(_ envelope: consuming Envelope<Message>, _ process: ProcessContext<Message>) throws -> Next

    /// Whether the current wait takes `envelope` (the pattern of Erlang's `receive`). The default takes all.
    func accepts(_ envelope: borrowing Envelope<Message>) -> Bool

    /// Runs when a wait returned as `.receive(timeout:)` elapsed with no matching message.
    /// The default exits with `.custom("receive timeout")`.
    mutating func timeout(_ process: ProcessContext<Message>) throws -> Next

    /// The reference of the request or monitor whose response — its reply or its `DOWN` — the current
    /// wait takes and nothing else, or `nil` (the default). With it, the scan starts after the messages
    /// that were queued when the reference was made, which cannot be its response (Erlang's receive
    /// marker): a call from a process with a long mailbox costs the same as from an empty one. A wrong
    /// answer is harmless only if the wait truly takes nothing else. GenServer awaits, `call`,
    /// `receiveResponse` and `startServer` set it.
    var awaitedReference: Ref? { get }
}

extension ProcessBehavior {
    public mutating func start(_ process: ProcessContext<Message>) throws -> Next { .receive }
    @inline(__always)
    public func accepts(_ envelope: borrowing Envelope<Message>) -> Bool { true }
    public mutating func timeout(_ process: ProcessContext<Message>) throws -> Next {
        .exit(.custom("receive timeout"))
    }
    @inline(__always)
    public var awaitedReference: Ref? { nil }
}

/// What a process does after a callback: wait again, or exit.
public enum Next: Sendable, Equatable {
    /// Wait for the next matching message, without a time limit.
    case receive
    /// Wait for the next matching message; call `timeout` when none arrives in time.
    /// `Timeout.zero` polls: `timeout` runs at once when no queued message matches.
    case receiveWithin(Timeout)
    /// Exit with the reason: links and monitors are told, the name is released.
    case exit(ExitReason)

    /// Wait for the next matching message for at most `timeout`.
    @inlinable
    public static func receive(timeout: Timeout) -> Next {
        timeout.isInfinite ? .receive : .receiveWithin(timeout)
    }
}

// MARK: Timeouts as a Swift `Duration` (rounded up to whole milliseconds; disfavoured, so a literal
// such as `.seconds(2)` stays a `Timeout`)

extension Next {
    /// Wait for the next matching message for at most `timeout`.
    @inlinable @_disfavoredOverload
    public static func receive(timeout: Duration) -> Next {
        receive(timeout: Timeout(timeout))
    }
}
