#if canImport(Glibc)
import Glibc
#endif
import CLibUV

/// Joining a cluster of Erlang, Elixir and swift-otp nodes (Erlang's distribution protocol).
///
/// Once started, remote processes are `PID`s like local ones (`PID.isRemote`): `send`, `link`, `monitor`,
/// `exit` and the calls below take them; messages to them must be `TermEncodable`. Erlang's rules hold:
/// the first message to a node connects to it; a message to an unreachable node is dropped; links and
/// monitors across a connection that is lost see `noconnection`.
extension Node {
    /// Joins the cluster as `options.name`: listens on `options.listenAddress`, registers with EPMD on
    /// 127.0.0.1, and runs `then` once registered (or with the error). Thread: loop thread only.
    /// - Throws: at once, `needsSystemClock`, `alreadyStarted`, `invalidNodeName`, and the cookie's errors
    ///   (`noCookie`, `insecureCookieFile`); EPMD and listening errors arrive through `then`.
    public func startDistribution(
        _ options: DistributionOptions, then: @escaping (Result<Void, DistributionError>) -> Void
    ) throws(DistributionError) {
        preconditionInLoop()
        guard let uv else { throw .needsSystemClock }
        if let distribution { throw .alreadyStarted(distribution.name) }
        let distribution = try Distribution(node: self, options: options, loop: uv.loop)
        cluster.distribution = distribution
        distribution.start { [unowned self] result in
            if case .failure = result, self.distribution === distribution { self.stopDistribution() }
            then(result)
        }
    }

    /// Joins the cluster from async code (any thread); returns once EPMD has registered the node.
    public func startDistribution(_ options: DistributionOptions) async throws {
        let _: Bool = try await external { node, call in
            do throws(DistributionError) {
                try node.startDistribution(options) { result in call.finish(result.map { true }.mapError { $0 }) }
            } catch {
                call.finish(.failure(error))
            }
        }
    }

    /// This node's name in the cluster, once distribution is started. Thread: loop thread only.
    public var nodeName: String? {
        preconditionInLoop()
        if let distribution { return distribution.isStarted ? distribution.name : nil }
        return clusterEnrollment?.name  // a loop of a group in a cluster: the group's name
    }

    /// The port the distribution listens on (0 when not started). Thread: loop thread only.
    public var distributionPort: UInt16 {
        preconditionInLoop()
        return distribution?.port ?? 0
    }

    /// The nodes connected now (Erlang's `nodes()`), sorted. Thread: loop thread only.
    public func connectedNodes() -> [String] {
        nodes(.connected)
    }

    /// Connects to `peer` (Erlang's `net_kernel:connect_node/1`); `then` gets whether the connection is up.
    /// Thread: loop thread only.
    public func connect(to peer: String, then: @escaping (Bool) -> Void) {
        preconditionInLoop()
        guard let distribution, let connection = distribution.connection(to: peer) else { return then(false) }
        if connection.state == .up { return then(true) }
        distribution.whenSettled(peer, then)
    }

    /// Connects to `peer` from async code; returns whether the connection is up.
    public func connect(to peer: String) async throws -> Bool {
        try await external { node, call in node.connect(to: peer) { call.finish(.success($0)) } }
    }

    /// Leaves the cluster: connections close (their links and monitors see `noconnection`), EPMD forgets
    /// the name. `close()` does this too. Thread: loop thread only.
    public func stopDistribution() {
        preconditionInLoop()
        guard let distribution else { return }
        cluster.distribution = nil
        distribution.close()
        cluster.closing = distribution
    }

    /// While the loop is not running (`close()`): runs it until the distribution's handles are freed.
    func finishClosingDistribution() {
        guard let uv, let distribution = cluster.closing else { return }
        while distribution.flusher.openHandles > 0 { uv_run(uv.loop, UV_RUN_NOWAIT) }
        cluster.closing = nil
    }

    /// The `PID` of a process named by the wire: a local pid for this node's own processes, a remote
    /// stand-in otherwise. Thread: loop thread only.
    public func pid(for external: ExternalPID) -> PID {
        preconditionInLoop()
        if let distribution { return distribution.pid(for: external) }
        if isOwnClusterPID(external) { return ownPID(wireID: external.id, serial: external.serial) }
        return PID.remote(.pid(external))
    }

