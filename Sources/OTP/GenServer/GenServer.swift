/// A generic server: a process that holds state and answers calls, casts and other messages, with
/// Erlang's `gen_server` semantics.
///
/// The conforming type *is* the server's state: its handlers are `mutating` and change it in place. The
/// server declares its message types, so a wrong message is a compile error:
///
/// - `Call` / `Reply`: synchronous requests and their answers (`Node.call`, `ProcessContext.call`);
/// - `Cast`: fire-and-forget messages (`Node.cast`);
/// - `Info`: plain messages sent to the server (`Node.send(_:to:)` with its `ServerRef`), timers
///   (`ServerContext.sendAfter`); monitor `DOWN`s, trapped `EXIT`s, idle timeouts and responses to
///   `sendRequest` reach `handleInfo` too (`InfoMessage`);
/// - `Continue`: the values handed from a handler to `handleContinue`;
/// - `Argument`: what `initialize` starts from.
///
/// Handlers are synchronous functions on the loop thread. Each returns a `ServerResult`: reply, no reply,
/// stop (optionally replying after `terminate` ran), or await another server's reply
/// (`ServerContext.call`), each optionally followed by an `Action` (idle timeout, continue, hibernate).
/// A handler that throws crashes the server: a crash report is written, `terminate` runs, callers waiting
/// on it get `CallError.serverExited` with the error.
public protocol GenServer: SendableMetatype {
    associatedtype Argument = Self
    associatedtype Call = Never
    associatedtype Reply: Sendable = Never
    associatedtype Cast = Never
    associatedtype Info = Never
    associatedtype Continue = Never

    /// Builds the initial state. `start` returns only after this (and any call it awaits) has finished.
    static func initialize(_ argument: Argument, _ server: ServerContext<Self>) throws -> Initialization<Self>

    /// Answers a call: return `.reply(value)`, or `.noReply` and answer later with `server.reply(to:_:)`.
    mutating func handleCall(_ request: Call, from caller: Caller<Reply>, _ server: ServerContext<Self>) throws
        -> ServerResult<Self>

    /// Handles a cast.
    mutating func handleCast(_ message: Cast, _ server: ServerContext<Self>) throws -> ServerResult<Self>

    /// Handles every other message: plain `Info` messages, `DOWN`, trapped `EXIT`, the idle timeout and
    /// responses to `sendRequest`. The default ignores them.
    mutating func handleInfo(_ message: InfoMessage<Info>, _ server: ServerContext<Self>) throws -> ServerResult<Self>

    /// Runs right after the handler that returned `.continue(value)`, before any other message.
    mutating func handleContinue(_ value: Continue, _ server: ServerContext<Self>) throws -> ServerResult<Self>

    /// Runs when the server stops: after a `.stop` result, a handler that threw, `Node.stop(_:)`, or an
    /// exit signal from its parent while it traps exits. Not after `kill`. An error it throws is reported
    /// and becomes the exit reason.
    mutating func terminate(_ reason: ExitReason, _ server: ServerContext<Self>) throws

    /// How crash reports show the state. The default is `String(describing: self)`.
    func formatStatus() -> String

    /// For the runtime's own servers that stop in steps (supervisors stop their children first, newest
    /// first): begins the stop asked for by a parent's exit, a `sys` stop (`request`, answered at the end)
    /// or a node shutdown, returning the result that carries it out. The default returns `nil`: `terminate`
    /// runs at once. Not meant for user servers.
    static func _beginOrderlyStop(_ reason: ExitReason, replyingTo request: (pid: PID, ref: Ref)?,
                                  _ state: inout Self, _ server: ServerContext<Self>) -> ServerResult<Self>?

    /// Whether `_beginOrderlyStop` takes steps (a supervisor): no fixed time limit applies to its stop as a
    /// whole, and snapshots show it as a supervisor. Default: `false`.
    static var _stopsInSteps: Bool { get }
}

extension GenServer where Argument == Self {
    /// Starts from the argument itself: `start(Counter(count: 0))`.
    public static func initialize(_ argument: Self, _ server: ServerContext<Self>) throws -> Initialization<Self> {
        .ok(argument)
    }
}

extension GenServer where Call == Never {
    public mutating func handleCall(_ request: Never, from caller: Caller<Reply>, _ server: ServerContext<Self>)
        throws -> ServerResult<Self> {}
}

extension GenServer where Cast == Never {
    public mutating func handleCast(_ message: Never, _ server: ServerContext<Self>) throws -> ServerResult<Self> {}
}

extension GenServer where Continue == Never {
    public mutating func handleContinue(_ value: Never, _ server: ServerContext<Self>) throws -> ServerResult<Self> {}
}

extension GenServer {
    public mutating func handleInfo(_ message: InfoMessage<Info>, _ server: ServerContext<Self>) throws
        -> ServerResult<Self>
    {
        .noReply
    }

    public mutating func terminate(_ reason: ExitReason, _ server: ServerContext<Self>) throws {}

    public func formatStatus() -> String { String(describing: self) }

    public static func _beginOrderlyStop(_ reason: ExitReason, replyingTo request: (pid: PID, ref: Ref)?,
                                         _ state: inout Self, _ server: ServerContext<Self>) -> ServerResult<Self>? {
        nil
    }

    public static var _stopsInSteps: Bool { false }
}
