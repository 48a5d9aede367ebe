/// A Swift function that other nodes reach as `Module:Function/Arity` (Erlang's `rpc:call/4,5`,
/// `rpc:cast/4`, Elixir's `:rpc.call/4`), exported with `Node.export(_:_:_:)`.
///
/// Its arguments arrive as the terms of the caller's argument list and its result goes back as a term; the
/// typed forms (`RPCFunction.typed`) decode each argument (`TermDecodable`) and encode the result
/// (`TermEncodable`). A synchronous function runs on the node's loop thread, as a handler does: keep it
/// short. An `async` one runs as a Swift task off the loop, and its result is sent from the loop when it is
/// done, so it may await I/O.
///
/// What the caller sees when it does not return (Erlang's shapes, `rpc:call`):
/// - an argument that does not decode: `{badrpc, {'EXIT', {function_clause, Stack}}}`;
/// - no such function or arity: `{badrpc, {'EXIT', {undef, Stack}}}`;
/// - a thrown `RPCFailure`: `.error(R)` is `{badrpc, {'EXIT', {R, Stack}}}`, `.exit(R)` is
///   `{badrpc, {'EXIT', R}}`, `.thrown(V)` returns `V` (as Erlang's `catch` gives a `throw`);
/// - any other Swift error: as `.error({swift_error, <<"Type: description">>})`, the text bounded.
/// Stack is `[{Module, Function, Arity, []}]`.
public struct RPCFunction: Sendable {
    @usableFromInline
    enum Body: Sendable {
        case onLoop(@Sendable ([Term]) throws -> Term)
        case offLoop(@Sendable ([Term]) async throws -> Term)
    }

    /// How many arguments it takes.
    public let arity: Int
    @usableFromInline let body: Body

    /// A function of `arity` raw terms, run on the loop thread.
    public init(arity: Int, _ body: @escaping @Sendable ([Term]) throws -> Term) {
        self.arity = arity
        self.body = .onLoop(body)
    }

    /// A function of `arity` raw terms, run as a Swift task off the loop.
    public init(arity: Int, _ body: @escaping @Sendable ([Term]) async throws -> Term) {
        self.arity = arity
        self.body = .offLoop(body)
    }
}

/// An exported function's way to fail in one of Erlang's three exception classes.
public enum RPCFailure: Error, Sendable, Equatable {
    /// `erlang:error(Reason)`.
    case error(Term)
    /// `exit(Reason)`.
    case exit(Term)
    /// `throw(Value)`.
    case thrown(Term)
}

extension RPCFunction {
    /// Decodes argument `index` as `A`; a mismatch is Erlang's `function_clause`.
    @usableFromInline
    static func argument<A: TermDecodable>(_ arguments: [Term], _ index: Int, as _: A.Type) throws(RPCFailure) -> A {
        do { return try A(term: arguments[index]) } catch { throw .error(.atom("function_clause")) }
    }

    /// Encodes a result; a value that cannot be encoded is an `error` with the encoder's reason.
    @usableFromInline
    static func result(_ value: some TermEncodable) throws(RPCFailure) -> Term {
        do { return try value.toTerm() } catch {
            throw .error(.tuple([.atom("swift_unencodable_result"), .boundedText(error.description)]))
        }
    }

    // Typed forms, run on the loop thread.

    public static func typed<R: TermEncodable>(_ body: @escaping @Sendable () throws -> R) -> RPCFunction {
        RPCFunction(arity: 0) { (_: [Term]) throws -> Term in try result(body()) }
    }

    public static func typed<A: TermDecodable, R: TermEncodable>(_ body: @escaping @Sendable (A) throws -> R) -> RPCFunction {
        RPCFunction(arity: 1) { (arguments: [Term]) throws -> Term in
            try result(body(argument(arguments, 0, as: A.self)))
        }
    }

    public static func typed<A: TermDecodable, B: TermDecodable, R: TermEncodable>(
        _ body: @escaping @Sendable (A, B) throws -> R
    ) -> RPCFunction {
        RPCFunction(arity: 2) { (arguments: [Term]) throws -> Term in
            try result(body(argument(arguments, 0, as: A.self), argument(arguments, 1, as: B.self)))
        }
    }

    public static func typed<A: TermDecodable, B: TermDecodable, C: TermDecodable, R: TermEncodable>(
        _ body: @escaping @Sendable (A, B, C) throws -> R
    ) -> RPCFunction {
        RPCFunction(arity: 3) { (arguments: [Term]) throws -> Term in
            try result(body(argument(arguments, 0, as: A.self), argument(arguments, 1, as: B.self),
                            argument(arguments, 2, as: C.self)))
        }
    }

    // Typed forms, run as a Swift task off the loop.

    public static func typed<R: TermEncodable>(_ body: @escaping @Sendable () async throws -> R) -> RPCFunction {
        RPCFunction(arity: 0) { (_: [Term]) async throws -> Term in try await result(body()) }
    }

    public static func typed<A: TermDecodable, R: TermEncodable>(_ body: @escaping @Sendable (A) async throws -> R)
        -> RPCFunction
    {
        RPCFunction(arity: 1) { (arguments: [Term]) async throws -> Term in
            try await result(body(argument(arguments, 0, as: A.self)))
        }
    }

    public static func typed<A: TermDecodable, B: TermDecodable, R: TermEncodable>(
        _ body: @escaping @Sendable (A, B) async throws -> R
    ) -> RPCFunction {
        RPCFunction(arity: 2) { (arguments: [Term]) async throws -> Term in
            try await result(body(argument(arguments, 0, as: A.self), argument(arguments, 1, as: B.self)))
        }
    }
}

extension Term {
    /// A Swift text for another node, as an Elixir string (a binary): escaped and bounded like a log line
    /// (`LogText`, 1,000 characters), since the peer may print it.
    static func boundedText(_ text: String) -> Term {
        .binary(Array(LogText(text, limit: 1_000).description.utf8))
    }
}

/// What starts a process for another node's `spawn(Node, Module, Function, Args)` (Elixir's `Node.spawn/4`,
/// `erlang:spawn_request/5`), registered with `Node.exportSpawn`: it gets the argument terms and the node,
/// on the loop thread, and spawns or starts whatever it likes — a process of `Term`s, a GenServer — returning
/// its pid. The requester's `link` and `monitor` options hold on that process.
public struct SpawnFactory: Sendable {
    /// How many arguments it takes.
    public let arity: Int
    let make: @Sendable ([Term], Node) throws -> PID

    public init(arity: Int, _ make: @escaping @Sendable (_ arguments: [Term], _ node: Node) throws -> PID) {
        self.arity = arity
        self.make = make
    }
}
