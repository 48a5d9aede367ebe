/// Starting a call or a cast, shared by every caller kind (a process, a server handler, the node itself).
extension Node {
    /// Resolves `server`, opens the request and sends it. Immediate failures: unknown name, dead server,
    /// calling self, full mailbox. Thread: loop thread only.
    /// With `deferNoProcess` (Erlang's `send_request`), a dead server is reported by the request's `DOWN`
    /// (`noproc`) when the response is checked, not at once.
    @inlinable
    func beginCall<T: GenServer>(from caller: PID, to server: ServerRef<T>, _ request: T.Call,
                                 deferNoProcess: Bool = false, serveIdle: Bool = false)
        -> Result<RequestID<T.Reply>, CallError>
    {
        beginCall(from: caller, to: server, deferNoProcess: deferNoProcess, serveIdle: serveIdle) {
            (_: Caller<T.Reply>) in request
        }
    }

    /// `beginCall` for a request that names its own reply type: `request` builds the server's `Call`
    /// around the typed `Caller<R>` the server answers (a request per reply type, `call(_:_:)` with a
    /// closure). Made once the request's reference exists; no allocation.
    /// With `serveIdle`, an idle server of this loop (`idleServer`) handles the request at once
    /// (`serveNow`), and one queued to run has its turn now (`serveQueued`); with `takesReplyAtOnce` too,
    /// the caller takes the response right after this returns, with `takeQueuedResponse` (a process's
    /// `call`), so a reply given in that turn is held for it (`serve`);
    /// such a request borrows its reference (`MonitorTable.spareRef`) and gets a monitor only if its caller
    /// has to wait after all (`awaitServedRequest`).
    @inlinable @inline(__always)
    func beginCall<T: GenServer, R>(from caller: PID, to server: ServerRef<T>, deferNoProcess: Bool = false,
                                    serveIdle: Bool = false, takesReplyAtOnce: Bool = false,
                                    _ request: (Caller<R>) -> T.Call)
        -> Result<RequestID<R>, CallError>
    {
        // A pid of another node or loop: not one of this loop's processes, so no lookup here. A server of
        // another loop is called there; its request's id comes back in registers and the `Result` is made
        // here, where the caller takes it apart at once (a `Result` holding a 40-byte `CallError` came back
        // through memory and was copied once more: about 90 instructions a call). Anything else fails in
        // `callNotResolved`.
        if case .pid(let pid) = server.target, pid.node != number {
            if isSibling(pid) { return callSibling(pid, from: caller, request, of: T.self) }
            return callNotResolved(.noProcess(pid), from: caller, request, of: T.self, deferNoProcess: deferNoProcess)
        }
        let address: Address<ServerMessage<T>>
        do {
            address = try resolve(server)
        } catch {
            return callNotResolved(error, from: caller, request, of: T.self, deferNoProcess: deferNoProcess)
        }
        if address.pid == caller {
            callFailed(.callingSelf(caller))
            return .failure(.callingSelf(caller))
        }
        // A call whose reply may be held (`serve`) borrows a reference and has a monitor only if it waits.
        let holds = takesReplyAtOnce && scheduler.mayHoldReply
        let ref = holds ? monitors.spareRef : openRequest(from: caller, to: address.pid)
        callStarted(ref)
        if _slowPath(traces) { traceCall(ref, to: server.description, request: T.Call.self) }
        defer { if _slowPath(traces) { tracedCallSent() } }
        // An idle server is handed the request without a trip through the run queue, and served below.
        let idle = serveIdle ? idleServer(address) : nil
        do {
            let message = ServerMessage<T>.call(request(Caller(pid: caller, ref: ref)), Caller(pid: caller, ref: ref))
            if let idle {
                try deliver(moving: message, toIdle: idle, address)
            } else {
                try deliver(moving: message, to: address)
            }
        } catch {
            let failure: CallError
            if case .mailboxFull(let pid, let capacity) = error {
                failure = .mailboxFull(pid, capacity: capacity)
            } else {
                failure = .noProcess(address.pid)
            }
            closeRequest(ref, of: caller, outcome: CallOutcome(failure))
            return .failure(failure)
        }
        if let idle {
            if holds {
                serve(idle, address.pid, request: ref, from: caller)
            } else {
                serveNow(idle, raw: address.pid.rawValue)
            }
        } else if serveIdle {
            serveQueued(address.pid, request: holds ? ref : nil, from: caller)
        }
        if holds && scheduler.heldReply != ref.rawValue { awaitServedRequest(ref, from: caller, to: address.pid) }
        return .success(RequestID(ref: ref, server: address.pid))
    }

