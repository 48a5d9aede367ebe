/// The GenServer process: Erlang's `gen_server` loop as a `ProcessBehavior`.
///
/// Each step decodes one envelope, calls one callback, and classifies the callback's result in one place
/// (`apply`), which returns what the scheduler does next. No recursion through the mailbox, no hidden
/// control flow:
///
/// ```
/// receive ─▶ decode (call / cast / info / system / DOWN / EXIT / reply)
///         ─▶ handler ─▶ apply(result) ─▶ reply? ─▶ perform(action) ─▶ Next (wait, idle timeout, exit)
///                              └─ await ─▶ selective wait for that response only ─▶ continuation ─▶ apply
/// ```
///
/// System requests are answered even while suspended; an `EXIT` from the parent (when trapping) stops the
/// server with `terminate`. Thread: loop thread only.
@usableFromInline
struct ServerLoop<S: GenServer>: ProcessBehavior {
    @usableFromInline typealias Message = ServerMessage<S>

    // Fields in order of alignment, with no optional tags beside 8-byte values: every server process holds
    // them (`docs/architecture.md`, "Memory of a process").
    @usableFromInline var statistics: ServerStatistics
    /// A call the server is waiting for (it handles nothing else meanwhile).
    @usableFromInline var pending: PendingCall<S>?
    /// `pending`'s reference (raw; 0 while nothing is awaited), kept apart so that the per-message checks
    /// never reach into the continuation.
    @usableFromInline var pendingRef: UInt64 = 0
    /// The call being handled (kept across an `await`), for `.reply` results.
    @usableFromInline var caller = ReplyTarget.none
    /// Who waits for the start acknowledgement (until `initialize` has decided).
    @usableFromInline var starter: ReplyTarget
    /// The process that started the server linked; its exit signal stops the server.
    @usableFromInline let parent: PID?
    @usableFromInline var suspended = false
    @usableFromInline var tracing = false
    @usableFromInline var argument: S.Argument?
    @usableFromInline var state: S?

    @inlinable
    init(argument: S.Argument, starter: (pid: PID, ref: Ref)?, parent: PID?, startTime: UInt64) {
        self.argument = argument
        self.starter = ReplyTarget(starter)
        self.parent = parent
        self.statistics = ServerStatistics(startTime: startTime)
    }

    // MARK: ProcessBehavior

    @inlinable
    mutating func start(_ process: ProcessContext<Message>) throws -> Next {
        let context = ServerContext(process)
        let initialization: Initialization<S>
        do {
            initialization = try S.initialize(argument.take()!, context)
        } catch {
            return crash(error, lastMessage: "initialize", context)
        }
        return handle(initialization, context)
    }

    /// While a handler awaits a call, only its response is taken.
    @inlinable
    var awaitedReference: Ref? { pendingRef == 0 ? nil : Ref(rawValue: pendingRef) }

    @inlinable
    func accepts(_ envelope: borrowing Envelope<Message>) -> Bool {
        if pendingRef != 0 { return envelope.isResponse(to: Ref(rawValue: pendingRef)) }
        if suspended {
            switch copy envelope {
            case .message(.system): return true
            case .exit(let signal): return parent != nil && signal.from == parent
            default: return false
            }
        }
        return true
    }

    @inlinable @inline(__always)
    mutating func receive(_ envelope: consuming Envelope<Message>, _ process: ProcessContext<Message>) throws -> Next {
        let context = ServerContext(process)
        if pendingRef != 0 {
            let ref = Ref(rawValue: pendingRef)
            pendingRef = 0
            // `accepts` let only this request's response through.
            return resume(pending.take()!, RequestEnding(envelope, of: ref)!, context)
        }
        statistics.messagesIn &+= 1
        switch consume envelope {
        case .message(.call(let request, let from)):
            statistics.calls &+= 1
            if tracing { trace("in: call \(request) from \(from.pid)", context) }
            caller = ReplyTarget(pid: from.pid, ref: from.ref)
            let result: ServerResult<S>
            do { result = try state!.handleCall(request, from: from, context) } catch {
                return crash(error, lastMessage: "call \(request) from \(from.pid)", context)
            }
            return apply(result, context)
        case .message(.cast(let message)):
            statistics.casts &+= 1
            if tracing { trace("in: cast \(message)", context) }
            let result: ServerResult<S>
            do { result = try state!.handleCast(message, context) } catch {
                return crash(error, lastMessage: "cast \(message)", context)
            }
            return apply(result, context)
        case .message(.info(let message)):
            return info(.message(message), context)
        case .message(.system(let request, let from)):
            return system(request, from: from, context)
        case .down(let down):
            return info(.down(down), context)
        case .exit(let signal):
            if let parent, signal.from == parent {
                // The parent's exit signal while trapping exits: terminate, then exit with its reason.
                if let steps = orderlyStop(signal.reason, request: nil, context) { return apply(steps, context) }
                return exit(terminating(signal.reason, context), lastMessage: "\(signal)", context)
            }
            return info(.exit(signal), context)
        case .reply(let ref):
            return info(.reply(ref), context)
        }
    }

