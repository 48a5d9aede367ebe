// Process behaviours and servers shared by the benchmark suite (CoreBenchmarks) and the comparison
// runner (Compare). Public and @inlinable, so each benchmark runs them specialised.
import OTP

/// Counts what it receives; the allocation-free receiver of the send benchmarks.
public struct Sink: ProcessBehavior {
    public init() {}
    public typealias Message = Int
    public var count = 0
    @inlinable
    public mutating func receive(_ envelope: consuming Envelope<Int>, _ process: ProcessContext<Int>) throws -> Next {
        count &+= 1
        return .receive
    }
}

/// One side of a ping-pong: returns the ball to its peer until the count reaches zero.
public struct Player: ProcessBehavior {
    public init(timeout: Timeout = .infinity) { self.timeout = timeout }
    public enum Message: Sendable {
        case peer(Address<Message>)
        case ball(Int)
    }
    public var peer: Address<Message>?
    /// The receive timeout of each wait for the ball's return (infinity: no timer).
    public var timeout: Timeout = .infinity
    /// Each wait that expects the ball back has the receive timeout; the others (before the rally, and after
    /// the last ball) wait without one, so an idle loop is not kept alive by a timer nobody needs.
    @inlinable
    public mutating func receive(_ envelope: consuming Envelope<Message>, _ process: ProcessContext<Message>) throws -> Next {
        switch envelope {
        case .message(.peer(let peer)):
            self.peer = peer
        case .message(.ball(let n)):
            if n > 0 { try process.send(.ball(n - 1), to: peer!) }
            if n > 1 { return .receive(timeout: timeout) }  // ball n - 2 comes back
        default:
            break
        }
        return .receive
    }
}

/// A member of a ring: forwards the token to the next member until its hop count runs out.
public struct RingMember: ProcessBehavior {
    public init() {}
    public enum Message: Sendable {
        case next(Address<Message>)
        case token(Int)
    }
    public var next: Address<Message>?
    @inlinable
    public mutating func receive(_ envelope: consuming Envelope<Message>, _ process: ProcessContext<Message>) throws -> Next {
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
public struct Ephemeral: ProcessBehavior {
    public init() {}
    public typealias Message = Int
    @inlinable
    public mutating func start(_ process: ProcessContext<Int>) throws -> Next { .exit(.normal) }
    @inlinable
    public mutating func receive(_ envelope: consuming Envelope<Int>, _ process: ProcessContext<Int>) throws -> Next {
        .receive
    }
}

/// Waits forever.
public struct Waiter: ProcessBehavior {
    public init() {}
    public typealias Message = Int
    @inlinable
    public mutating func receive(_ envelope: consuming Envelope<Int>, _ process: ProcessContext<Int>) throws -> Next {
        .receive
    }
}

/// A GenServer counter: the server side of the call and cast benchmarks.
public struct CountServer: GenServer, Sendable {
    public init() {}
    public enum Call: Sendable { case get, never }
    public enum Cast: Sendable { case add(Int) }
    public typealias Reply = Int
    public var count = 0
    @inlinable
    public mutating func handleCall(_ request: Call, from caller: Caller<Int>, _ server: ServerContext<CountServer>) throws
        -> ServerResult<CountServer>
    {
        if case .never = request { return .noReply }
        return .reply(count)
    }
    @inlinable
    public mutating func handleCast(_ message: Cast, _ server: ServerContext<CountServer>) throws -> ServerResult<CountServer> {
        if case .add(let n) = message { count &+= n }
        return .noReply
    }
}

/// `CountServer` with requests that name their own reply types: no `Reply` enum, each request carries the
/// typed `Caller` it is answered through.
public struct TypedCountServer: GenServer, Sendable {
    public init() {}
    public enum Call: Sendable { case count(Caller<Int>), label(Caller<String>) }
    public var count = 0
    @inlinable
    public mutating func handleCall(_ request: Call, from _: Caller<Never>, _ server: ServerContext<TypedCountServer>)
        throws -> ServerResult<TypedCountServer>
    {
        switch request {
        case .count(let caller): return server.replying(to: caller, count)
        case .label(let caller): return server.replying(to: caller, "count")
        }
    }
}

/// A process that calls `server` `remaining` times in a row, each with Erlang's default 5 s timeout,
/// written as a struct behaviour: a selective wait on the request's reference, no allocation per call.
public struct CallLoop: ProcessBehavior {
    public typealias Message = Never
    public let server: ServerRef<CountServer>
    public var remaining: Int
    public var request: RequestID<Int>?

    @inlinable
    public mutating func start(_ process: ProcessContext<Never>) throws -> Next { try issue(process) }

    @inlinable
    public func accepts(_ envelope: borrowing Envelope<Never>) -> Bool {
        guard let request else { return true }
        return envelope.isResponse(to: request.ref)
    }

    @inlinable
    public mutating func receive(_ envelope: consuming Envelope<Never>, _ process: ProcessContext<Never>) throws -> Next {
        _ = try process.check(envelope, for: request!)!.get()
        remaining -= 1
        return remaining == 0 ? .exit(.normal) : try issue(process)
    }

    @inlinable
    public mutating func timeout(_ process: ProcessContext<Never>) throws -> Next { .exit(.custom("call timed out")) }

    @inlinable
    mutating func issue(_ process: ProcessContext<Never>) throws -> Next {
        request = try process.sendRequest(server, .get).get()
        return .receive(timeout: .seconds(5))
    }
}

/// A caller with a 1 ms timeout against a server that never answers; counts how its call ended.
public struct TimeoutCaller: ProcessBehavior {
    public typealias Message = Never
    public let server: ServerRef<CountServer>
    public let outcomes: Outcomes
    public var request: RequestID<Int>?
    @inlinable
    public mutating func start(_ process: ProcessContext<Never>) throws -> Next {
        request = try process.sendRequest(server, .never).get()
        return .receive(timeout: .milliseconds(1))
    }
    @inlinable
    public mutating func receive(_ envelope: consuming Envelope<Never>, _ process: ProcessContext<Never>) throws -> Next {
        outcomes.stray += 1
        return .exit(.normal)
    }
    @inlinable
    public mutating func timeout(_ process: ProcessContext<Never>) throws -> Next {
        process.abandon(request!)
        outcomes.timedOut += 1
        return .exit(.normal)
    }
}

public final class Outcomes: @unchecked Sendable {
    public init() {}
    public var timedOut = 0
    public var stray = 0
}

// Public initialisers (a struct's memberwise initialiser is internal).

extension CallLoop {
    public init(server: ServerRef<CountServer>, remaining: Int) {
        self.server = server
        self.remaining = remaining
        self.request = nil
    }
}

extension TimeoutCaller {
    public init(server: ServerRef<CountServer>, outcomes: Outcomes) {
        self.server = server
        self.outcomes = outcomes
        self.request = nil
    }
}
