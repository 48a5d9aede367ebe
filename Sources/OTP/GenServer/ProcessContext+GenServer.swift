/// GenServer operations from plain processes, continuation-passing: each returns the `Step` that waits for
/// the outcome and then runs `then`. The process's other messages stay queued, in order, meanwhile.
extension ProcessContext {
    /// Calls `server` (Erlang's `gen_server:call`): waits for the reply, the server's exit or the timeout,
    /// then runs `then`. Immediate failures (unknown name, dead server, calling self, full mailbox) run
    /// `then` at once.
    ///
    /// A server of this node that is idle handles the call at once, inside this handler
    /// (`NodeStatistics.callsServedInline`); `then` then runs at once too, with no wait and no allocation
    /// for it. Either way the process's other messages stay queued, and a `.same` returned from `then` waits
    /// again with the receive that was in force when the call was made.
    ///
    /// `then` is taken as written (an autoclosure): the closure is made only when the call has to wait for
    /// its outcome, so a call that ends at once — served inline, or failed — runs it without allocating its
    /// context (what it captures is passed on directly). The expression is evaluated once, after the request
    /// has been sent.
    @inlinable @inline(__always)
    public func call<S: GenServer>(
        _ server: ServerRef<S>, _ request: S.Call, timeout: Timeout = .seconds(5),
        then: @autoclosure () -> (Result<S.Reply, CallError>, ProcessContext<Message>) throws -> Step<Message>
    ) throws -> Step<Message> {
        try ask(server, timeout: timeout, { (_: Caller<S.Reply>) in request }, then: then())
    }

    /// Calls `server` with a request that names its own reply type (Akka's ask pattern): `request` builds
    /// the server's `Call` around the `Caller<R>` the server answers (`case get(String, Caller<String?>)`),
    /// and `then` gets an `R` — no reply enum to unpack:
    /// `try process.ask(kv, { .get("name", $0) }) { name, process in ... }`. Otherwise as
    /// `call(_:_:timeout:then:)` (a call in every other respect: monitor, timeout, typed errors; `then` made
    /// only when the call waits).
    @inlinable @inline(__always)
    public func ask<S: GenServer, R>(
        _ server: ServerRef<S>, timeout: Timeout = .seconds(5), _ request: (Caller<R>) -> S.Call,
        then: @autoclosure () -> (Result<R, CallError>, ProcessContext<Message>) throws -> Step<Message>
    ) throws -> Step<Message> {
        // A poll (`.zero`) finds no reply, as in Erlang; an invalid timeout is refused by the wait.
        let serveIdle = timeout.outlastsHandler
        let id: RequestID<R>
        // Switched over as it is made: each case's payload is moved out, and no `Result` is left to destroy.
        switch withNode({
            $0.beginCall(from: pid, to: server, serveIdle: serveIdle, takesReplyAtOnce: serveIdle, request)
        }) {
        case .failure(let error): return try then()(.failure(error), self)
        case .success(let begun): id = begun
        }
        // Only a server of this loop can have answered already: another loop's or node's reply arrives
        // between turns, never inside this handler.
        if serveIdle, id.server.node == pid.node,
           let outcome = withNode({ $0.takeQueuedResponse(to: id, of: pid, as: Message.self) }) {
            withNode { $0.scheduler.nestedContinuations &+= 1 }
            defer { withNode { $0.scheduler.nestedContinuations &-= 1 } }
            return try then()(outcome, self)
        }
        return receiveResponse(id, timeout: timeout, then: then())
    }

    /// Sends a request and returns at once (Erlang's `send_request`); the response arrives as an
    /// `Envelope.reply` (or the server's `DOWN`). Match it with `Envelope.isResponse(to:)`.
    /// A dead server is reported through the response (`noProcess`), as in Erlang.
    @inlinable
    public func sendRequest<S: GenServer>(_ server: ServerRef<S>, _ request: S.Call)
        -> Result<RequestID<S.Reply>, CallError>
    {
        withNode { $0.beginCall(from: pid, to: server, request, deferNoProcess: true) }
    }

    /// `sendRequest` with a request that names its own reply type (see `ask(_:timeout:_:then:)`).
    @inlinable
    public func sendRequest<S: GenServer, R>(_ server: ServerRef<S>, _ request: (Caller<R>) -> S.Call)
        -> Result<RequestID<R>, CallError>
    {
        withNode { $0.beginCall(from: pid, to: server, deferNoProcess: true, request) }
    }