    @inlinable
    mutating func timeout(_ process: ProcessContext<Message>) throws -> Next {
        let context = ServerContext(process)
        if pendingRef != 0 {
            pendingRef = 0
            return resume(pending.take()!, .timeout, context)
        }
        statistics.messagesIn &+= 1
        return info(.timeout, context)
    }

    // MARK: Steps

    @inlinable
    mutating func info(_ message: InfoMessage<S.Info>, _ context: ServerContext<S>) -> Next {
        statistics.infos &+= 1
        if tracing { trace("in: info \(message)", context) }
        let result: ServerResult<S>
        do { result = try state!.handleInfo(message, context) } catch {
            return crash(error, lastMessage: "info \(message)", context)
        }
        return apply(result, context)
    }

    @inlinable
    mutating func handle(_ initialization: consuming Initialization<S>, _ context: ServerContext<S>) -> Next {
        switch consume initialization {  // the state moves into the loop, never copied
        case .ok(let initial, let action):
            state = initial
            acknowledge(.ok, context)
            return perform(action, context)
        case .stop(let reason):
            return initFailed(reason, context)
        case .ignore:
            acknowledge(.ignore, context)
            if let parent { context.process.unlink(parent) }
            return .exit(.normal)
        case .await(let waiting):
            return wait(for: waiting, context)
        }
    }

    /// The one place where a handler's result becomes what happens next.
    @inlinable
    mutating func apply(_ result: consuming ServerResult<S>, _ context: ServerContext<S>) -> Next {
        switch consume result {
        case .reply(let value, let action):
            guard let current = caller.take() else {
                return crash(GenServerError.replyOutsideCall, lastMessage: "a handler returned .reply", context)
            }
            send(value, to: current, context)
            return perform(action, context)
        case .noReply(let action):
            caller.clear()
            return perform(action, context)
        case .stop(let reason, let reply):
            let final = terminating(reason, context)
            if let reply, let current = caller.value { send(reply, to: current, context) }
            caller.clear()
            return exit(final, lastMessage: "a handler returned .stop(\(reason))", context)
        case .await(let waiting):
            return wait(for: waiting, context)
        }
    }

    @inlinable
    mutating func perform(_ action: consuming Action<S>, _ context: ServerContext<S>) -> Next {
        switch consume action {
        case .none:
            return .receive
        case .timeout(let timeout):
            return .receive(timeout: timeout)
        case .continue(let value):
            let result: ServerResult<S>
            do { result = try state!.handleContinue(value, context) } catch {
                return crash(error, lastMessage: "continue \(value)", context)
            }
            return apply(result, context)
        case .hibernate:
            context.node.hibernate(context.pid)
            return .receive
        }
    }

    @inlinable
    mutating func wait(for waiting: PendingCall<S>, _ context: ServerContext<S>) -> Next {
        if let failure = waiting.immediate {
            return resume(waiting, .failed(failure), context)
        }
        pendingRef = waiting.ref?.rawValue ?? 0
        let timeout = waiting.timeout
        pending = waiting
        return .receive(timeout: timeout)
    }

    @inlinable
    mutating func resume(_ waiting: PendingCall<S>, _ ending: RequestEnding, _ context: ServerContext<S>) -> Next {
        let outcome: AwaitOutcome<S>
        do { outcome = try waiting.resume(ending, &state, context) } catch {
            return crash(error, lastMessage: "the response to \(waiting.ref.map(String.init(describing:)) ?? "a call")",
                         context)
        }
        switch outcome {
        case .result(let result): return apply(result, context)
        case .initialization(let initialization): return handle(initialization, context)
        }
    }

