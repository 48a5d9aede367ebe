/// `rex`, Erlang's rpc server, as far as a swift-otp node runs it: the exported functions (`Node.export`)
/// answer `rpc:call/4,5`, `rpc:block_call`, `rpc:cast/4` and Elixir's `:rpc.call/4`, and the feature
/// query every Erlang node sends a new node is answered.
///
/// The requests come as `gen_server` messages to the name `rex`: `{'$gen_call', From, {call, M, F, A, GL}}`
/// (and `block_call`), `{'$gen_cast', {cast, M, F, A, GL}}`, and `{From, {call, M, F, A, GL}}` from hidden
/// C nodes, answered `{rex, Reply}`. The group leader is ignored (an exported function does no Erlang I/O).
/// Unknown requests are ignored, as Erlang's rex ignores them. Thread: loop thread only.
extension Distribution {
    func rex(_ message: Term, from: ExternalPID, on connection: NodeConnection) {
        guard case .tuple(let e) = message, let peer = connection.peer else { return }
        switch e.count {
        case 3 where e[0] == .atom("$gen_call"):
            guard case .tuple(let fromTag) = e[1], fromTag.count == 2, case .pid(let caller) = fromTag[0],
                  let (module, function, arguments) = Self.rpcRequest(e[2], kinds: ["call", "block_call"]) else { return }
            let tag = fromTag[1]
            runExport(module, function, arguments) { [unowned(unsafe) self] reply in
                guard let connection = self.connection(to: peer) else { return }
                self.sendReply(reply, tag: tag, to: caller, from: self.nodePID, on: connection)
            }
        case 2 where e[0] == .atom("$gen_cast"):
            guard let (module, function, arguments) = Self.rpcRequest(e[1], kinds: ["cast"]) else { return }
            runExport(module, function, arguments) { _ in }
        case 2:
            guard case .pid(let asker) = e[0] else { return }
            if e[1] == .atom("features_request") {
                // No erpc here yet: an Erlang `rpc:call` then goes through `rex`.
                connection.send(ControlMessage.send(to: asker).control,
                                payload: .tuple([.atom("features_reply"), .atom(name), .list([])]))
            } else if let (module, function, arguments) = Self.rpcRequest(e[1], kinds: ["call"]) {
                runExport(module, function, arguments) { [unowned(unsafe) self] reply in
                    guard let connection = self.connection(to: peer) else { return }
                    connection.send(ControlMessage.send(to: asker).control, payload: .tuple([.atom("rex"), reply]))
                }
            }
        default:
            return
        }
    }

    /// `{Kind, M, F, A, GroupLeader}` with `Kind` one of `kinds`: its module, function and argument list.
    static func rpcRequest(_ request: Term, kinds: Set<String>) -> (String, String, Term)? {
        guard case .tuple(let r) = request, r.count == 5, let kind = r[0].atomValue, kinds.contains(kind),
              let module = r[1].atomValue, let function = r[2].atomValue else { return nil }
        return (module, function, r[3])
    }

    /// Runs `module:function(arguments)` — an export of this node — and gives `complete` `rpc:call`'s answer.
    func runExport(_ module: String, _ function: String, _ arguments: Term, answer complete: @escaping (Term) -> Void) {
        runExport(module, function, arguments) { outcome, stack in complete(Self.rexReply(outcome, stack)) }
    }

    /// Runs `module:function(arguments)` and gives `complete` its outcome with the one-frame stack Erlang
    /// would report for it: `[{M, F, Arity, []}]`, or with the arguments in place of the arity when the
    /// function was not called (`undef`, `badarg`). At most `options.maximumRunningRPCs` of the functions
    /// that run off the loop run at once; past it a call fails with `system_limit`.
    func runExport(_ module: String, _ function: String, _ arguments: Term,
                   complete: @escaping (Result<Term, RPCFailure>, Term) -> Void) {
        let notCalled = Self.stack(module, function, arguments)
        guard case .list(let values) = arguments else { return complete(.failure(.error(.atom("badarg"))), notCalled) }
        guard let exported = node.cluster.exports[RPCKey(module: module, function: function, arity: values.count)] else {
            return complete(.failure(.error(.atom("undef"))), notCalled)
        }
        let stack = Self.stack(module, function, .integer(values.count))
        switch exported.body {
        case .onLoop(let body):
            do { complete(.success(try body(values)), stack) } catch { complete(.failure(Self.failure(error)), stack) }
        case .offLoop(let body):
            guard runningRPCs < options.maximumRunningRPCs else { return complete(.failure(.error(.atom("system_limit"))), stack) }
            runningRPCs += 1
            Self.runOffLoop(body, values, on: node, complete: RPCCompletion { complete($0, stack) })
        }
    }

    /// Runs an `async` export as a task; its outcome is completed on the loop.
    static func runOffLoop(_ body: @escaping @Sendable ([Term]) async throws -> Term, _ values: [Term],
                           on node: Node, complete: RPCCompletion) {
        Task.detached {
            let outcome: Result<Term, RPCFailure>
            do { outcome = .success(try await body(values)) } catch { outcome = .failure(failure(error)) }
            let result = RPCOutcome(outcome)
            // A node that closed meanwhile runs no job: the outcome goes with it, as its connections did.
            _ = node.execute { node in
                if let distribution = node.distribution, distribution.runningRPCs > 0 { distribution.runningRPCs -= 1 }
                complete.complete(result.outcome)
            }
        }
    }

    /// `[{Module, Function, ArityOrArguments, []}]`.
    static func stack(_ module: String, _ function: String, _ arityOrArguments: Term) -> Term {
        .list([.tuple([.atom(module), .atom(function), arityOrArguments, .list([])])])
    }

    /// Any Swift error as one of Erlang's exception classes.
    static func failure(_ error: any Error) -> RPCFailure {
        if let failure = error as? RPCFailure { return failure }
        return .error(.tuple([.atom("swift_error"), .boundedText("\(type(of: error)): \(error)")]))
    }

    /// What `rpc:call` returns for an outcome: the value (a `throw`'s too, as Erlang's `catch` gives it),
    /// `{badrpc, {'EXIT', Reason}}` for an exit, `{badrpc, {'EXIT', {Reason, Stack}}}` for an error.
    static func rexReply(_ outcome: Result<Term, RPCFailure>, _ stack: Term) -> Term {
        let exit: Term
        switch outcome {
        case .success(let value), .failure(.thrown(let value)): return value
        case .failure(.exit(let reason)): exit = reason
        case .failure(.error(let reason)): exit = .tuple([reason, stack])
        }
        return .tuple([.atom("badrpc"), .tuple([.atom("EXIT"), exit])])
    }
}

/// An outcome carried from a task to the loop.
struct RPCOutcome: @unchecked Sendable {
    let outcome: Result<Term, RPCFailure>
    init(_ outcome: Result<Term, RPCFailure>) { self.outcome = outcome }
}

/// A completion carried through a task to the loop, used only there.
struct RPCCompletion: @unchecked Sendable {
    let complete: (Result<Term, RPCFailure>) -> Void
    init(_ complete: @escaping (Result<Term, RPCFailure>) -> Void) { self.complete = complete }
}

/// An exported function's name: module, function and arity.
struct RPCKey: Hashable, Sendable {
    let module: String
    let function: String
    let arity: Int
}
