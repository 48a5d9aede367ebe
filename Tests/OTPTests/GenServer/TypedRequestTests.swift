import Testing
@testable import OTP

/// A store whose requests name their own reply types: no `Reply` enum, no unpacking at call sites.
struct TypedStore: GenServer {
    enum Call: Sendable {
        case get(String, Caller<String?>)
        case set(String, String, Caller<Void>)
        case count(Caller<Int>)
        case keys(Caller<[String]>)
        case getLater(String, Caller<String?>)
        case release(Caller<Int>)
        case crash(Caller<Int>)
        case sumWith(ServerRef<TypedStore>, Caller<Int>)
    }
    var data: [String: String] = [:]
    var waiting: [(String, Caller<String?>)] = []

    mutating func handleCall(_ request: Call, from caller: Caller<Never>, _ server: ServerContext<TypedStore>) throws
        -> ServerResult<TypedStore>
    {
        switch request {
        case .get(let key, let caller): return server.replying(to: caller, data[key])
        case .set(let key, let value, let caller):
            data[key] = value
            return server.replying(to: caller, ())
        case .count(let caller): return server.replying(to: caller, data.count)
        case .keys(let caller): return server.replying(to: caller, data.keys.sorted())
        case .getLater(let key, let caller):
            waiting.append((key, caller))
            return .noReply
        case .release(let caller):
            let delivered = waiting.filter { key, waiter in server.reply(to: waiter, data[key]) }.count
            waiting = []
            return server.replying(to: caller, delivered)
        case .crash: throw TestFailure(text: "typed crash")
        case .sumWith(let other, let caller):
            let mine = data.count
            return server.ask(other, { .count($0) }) { result, _, server in
                server.replying(to: caller, (try? result.get()).map { $0 + mine } ?? -1)
            }
        }
    }
}

/// A classic server (a `Reply` type) with one request of its own reply type beside.
struct MixedCounter: GenServer {
    enum Call: Sendable { case get, describe(Caller<String>) }
    typealias Reply = Int
    var count = 7
    mutating func handleCall(_ request: Call, from caller: Caller<Int>, _ server: ServerContext<MixedCounter>) throws
        -> ServerResult<MixedCounter>
    {
        switch request {
        case .get: return .reply(count)
        case .describe(let caller): return server.replying(to: caller, "count is \(count)")
        }
    }
}

@Suite("Requests with their own reply type")
struct TypedRequestTests {
    @Test("Each request's reply comes back as its own type, from node code")
    func blocking() throws {
        let node = makeNode()
        let store = try node.start(TypedStore())
        try node.ask(store) { .set("name", "Alice", $0) }
        let name: String? = try node.ask(store) { .get("name", $0) }
        #expect(name == "Alice")
        #expect(try node.ask(store) { .get("age", $0) } == nil)
        #expect(try node.ask(store) { .count($0) } == 1)
        #expect(try node.ask(store) { .keys($0) } == ["name"])
        let mixed = try node.start(MixedCounter())
        #expect(try node.call(mixed, .get) == 7)  // today's form, unchanged
        #expect(try node.ask(mixed) { .describe($0) } == "count is 7")
    }

    @Test("Typed errors as for any call: unknown name, crash, timeout; a delayed reply through the typed caller")
    func errorsAndDelays() throws {
        let reports = Reports()
        let node = makeNode(reports: reports)
        #expect(throws: CallError.unknownName("nobody")) {
            try node.ask(ServerRef<TypedStore>.named("nobody")) { .count($0) }
        }
        let store = try node.start(TypedStore())
        try node.ask(store) { .set("k", "v", $0) }
        #expect(throws: CallError.timeout(store.pid!)) {
            try node.ask(store, timeout: .milliseconds(10)) { .getLater("k", $0) }
        }
        let outcome = Log<String>()
        try node.spawn(of: Never.self) { process in
            try process.ask(store, { .getLater("k", $0) }) { result, _ in
                outcome.append("\(result)")
                return .exit(.normal)
            }
        }
        node.runUntilIdle()
        #expect(outcome.entries.isEmpty)
        // Two waiters: the timed-out one is not answered (its reply is ignored), the process's is.
        #expect(try node.ask(store) { .release($0) } == 1)
        node.runUntilIdle()
        #expect(outcome.entries == ["success(Optional(\"v\"))"])
        #expect(throws: CallError.serverExited(store.pid!, reason: .error(TestFailure(text: "typed crash")))) {
            try node.ask(store) { .crash($0) }
        }
    }

    @Test("From async code, from a process (call and sendRequest), and from one server to another")
    func everyCaller() async throws {
        let node = startedNode()
        defer { node.finish() }
        let store = try await node.start(TypedStore())
        try await node.ask(store) { .set("a", "1", $0) }
        #expect(try await node.ask(store) { .get("a", $0) } == "1")
        let other = try await node.start(TypedStore())
        try await node.ask(other) { .set("b", "2", $0) }
        try await node.ask(other) { .set("c", "3", $0) }
        #expect(try await node.ask(store) { .sumWith(other, $0) } == 3)
        let seen = try await node.perform { node in
            let log = Log<String>()
            try node.spawn(of: Never.self) { process in
                try process.ask(store, { .keys($0) }) { keys, process in
                    log.append("keys \(try keys.get())")
                    let id = try process.sendRequest(store, { .count($0) }).get()
                    return process.receiveResponse(id) { count, _ in
                        log.append("count \(try count.get())")
                        return .exit(.normal)
                    }
                }
            }
            return log
        }
        var entries: [String] = []
        while entries.count < 2 { entries = try await node.inspect { _ in seen.entries } }
        #expect(entries == ["keys [\"a\"]", "count 1"])
    }

    @Test("Across the loops of a group: a typed request to a server of another loop")
    func acrossLoops() throws {
        let group = makeGroup()
        let store = try group.loop(1).spawnServer(TypedStore())
        let replies = Log<String>()
        try group.loop(0).spawn(of: Never.self) { process in
            try process.ask(store, { .set("x", "y", $0) }) { _, process in
                try process.ask(store, { .get("x", $0) }) { value, _ in
                    replies.append("\(value)")
                    return .exit(.normal)
                }
            }
        }
        group.runUntilIdle()
        #expect(replies.entries == ["success(Optional(\"y\"))"])
    }
}
