import OTP
import Tracing

/// swift-distributed-tracing for a node: put one in `NodeConfiguration.tracing`, and the caller's
/// `ServiceContext` travels with each call, cast and message to a GenServer into the handler that takes it,
/// so spans started in handlers (`withSpan`, `startSpan`) are children of the caller's span; each call gets a
/// client span named `call <server>` with the server, the request type and the outcome
/// (`otp.call.outcome`: `reply`, `timeout`, `exited`, ...; an error status for anything but a reply).
///
/// ```swift
/// var configuration = NodeConfiguration()
/// configuration.tracing = DistributedTracing.ifBootstrapped()   // nil when no tracer: nothing is traced
/// let node = Node(configuration: configuration)
/// ```
///
/// Thread: `Sendable`; the node calls it on its loop thread (and the async facade on the caller's task).
public final class DistributedTracing: MessageTracing {
    private let tracer: any Tracer

    /// Tracing with `tracer` (by default the one bootstrapped with `InstrumentationSystem.bootstrap`).
    public init(tracer: any Tracer = InstrumentationSystem.tracer) {
        self.tracer = tracer
    }

    /// Tracing with the bootstrapped tracer, or `nil` when none was bootstrapped: then the node carries
    /// nothing and starts no span, at no cost.
    public static func ifBootstrapped() -> DistributedTracing? {
        InstrumentationSystem.tracer is NoOpTracer ? nil : DistributedTracing()
    }

    public func currentContext() -> TraceContext? {
        ServiceContext.current.map(TraceContext.init)
    }

    public func withContext<R>(_ context: TraceContext?, _ body: () throws -> R) rethrows -> R {
        try ServiceContext.withValue(context?.value as? ServiceContext, operation: body)
    }

    public func withContext<R>(_ context: TraceContext?, _ body: () async throws -> R) async rethrows -> R {
        try await ServiceContext.withValue(context?.value as? ServiceContext, operation: body)
    }

    public func startCall(to server: String, request: String, from context: TraceContext?)
        -> (span: any TraceSpan, context: TraceContext?)
    {
        let parent = context?.value as? ServiceContext ?? .topLevel
        let span = tracer.startSpan("call \(server)", context: parent, ofKind: .client)
        span.attributes["otp.server"] = server
        span.attributes["otp.call.request"] = request
        return (CallSpan(span), TraceContext(span.context))
    }
}

/// A call's span, ended with its outcome.
final class CallSpan: TraceSpan, @unchecked Sendable {
    private let span: any Span

    init(_ span: any Span) { self.span = span }

    func end(_ outcome: CallOutcome) {
        span.attributes["otp.call.outcome"] = outcome.rawValue
        if outcome != .reply { span.setStatus(SpanStatus(code: .error, message: outcome.rawValue)) }
        span.end()
    }
}
