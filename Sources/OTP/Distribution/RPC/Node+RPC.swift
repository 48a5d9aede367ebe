/// rpc between nodes: Swift functions exported to Erlang's `rpc`, and `rpc:call` from Swift to any node.
extension Node {
    /// Exports `function` as `module:name/arity` (its `arity`) for other nodes' `rpc:call/4,5`,
    /// `rpc:cast/4` and Elixir's `:rpc.call/4`. A function exported again under the same name and arity
    /// replaces the old one (as a new version of an Erlang module does). Exports outlive a restart of the
    /// distribution; for a `NodeGroup`, export on loop 0, which runs the distribution.
    ///
    /// ```swift
    /// try node.export("calc", "add", .typed { (a: Int, b: Int) in a + b })
    /// // erl> rpc:call('swift@host', calc, add, [2, 3]).  → 5
    /// ```
    ///
    /// Thread: loop thread only. - Throws: `RPCError.invalidName` when `module` or `name` is not a valid
    /// atom (empty, or longer than 255 characters).
    public func export(_ module: String, _ name: String, _ function: RPCFunction) throws(RPCError) {
        preconditionInLoop("export")
        for part in [module, name] {
            if part.isEmpty { throw .invalidName(part, reason: "an atom cannot be empty") }
            if part.unicodeScalars.count > 255 { throw .invalidName(part, reason: "longer than 255 characters") }
        }
        cluster.exports[RPCKey(module: module, function: name, arity: function.arity)] = function
    }

    /// Registers `factory` as `module:name/arity` for other nodes' `spawn(Node, Module, Function, Args)`
    /// (Elixir's `Node.spawn/4`, `erlang:spawn_request/5`): it starts the process they get, with their
    /// `link`/`monitor` options on it. Registered again, it replaces the old one.
    ///
    /// ```swift
    /// try node.exportSpawn("chat", "session", SpawnFactory(arity: 1) { arguments, node in
    ///     try node.spawn(of: Term.self) { _ in .receive { _, _ in .same } }.pid
    /// })
    /// // iex> Node.spawn(:"swift@host", :chat, :session, ["alice"])
    /// ```
    ///
    /// Thread: loop thread only. - Throws: `RPCError.invalidName` as `export`.
    public func exportSpawn(_ module: String, _ name: String, _ factory: SpawnFactory) throws(RPCError) {
        preconditionInLoop("exportSpawn")
        _ = try Self.rpcRequest(module, name, [])  // the names' checks
        cluster.spawnables[RPCKey(module: module, function: name, arity: factory.arity)] = factory
    }

    /// Removes the export `module:name/arity`; returns whether there was one. Thread: loop thread only.
    @discardableResult
    public func unexport(_ module: String, _ name: String, arity: Int) -> Bool {
        preconditionInLoop("unexport")
        return cluster.exports.removeValue(forKey: RPCKey(module: module, function: name, arity: arity)) != nil
    }

    /// The exported functions, as `module:name/arity`, sorted. Thread: loop thread only.
    public var exportedFunctions: [String] {
        cluster.exports.keys.map { "\($0.module):\($0.function)/\($0.arity)" }.sorted()
    }

    /// Exports `function` from async code (see `export(_:_:_:)`).
    public func export(_ module: String, _ name: String, _ function: RPCFunction) async throws(RPCError) {
        do {
            try await perform { node in try node.export(module, name, function) }
        } catch let error as RPCError {
            throw error
        } catch {
            throw .call(error as? CallError ?? .nodeStopped)
        }
    }

