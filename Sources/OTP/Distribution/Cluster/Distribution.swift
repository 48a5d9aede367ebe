#if canImport(Glibc)
import Glibc
#endif
import CLibUV
import Logging

/// A node's membership of a cluster: its listener, its EPMD registration, its connections, and the links,
/// monitors and calls that cross them. `Node+Distribution.swift` is the public face; the core's send, link,
/// monitor, exit and reply paths hand anything addressed to a remote `PID` to this object.
///
/// What crosses a connection and what it becomes here:
/// - a message to a pid or registered name → `deliver(_:to:)`: the process's `Message` decodes the term
///   (`TermDecodable`), or a GenServer turns `'$gen_call'`/`'$gen_cast'` into a call or cast;
/// - a reply `{Ref, Reply}` to a call this node made → the pending request's reply;
/// - `LINK`/`EXIT`/`UNLINK_ID` and `MONITOR_P`/`DEMONITOR_P`/`MONITOR_P_EXIT` → the same link and monitor
///   semantics as between local processes; a lost connection is `noconnection` for each of them.
///
/// Thread: loop thread only. Handles are closed in `close()`; `Node.close()` runs the loop until they are freed.
@usableFromInline
final class Distribution {
    /// `unowned(unsafe)`: the node owns this object, and closes it from `Node.close()`, which its deinit
    /// may call — a checked unowned read of a node in deinit would trap, while its storage is still intact.
    unowned(unsafe) let node: Node
    let options: DistributionOptions
    let name: String
    let cookie: String
    let loop: UnsafeMutablePointer<uv_loop_t>
    let flusher: TCPFlusher
    /// Given by EPMD at registration; part of every pid and reference this node sends.
    private(set) var creation: UInt32 = 0
    private var listener: TCPListener?
    private var registration: EPMDExchange?
    private let tickTimer: UnsafeMutablePointer<uv_timer_t>
    /// Ends connections not up by their `setupDeadline`; runs while the node is started.
    private let setupTimer: UnsafeMutablePointer<uv_timer_t>
    /// When the last refusal of a caller for too many pending handshakes was logged (at most once a second).
    private var lastRefusalLogged: UInt64?
    /// When a secure channel of a caller not named yet last failed and was logged (loop ms).
    private var lastSecurityFailureLogged: UInt64?
    private(set) var isStarted = false
    /// This node is leaving the cluster: its own disconnections are not warnings.
    private var isClosing = false

    /// Connections by peer name (up or being set up), and accepted ones whose peer is not known yet.
    private(set) var connections: [String: NodeConnection] = [:]
    private var anonymous: [ObjectIdentifier: NodeConnection] = [:]
    /// Accepted connections still in their handshake (bounded by `options.maximumPendingHandshakes`).
    var pendingHandshakes: Int { anonymous.count }

    /// Monitors held by local processes on remote processes, by the monitor's reference.
    var outgoingMonitors: [ClusterRef: (watcher: PID, target: PID)] = [:]
    /// Monitors held by remote processes on local ones, by the local process.
    var incomingMonitors: [PID: [IncomingMonitor]] = [:]
    /// Links between local and remote processes, by the remote node.
    var links: [String: Set<LinkPair>] = [:]
    /// Calls from remote processes to local servers awaiting the reply, by the request reference.
    var remoteCalls: [Ref: RemoteCall] = [:]
    /// The same calls by their alias, for the caller's `DEMONITOR_P` that ends one.
    var remoteCallsByAlias: [ExternalReference: Ref] = [:]
    /// The aliases of calls from other nodes to servers of other loops of this node's group, with the loop
    /// that holds each call and the caller's node: a caller's DEMONITOR ends the call there
    /// (`Node.remoteCallAbandoned`); the reply, or the caller's node going down, ends it here.
    var relayedAliases: [ExternalReference: (loop: Int, peer: String)] = [:]
    /// Replies awaited by local callers of remote servers: decode the reply term and deliver it.
    var awaitedReplies: [Ref: (Term) -> Void] = [:]
    /// Spawn requests this node sent, by request id, and the ids by the request their caller awaits
    /// (`RemoteSpawn.swift`).
    var pendingSpawns: [Ref: PendingSpawn] = [:]
    var spawnsByRequest: [Ref: Ref] = [:]
    /// The group leader of the processes this node spawns on other nodes (`GroupLeader.swift`).
    var groupLeaderPID: PID?
    var nextUnlinkID: UInt64 = 1
    /// Exported functions running off the loop for rpc callers (`RexServer`), bounded by
    /// `options.maximumRunningRPCs`.
    var runningRPCs = 0
    private var challengeState: UInt64

