import Testing
@testable import OTP

/// A call from process code to an idle server of the same node runs the server at once, inside the
/// caller's handler (`Node.serveNow`), and the continuation then runs at once too. These tests pin what
/// must not change with it: Erlang's outcomes, the order of everyone's messages, exit signals to a caller
/// further up the stack, fairness of a long chain of calls, and `.same` from a continuation.
@Suite("Calls to an idle server")
struct IdleServerCallTests {
    @Test("An idle server answers inside the caller's handler; the continuation runs before the handler returns")
    func servedAtOnce() throws {
        let node = makeNode()
        let server = try node.start(Counter.self, 41)
        let events = Log<String>()
        let caller = try node.spawn(of: Command.self) { _ in
            .receive { _, process in
                events.append("handler")
                let step = try process.call(server, .add(1)) { result, _ in
                    events.append("reply \(try result.get())")
                    return .receive { _, _ in .same }
                }
                events.append("handler returns")
                return step
            }
        }
        try node.send(.value(0), to: caller)
        try node.send(.value(1), to: caller)  // stays queued: the continuation's receive is new
        node.runUntilIdle()
        #expect(events.entries == ["handler", "reply 42", "handler returns"])
        #expect(node.statistics.callsServedInline == 1)
        #expect(node.processInfo(caller.pid)?.mailboxLength == 0)  // the second message went to the new receive
    }