    /// How other nodes see `pid` (`nil` before distribution starts, or for a remote name).
    public func externalPID(for pid: PID) -> ExternalPID? {
        preconditionInLoop()
        if case .pid(let external)? = pid.remoteIdentity { return external }
        guard !pid.isRemote else { return nil }
        guard let distribution, distribution.isStarted else { return RemoteIdentities.shared.clusterIdentity(of: pid) }
        return distribution.external(pid)
    }

    /// The process registered as `name` on node `peer` (Erlang's `{Name, Node}`), as a `PID`: send to it,
    /// monitor it, call it.
    public func remote(_ name: String, on peer: String) -> PID { PID.remote(.name(name, node: peer)) }

    // MARK: Calls and casts to servers of other nodes

    /// Opens a `gen_server:call` to a remote server: monitors it, sends `{'$gen_call', {Caller, Ref}, Request}`,
    /// and delivers its reply, decoded as `R`, as the request's reply. Thread: loop thread only.
    func beginRemoteCall<R: TermDecodable & Sendable>(
        from caller: PID, to server: PID, _ request: some TermEncodable, as replyType: R.Type
    ) -> Result<RequestID<R>, CallError> {
        // Loop 0 of a group, or a node of its own, runs the distribution; another loop of a group reaches the
        // cluster through loop 0 (`Node+GroupCluster`): its request and the reply's way back carry its loop.
        let relayed = distribution == nil && clustersThroughLoop0
        guard server.isRemote, distribution?.isStarted == true || relayed, let clusterName = distribution?.name ?? clusterEnrollment?.name,
              let callerWire = clusterPID(caller)
        else {
            return .failure(.noDistribution(server))
        }
        let requestTerm: Term
        do throws(TermConversionError) {
            requestTerm = try request.toTerm()
        } catch {
            return .failure(.notTermEncodable(server, reason: error.description))
        }
        // `{Name, node()}` or one of this node's own pids: a local call, as a send to them is local. The
        // request is the same term, delivered to the local server; its reply comes back as a term too.
        var target = server
        switch server.remoteIdentity {
        case .name(let name, let node)? where node == clusterName:
            guard let local = registeredPID(name) else { return .failure(.noProcess(server)) }
            target = local
        case .pid(let own)? where distribution?.isOwn(own) == true || isOwnClusterPID(own):
            target = ownPID(wireID: own.id, serial: own.serial)
        default:
            break
        }
        let ref = openRequest(from: caller, to: target)
        if target != server, let slot = monitors.slot(ref) { monitors[slot].awaitsTerm = true }
        callStarted(ref)
        let deliver: (Term) -> Void = { [unowned self] term in
            do throws(TermConversionError) {
                _ = self.deliverReply(ref, to: caller, try R(term: term))
            } catch {
                _ = self.deliverReply(ref, to: caller, RemoteReplyMismatch(error: error))
            }
        }
        let wireRef: ExternalReference
        if let distribution {
            distribution.awaitReply(ref, deliver: deliver)
            wireRef = distribution.external(ref, loop: loopIndex)
        } else {
            cluster.relayedReplies[ref] = deliver
            wireRef = clusterReference(ref)!
        }
        let message = Term.tuple([.atom("$gen_call"), .tuple([.pid(callerWire), .reference(wireRef)]), requestTerm])
        guard target != server else {
            if let distribution {
                if case .busy(let queued) = distribution.send(message, from: caller, to: server) {
                    _ = endRequest(RequestID<R>(ref: ref, server: server), of: caller, .failed(.busy(server, queuedBytes: queued)))
                    return .failure(.busy(server, queuedBytes: queued))
                }
            } else {
                viaClusterLoop { _ = $0.send(message, from: caller, to: server) }
            }
            return .success(RequestID(ref: ref, server: server))
        }
        let id = RequestID<R>(ref: ref, server: target)
        if isSibling(target) {  // a server of another loop of this node: the term is delivered there
            let (sibling, label) = (target, DeliveryLabel.pid(server))
            group!.node(of: sibling).execute { $0.deliverRelayedTerm(message, to: sibling, label: label) }
            return .success(id)
        }
        let failure: CallError
        switch core(target)?.deliverTerm(message, node: self) {
        case .delivered?: return .success(id)
        case .mailboxFull?: failure = .mailboxFull(target, capacity: core(target)?.mailboxCapacity ?? 0)
        case .undecodable(let error)?: failure = .notTermEncodable(target, reason: error.description)
        case .notAccepted(let type)?:
            failure = .wrongServerType(target, expected: "a GenServer reachable by term", got: type)
        case nil: failure = .noProcess(target)
        }
        _ = endRequest(id, of: caller, .failed(failure))
        return .failure(failure)
    }

