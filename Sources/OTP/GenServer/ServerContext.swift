/// What a GenServer callback sees: its own identity, replies, calls to other servers, requests, timers,
/// and the process operations of its `ProcessContext`.
///
/// Thread: loop thread only; valid during the callback it was given to.
public struct ServerContext<S: GenServer> {
    /// The server's process: links, monitors, exit signals, names, raw sends.
    public let process: ProcessContext<ServerMessage<S>>

    @inlinable
    init(_ process: ProcessContext<ServerMessage<S>>) { self.process = process }

    @inlinable public var pid: PID { process.pid }
    /// A reference to this server.
    @inlinable public var ref: ServerRef<S> { ServerRef(pid: process.pid) }
    /// The node. Loop-thread use only.
    @inlinable public var node: Node { process.currentNode }

    // MARK: Replies

    /// Replies to a caller kept from `handleCall` (a delayed reply). Returns whether it was delivered:
    /// `false` when the caller is gone, timed out, or was answered already (counted as ignored).
    @inlinable @discardableResult
    public func reply<R: Sendable>(to caller: Caller<R>, _ value: R) -> Bool {
        process.withNode { $0.reply(to: caller, value) }
    }

    /// Replies to `caller` at once and returns `.noReply(action)`: the answer to a request that names its
    /// own reply type (`case get(String, Caller<String?>)`): `return server.replying(to: caller, data[key])`.
    @inlinable
    public func replying<R: Sendable>(to caller: Caller<R>, _ value: R, _ action: Action<S> = .none)
        -> ServerResult<S>
    {
        _ = reply(to: caller, value)
        return .noReply(action)
    }

    // MARK: Calling other servers from a handler

    /// Calls `server` and continues with `then` when the outcome is known; the handler returns this
    /// (`return server.call(...)`). The server handles nothing else meanwhile, as in Erlang. `then` may
    /// return any result, including `.reply` to this handler's own caller.
    @inlinable
    public func call<T: GenServer>(
        _ server: ServerRef<T>, _ request: T.Call, timeout: Timeout = .seconds(5),
        then: @escaping (Result<T.Reply, CallError>, inout S, ServerContext<S>) throws -> ServerResult<S>
    ) -> ServerResult<S> {
        .await(pending(node.beginCall(from: pid, to: server, request, serveIdle: timeout.outlastsHandler),
                       timeout: timeout) { result, state, context in
            .result(try then(result, &state!, context))
        })
    }

    /// `call` with a request that names its own reply type (`ProcessContext.ask(_:timeout:_:then:)`).
    @inlinable
    public func ask<T: GenServer, R>(
        _ server: ServerRef<T>, timeout: Timeout = .seconds(5), _ request: (Caller<R>) -> T.Call,
        then: @escaping (Result<R, CallError>, inout S, ServerContext<S>) throws -> ServerResult<S>
    ) -> ServerResult<S> {
        .await(pending(node.beginCall(from: pid, to: server, serveIdle: timeout.outlastsHandler, request),
                       timeout: timeout) { result, state, context in
            .result(try then(result, &state!, context))
        })
    }

    /// `call` from `initialize`: the start completes when `then` decides.
    @inlinable
    public func call<T: GenServer>(
        _ server: ServerRef<T>, _ request: T.Call, timeout: Timeout = .seconds(5),
        then: @escaping (Result<T.Reply, CallError>, ServerContext<S>) throws -> Initialization<S>
    ) -> Initialization<S> {
        .await(pending(node.beginCall(from: pid, to: server, request, serveIdle: timeout.outlastsHandler),
                       timeout: timeout) { result, _, context in
            .initialization(try then(result, context))
        })
    }

    /// Sends a request whose reply arrives later as `InfoMessage.reply` (Erlang's `send_request`); the
    /// server keeps serving others meanwhile. Match the response with `check(_:for:)`, or wait for it with
    /// `receiveResponse`.
    /// A dead server is reported through the response (`noProcess`), as in Erlang; an unknown name, a
    /// request to itself or a full mailbox fail at once.
    @inlinable
    public func sendRequest<T: GenServer>(_ server: ServerRef<T>, _ request: T.Call)
        -> Result<RequestID<T.Reply>, CallError>
    {
        node.beginCall(from: pid, to: server, request, deferNoProcess: true)
    }

    /// `sendRequest` with a request that names its own reply type (`ask(_:timeout:_:then:)`).
    @inlinable
    public func sendRequest<T: GenServer, R>(_ server: ServerRef<T>, _ request: (Caller<R>) -> T.Call)
        -> Result<RequestID<R>, CallError>
    {
        node.beginCall(from: pid, to: server, deferNoProcess: true, request)
    }

    /// The outcome of request `id` if `message` is its response (Erlang's `check_response`), else `nil`.
    @inlinable
    public func check<R>(_ message: InfoMessage<S.Info>, for id: RequestID<R>) -> Result<R, CallError>? {
        switch message {
        case .reply(let ref) where ref == id.ref: return node.endReplied(id, of: pid)
        case .down(let down) where down.monitor == id.ref: return node.endRequest(id, of: pid, .down(down.reason))
        default: return nil
        }
    }

