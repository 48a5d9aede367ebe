/// Process code written as closures, Erlang style: each step says how to receive the next message.
///
/// ```swift
/// let echo = try node.spawn(of: String.self) { process in
///     .receive { envelope, process in
///         print(envelope.message ?? "")
///         return .same          // keep this receive for the next message
///     }
/// }
/// ```
///
/// A `Receive` is the continuation of a closure-based process: an optional pattern (`matching`, for a
/// selective receive), an optional `timeout` with its `after` branch, and the body that consumes the
/// message. Returning `.same` keeps the current receive (no allocation); returning a new `Receive` replaces
/// it (one closure allocation when it captures state). For allocation-free hot loops with state, write a
/// `ProcessBehavior` struct instead.
public struct Receive<Message> {
    public typealias Body = (Envelope<Message>, ProcessContext<Message>) throws -> Step<Message>

    @usableFromInline let pattern: ((borrowing Envelope<Message>) -> Bool)?
    @usableFromInline let timeout: Timeout
    @usableFromInline let after: ((ProcessContext<Message>) throws -> Step<Message>)?
    @usableFromInline let body: Body
    /// The raw reference whose response this receive takes, and nothing else; 0 for none (no reference is
    /// 0). Raw rather than optional: 8 bytes less in every closure process (`ProcessBehavior.awaitedReference`).
    @usableFromInline var awaited: UInt64 = 0

    /// - Parameters:
    ///   - matching: which messages this receive takes; the others stay queued, in order.
    ///   - timeout: how long to wait for a matching message; `.zero` polls.
    ///   - after: what to do when the timeout elapses (default: exit with `.custom("receive timeout")`).
    ///   - body: consumes a matching message.
    public init(
        matching: ((borrowing Envelope<Message>) -> Bool)? = nil,
        timeout: Timeout = .infinity,
        after: ((ProcessContext<Message>) throws -> Step<Message>)? = nil,
        _ body: @escaping Body
    ) {
        self.pattern = matching
        self.timeout = timeout
        self.after = after
        self.body = body
    }

    /// A receive of the response to `ref` (its reply or its `DOWN`) and nothing else: its scan starts at
    /// the reference's receive mark.
    @inlinable
    init(response ref: Ref, timeout: Timeout, after: ((ProcessContext<Message>) throws -> Step<Message>)?,
         _ body: @escaping Body) {
        self.init(matching: { $0.isResponse(to: ref) }, timeout: timeout, after: after, body)
        awaited = ref.rawValue
    }
}

/// What a closure-based process does next.
public enum Step<Message> {
    /// Wait with a new receive.
    case receive(Receive<Message>)
    /// Wait again with the current receive.
    case same
    /// Exit with the reason.
    case exit(ExitReason)

    /// Wait for any message (or those `matching`), optionally with a timeout.
    public static func receive(
        matching: ((borrowing Envelope<Message>) -> Bool)? = nil,
        timeout: Timeout = .infinity,
        after: ((ProcessContext<Message>) throws -> Step<Message>)? = nil,
        _ body: @escaping Receive<Message>.Body
    ) -> Step<Message> {
        .receive(Receive(matching: matching, timeout: timeout, after: after, body))
    }
}

/// The `ProcessBehavior` behind closure-based processes.
@usableFromInline
struct ClosureBehavior<Message>: ProcessBehavior {
    @usableFromInline let initial: (ProcessContext<Message>) throws -> Step<Message>
    @usableFromInline var current: Receive<Message>?

    @usableFromInline
    init(_ initial: @escaping (ProcessContext<Message>) throws -> Step<Message>) {
        self.initial = initial
    }

    @usableFromInline
    mutating func start(_ process: ProcessContext<Message>) throws -> Next {
        try apply(initial(process))
    }

    @usableFromInline
    mutating func receive(_ envelope: consuming Envelope<Message>, _ process: ProcessContext<Message>) throws -> Next {
        try apply(current!.body(envelope, process))
    }

    @usableFromInline
    var awaitedReference: Ref? {
        guard let raw = current?.awaited, raw != 0 else { return nil }
        return Ref(rawValue: raw)
    }

    @usableFromInline
    func accepts(_ envelope: borrowing Envelope<Message>) -> Bool {
        guard let pattern = current?.pattern else { return true }
        return pattern(envelope)
    }

    @usableFromInline
    mutating func timeout(_ process: ProcessContext<Message>) throws -> Next {
        guard let after = current?.after else { return .exit(.custom("receive timeout")) }
        return try apply(after(process))
    }

    private mutating func apply(_ step: Step<Message>) -> Next {
        switch step {
        case .receive(let receive):
            current = receive
            return .receive(timeout: receive.timeout)
        case .same:
            guard let current else { return .exit(.custom("Step.same returned before any receive")) }
            return .receive(timeout: current.timeout)
        case .exit(let reason):
            return .exit(reason)
        }
    }
}
