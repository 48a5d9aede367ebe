@testable import OTP

/// A counter: the seed tutorial's first server, plus a few hooks the tests need.
struct Counter: GenServer {
    enum Call: Sendable { case get, add(Int), stopWith(ExitReason, reply: Bool), crash, callOther(ServerRef<Counter>) }
    enum Cast: Sendable { case add(Int), crash }
    enum Info: Sendable { case add(Int) }
    typealias Reply = Int
    typealias Argument = Int

    var count: Int
    var events: Log<String>?

    static func initialize(_ argument: Int, _ server: ServerContext<Counter>) throws -> Initialization<Counter> {
        if argument < 0 { throw TestFailure(text: "negative start") }
        return .ok(Counter(count: argument, events: nil))
    }

    mutating func handleCall(_ request: Call, from caller: Caller<Int>, _ server: ServerContext<Counter>) throws
        -> ServerResult<Counter>
    {
        switch request {
        case .get: return .reply(count)
        case .add(let n):
            count += n
            return .reply(count)
        case .stopWith(let reason, let reply): return .stop(reason, reply: reply ? count : nil)
        case .crash: throw TestFailure(text: "crash in call")
        case .callOther(let other):
            return server.call(other, .get) { result, state, _ in
                switch result {
                case .success(let value): return .reply(value + state.count)
                case .failure(let error):
                    state.events?.append("\(error)")
                    return .reply(-1)
                }
            }
        }
    }

    mutating func handleCast(_ message: Cast, _ server: ServerContext<Counter>) throws -> ServerResult<Counter> {
        switch message {
        case .add(let n): count += n
        case .crash: throw TestFailure(text: "crash in cast")
        }
        return .noReply
    }

    mutating func handleInfo(_ message: InfoMessage<Info>, _ server: ServerContext<Counter>) throws
        -> ServerResult<Counter>
    {
        events?.append("info \(message)")
        if case .message(.add(let n)) = message { count += n }
        return .noReply
    }

    mutating func terminate(_ reason: ExitReason, _ server: ServerContext<Counter>) throws {
        events?.append("terminate \(reason)")
    }

    func formatStatus() -> String { "count=\(count)" }
}

/// Keeps its callers and answers them later: the delayed-reply pattern.
struct Delayer: GenServer {
    enum Call: Sendable { case slow, pending }
    enum Info: Sendable { case answer }
    typealias Reply = String
    typealias Argument = Int  // reply delay in ms

    var delay: Int
    var waiting: [Caller<String>] = []
    var delivered = Log<Bool>()

    static func initialize(_ argument: Int, _ server: ServerContext<Delayer>) throws -> Initialization<Delayer> {
        .ok(Delayer(delay: argument))
    }

    mutating func handleCall(_ request: Call, from caller: Caller<String>, _ server: ServerContext<Delayer>) throws
        -> ServerResult<Delayer>
    {
        switch request {
        case .slow:
            waiting.append(caller)
            if waiting.count == 1 { try server.sendAfter(.milliseconds(Int64(delay)), .answer) }
            return .noReply
        case .pending:
            return .reply("\(waiting.count)")
        }
    }

    mutating func handleInfo(_ message: InfoMessage<Info>, _ server: ServerContext<Delayer>) throws
        -> ServerResult<Delayer>
    {
        if case .message(.answer) = message {
            for caller in waiting {
                delivered.append(server.reply(to: caller, "done"))
                delivered.append(server.reply(to: caller, "twice"))  // a second reply is ignored
            }
            waiting = []
        }
        return .noReply
    }
}

/// Records the order in which its callbacks run.
struct Recorder: GenServer {
    enum Cast: Sendable { case note(String), noteThenContinue(String), idle(Int64), hibernate }
    enum Call: Sendable { case ping }
    typealias Reply = String
    typealias Continue = String
    typealias Argument = Log<String>

    let log: Log<String>

    static func initialize(_ argument: Log<String>, _ server: ServerContext<Recorder>) throws
        -> Initialization<Recorder>
    {
        argument.append("init")
        return .ok(Recorder(log: argument), .continue("after init"))
    }

    mutating func handleCall(_ request: Call, from caller: Caller<String>, _ server: ServerContext<Recorder>) throws
        -> ServerResult<Recorder>
    {
        log.append("call ping")
        return .reply("pong")
    }

    mutating func handleCast(_ message: Cast, _ server: ServerContext<Recorder>) throws -> ServerResult<Recorder> {
        switch message {
        case .note(let text):
            log.append(text)
            return .noReply
        case .noteThenContinue(let text):
            log.append(text)
            return .noReply(.continue("continued \(text)"))
        case .idle(let ms):
            log.append("idle \(ms)")
            return .noReply(.timeout(.milliseconds(ms)))
        case .hibernate:
            return .noReply(.hibernate)
        }
    }

    mutating func handleContinue(_ value: String, _ server: ServerContext<Recorder>) throws -> ServerResult<Recorder> {
        log.append(value)
        return .noReply
    }

    mutating func handleInfo(_ message: InfoMessage<Never>, _ server: ServerContext<Recorder>) throws
        -> ServerResult<Recorder>
    {
        if case .timeout = message { log.append("timeout at \(server.node.now)") }
        return .noReply
    }
}

/// An `initialize` that waits for another server's reply before it decides.
struct Dependent: GenServer {
    typealias Argument = ServerRef<Delayer>
    var answer: String

    static func initialize(_ argument: ServerRef<Delayer>, _ server: ServerContext<Dependent>) throws
        -> Initialization<Dependent>
    {
        server.call(argument, .slow, timeout: .seconds(10)) { result, _ in
            switch result {
            case .success(let answer): return .ok(Dependent(answer: answer))
            case .failure(let error): return .stop(.custom("dependency failed: \(error)"))
            }
        }
    }
}

/// Initialisation outcomes chosen by the argument.
struct Picky: GenServer {
    enum Choice: Sendable { case ok, stop, ignore, fail }
    typealias Argument = Choice

    static func initialize(_ argument: Choice, _ server: ServerContext<Picky>) throws -> Initialization<Picky> {
        switch argument {
        case .ok: return .ok(Picky())
        case .stop: return .stop(.custom("no thanks"))
        case .ignore: return .ignore
        case .fail: throw TestFailure(text: "init blew up")
        }
    }
}