    @Test("A server queued to run has its turn at once: its queue first, in order, and the reply in the caller's turn if that turn reaches the request, else the call waits")
    func queuedServerServedAtOnce() throws {
        // 1 message ahead: served in the lent turn. 100 ahead: more than one turn's 64, so the call waits.
        for ahead in [1, 100] {
            let node = makeNode()
            let server = try node.start(Counter.self, 0)
            let events = Log<String>()
            let caller = try node.spawn(of: Command.self) { _ in
                .receive { _, process in
                    let step = try process.call(server, .get) { result, _ in
                        events.append("reply \(try result.get())")
                        return .exit(.normal)
                    }
                    events.append("handler returns")
                    return step
                }
            }
            node.runUntilIdle()
            try node.send(.value(0), to: caller)  // the caller runs first ...
            for _ in 0..<ahead { node.cast(server, .add(1)) }  // ... the server has casts queued when the call arrives
            let lent = node.statistics.lentTurns
            node.runUntilIdle()
            // The casts are handled first, in order, either way.
            #expect(events.entries == (ahead == 1 ? ["reply 1", "handler returns"] : ["handler returns", "reply 100"]),
                    "\(ahead) ahead")
            #expect(node.statistics.callsServedInline == 0 && node.statistics.lentTurns == lent + 1, "\(ahead) ahead")
            #expect(node.statistics.monitors == 0, "\(ahead) ahead")  // no monitor left either way
        }
    }

    @Test("The continuation is an autoclosure: made once, after the request is sent — in the handler for a served, failed or waiting call")
    func continuationMadeOnce() throws {
        // 0 casts ahead: served at once; 100 ahead (more than a turn): the call waits; a name nobody holds: fails.
        for (label, ahead, named) in [("served", 0, false), ("waits", 100, false), ("fails", 0, true)] {
            let node = makeNode()
            let server = try node.start(Counter.self, 0)
            let serverPID = try #require(server.pid)
            let target: ServerRef<Counter> = named ? .named("nobody") : server
            let events = Log<String>()
            // Made after the request went: the server has answered it (served), or holds it (waits).
            func continuation() -> (Result<Int, CallError>, ProcessContext<Command>) throws -> Step<Command> {
                let queued = node.processInfo(serverPID)?.mailboxLength ?? -1
                events.append("made: \(node.statistics.callsServedInline) served, \(queued) queued")
                return { result, _ in
                    events.append((try? result.get()).map { "reply \($0)" } ?? "failed")
                    return .exit(.normal)
                }
            }
            let caller = try node.spawn(of: Command.self) { _ in
                .receive { _, process in
                    events.append("handler")
                    let step = try process.call(target, .get, then: continuation())
                    events.append("handler returns")
                    return step
                }
            }
            node.runUntilIdle()
            try node.send(.value(0), to: caller)
            for _ in 0..<ahead { node.cast(server, .add(1)) }
            node.runUntilIdle()
            let expected = switch label {
            case "served": ["handler", "made: 1 served, 0 queued", "reply 0", "handler returns"]
            // A turn's 64 casts were handled in the lent turn: 36 left, then the request.
            case "waits": ["handler", "made: 0 served, 37 queued", "handler returns", "reply 100"]
            default: ["handler", "made: 0 served, 0 queued", "failed", "handler returns"]
            }
            #expect(events.entries == expected, "\(label)")
            #expect(node.statistics.callsServedInline == (label == "served" ? 1 : 0), "\(label)")
        }
    }

    @Test("A call polling with timeout zero times out even when the server is idle, as in Erlang")
    func pollTimesOut() throws {
        let node = makeNode()
        let server = try node.start(Counter.self, 0)
        let outcome = Log<String>()
        try node.spawn(of: Never.self) { process in
            try process.call(server, .add(1), timeout: .zero) { result, _ in
                outcome.append("\(result)")
                return .exit(.normal)
            }
        }
        node.runUntilIdle()
        #expect(outcome.entries == ["\(Result<Int, CallError>.failure(.timeout(try #require(server.pid))))"])
        #expect(node.statistics.callsServedInline == 0)
        #expect(try node.call(server, .get) == 1)  // the request was handled; its late reply was dropped
        #expect(node.statistics.ignoredReplies == 1)
    }

    @Test("A server crashing inside the caller's handler: the call fails with its reason, a linked caller exits after its handler")
    func crashInside() throws {
        let node = makeNode()
        let server = try node.start(Counter.self, 0)
        let serverPID = try #require(server.pid)
        let outcome = Log<String>()
        let caller = try node.spawn(of: Never.self) { process in
            process.link(serverPID)
            return try process.call(server, .crash) { result, _ in
                if case .failure(.serverExited(serverPID, reason: .error)) = result { outcome.append("serverExited") }
                return .receive { _, _ in .same }
            }
        }
        node.runUntilIdle()
        #expect(outcome.entries == ["serverExited"])
        #expect(!node.isAlive(serverPID) && !node.isAlive(caller.pid))
        #expect(node.statistics.callsServedInline == 1)
    }

    @Test("A server that sends its caller an exit signal from inside the caller's handler: the caller exits once the handler returns")
    func exitSignalToCallerUpTheStack() throws {
        let node = makeNode()
        let server = try node.start(Executioner.self, ())
        let events = Log<String>()
        let caller = try node.spawn(of: Never.self) { process in
            try process.call(server, .exitCaller) { result, _ in
                events.append("reply \(try result.get())")
                return .receive { _, _ in
                    events.append("never")
                    return .same
                }
            }
        }
        let downs = Log<Envelope<Never>>()
        let watcher = try spawnCollector(node, into: downs)
        let ref = node.monitor(caller.pid, by: watcher.pid)  // before either has run
        node.runUntilIdle()
        #expect(events.entries == ["reply done"])
        #expect(!node.isAlive(caller.pid))
        guard case .down(let down)? = downs.entries.first else { Issue.record("no DOWN: \(downs.entries)"); return }
        #expect(down.monitor == ref && down.reason == .custom("executed"))
        #expect(downs.entries.count == 1)
        #expect(node.isAlive(try #require(server.pid)))
    }

    @Test("10,000 calls chained through continuations: no deep stack, and other processes run meanwhile")
    func longChain() throws {
        let node = makeNode()
        let server = try node.start(Counter.self, 0)
        let progress = Log<Int>()
        let results = Log<Int>()
        try node.spawn(of: Never.self) { process in try Self.chain(10_000, server, process, results) }
        // Queued behind the caller: it records how far the chain had got when it first ran.
        try node.spawn(of: Never.self) { _ in
            progress.append(results.entries.count)
            return .exit(.normal)
        }
        node.runUntilIdle()
        #expect(results.entries == Array(1...10_000))
        #expect(try #require(progress.entries.first) < 10_000)
        #expect(node.statistics.callsServedInline == 10_000)
    }

    private static func chain(_ remaining: Int, _ server: ServerRef<Counter>, _ process: ProcessContext<Never>,
                              _ results: Log<Int>) throws -> Step<Never> {
        guard remaining > 0 else { return .exit(.normal) }
        return try process.call(server, .add(1)) { result, process in
            results.append(try result.get())
            return try chain(remaining - 1, server, process, results)
        }
    }

    @Test(".same from a continuation waits again with the receive in force when the call was made (idle and busy server)")
    func sameReturnsToTheCallersReceive() throws {
        for busy in [false, true] {
            let node = makeNode()
            let server = try node.start(Counter.self, 0)
            let events = Log<String>()
            let caller = try node.spawn(of: Command.self) { _ in
                .receive { envelope, process in
                    guard case .message(.value(let n)) = envelope else { return .exit(.normal) }
                    return try process.call(server, .add(n)) { result, _ in
                        events.append("total \(try result.get())")
                        return .same
                    }
                }
            }
            node.runUntilIdle()
            for n in 1...3 {
                try node.send(.value(n), to: caller)
                if busy { for _ in 0..<100 { node.cast(server, .add(1)) } }  // more than a turn's worth queued first
                node.runUntilIdle()
            }
            #expect(events.entries == (busy ? ["total 101", "total 203", "total 306"] : ["total 1", "total 3", "total 6"]))
            #expect(node.statistics.callsServedInline == (busy ? 0 : 3))
            #expect(node.isAlive(caller.pid))
        }
    }

    @Test("A reply given inside the caller's handler is taken at once, counted as received; what the server sent after it stays queued, in order")
    func replyHeldForTheCaller() throws {
        let node = makeNode()
        let server = try node.start(ReplyFirst())
        let events = Log<String>()
        let caller = try node.spawn(of: Int.self) { process in
            try process.call(server, .replyThenSend(99)) { result, process in
                events.append("reply \(try result.get())")
                return .receive { envelope, _ in
                    if case .message(let n) = envelope { events.append("message \(n)") }
                    return .same
                }
            }
        }
        node.runUntilIdle()
        #expect(events.entries == ["reply 7", "message 99"])
        #expect(node.statistics.callsServedInline == 1)
        let info = try #require(node.processInfo(caller.pid))
        #expect(info.messagesReceived == 2 && info.mailboxLength == 0)
        #expect(node.statistics.monitors == 0)
        // Another caller: a second call inside the first one's continuation gets its reply held too.
        let again = Log<String>()
        try node.spawn(of: Int.self) { process in
            try process.call(server, .replyThenSend(1)) { first, process in
                try process.call(server, .replyThenStop) { second, _ in
                    again.append("\(try first.get()) \(try second.get())")
                    return .exit(.normal)
                }
            }
        }
        node.runUntilIdle()
        // A server that replies and stops in the same turn: its reply wins, as in Erlang (no DOWN after a reply).
        #expect(again.entries == ["7 5"])
        #expect(!node.isAlive(try #require(server.pid)))
        #expect(node.statistics.callsServedInline == 3 && node.statistics.monitors == 0)
    }

    @Test("A late reply to an earlier call served at once, given in a later call's turn, is dropped: the later call gets its own")
    func lateReplyToAnEarlierHeldCall() throws {
        let node = makeNode()
        let server = try node.start(ReplyFirst())
        let events = Log<String>()
        try node.spawn(of: Int.self) { process in
            try process.call(server, .echo(1)) { first, process in
                try process.call(server, .echo(2)) { second, process in
                    events.append("\(try first.get()) \(try second.get())")
                    return .exit(.normal)
                }
            }
        }
        node.runUntilIdle()
        #expect(events.entries == ["1 2"])
        #expect(node.statistics.callsServedInline == 2 && node.statistics.ignoredReplies == 1)
        #expect(node.statistics.monitors == 0)
    }
}