    struct IncomingMonitor {
        let ref: ExternalReference
        let watcher: ExternalPID
        /// The pid or the name the watcher gave.
        let target: Term
    }

    struct LinkPair: Hashable {
        let local: PID
        let remote: PID
    }

    struct RemoteCall {
        let from: ExternalPID
        let tag: Term
        let server: PID

        /// The alias of a modern `gen_server:call` (`[alias | Ref]`): also the caller's monitor reference.
        var alias: ExternalReference? { Distribution.alias(in: tag) }
    }

    /// The alias in a `gen_server:call` tag `[alias | Ref]` (OTP 24+); `nil` for an older plain reference.
    static func alias(in tag: Term) -> ExternalReference? {
        if case .improperList(let head, .reference(let alias)) = tag, head == [.atom("alias")] { return alias }
        return nil
    }

    /// Resolves the cookie and prepares the handles; `start` listens and registers.
    init(node: Node, options: DistributionOptions, loop: UnsafeMutablePointer<uv_loop_t>) throws(DistributionError) {
        guard NodeName.isValidLocal(options.name) else { throw .invalidNodeName(options.name) }
        self.node = node
        self.options = options
        self.name = options.name
        self.cookie = try options.cookie.resolve()
        self.loop = loop
        flusher = TCPFlusher(loop: loop)
        tickTimer = .allocate(capacity: 1)
        uv_timer_init(loop, tickTimer)
        setupTimer = .allocate(capacity: 1)
        uv_timer_init(loop, setupTimer)
        flusher.openHandles += 2
        challengeState = UInt64.random(in: 1...UInt64.max)  // the system generator: getrandom(2)
        tickTimer.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        setupTimer.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    /// `("name", "host")` of `name@host`.
    static func split(_ node: String) -> (String, String) {
        let parts = node.split(separator: "@", maxSplits: 1)
        return (String(parts.first ?? ""), parts.count > 1 ? String(parts[1]) : "localhost")
    }

    var now: UInt64 { uv_now(loop) }

    /// A challenge for a handshake (xorshift over a random seed: unpredictable to peers).
    func newChallenge() -> UInt32 {
        challengeState ^= challengeState << 13
        challengeState ^= challengeState >> 7
        challengeState ^= challengeState << 17
        return UInt32(truncatingIfNeeded: challengeState >> 16)
    }

    // MARK: Start and stop

    /// Listens, then registers with EPMD; `completion` runs once registered, or failed — at the latest
    /// after `setupTime`, when EPMD accepted the connection but has not answered (a wait on an outsider
    /// has a deadline).
    func start(_ completion: @escaping (Result<Void, DistributionError>) -> Void) {
        do throws(DistributionError) {
            listener = try TCPListener(loop: loop, address: options.listenAddress, port: options.port,
                                       flusher: flusher) { [unowned self] stream in self.accept(stream) }
        } catch {
            return completion(.failure(error))
        }
        let (alive, _) = Self.split(name)
        let stream = TCPStream(loop: loop, flusher: flusher)
        registration = EPMDExchange(
            stream: stream, host: "127.0.0.1", port: options.epmdPort,
            request: EPMD.aliveRequest(name: alive, port: listener!.port),
            parse: { [unowned self] bytes throws(DistributionError) -> Bool in
                guard let creation = try EPMD.aliveResponse(bytes) else { return false }
                self.creation = creation
                self.isStarted = true
                self.enrollLoops(as: (self.name, creation))
                self.startTicks()
                self.node.configuration.logger.info("distribution started", metadata: [
                    "node": "\(self.name)", "port": "\(self.listener?.port ?? 0)", "creation": "\(creation)"])
                completion(.success(()))
                return true
            },
            onFailure: { error in completion(.failure(error)) },
            onClose: { [unowned self] reason in
                guard self.isStarted else { return }
                self.node.configuration.logger.error("epmd closed the registration of this node", metadata: [
                    "node": "\(self.name)", "reason": "\(reason)"])
            })
        // The setup timer is free until registration succeeds (`startTicks` takes it over): one shot.
        uv_timer_start(setupTimer, { timer in
            Unmanaged<Distribution>.fromOpaque(timer!.pointee.data).takeUnretainedValue().registrationOverdue()
        }, setupMillis, 0)
    }

    /// EPMD has not answered the registration within `setupTime`: it fails (and `completion` reports it).
    private func registrationOverdue() {
        guard !isStarted, let registration, registration.isPending else { return }
        registration.fail(.epmd("epmd on port \(options.epmdPort) did not answer the registration of \(name) "
                                + "within \(setupMillis) ms"))
    }

    /// The distribution port (0 before `start`).
    var port: UInt16 { listener?.port ?? 0 }

    /// `options.tickTime` in milliseconds.
    private var tickMillis: UInt64 { max(options.tickTime.wholeMilliseconds, 4) }

    /// `options.setupTime` in milliseconds.
    var setupMillis: UInt64 { max(options.setupTime.wholeMilliseconds, 1) }

    private func startTicks() {
        let check = min(max(setupMillis / 4, 10), 1000)
        uv_timer_start(setupTimer, { timer in
            Unmanaged<Distribution>.fromOpaque(timer!.pointee.data).takeUnretainedValue().expireSetups()
        }, check, check)
        uv_unref(otp_uv_handle(setupTimer))
        let interval = tickMillis / 4
        uv_timer_start(tickTimer, { timer in
            Unmanaged<Distribution>.fromOpaque(timer!.pointee.data).takeUnretainedValue().tick()
        }, interval, interval)
        uv_unref(otp_uv_handle(tickTimer))
    }

    /// Every quarter tick time: tick idle connections; drop those silent for the whole tick time.
    private func tick() {
        let current = now
        for connection in Array(connections.values) where connection.state == .up {
            if connection.isPaused {
                connection.tick(now: current, interval: tickMillis / 4)  // we stopped listening; the peer did not
            } else if current &- connection.lastReceived > tickMillis {
                connection.fail(.tickTimeout(node: connection.peer ?? "?", milliseconds: tickMillis))
            } else {
                connection.tick(now: current, interval: tickMillis / 4)
            }
        }
    }

    /// Ends every connection still being set up past its deadline (Erlang's `net_setuptime`).
    private func expireSetups() {
        let current = now
        let late = (Array(anonymous.values) + Array(connections.values)).filter {
            $0.state != .up && $0.state != .closed && current >= $0.setupDeadline
        }
        for connection in late {
            connection.fail(.setupTimeout(node: connection.peer ?? "unknown peer", milliseconds: setupMillis),
                            quietly: connection.peer == nil)
        }
    }

    /// Leaves the cluster: every connection closes (links and monitors across them see `noconnection`),
    /// EPMD forgets the name, and the handles close.
    func close() {
        if isStarted { enrollLoops(as: nil) }
        isStarted = false
        isClosing = true
        for connection in Array(connections.values) + Array(anonymous.values) { connection.close(reason: "node stopped") }
        registration?.close()
        registration = nil
        listener?.close()
        listener = nil
        uv_timer_stop(tickTimer)
        uv_timer_stop(setupTimer)
        holdingConnections = [:]
        if retryHandleCreated {
            uv_close(otp_uv_handle(retryHandle)) { handle in
                Unmanaged<Distribution>.fromOpaque(handle!.pointee.data).takeUnretainedValue().flusher.openHandles -= 1
                UnsafeMutableRawPointer(handle)?.deallocate()
            }
        }
        for timer in [tickTimer, setupTimer] {
            uv_close(otp_uv_handle(timer)) { handle in
                Unmanaged<Distribution>.fromOpaque(handle!.pointee.data).takeUnretainedValue().flusher.openHandles -= 1
                UnsafeMutableRawPointer(handle)?.deallocate()
            }
        }
        flusher.close()
    }

    // MARK: Connections

    /// A caller connected: it gets a handshake, unless `maximumPendingHandshakes` are already under way
    /// (then it is closed at once, and that is logged at most once a second).
    private func accept(_ stream: TCPStream) {
        guard anonymous.count < options.maximumPendingHandshakes else {
            stream.close(reason: "too many pending handshakes")
            if lastRefusalLogged.map({ now &- $0 >= 1000 }) ?? true {
                lastRefusalLogged = now
                node.configuration.logger.warning("distribution caller refused: too many pending handshakes", metadata: [
                    "node": "\(name)", "limit": "\(options.maximumPendingHandshakes)"])
            }
            return
        }
        if let security = options.security {
            do throws(SecureChannelError) {
                stream.secure(with: try security.makeChannel(role: .server, serverName: nil))
            } catch {
                stream.close(reason: "no secure channel")
                return logSecurityFailure(.secureChannel(node: "unknown peer", reason: error.reason), peerKnown: false)
            }
        }
        let connection = NodeConnection(accepted: stream, distribution: self)
        anonymous[ObjectIdentifier(connection)] = connection
    }

    /// The connection to `peer`, set up (auto-connect, as Erlang does) when there is none. A call from the
    /// peer still in its handshake, answered `ok`, carries the frames (they are handed on if it fails).
    func connection(to peer: String) -> NodeConnection? {
        if let existing = connections[peer] { return existing }
        if let accepting = anonymous.values.first(where: {
            $0.peer == peer && ($0.answered == .ok || $0.answered == .okSimultaneous) && $0.state == .handshaking
        }) {
            return accepting
        }
        guard isStarted, peer != name, NodeName.problem(with: peer) == nil else { return nil }
        let connection = NodeConnection(calling: peer, distribution: self)
        if connection.state != .closed { connections[peer] = connection }
        return connection.state == .closed ? nil : connection
    }

    /// Callers of `Node.connect(to:)` waiting for a connection to come up or fail.
    private var settleWaiters: [String: [(Bool) -> Void]] = [:]

    func whenSettled(_ peer: String, _ waiter: @escaping (Bool) -> Void) { settleWaiters[peer, default: []].append(waiter) }

    private func settled(_ peer: String, _ up: Bool) {
        for waiter in settleWaiters.removeValue(forKey: peer) ?? [] { waiter(up) }
    }

    /// Connections holding messages for full mailboxes, and the handle that retries them in each loop
    /// iteration, after the processes ran and before libuv polls (a check handle would wait behind a poll
    /// that may block).
    private var holdingConnections: [ObjectIdentifier: NodeConnection] = [:]
    private lazy var retryHandle: UnsafeMutablePointer<uv_prepare_t> = {
        let handle = UnsafeMutablePointer<uv_prepare_t>.allocate(capacity: 1)
        uv_prepare_init(loop, handle)
        handle.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        flusher.openHandles += 1
        retryHandleCreated = true
        return handle
    }()
    private var retryHandleCreated = false

    /// `connection` holds messages for full mailboxes: retried in each loop iteration until none are left.
    func holding(_ connection: NodeConnection) {
        if holdingConnections.isEmpty {
            uv_prepare_start(retryHandle) { handle in
                Unmanaged<Distribution>.fromOpaque(handle!.pointee.data).takeUnretainedValue().retryHeld()
            }
        }
        holdingConnections[ObjectIdentifier(connection)] = connection
    }

    private func retryHeld() {
        for (key, connection) in holdingConnections where connection.retryHeld() {
            holdingConnections[key] = nil
        }
        if holdingConnections.isEmpty { uv_prepare_stop(retryHandle) }
    }

    /// Frames of a connection the peer superseded, waiting for the peer's own connection.
    private var parked: [String: [NodeConnection.QueuedFrame]] = [:]

    /// The acceptor's answer to a caller that named itself `peer` (Erlang's `accept_pending`). It reads the
    /// other connections and changes none: the caller has not proved the cookie yet.
    /// - a connection to `peer` is up: `alive` (the caller must say it restarted; only if it then completes
    ///   the handshake does it replace that connection);
    /// - this node is calling `peer` too (simultaneous connect): the call initiated by the smaller name wins —
    ///   `nok` when it is this node's, else `ok_simultaneous` (this node's call is dropped once the caller
    ///   has proved the cookie);
    /// - `peer` is this node's own name: `not_allowed`.
    func status(forCaller peer: String, on connection: NodeConnection) -> Handshake.Status {
        if peer == name { return .notAllowed }
        guard let existing = connections[peer], existing !== connection else { return .ok }
        if existing.state == .up { return .alive }
        return name < peer ? .nok : .okSimultaneous
    }

    /// An accepted connection completed its handshake: the peer proved the cookie, and takes its name's
    /// place. A connection to it that is up is stale (the peer restarted, as it said after `alive`); this
    /// node's own call to it hands its queued frames over.
    func claim(_ connection: NodeConnection, peer: String) {
        if let existing = connections[peer], existing !== connection {
            if existing.state == .up {
                existing.close(reason: "\(peer) connected again (restarted)")
            } else if existing.isInitiator {
                existing.handOver(to: connection)
            }
        }
        anonymous[ObjectIdentifier(connection)] = nil
        connections[peer] = connection
        if let frames = parked.removeValue(forKey: peer) { connection.adopt(frames) }
    }

    /// A connection replaced in a simultaneous connect closed: its frames wait for the peer's connection.
    func connectionSuperseded(_ connection: NodeConnection) {
        anonymous[ObjectIdentifier(connection)] = nil
        guard let peer = connection.peer else { return }
        let frames = connection.takePending()
        if let successor = connections[peer], successor !== connection {
            successor.adopt(frames)
        } else {
            if connections[peer] === connection { connections[peer] = nil }
            if !frames.isEmpty { parked[peer, default: []] += frames }
        }
    }

    func connectionUp(_ connection: NodeConnection) {
        anonymous[ObjectIdentifier(connection)] = nil
        guard let peer = connection.peer else { return }
        connections[peer] = connection
        defer { settled(peer, true) }
        var metadata: Logger.Metadata = ["node": "\(name)", "peer": "\(peer)"]
        if let identity = connection.stream?.channel?.peerIdentity {
            metadata["certificate"] = "\(LogText(identity))"  // the peer's certificate subject
        }
        node.configuration.logger.info("node connected", metadata: metadata)
        node.broadcastNodeEvent(.up(peer))
    }

    func connectionClosed(_ connection: NodeConnection, wasUp: Bool, reason: String, droppedFrames: Int) {
        anonymous[ObjectIdentifier(connection)] = nil
        if !connection.isInitiator, !wasUp, let peer = connection.peer, connections[peer] !== connection {
            // A caller that never proved its name: frames queued for that name go out on a call of our own.
            let frames = connection.takePending()
            if !frames.isEmpty, let next = self.connection(to: peer) { next.adopt(frames) }
            return
        }
        guard let peer = connection.peer, connections[peer] === connection else { return }
        connections[peer] = nil
        parked[peer] = nil
        defer { settled(peer, false) }
        if wasUp && isClosing {
            node.configuration.logger.info("node disconnected", metadata: [
                "node": "\(name)", "peer": "\(peer)", "reason": "\(reason)"])
        } else if wasUp {
            node.configuration.logger.warning("node disconnected", metadata: [
                "node": "\(name)", "peer": "\(peer)", "reason": "\(reason)"])
        } else if droppedFrames > 0 {
            node.configuration.logger.warning("messages to an unreachable node dropped", metadata: [
                "node": "\(name)", "peer": "\(peer)", "count": "\(droppedFrames)", "reason": "\(reason)"])
        }
        nodeDown(peer)
        // Subscribers hear of nodes that were up; a node's watchers also of a connection that failed.
        node.broadcastNodeEvent(.down(peer), subscribers: wasUp)
    }

    /// Everything that crossed the connection to `peer` ends as Erlang's `noconnection`.
    func nodeDown(_ peer: String) {
        for pair in (links.removeValue(forKey: peer) ?? []).sorted(by: { $0.local < $1.local }) {
            node.core(pair.local)?.extras?.links.remove(pair.remote)  // one of another loop: the signal removes it there
            node.signal(pair.local, from: pair.remote, reason: .noconnection, viaLink: true)
        }
        for (ref, monitor) in outgoingMonitors.sorted(by: { ($0.key.loop, $0.key.ref) < ($1.key.loop, $1.key.ref) })
        where monitor.target.remoteIdentity?.node == peer {
            fireOutgoingMonitor(ref, reason: .noconnection)
        }
        for (local, monitors) in incomingMonitors {
            let kept = monitors.filter { $0.watcher.node != peer }
            incomingMonitors[local] = kept.isEmpty ? nil : kept
        }
        remoteCalls = remoteCalls.filter { $0.value.from.node != peer }
        remoteCallsByAlias = remoteCallsByAlias.filter { remoteCalls[$0.value] != nil }
        // The calls from that node that other loops hold end there too.
        if let group = node.group {
            relayedAliases = relayedAliases.filter { $0.value.peer != peer }
            for loop in 0..<group.count where loop != node.loopIndex {
                group.node(loop).execute { $0.remoteCallsEnded(from: peer) }
            }
        }
    }

    /// Logs a failed secure channel: always for a named peer; for callers not named yet (anyone can open the
    /// port and send garbage) at most once a second.
    func logSecurityFailure(_ error: DistributionError, peerKnown: Bool) {
        if !peerKnown {
            guard lastSecurityFailureLogged.map({ now &- $0 >= 1000 }) ?? true else { return }
            lastSecurityFailureLogged = now
        }
        log(error)
    }

    /// Logs a refused or broken connection. The cookie never appears in any error.
    func log(_ error: DistributionError, level: Logger.Level = .warning) {
        node.configuration.logger.log(level: level, "distribution connection refused or closed", metadata: [
            "node": "\(name)", "error": "\(error)"])
    }

    // MARK: Identities

    /// The wire identity of a pid of this OS process: this node's own, or another node's in a cluster
    /// (`RemoteIdentities.enroll`); a pid of a node of this OS process in no cluster is `nonode@nohost`'s,
    /// as Erlang names a node without distribution.
    func external(_ pid: PID) -> ExternalPID {
        if pid.node == node.number || node.isSibling(pid) {
            return ExternalPID(node: name, id: RemoteIdentities.wireID(pid), serial: pid.serial, creation: creation)
        }
        if case .pid(let remote)? = pid.remoteIdentity { return remote }
        return RemoteIdentities.shared.clusterIdentity(of: pid)
            ?? ExternalPID(node: "nonode@nohost", id: pid.index, serial: pid.serial, creation: 0)
    }

    /// Whether a wire pid is one of this node's own (this incarnation's, or of a peer that sends no creation).
    func isOwn(_ external: ExternalPID) -> Bool {
        external.node == name && (external.creation == creation || external.creation == 0)
    }

    /// The `PID` for a wire pid: local for this node's own (of this creation), a remote pid otherwise.
    func pid(for external: ExternalPID) -> PID {
        if isOwn(external) { return node.ownPID(wireID: external.id, serial: external.serial) }
        return PID.remote(.pid(external))
    }

    /// This node's wire reference for a `Ref` of loop `loop` (0 for a node of its own): the loop goes in the
    /// third word, so a reply or `DOWN` that comes back for it reaches that loop.
    func external(_ ref: Ref, loop: Int = 0) -> ExternalReference {
        ExternalReference(node: name, creation: creation,
                          ids: [UInt32(truncatingIfNeeded: ref.rawValue), UInt32(truncatingIfNeeded: ref.rawValue >> 32),
                                UInt32(truncatingIfNeeded: loop)])
    }

    /// The local `Ref` behind one of this node's wire references, and the loop it belongs to.
    func localRef(_ ref: ExternalReference) -> ClusterRef? {
        guard ref.node == name, ref.creation == creation, ref.ids.count >= 2 else { return nil }
        let loop = ref.ids.count >= 3 ? Int(ref.ids[2]) : 0
        guard loop < (node.group?.count ?? 1) else { return nil }
        return ClusterRef(loop: loop, ref: Ref(rawValue: UInt64(ref.ids[0]) | UInt64(ref.ids[1]) << 32))
    }

    /// Enrolls this node — every loop of its group — under the cluster name (`nil`: it left).
    private func enrollLoops(as identity: (name: String, creation: UInt32)?) {
        guard let group = node.group else { return RemoteIdentities.shared.enroll(node.number, as: identity) }
        for loop in 0..<group.count { RemoteIdentities.shared.enroll(group.base + UInt32(loop), as: identity) }
    }

    /// The wire pid (and connection) of a remote stand-in pid.
    func route(_ pid: PID) -> (RemoteIdentity, NodeConnection)? {
        guard let identity = pid.remoteIdentity, let connection = connection(to: identity.node) else { return nil }
        return (identity, connection)
    }

    var nodePID: ExternalPID { ExternalPID(node: name, id: 0, serial: 0, creation: creation) }
}

/// A reference of one loop of this node (a node of its own is loop 0): what a reply or `DOWN` from the
/// cluster comes back to (`Distribution.external(_:loop:)` puts the loop on the wire).
struct ClusterRef: Hashable {
    let loop: Int
    let ref: Ref
}
