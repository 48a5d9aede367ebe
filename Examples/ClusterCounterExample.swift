import OTP

/// A counter that Erlang and Elixir nodes call: its messages are Erlang terms.
///
/// From an Erlang shell: `gen_server:call({counter, 'swift@localhost'}, {add, 5})` answers `5`;
/// `gen_server:call({counter, 'swift@localhost'}, get)` the total; `gen_server:cast({counter, ...}, reset)`.
/// From Elixir: `GenServer.call({:counter, :"swift@localhost"}, {:add, 5})`. See docs/distribution.md.
public struct ClusterCounter: GenServer, Sendable {
    /// The requests, decoded from Erlang's tagged tuples by hand: `{add, N}` and `get`.
    public enum Call: TermDecodable, Sendable {
        case add(Int)
        case get

        public init(term: Term) throws(TermConversionError) {
            if term == .atom("get") {
                self = .get
            } else if let elements = term.tupleElements, elements.count == 2, elements[0] == .atom("add"),
                      let amount = elements[1].intValue {
                self = .add(amount)
            } else {
                throw .mismatch(expected: "{add, Integer} | get", got: term)
            }
        }
    }

    /// `reset`.
    public enum Cast: TermDecodable, Sendable {
        case reset

        public init(term: Term) throws(TermConversionError) {
            guard term == .atom("reset") else { throw .mismatch(expected: "reset", got: term) }
            self = .reset
        }
    }

    /// `Int` is `TermEncodable`: the reply travels as an Erlang integer.
    public typealias Reply = Int

    public var total = 0

    public init() {}

    public mutating func handleCall(_ request: Call, from caller: Caller<Int>, _ server: ServerContext<Self>) throws
        -> ServerResult<Self>
    {
        switch request {
        case .add(let amount):
            total += amount
            return .reply(total)
        case .get:
            return .reply(total)
        }
    }

    public mutating func handleCast(_ message: Cast, _ server: ServerContext<Self>) throws -> ServerResult<Self> {
        total = 0
        return .noReply
    }
}
