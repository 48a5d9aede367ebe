/// Trace context carried with messages: the hook through which a tracing library (the `OTPTracing` module,
/// for swift-distributed-tracing) follows a request from its caller into the handlers it reaches.
///
/// With a `MessageTracing` in `NodeConfiguration.tracing`, a node
/// - captures the context current where a call, cast or message is sent (in a handler, the context its own
///   message carried; in async code, the caller task's) and queues it beside the message, index for index
///   with the receiver's mailbox (`ProcessCore.tracesMessages`), across the loops of a group too;
/// - runs the handler that takes the message with that context current, so spans started in handlers are
///   children of the caller's span (a response wait's continuation: the context of the handler that began it);
/// - starts a span per call (`startCall`), whose context the server sees, and ends it with the call's
///   outcome.
/// Without one (the default) none of this runs: one branch on a process flag per message queued and taken.
/// Not carried: signals, replies, timeouts; and between nodes (the distribution protocol has no field for it).
///
/// Thread: the node's loop thread, but `currentContext()`, which the async facade calls on the caller's task.
public protocol MessageTracing: AnyObject, Sendable {
    /// The context current on the calling task or thread, or `nil`.
    func currentContext() -> TraceContext?
    /// Runs `body` with `context` current (a handler's turn).
    func withContext<R>(_ context: TraceContext?, _ body: () throws -> R) rethrows -> R
    /// Runs async `body` with `context` current (the work of a task started from a handler, `startTask`).
    func withContext<R>(_ context: TraceContext?, _ body: () async throws -> R) async rethrows -> R
    /// A call to `server` begins from `context`: its span, and the context the server's handler gets.
    func startCall(to server: String, request: String, from context: TraceContext?) -> (span: any TraceSpan, context: TraceContext?)
}

/// A span a `MessageTracing` started for a call, ended once with the call's outcome.
public protocol TraceSpan: AnyObject, Sendable {
    func end(_ outcome: CallOutcome)
}

/// A tracing library's context, opaque to the node (a `ServiceContext` for `OTPTracing`).
public struct TraceContext: @unchecked Sendable {
    public let value: Any
    public init(_ value: Any) { self.value = value }
}

extension Node {
    /// Records the context of a message just queued for `process` (of a traced node): the context of the
    /// call being made or the item arriving from another loop, or the one current now.
    @usableFromInline @inline(never)
    func traceQueued(_ process: ProcessCore) {
        process.recordTrace(outgoingTrace ?? tracing?.currentContext())
    }

    /// A call with request `ref` to `server` begins: its span, and the context its message carries until
    /// `tracedCallSent`.
    @usableFromInline @inline(never)
    func traceCall<R>(_ ref: Ref, to server: String, request: R.Type) {
        guard let tracing else { return }
        let (span, context) = tracing.startCall(to: server, request: String(describing: R.self),
                                                from: outgoingTrace ?? tracing.currentContext())
        callSpans[ref] = span
        sendingStack.append(outgoingTrace)
        outgoingTrace = context
    }

    /// The traced call's message is queued: what is sent next carries the context from before it.
    @usableFromInline @inline(never)
    func tracedCallSent() {
        outgoingTrace = sendingStack.popLast() ?? nil
    }

    /// Ends the span of call `ref`, if it has one.
    @usableFromInline @inline(never)
    func endTracedCall(_ ref: Ref, _ outcome: CallOutcome) {
        callSpans.removeValue(forKey: ref)?.end(outcome)
    }

    /// Runs `body` with `context` as the context of what it sends (a job of the async facade).
    @usableFromInline
    func sending<R>(with context: TraceContext?, _ body: () throws -> R) rethrows -> R {
        let saved = outgoingTrace
        outgoingTrace = context
        defer { outgoingTrace = saved }
        return try body()
    }
}