    /// `gen_server:cast` to a remote server: sends `{'$gen_cast', Message}`. Thread: loop thread only.
    /// - Throws: `notTermEncodable`, `noDistribution`.
    public func cast(remote server: PID, _ message: some TermEncodable) throws(ProcessError) {
        preconditionInLoop()
        let term: Term
        do throws(TermConversionError) { term = try message.toTerm() } catch {
            throw .notTermEncodable(server, reason: error.description)
        }
        try sendRemote(Term.tuple([.atom("$gen_cast"), term]), to: server)
    }

    /// Calls a server of another node (an Erlang or Elixir `gen_server`, or a swift-otp GenServer) from
    /// async code; the reply is decoded as `R`.
    /// - Throws: `CallError` (`timeout`, `noProcess` for a name not registered there, `serverExited` with
    ///   `noconnection` when the node is unreachable or the connection drops, `wrongReplyType`,
    ///   `cancelled`, `nodeStopped`).
    public func call<R: TermDecodable & Sendable>(
        remote server: PID, _ request: some TermEncodable & Sendable, as replyType: R.Type = R.self,
        timeout: Timeout = .seconds(5)
    ) async throws(CallError) -> R {
        try await facade(CallError.self) { try await external { node, call in
            node.beginExternal(call, timeout: timeout) { caller in
                node.beginRemoteCall(from: caller, to: server, request, as: R.self)
            }
        } }
    }
}

extension ProcessContext {
    /// Calls a server of another node (Erlang's `gen_server:call({Name, Node}, Request)` or to a remote
    /// pid), continuation-passing like `call(_:_:timeout:then:)`: the reply is decoded as `R`.
    public func call<R: TermDecodable & Sendable>(
        remote server: PID, _ request: some TermEncodable, as replyType: R.Type = R.self,
        timeout: Timeout = .seconds(5),
        then: @escaping (Result<R, CallError>, ProcessContext<Message>) throws -> Step<Message>
    ) throws -> Step<Message> {
        switch node.beginRemoteCall(from: pid, to: server, request, as: R.self) {
        case .failure(let error): return try then(.failure(error), self)
        case .success(let id): return receiveResponse(id, timeout: timeout, then: then)
        }
    }
}

/// Stored as the reply when a remote server's answer does not decode as the caller's reply type: the
/// caller's call then fails with `CallError.wrongReplyType` naming this error.
struct RemoteReplyMismatch: Sendable, CustomStringConvertible {
    let error: TermConversionError
    var description: String { "a reply that does not decode: \(error)" }
}

// MARK: Timeouts as a Swift `Duration` (rounded up to whole milliseconds; disfavoured, so a literal
// such as `.seconds(2)` stays a `Timeout`)

extension Node {
    /// Calls a remote server from async code, waiting at most `timeout`.
    @_disfavoredOverload
    public func call<R: TermDecodable & Sendable>(
        remote server: PID, _ request: some TermEncodable & Sendable, as replyType: R.Type = R.self,
        timeout: Duration
    ) async throws(CallError) -> R {
        try await call(remote: server, request, as: replyType, timeout: Timeout(timeout))
    }
}

extension ProcessContext {
    /// `call(remote:_:as:timeout:then:)` waiting at most `timeout`.
    @inlinable @_disfavoredOverload
    public func call<R: TermDecodable & Sendable>(
        remote server: PID, _ request: some TermEncodable, as replyType: R.Type = R.self, timeout: Duration,
        then: @escaping (Result<R, CallError>, ProcessContext<Message>) throws -> Step<Message>
    ) throws -> Step<Message> {
        try call(remote: server, request, as: replyType, timeout: Timeout(timeout), then: then)
    }
}