    /// `beginCall` when `resolve` found no server of this loop, or the pid is of another node or loop: a
    /// server of another loop of the group gets the request there; with `deferNoProcess` a dead server is
    /// reported by the request's `DOWN`; anything else fails now. Out of line: the call path stays small.
    @inlinable @inline(never)
    func callNotResolved<T: GenServer, R>(_ error: CallError, from caller: PID, _ request: (Caller<R>) -> T.Call,
                                          of type: T.Type, deferNoProcess: Bool) -> Result<RequestID<R>, CallError> {
        if case .noProcess(let pid) = error, isSibling(pid) { return callSibling(pid, from: caller, request, of: type) }
        if deferNoProcess, case .noProcess(let pid) = error {
            let ref = openRequest(from: caller, to: pid)
            callStarted(ref)
            return .success(RequestID(ref: ref, server: pid))
        }
        callFailed(error)
        return .failure(error)
    }

    /// Calls `server` of another loop of the group (`beginSiblingCall`), its `Result` made here, inline in
    /// the caller: the call's id comes back in registers.
    @inlinable @inline(__always)
    func callSibling<T: GenServer, R>(_ server: PID, from caller: PID, _ request: (Caller<R>) -> T.Call,
                                      of type: T.Type) -> Result<RequestID<R>, CallError> {
        guard let id = beginSiblingCall(from: caller, to: server, request, of: type) else {
            return .failure(siblingRefusal(server))
        }
        return .success(id)
    }

    /// Sends a system request (`sys`), answered even while the server is suspended.
    @inlinable
    func beginSystemCall<T: GenServer>(from caller: PID, to server: ServerRef<T>, _ request: SystemRequest<T>)
        -> Result<RequestID<SystemReply<T>>, CallError>
    {
        let address: Address<ServerMessage<T>>
        do { address = try resolve(server) } catch { return .failure(error) }
        if address.pid == caller { return .failure(.callingSelf(caller)) }
        let ref = openRequest(from: caller, to: address.pid)
        // System requests bypass the mailbox bound: control must get through to a flooded server.
        table.withMailbox(address.pid, of: ServerMessage<T>.self) { server in
            server.forceDeliver(.message(.system(request, Caller(pid: caller, ref: ref))), node: self)
        }
        return .success(RequestID(ref: ref, server: address.pid))
    }

    /// Casts `message` to `server` (Erlang's `gen_server:cast`): never blocks; the outcome says whether it
    /// was delivered. Thread: loop thread only.
    @inlinable @discardableResult
    public func cast<T: GenServer>(_ server: ServerRef<T>, _ message: T.Cast) -> CastOutcome {
        preconditionInLoop()
        let address: Address<ServerMessage<T>>
        do {
            address = try resolve(server)
        } catch {
            switch error {
            case .unknownName(let name): return .unknownName(name)
            case .noProcess(let pid):
                if isSibling(pid) { return castToSibling(pid, ServerMessage<T>.cast(message)) }
                counters.droppedToDeadProcesses &+= 1
                return .noProcess(pid)
            default: return .wrongServerType(server.description)  // resolve's third error
            }
        }
        do {
            try deliver(moving: .cast(message), to: address)  // the thread was checked above
            return .delivered
        } catch {
            if case .mailboxFull(let pid, let capacity) = error { return .mailboxFull(pid, capacity: capacity) }
            return .noProcess(address.pid)
        }
    }

    /// Sends a plain `Info` message to a server (it arrives in `handleInfo`).
    /// - Throws: `ProcessError` as `send(_:to:)` does; an unknown name or registry key throws `unknownName`.
    @inlinable
    public func send<T: GenServer>(_ message: T.Info, to server: ServerRef<T>) throws(ProcessError) {
        switch server.target {
        case .pid(let pid): try send(ServerMessage<T>.info(message), to: pid)
        case .name(let name): try send(ServerMessage<T>.info(message), to: name)
        case .via(let name):
            guard let pid = name.pid else { throw .unknownName(name.description) }
            try send(ServerMessage<T>.info(message), to: pid)
        }
    }
}