/// Replies first (`Node.reply`) and then sends the caller a message, or replies and stops in one result;
/// or answers the previous caller of `echo` again, late (-1), before it answers this one.
struct ReplyFirst: GenServer {
    enum Call: Sendable { case replyThenSend(Int), replyThenStop, echo(Int) }
    typealias Reply = Int
    var previous: Caller<Int>? = nil

    mutating func handleCall(_ request: Call, from caller: Caller<Int>, _ server: ServerContext<ReplyFirst>) throws
        -> ServerResult<ReplyFirst>
    {
        switch request {
        case .replyThenSend(let n):
            server.reply(to: caller, 7)
            try server.node.send(n, to: caller.pid)
            return .noReply
        case .replyThenStop:
            return .stop(.normal, reply: 5)
        case .echo(let n):
            if let previous { server.reply(to: previous, -1) }
            previous = caller
            return .reply(n)
        }
    }
}

/// Answers `exitCaller` after sending the caller an exit signal (`executed`).
struct Executioner: GenServer {
    enum Call: Sendable { case exitCaller }
    typealias Cast = Never
    typealias Info = Never
    typealias Reply = String

    static func initialize(_ argument: Void, _ server: ServerContext<Executioner>) throws -> Initialization<Executioner> {
        .ok(Executioner())
    }

    mutating func handleCall(_ request: Call, from caller: Caller<String>, _ server: ServerContext<Executioner>) throws
        -> ServerResult<Executioner>
    {
        server.process.exit(caller.pid, reason: .custom("executed"))
        return .reply("done")
    }
}
