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
                case .failure: return .reply(-1)
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
