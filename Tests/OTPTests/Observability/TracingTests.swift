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

/// A server whose call starts a task: the task's work and the handler of its result start spans.
struct TracedTaskServer: GenServer {
    enum Call: Sendable { case fetch }
    enum Info: Sendable { case fetched(String) }
    typealias Reply = String
    let tracer: InMemoryTracer
    let handled: Log<String>

    mutating func handleCall(_ request: Call, from caller: Caller<String>, _ server: ServerContext<TracedTaskServer>)
        throws -> ServerResult<TracedTaskServer>
    {
        let tracer = self.tracer
        try server.startTask({ () async -> String in
            tracer.startSpan("task work", context: ServiceContext.current ?? .topLevel).end()
            return "row"
        }, then: { result in .fetched((try? result.get()) ?? "failed") })
        return .reply("started")
    }

    mutating func handleInfo(_ message: InfoMessage<Info>, _ server: ServerContext<TracedTaskServer>) throws
        -> ServerResult<TracedTaskServer>
    {
        if case .message(.fetched(let value)) = message {
            tracer.startSpan("handle \(value)", context: ServiceContext.current ?? .topLevel).end()
            handled.append(value)
        }
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

    /// A manual-clock node with tracing, stepped by the test on its own thread.
    func manualTracedNode(_ tracer: InMemoryTracer) -> Node {
        var configuration = NodeConfiguration(clock: .manual, logger: quietLogger)
        configuration.tracing = DistributedTracing(tracer: tracer)
        return Node(configuration: configuration)
    }

    /// A span `name` started in the context current now.
    static func mark(_ tracer: InMemoryTracer, _ name: String) {
        tracer.startSpan(name, context: ServiceContext.current ?? .topLevel).end()
    }

    @Test("A plain process's handler runs in its message's context, selective receive and signals included")
    func plainProcessSelectiveReceive() throws {
        let tracer = InMemoryTracer()
        let node = manualTracedNode(tracer)
        let victim = try node.spawn(of: Int.self) { _ in .receive { _, _ in .exit(.normal) } }
        let process = try node.spawn(of: String.self) { process in
            _ = process.monitor(victim.pid)
            // "b" first, then the rest in order: "a", then the DOWN.
            return .receive(matching: { $0.message == "b" }) { envelope, _ in
                Self.mark(tracer, "got \(envelope.message!)")
                return .receive { envelope, _ in
                    if let message = envelope.message { Self.mark(tracer, "got \(message)") } else { Self.mark(tracer, "got DOWN") }
                    return .same
                }
            }
        }
        node.runUntilIdle()
        let rootA = tracer.startSpan("root a", context: .topLevel), rootB = tracer.startSpan("root b", context: .topLevel)
        try ServiceContext.withValue(rootA.context) { try node.send("a", to: process) }
        try node.send(1, to: victim)  // it exits: a DOWN (no context) between "a" and "b"
        node.runUntilIdle()
        try ServiceContext.withValue(rootB.context) { try node.send("b", to: process) }
        node.runUntilIdle()
        rootA.end()
        rootB.end()
        #expect(tracer.finishedSpans.map(\.operationName) == ["got b", "got a", "got DOWN", "root a", "root b"])
        #expect(try span("got b", in: tracer).parentSpanID == span("root b", in: tracer).spanID)
        #expect(try span("got a", in: tracer).parentSpanID == span("root a", in: tracer).spanID)
        #expect(try span("got DOWN", in: tracer).parentSpanID == nil)
        #expect(node.close() == 0)
    }

    @Test("A call that times out ends its span with that outcome; the caller continues in its own context")
    func timedOut() throws {
        let tracer = InMemoryTracer()
        let node = manualTracedNode(tracer)
        let server = try node.start(TracedServer(tracer: tracer, seen: Log()))
        let client = try node.spawn(of: String.self) { _ in
            .receive { _, process in
                try process.call(server, .silent, timeout: .milliseconds(100)) { result, _ in
                    if case .failure(.timeout) = result { Self.mark(tracer, "after call: timeout") }
                    return .exit(.normal)
                }
            }
        }
        node.runUntilIdle()
        let root = tracer.startSpan("request", context: .topLevel)
        try ServiceContext.withValue(root.context) { try node.send("go", to: client) }
        node.runUntilIdle()
        #expect(tracer.finishedSpans.isEmpty)
        node.advance(by: .milliseconds(100))
        root.end()
        let rootID = try span("request", in: tracer).spanID
        let call = try span("call \(server.pid!)", in: tracer)
        #expect(call.parentSpanID == rootID)
        #expect(call.attributes["otp.call.outcome"]?.toSpanAttribute() == .string("timeout"))
        #expect(call.status?.code == .error)
        let after = try span("after call: timeout", in: tracer)
        #expect(after.parentSpanID == rootID)
        #expect(node.close() == 0)
    }

    @Test("Across the loops of a group: a call's and a message's context reach the other loop")
    func acrossLoops() async throws {
        let tracer = InMemoryTracer()
        var configuration = NodeConfiguration(logger: quietLogger)
        configuration.tracing = DistributedTracing(tracer: tracer)
        let group = NodeGroup(loops: 2, configuration: configuration)
        group.startLoops()
        defer { group.stopLoops(); group.join() }
        let seen = Log<String>()
        let front = try await group.loops[0].start(TracedServer(tracer: tracer, seen: seen))
        let back = try await group.loops[1].start(TracedServer(tracer: tracer, seen: seen))
        let received = Log<String>()
        let receiver = try await group.loops[1].perform { node in
            try node.spawn(of: String.self) { _ in
                .receive { envelope, _ in
                    Self.mark(tracer, "received \(envelope.message!)")
                    received.append(envelope.message!)
                    return .same
                }
            }
        }
        let relay = try await group.loops[0].perform { node in
            try node.spawn(of: String.self) { _ in
                .receive { envelope, process in
                    try process.send(envelope.message!, to: receiver)
                    return .same
                }
            }
        }
        let root = tracer.startSpan("request", context: .topLevel)
        try await ServiceContext.withValue(root.context) {
            #expect(try await group.call(front, .forward(back)) == "done")
            try await group.send("hello", to: relay)
        }
        try await eventually("the message relayed to loop 1") { received.count == 1 }
        root.end()
        let rootID = try span("request", in: tracer).spanID
        let calls = tracer.finishedSpans.filter { $0.operationName.hasPrefix("call ") }
        let outer = try #require(calls.first { $0.parentSpanID == rootID })
        let inner = try #require(calls.first { $0.parentSpanID == outer.spanID })
        #expect(inner.operationName == "call \(back.pid!)")
        #expect(try span("handle work", in: tracer).parentSpanID == inner.spanID)
        #expect(try span("received hello", in: tracer).parentSpanID == rootID)
        #expect(seen.entries == ["context in handler: true"])
    }

    @Test("A task started from a handler runs in the handler's context, and its result comes back in it")
    func taskFromHandler() async throws {
        let tracer = InMemoryTracer()
        let node = tracedNode(tracer)
        defer { node.finish() }
        let handled = Log<String>()
        let server = try await node.start(TracedTaskServer(tracer: tracer, handled: handled))
        let root = tracer.startSpan("request", context: .topLevel)
        let reply = try await ServiceContext.withValue(root.context) { try await node.call(server, .fetch) }
        root.end()
        #expect(reply == "started")
        try await eventually("the task's result handled") { handled.count == 1 }
        let call = try span("call \(server.pid!)", in: tracer)
        #expect(try call.parentSpanID == span("request", in: tracer).spanID)
        #expect(try span("task work", in: tracer).parentSpanID == call.spanID)
        #expect(try span("handle row", in: tracer).parentSpanID == call.spanID)
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