    /// The outcome of request `id` if `envelope` is its response (Erlang's `check_response`), else `nil`.
    @inlinable
    public func check<R>(_ envelope: Envelope<Message>, for id: RequestID<R>) -> Result<R, CallError>? {
        withNode { $0.response(to: id, of: pid, in: envelope) }
    }

    /// Waits for the response to request `id` (Erlang's `receive_response`).
    @inlinable
    public func receiveResponse<R>(
        _ id: RequestID<R>, timeout: Timeout = .seconds(5),
        then: @escaping (Result<R, CallError>, ProcessContext<Message>) throws -> Step<Message>
    ) -> Step<Message> {
        // The body captures the wait object only: no closure context is made for it (`ResponseWait`).
        let wait = withNode { ResponseWait.make(id, on: $0, then: then) }
        return .receive(Receive(response: id.ref, timeout: timeout) { [wait] envelope, process in
            try wait.resume(envelope, process)
        })
    }

    /// Gives up on request `id` (its caller's own timer ended the wait, say): the request's monitor goes, and
    /// a reply that arrives later is dropped and counted (Erlang's `erlang:demonitor(ReqId, [flush])`).
    /// Counted as a cancelled call. Giving up on a request that has ended already does nothing.
    @inlinable
    public func abandon<R>(_ id: RequestID<R>) {
        withNode { $0.abandonRequest(id.ref, of: pid) }
    }

    /// Monitors `server` (Erlang's `monitor(process, Name)` for a name): a registered name or registry key is
    /// resolved now, and the monitor watches the process found, as Erlang's does.
    /// - Throws: `ProcessError.unknownName` when nothing is registered under the name or key (Erlang would
    ///   send an immediate `DOWN` with `noproc`; a `DOWN` names a pid here, and there is none).
    public func monitor<S: GenServer>(_ server: ServerRef<S>) throws(ProcessError) -> Ref {
        try monitor(node.pid(of: server))
    }

    /// Casts to `server`. Never blocks.
    @inlinable @discardableResult
    public func cast<S: GenServer>(_ server: ServerRef<S>, _ message: S.Cast) -> CastOutcome {
        withNode { $0.cast(server, message) }
    }

    /// Starts a GenServer (Erlang's `start`, `start_link` with `options.link`, `start_monitor` with
    /// `options.monitor`) and runs `then` once `initialize` has decided, or the start timeout passed (the
    /// server is then killed).
    ///
    /// A server placed on this loop runs its first turn — `initialize` — at once, inside this handler, as a
    /// call to an idle server does (`Node.startAtOnce`); when it decides in that turn, `then` runs at once
    /// too, with no wait stored. One that awaits something in `initialize`, or whose continuations are
    /// nested too deep, is waited for as usual. As with `call`, `then` is an autoclosure: its closure is made
    /// only when the start is waited for, once `initialize` has run or been scheduled.
    @inlinable @inline(__always)
    public func startServer<S: GenServer>(
        _ type: S.Type, _ argument: S.Argument, options: StartOptions = StartOptions(),
        then: @autoclosure () -> (Result<Started<S>, StartError>, ProcessContext<Message>) throws -> Step<Message>
    ) throws -> Step<Message> {
        let started: (pid: PID, ack: RequestID<StartAck>, monitor: Ref?)
        switch node.beginStart(type, argument, options: options, starter: pid) {
        case .failure(let error): return try then()(.failure(error), self)
        case .success(let value): started = value
        }
        // A server of this loop initialises at once, inside this handler; `then` then runs at once too.
        if options.timeout.outlastsHandler,
           let outcome = withNode({ $0.startAtOnce(started.pid, ack: started.ack, starter: pid, as: Message.self) }) {
            let result: Result<Started<S>, StartError> =
                node.startOutcome(outcome, pid: started.pid, monitor: started.monitor)
            withNode { $0.scheduler.nestedContinuations &+= 1 }
            defer { withNode { $0.scheduler.nestedContinuations &-= 1 } }
            return try then()(result, self)
        }
        return awaitStart(started.pid, ack: started.ack, monitor: started.monitor, timeout: options.timeout, then: then())
    }

