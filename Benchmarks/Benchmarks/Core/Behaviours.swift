import OTP

/// Counts what it receives; the allocation-free receiver of the send benchmarks.
struct Sink: ProcessBehavior {
    typealias Message = Int
    var count = 0
    mutating func receive(_ envelope: consuming Envelope<Int>, _ process: ProcessContext<Int>) throws -> Next {
        count &+= 1
        return .receive
    }
}

/// One side of a ping-pong: returns the ball to its peer until the count reaches zero.
struct Player: ProcessBehavior {
    enum Message: Sendable {
        case peer(Address<Message>)
        case ball(Int)
    }
    var peer: Address<Message>?
    /// Each wait's receive timeout (infinity: no timer).
    var timeout: Timeout = .infinity
    mutating func receive(_ envelope: consuming Envelope<Message>, _ process: ProcessContext<Message>) throws -> Next {
        switch envelope {
        case .message(.peer(let peer)):
            self.peer = peer
        case .message(.ball(let n)):
            if n > 0 { try process.send(.ball(n - 1), to: peer!) }
        default:
            break
        }
        return .receive(timeout: timeout)
    }
}

/// A member of a ring: forwards the token to the next member until its hop count runs out.
struct RingMember: ProcessBehavior {
    enum Message: Sendable {
        case next(Address<Message>)
        case token(Int)
    }
    var next: Address<Message>?
    mutating func receive(_ envelope: consuming Envelope<Message>, _ process: ProcessContext<Message>) throws -> Next {
        switch envelope {
        case .message(.next(let next)):
            self.next = next
        case .message(.token(let hops)):
            if hops > 0 { try process.send(.token(hops - 1), to: next!) }
        default:
            break
        }
        return .receive
    }
}

/// Exits as soon as it starts.
struct Ephemeral: ProcessBehavior {
    typealias Message = Int
    mutating func start(_ process: ProcessContext<Int>) throws -> Next { .exit(.normal) }
    mutating func receive(_ envelope: consuming Envelope<Int>, _ process: ProcessContext<Int>) throws -> Next {
        .receive
    }
}

/// Waits forever.
struct Waiter: ProcessBehavior {
    typealias Message = Int
    mutating func receive(_ envelope: consuming Envelope<Int>, _ process: ProcessContext<Int>) throws -> Next {
        .receive
    }
}

/// A GenServer counter: the server side of the call and cast benchmarks.
struct CountServer: GenServer, Sendable {
    enum Call: Sendable { case get, never }
    enum Cast: Sendable { case add(Int) }
    typealias Reply = Int
    var count = 0
    mutating func handleCall(_ request: Call, from caller: Caller<Int>, _ server: ServerContext<CountServer>) throws
        -> ServerResult<CountServer>
    {
        if case .never = request { return .noReply }
        return .reply(count)
    }
    mutating func handleCast(_ message: Cast, _ server: ServerContext<CountServer>) throws -> ServerResult<CountServer> {
        if case .add(let n) = message { count &+= n }
        return .noReply
    }
}

/// A process that calls `server` `remaining` times in a row, each with Erlang's default 5 s timeout,
/// written as a struct behaviour: a selective wait on the request's reference, no allocation per call.
struct CallLoop: ProcessBehavior {
    typealias Message = Never
    let server: ServerRef<CountServer>
    var remaining: Int
    var request: RequestID<Int>?

    mutating func start(_ process: ProcessContext<Never>) throws -> Next { try issue(process) }

    func accepts(_ envelope: borrowing Envelope<Never>) -> Bool {
        guard let request else { return true }
        return envelope.isResponse(to: request.ref)
    }

    mutating func receive(_ envelope: consuming Envelope<Never>, _ process: ProcessContext<Never>) throws -> Next {
        _ = try process.check(envelope, for: request!)!.get()
        remaining -= 1
        return remaining == 0 ? .exit(.normal) : try issue(process)
    }

    mutating func timeout(_ process: ProcessContext<Never>) throws -> Next { .exit(.custom("call timed out")) }

    private mutating func issue(_ process: ProcessContext<Never>) throws -> Next {
        request = try process.sendRequest(server, .get).get()
        return .receive(timeout: .seconds(5))
    }
}

/// A caller with a 1 ms timeout against a server that never answers; counts how its call ended.
struct TimeoutCaller: ProcessBehavior {
    typealias Message = Never
    let server: ServerRef<CountServer>
    let outcomes: Outcomes
    var request: RequestID<Int>?
    mutating func start(_ process: ProcessContext<Never>) throws -> Next {
        request = try process.sendRequest(server, .never).get()
        return .receive(timeout: .milliseconds(1))
    }
    mutating func receive(_ envelope: consuming Envelope<Never>, _ process: ProcessContext<Never>) throws -> Next {
        outcomes.stray += 1
        return .exit(.normal)
    }
    mutating func timeout(_ process: ProcessContext<Never>) throws -> Next {
        process.currentNode.closeRequest(request!.ref, of: process.pid)
        outcomes.timedOut += 1
        return .exit(.normal)
    }
}

final class Outcomes: @unchecked Sendable {
    var timedOut = 0
    var stray = 0
}

/// Starts `remaining` servers one after another, each after the previous one's init finished.
func startServers(_ process: ProcessContext<Never>, remaining: Int) throws -> Step<Never> {
    guard remaining > 0 else { return .exit(.normal) }
    return try process.startServer(CountServer.self, CountServer()) { result, process in
        _ = try result.get()
        return try startServers(process, remaining: remaining - 1)
    }
}