    /// Waits for the response to request `id` (Erlang's `receive_response`), handling nothing else meanwhile.
    @inlinable
    public func receiveResponse<R>(
        _ id: RequestID<R>, timeout: Timeout = .seconds(5),
        then: @escaping (Result<R, CallError>, inout S, ServerContext<S>) throws -> ServerResult<S>
    ) -> ServerResult<S> {
        .await(pending(.success(id), timeout: timeout) { result, state, context in
            .result(try then(result, &state!, context))
        })
    }

    /// Gives up on request `id`: a reply that arrives later is dropped and counted (see
    /// `ProcessContext.abandon`).
    @inlinable
    public func abandon<R>(_ id: RequestID<R>) {
        process.abandon(id)
    }

    /// Casts to another server. Never blocks.
    @inlinable @discardableResult
    public func cast<T: GenServer>(_ server: ServerRef<T>, _ message: T.Cast) -> CastOutcome {
        node.cast(server, message)
    }

    /// Delivers `message` to this server's `handleInfo` after `timeout`.
    @discardableResult
    @inlinable
    public func sendAfter(_ timeout: Timeout, _ message: S.Info) throws(ProcessError) -> TimerRef {
        try node.sendAfter(timeout, .info(message), to: process.address)
    }

    @inlinable
    func pending<R>(
        _ begun: Result<RequestID<R>, CallError>, timeout: Timeout,
        _ next: @escaping (Result<R, CallError>, inout S?, ServerContext<S>) throws -> AwaitOutcome<S>
    ) -> PendingCall<S> {
        switch begun {
        case .failure(let error):
            return PendingCall(ref: nil, timeout: timeout, immediate: error) { _, state, context in
                try next(.failure(error), &state, context)
            }
        case .success(let id):
            return PendingCall(ref: id.ref, timeout: timeout, immediate: nil) { ending, state, context in
                try next(context.node.endRequest(id, of: context.pid, ending), &state, context)
            }
        }
    }
}

/// What a cast did. Casts never block; a refusal is reported here instead of being lost.
public enum CastOutcome: Sendable, Equatable {
    case delivered
    case unknownName(String)
    /// The server is not alive (the message was dropped, as in Erlang).
    case noProcess(PID)
    case mailboxFull(PID, capacity: Int)
    /// The name belongs to a process of another type.
    case wrongServerType(String)
}

/// Several outstanding requests, each with a label (Erlang's request-id collections).
public struct RequestIDCollection<Reply, Label> {
    private var entries: [Ref: (id: RequestID<Reply>, label: Label)] = [:]

    public init() {}

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

    public mutating func add(_ id: RequestID<Reply>, label: Label) {
        entries[id.ref] = (id, label)
    }

    /// If `message` answers one of the requests: its label and outcome, and the request leaves the
    /// collection. `nil` for any other message.
    public mutating func check<S: GenServer>(_ message: InfoMessage<S.Info>, _ server: ServerContext<S>)
        -> (label: Label, result: Result<Reply, CallError>)?
    {
        let ref: Ref
        switch message {
        case .reply(let r): ref = r
        case .down(let down): ref = down.monitor
        default: return nil
        }
        guard let entry = entries[ref], let result = server.check(message, for: entry.id) else { return nil }
        entries[ref] = nil
        return (entry.label, result)
    }
}

// MARK: Timeouts as a Swift `Duration` (rounded up to whole milliseconds; disfavoured, so a literal
// such as `.seconds(2)` stays a `Timeout`)

extension ServerContext {
    /// `call(_:_:timeout:then:)` from a handler, waiting at most `timeout`.
    @inlinable @_disfavoredOverload
    public func call<T: GenServer>(
        _ server: ServerRef<T>, _ request: T.Call, timeout: Duration,
        then: @escaping (Result<T.Reply, CallError>, inout S, ServerContext<S>) throws -> ServerResult<S>
    ) -> ServerResult<S> {
        call(server, request, timeout: Timeout(timeout), then: then)
    }

    /// `call(_:_:timeout:then:)` from `initialize`, waiting at most `timeout`.
    @inlinable @_disfavoredOverload
    public func call<T: GenServer>(
        _ server: ServerRef<T>, _ request: T.Call, timeout: Duration,
        then: @escaping (Result<T.Reply, CallError>, ServerContext<S>) throws -> Initialization<S>
    ) -> Initialization<S> {
        call(server, request, timeout: Timeout(timeout), then: then)
    }

    /// `receiveResponse(_:timeout:then:)` waiting at most `timeout`.
    @inlinable @_disfavoredOverload
    public func receiveResponse<R>(
        _ id: RequestID<R>, timeout: Duration,
        then: @escaping (Result<R, CallError>, inout S, ServerContext<S>) throws -> ServerResult<S>
    ) -> ServerResult<S> {
        receiveResponse(id, timeout: Timeout(timeout), then: then)
    }

    /// `sendAfter(_:_:)` after `duration`.
    @discardableResult @_disfavoredOverload
    public func sendAfter(_ duration: Duration, _ message: S.Info) throws(ProcessError) -> TimerRef {
        try sendAfter(Timeout(duration), message)
    }
}