    /// Waits for server `server`'s start acknowledgement `ack` — its `initialize` deciding — at most
    /// `timeout` (then the server is killed, as gen_server's start timeout does), and runs `then` with the
    /// start's outcome. Shared by a start on this loop and on another (`startServer(_:_:on:options:then:)`).
    @inlinable
    func awaitStart<S: GenServer>(
        _ server: PID, ack: RequestID<StartAck>, monitor: Ref?, timeout: Timeout,
        then: @escaping (Result<Started<S>, StartError>, ProcessContext<Message>) throws -> Step<Message>
    ) -> Step<Message> {
        .receive(Receive(response: ack.ref, timeout: timeout) { envelope, process in
            if Receive.isTimedOut(envelope) {
                let node = process.node
                node.unlink(process.pid, server)
                node.exit(server, reason: .kill, from: process.pid)
                _ = node.endRequest(ack, of: process.pid, .timeout)
                if let monitor { node.demonitor(monitor, by: process.pid, flush: true) }
                return try then(.failure(.timeout), process)
            }
            let outcome = process.node.response(to: ack, of: process.pid, in: envelope)!
            return try then(process.node.startOutcome(outcome, pid: server, monitor: monitor), process)
        })
    }

    /// Stops `server` synchronously (Erlang's `gen_server:stop`): `terminate` runs with `reason`, then `then`
    /// runs with success; `noProcess`/`unknownName` when it is not running.
    @inlinable
    public func stop<S: GenServer>(
        _ server: ServerRef<S>, reason: ExitReason = .normal, timeout: Timeout = .infinity,
        then: @escaping (Result<Void, CallError>, ProcessContext<Message>) throws -> Step<Message>
    ) throws -> Step<Message> {
        try system(server, .stop(reason), timeout: timeout) { result, process in
            try then(result.map { _ in () }, process)
        }
    }

    /// Sends a `sys` request and runs `then` with its reply.
    @inlinable
    public func system<S: GenServer>(
        _ server: ServerRef<S>, _ request: SystemRequest<S>, timeout: Timeout = .seconds(5),
        then: @escaping (Result<SystemReply<S>, CallError>, ProcessContext<Message>) throws -> Step<Message>
    ) throws -> Step<Message> {
        switch node.beginSystemCall(from: pid, to: server, request) {
        case .failure(let error): return try then(.failure(error), self)
        case .success(let id): return receiveResponse(id, timeout: timeout, then: then)
        }
    }
}

// MARK: Timeouts as a Swift `Duration` (rounded up to whole milliseconds; disfavoured, so a literal
// such as `.seconds(2)` stays a `Timeout`)

extension ProcessContext {
    /// `call(_:_:timeout:then:)` waiting at most `timeout`.
    @inlinable @inline(__always) @_disfavoredOverload
    public func call<S: GenServer>(
        _ server: ServerRef<S>, _ request: S.Call, timeout: Duration,
        then: @autoclosure () -> (Result<S.Reply, CallError>, ProcessContext<Message>) throws -> Step<Message>
    ) throws -> Step<Message> {
        try call(server, request, timeout: Timeout(timeout), then: then())
    }

    /// `receiveResponse(_:timeout:then:)` waiting at most `timeout`.
    @inlinable @_disfavoredOverload
    public func receiveResponse<R>(
        _ id: RequestID<R>, timeout: Duration,
        then: @escaping (Result<R, CallError>, ProcessContext<Message>) throws -> Step<Message>
    ) -> Step<Message> {
        receiveResponse(id, timeout: Timeout(timeout), then: then)
    }

    /// `stop(_:reason:timeout:then:)` waiting at most `timeout`.
    @inlinable @_disfavoredOverload
    public func stop<S: GenServer>(
        _ server: ServerRef<S>, reason: ExitReason = .normal, timeout: Duration,
        then: @escaping (Result<Void, CallError>, ProcessContext<Message>) throws -> Step<Message>
    ) throws -> Step<Message> {
        try stop(server, reason: reason, timeout: Timeout(timeout), then: then)
    }

    /// `system(_:_:timeout:then:)` waiting at most `timeout`.
    @inlinable @_disfavoredOverload
    public func system<S: GenServer>(
        _ server: ServerRef<S>, _ request: SystemRequest<S>, timeout: Duration,
        then: @escaping (Result<SystemReply<S>, CallError>, ProcessContext<Message>) throws -> Step<Message>
    ) throws -> Step<Message> {
        try system(server, request, timeout: Timeout(timeout), then: then)
    }
}
