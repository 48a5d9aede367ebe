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
    /// The body takes the envelope over (`consuming`): the body, which knows the message's case, ends it,
    /// instead of the scheduler testing every case after the call (about 16 instructions a message). A
    /// closure literal or a function taking a plain `Envelope` fits as before.
    public typealias Body = (consuming Envelope<Message>, ProcessContext<Message>) throws -> Step<Message>

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
    /// the reference's receive mark, and its test is the reference itself (no pattern closure).
    /// `respond` handles both ends of the wait — the response, or `Receive.timedOut` when `timeout` elapses —
    /// so a call's wait costs one closure context, not three.
    @inlinable
    init(response ref: Ref, timeout: Timeout, _ respond: @escaping Body) {
        self.init(matching: nil, timeout: timeout, after: nil, respond)
        awaited = ref.rawValue
    }

    /// The receive taken apart, its closures moved out.
    @inlinable
    consuming func parts() -> (((borrowing Envelope<Message>) -> Bool)?, Timeout,
                               ((ProcessContext<Message>) throws -> Step<Message>)?, Body, UInt64) {
        (pattern, timeout, after, body, awaited)
    }

    /// What a response receive's body is given when its timeout elapses: a reply to reference 0, which no
    /// request has, so it can never be a real envelope.
    @inlinable
    static var timedOut: Envelope<Message> { .reply(Ref(rawValue: 0)) }

    /// Whether a response receive's body was given `timedOut`.
    @inlinable
    static func isTimedOut(_ envelope: Envelope<Message>) -> Bool {
        if case .reply(let ref) = envelope { return ref.rawValue == 0 }
        return false
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
///
/// Inlinable, so that it runs specialised for the message type in the module that spawns the process (an
/// unspecialised generic turn paid a metadata lookup at every step). The current receive is kept as its
/// parts: testing an envelope borrows the pattern, consuming one calls the body, and `.same` changes
/// nothing — no `Receive` value is copied per message.
@usableFromInline
struct ClosureBehavior<Message>: ProcessBehavior {
    @usableFromInline let initial: (ProcessContext<Message>) throws -> Step<Message>
    /// The current receive's parts; `body == nil` before the first receive.
    @usableFromInline var pattern: ((borrowing Envelope<Message>) -> Bool)?
    @usableFromInline var body: Receive<Message>.Body?
    @usableFromInline var after: ((ProcessContext<Message>) throws -> Step<Message>)?
    @usableFromInline var waitTimeout: Timeout = .infinity
    /// The raw reference the current receive awaits the response to, or 0 (`Receive.awaited`).
    @usableFromInline var awaited: UInt64 = 0
    /// A response wait's body (a call's continuation), kept apart from the receive in force when the call
    /// was made: `.same` from the continuation returns to that receive.
    @usableFromInline var respond: Receive<Message>.Body?

    @inlinable
    init(_ initial: @escaping (ProcessContext<Message>) throws -> Step<Message>) {
        self.initial = initial
    }

    @inlinable
    mutating func start(_ process: ProcessContext<Message>) throws -> Next {
        try apply(initial(process))
    }

    @inlinable
    mutating func receive(_ envelope: consuming Envelope<Message>, _ process: ProcessContext<Message>) throws -> Next {
        if awaited != 0 { return try respond(to: envelope, process) }
        return try apply(body!(envelope, process))
    }

    /// Ends a response wait: its body runs once, with the response or `Receive.timedOut`, and the receive
    /// in force before it is current again.
    @inlinable
    mutating func respond(to envelope: consuming Envelope<Message>, _ process: ProcessContext<Message>) throws -> Next {
        awaited = 0
        // Called in place with `!`, then dropped: reading it through a generic accessor (`take()`,
        // `unsafelyUnwrapped`) makes Swift wrap it in a reabstraction thunk, one allocation per response.
        let step = try respond!(envelope, process)
        respond = nil
        return apply(step)
    }

    @inlinable
    var awaitedReference: Ref? { awaited == 0 ? nil : Ref(rawValue: awaited) }

    @inlinable
    func accepts(_ envelope: borrowing Envelope<Message>) -> Bool {
        if awaited != 0 { return envelope.isResponse(to: Ref(rawValue: awaited)) }
        return pattern?(envelope) ?? true
    }

    @inlinable
    mutating func timeout(_ process: ProcessContext<Message>) throws -> Next {
        if awaited != 0 { return try respond(to: Receive.timedOut, process) }  // a response wait's deadline
        guard let after else { return .exit(.custom("receive timeout")) }
        return try apply(after(process))
    }

    /// The step a body returned, as the process's next wait. `.same` with a receive in force — every
    /// message of a process that keeps its receive — is decided here, inline in the turn; any other step
    /// goes through `change(to:)`, out of line (it was one call of about 35 instructions a message).
    @inlinable @inline(__always)
    mutating func apply(_ step: consuming Step<Message>) -> Next {
        if case .same = step, body != nil { return .receive(timeout: waitTimeout) }
        return change(to: step)
    }

    @inlinable
    mutating func change(to step: consuming Step<Message>) -> Next {
        switch consume step {
        case .receive(let receive):
            // Its parts are moved out, not copied (a copy retained each closure, and destroying the
            // receive released it again: an atomic pair per call that waits).
            let (newPattern, timeout, newAfter, newBody, newAwaited) = receive.parts()
            if newAwaited != 0 {
                respond = newBody
                awaited = newAwaited
            } else {
                pattern = newPattern
                body = newBody
                after = newAfter
                waitTimeout = timeout
            }
            return .receive(timeout: timeout)
        case .same:
            guard body != nil else { return .exit(.custom("Step.same returned before any receive")) }
            return .receive(timeout: waitTimeout)
        case .exit(let reason):
            return .exit(reason)
        }
    }
}

// MARK: Timeouts as a Swift `Duration` (rounded up to whole milliseconds; disfavoured, so a literal
// such as `.seconds(2)` stays a `Timeout`)

extension Receive {
    /// A receive that waits at most `timeout`.
    @_disfavoredOverload
    public init(
        matching: ((borrowing Envelope<Message>) -> Bool)? = nil,
        timeout: Duration,
        after: ((ProcessContext<Message>) throws -> Step<Message>)? = nil,
        _ body: @escaping Body
    ) {
        self.init(matching: matching, timeout: Timeout(timeout), after: after, body)
    }
}

extension Step {
    /// Wait for a message (or one `matching`) for at most `timeout`.
    @_disfavoredOverload
    public static func receive(
        matching: ((borrowing Envelope<Message>) -> Bool)? = nil,
        timeout: Duration,
        after: ((ProcessContext<Message>) throws -> Step<Message>)? = nil,
        _ body: @escaping Receive<Message>.Body
    ) -> Step<Message> {
        .receive(Receive(matching: matching, timeout: Timeout(timeout), after: after, body))
    }
}
