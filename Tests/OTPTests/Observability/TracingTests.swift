import InMemoryTracing
import Testing
import Tracing
@testable import OTP
@testable import OTPTracing

/// A server whose handlers start spans in the context they run in.
struct TracedServer: GenServer {
    enum Call: Sendable { case work, forward(ServerRef<TracedServer>), silent }
    enum Cast: Sendable { case note }
    typealias Reply = String
    let tracer: InMemoryTracer
    let seen: Log<String>

    mutating func handleCall(_ request: Call, from caller: Caller<String>, _ server: ServerContext<TracedServer>) throws
        -> ServerResult<TracedServer>
    {
        switch request {
        case .work:
            tracer.startSpan("handle work", context: ServiceContext.current ?? .topLevel).end()
            seen.append("context in handler: \(ServiceContext.current != nil)")
            return .reply("done")
        case .forward(let other):
            return server.call(other, .work) { result, _, _ in .reply((try? result.get()) ?? "failed") }
        case .silent:
            return .noReply
        }
    }

    mutating func handleCast(_ message: Cast, _ server: ServerContext<TracedServer>) throws -> ServerResult<TracedServer> {
        tracer.startSpan("handle note", context: ServiceContext.current ?? .topLevel).end()
        return .noReply
    }
}

@Suite("Trace context through calls and casts (swift-distributed-tracing)", .timeLimit(.minutes(1)))
struct TracingTests {
    func tracedNode(_ tracer: InMemoryTracer) -> Node {
        var configuration = NodeConfiguration(report: Reports().handler, logger: quietLogger)
        configuration.tracing = DistributedTracing(tracer: tracer)
        let node = Node(configuration: configuration)
        node.startLoop()
        return node
    }

    func span(_ name: String, in tracer: InMemoryTracer) throws -> FinishedInMemorySpan {
        try #require(tracer.finishedSpans.first { $0.operationName == name }, "no span \(name)")
    }

    @Test("A call from async code: a client span under the caller's, and the handler's spans under it")
    func callFromAsync() async throws {
        let tracer = InMemoryTracer()
        let node = tracedNode(tracer)
        defer { node.finish() }
        let seen = Log<String>()
        let server = try await node.start(TracedServer(tracer: tracer, seen: seen), options: StartOptions(name: "svc"))
        let root = tracer.startSpan("request", context: .topLevel)
        let reply = try await ServiceContext.withValue(root.context) {
            try await node.call(ServerRef<TracedServer>.named("svc"), .work)
        }
        root.end()
        #expect(reply == "done")
        let call = try span("call svc", in: tracer), handled = try span("handle work", in: tracer)
        let request = try span("request", in: tracer)
        #expect(call.parentSpanID == request.spanID)
        #expect(handled.parentSpanID == call.spanID)
        #expect(call.traceID == request.traceID && handled.traceID == request.traceID)
        #expect(call.kind == .client)
        #expect(call.attributes["otp.call.outcome"]?.toSpanAttribute() == .string("reply"))
        #expect(call.attributes["otp.server"]?.toSpanAttribute() == .string("svc"))
        #expect(call.status == nil)
        #expect(seen.entries == ["context in handler: true"])
        _ = server
    }

    @Test("A cast carries the caller's context; a handler's call to another server continues the trace")
    func castAndNestedCall() async throws {
        let tracer = InMemoryTracer()
        let node = tracedNode(tracer)
        defer { node.finish() }
        let seen = Log<String>()
        let front = try await node.start(TracedServer(tracer: tracer, seen: seen))
        let back = try await node.start(TracedServer(tracer: tracer, seen: seen))
        let root = tracer.startSpan("request", context: .topLevel)
        try await ServiceContext.withValue(root.context) {
            _ = try await node.cast(front, .note)
            #expect(try await node.call(front, .forward(back)) == "done")
        }
        root.end()
        let request = try span("request", in: tracer)
        #expect(try span("handle note", in: tracer).parentSpanID == request.spanID)
        let calls = tracer.finishedSpans.filter { $0.operationName.hasPrefix("call ") }
        #expect(calls.count == 2)
        let outer = try #require(calls.first { $0.parentSpanID == request.spanID })
        let inner = try #require(calls.first { $0.parentSpanID == outer.spanID })
        #expect(try span("handle work", in: tracer).parentSpanID == inner.spanID)
    }

    @Test("A call that times out ends its span with that outcome and an error status")
    func timedOut() async throws {
        let tracer = InMemoryTracer()
        let node = tracedNode(tracer)
        defer { node.finish() }
        let server = try await node.start(TracedServer(tracer: tracer, seen: Log()))
        await #expect(throws: CallError.timeout(server.pid!)) {
            try await node.call(server, .silent, timeout: .milliseconds(20))
        }
        let call = try span("call \(server.pid!)", in: tracer)
        #expect(call.attributes["otp.call.outcome"]?.toSpanAttribute() == .string("timeout"))
        #expect(call.status?.code == .error)
    }

    @Test("Without tracing nothing is carried and no span is started")
    func untraced() async throws {
        let tracer = InMemoryTracer()
        let node = startedNode()
        defer { node.finish() }
        let seen = Log<String>()
        let server = try await node.start(TracedServer(tracer: tracer, seen: seen))
        let root = tracer.startSpan("request", context: .topLevel)
        _ = try await ServiceContext.withValue(root.context) { try await node.call(server, .work) }
        root.end()
        #expect(seen.entries == ["context in handler: false"])
        #expect(tracer.finishedSpans.map(\.operationName).sorted() == ["handle work", "request"])
        #expect(try span("handle work", in: tracer).parentSpanID == nil)
    }
}