    @inlinable
    mutating func system(_ request: SystemRequest<S>, from: Caller<SystemReply<S>>,
                                 _ context: ServerContext<S>) -> Next {
        switch request {
        case .getState:
            context.node.reply(to: from, .state(state!))
        case .replaceState(let replace):
            do {
                state = try replace(state!)
                context.node.reply(to: from, .state(state!))
            } catch {
                context.node.reply(to: from, .failed(error))
            }
        case .suspend:
            suspended = true
            context.node.reply(to: from, .ok)
        case .resume:
            suspended = false
            context.node.reply(to: from, .ok)
        case .statistics:
            context.node.reply(to: from, .statistics(statistics))
        case .trace(let enabled):
            tracing = enabled
            context.node.reply(to: from, .ok)
        case .stop(let reason):
            if let steps = orderlyStop(reason, request: (from.pid, from.ref), context) { return apply(steps, context) }
            let final = terminating(reason, context)
            context.node.reply(to: from, .ok)
            return exit(final, lastMessage: "stop request from \(from.pid)", context)
        }
        return .receive
    }

    // MARK: Ending

    /// A server that stops in steps (a supervisor: its children first, newest first) does not
    /// `terminate` at once: returns the result that begins that, or `nil` for any other server
    /// (`GenServer._beginOrderlyStop`). `request` is a `sys` stop to answer at the end.
    @usableFromInline
    mutating func orderlyStop(_ reason: ExitReason, request: (pid: PID, ref: Ref)?, _ context: ServerContext<S>)
        -> ServerResult<S>?
    {
        guard state != nil else { return nil }
        return S._beginOrderlyStop(reason, replyingTo: request, &state!, context)
    }

    @inlinable
    mutating func acknowledge(_ ack: StartAck, _ context: ServerContext<S>) {
        guard let (pid, ref) = starter.take() else { return }
        _ = context.node.deliverReply(ref, to: pid, ack)
    }

    /// `initialize` failed: the parent is unlinked so that only the start result reports the failure
    /// (OTP 26's `init_fail`); the process exits, releasing its name, and the starter learns why from its
    /// start request's `DOWN` (`StartAck`).
    @inlinable
    mutating func initFailed(_ reason: ExitReason, _ context: ServerContext<S>) -> Next {
        starter = .none
        if let parent { context.process.unlink(parent) }
        return .exit(reason)
    }

    /// Runs `terminate`; its error, if any, is reported and becomes the exit reason.
    @inlinable
    mutating func terminating(_ reason: ExitReason, _ context: ServerContext<S>) -> ExitReason {
        guard state != nil else { return reason }
        do {
            try state!.terminate(reason, context)
            return reason
        } catch {
            context.node.emit(.warning(pid: context.pid, name: context.node.registeredName(of: context.pid),
                                                       text: "terminate(\(reason)) threw \(error)"))
            return .error(error)
        }
    }

    /// A callback threw: crash report, `terminate`, exit with the error.
    @inlinable
    mutating func crash(_ error: any Error, lastMessage: String, _ context: ServerContext<S>) -> Next {
        if starter.value != nil {
            report(.error(error), lastMessage: lastMessage, context)
            return initFailed(.error(error), context)
        }
        let final = terminating(.error(error), context)
        report(.error(error), lastMessage: lastMessage, context)
        return .exit(final)
    }

    @inlinable
    func exit(_ reason: ExitReason, lastMessage: String, _ context: ServerContext<S>) -> Next {
        if !reason.isQuiet { report(reason, lastMessage: lastMessage, context) }
        return .exit(reason)
    }

    @inlinable
    func report(_ reason: ExitReason, lastMessage: String, _ context: ServerContext<S>) {
        context.node.emit(.serverCrash(
            pid: context.pid, name: context.node.registeredName(of: context.pid), lastMessage: lastMessage,
            state: state.map { $0.formatStatus() } ?? "(not initialised)", reason: reason))
    }

    @inlinable
    mutating func send(_ value: S.Reply, to caller: (pid: PID, ref: Ref), _ context: ServerContext<S>) {
        statistics.repliesOut &+= 1
        if tracing { trace("out: reply \(value) to \(caller.pid)", context) }
        _ = context.process.withNode { $0.deliverReply(caller.ref, to: caller.pid, value) }
    }

    @inlinable
    func trace(_ event: String, _ context: ServerContext<S>) {
        context.node.emit(.trace(pid: context.pid, name: context.node.registeredName(of: context.pid),
                                                 event: event))
    }
}

/// Misuse of the GenServer result protocol, reported as the crash reason.
public enum GenServerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A handler returned `.reply` where there is no call to answer (a cast, an info, a continue).
    case replyOutsideCall

    public var description: String {
        switch self {
        case .replyOutsideCall: return "a handler returned .reply but no call is being handled"
        }
    }
}

extension Optional {
    /// Returns the value and leaves `nil` behind.
    @inlinable
    mutating func take() -> Wrapped? {
        defer { self = nil }
        return self
    }
}