    /// Calls `module:function(arguments...)` on node `peer` (Erlang's `rpc:call/5`) from async code; the
    /// result is decoded as `R`. Reaches Erlang and Elixir nodes (their `rex`) and swift-otp nodes (their
    /// exports); on this node's own name it runs this node's export, as `rpc:call(node(), ...)` does.
    /// - Throws: `RPCError`: `nodeDown`, `timeout`, `failed` with `{badrpc, Reason}`'s reason,
    ///   `wrongResultType`, `invalidName`, `call` (no distribution, node stopped, cancelled).
    public func rpc<R: TermDecodable & Sendable>(
        _ peer: String, _ module: String, _ function: String, _ arguments: [Term], as type: R.Type = R.self,
        timeout: Timeout = .seconds(5)
    ) async throws(RPCError) -> R {
        let request = try Self.rpcRequest(module, function, arguments)
        let outcome: Result<Term, CallError>
        do {
            outcome = .success(try await facade(CallError.self) { try await external { node, call in
                if let distribution = node.distribution, node.nodeName == peer {
                    // To itself: its own export, as `rpc:call(node(), ...)` applies the function locally.
                    guard call.claim() else { return }
                    distribution.runExport(module, function, .list(arguments)) { _ = call.finish(.success($0)) }
                } else {
                    node.beginExternal(call, timeout: timeout) { caller in
                        node.beginRemoteCall(from: caller, to: node.remote("rex", on: peer), request, as: Term.self)
                    }
                }
            } })
        } catch {
            outcome = .failure(error)
        }
        return try Self.rpcResult(outcome, from: peer, as: R.self).get()
    }

    /// `{call, M, F, A, user}`, the request `rex` answers. - Throws: `invalidName`.
    static func rpcRequest(_ module: String, _ function: String, _ arguments: [Term]) throws(RPCError) -> Term {
        for part in [module, function] where part.isEmpty || part.unicodeScalars.count > 255 {
            throw .invalidName(part, reason: part.isEmpty ? "an atom cannot be empty" : "longer than 255 characters")
        }
        return .tuple([.atom("call"), .atom(module), .atom(function), .list(arguments), .atom("user")])
    }

    /// What an rpc call's outcome means: `{badrpc, Reason}` and call failures as `RPCError`s, a result
    /// decoded as `R`.
    static func rpcResult<R: TermDecodable>(_ outcome: Result<Term, CallError>, from peer: String, as _: R.Type)
        -> Result<R, RPCError>
    {
        switch outcome {
        case .success(let term):
            if case .tuple(let e) = term, e.count == 2, e[0] == .atom("badrpc") {
                switch e[1] {
                case .atom("nodedown"): return .failure(.nodeDown(peer))
                case .atom("timeout"): return .failure(.timeout(peer))
                default: return .failure(.failed(peer, reason: e[1]))
                }
            }
            do throws(TermConversionError) { return .success(try R(term: term)) } catch {
                return .failure(.wrongResultType(peer, error))
            }
        case .failure(.timeout): return .failure(.timeout(peer))
        case .failure(.serverExited(_, .noconnection)): return .failure(.nodeDown(peer))
        // No `rex` there: not an rpc server (a node without rpc, or not an Erlang node).
        case .failure(.noProcess): return .failure(.failed(peer, reason: .atom("noproc")))
        case .failure(let error): return .failure(.call(error))
        }
    }
}

extension ProcessContext {
    /// `rpc:call/5` from a process, continuation-passing like `call(remote:_:as:timeout:then:)`: `then` gets
    /// the result decoded as `R`, or the `RPCError` (`nodeDown`, `timeout`, `failed`, `wrongResultType`).
    /// To this node's own name, use the function directly: a process waits for other nodes only.
    public func rpc<R: TermDecodable & Sendable>(
        _ peer: String, _ module: String, _ function: String, _ arguments: [Term], as type: R.Type = R.self,
        timeout: Timeout = .seconds(5),
        then: @escaping (Result<R, RPCError>, ProcessContext<Message>) throws -> Step<Message>
    ) throws -> Step<Message> {
        let request: Term
        do { request = try Node.rpcRequest(module, function, arguments) } catch {
            return try then(.failure(error), self)
        }
        return try call(remote: node.remote("rex", on: peer), request, as: Term.self, timeout: timeout) { outcome, process in
            try then(Node.rpcResult(outcome, from: peer, as: R.self), process)
        }
    }
}
