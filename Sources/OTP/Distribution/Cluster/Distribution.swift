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
    private(set) var isStarted = false
    /// This node is leaving the cluster: its own disconnections are not warnings.
    private var isClosing = false

    /// Connections by peer name (up or being set up), and accepted ones whose peer is not known yet.
    private(set) var connections: [String: NodeConnection] = [:]
    private var anonymous: [ObjectIdentifier: NodeConnection] = [:]

    /// Monitors held by local processes on remote processes, by the monitor's reference.
    private var outgoingMonitors: [Ref: (watcher: PID, target: PID)] = [:]
    /// Monitors held by remote processes on local ones, by the local process.
    private var incomingMonitors: [PID: [IncomingMonitor]] = [:]
    /// Links between local and remote processes, by the remote node.
    private var links: [String: Set<LinkPair>] = [:]
    /// Calls from remote processes to local servers awaiting the reply, by the request reference.
    private var remoteCalls: [Ref: RemoteCall] = [:]
    /// Replies awaited by local callers of remote servers: decode the reply term and deliver it.
    private var awaitedReplies: [Ref: (Term) -> Void] = [:]
    private var nextUnlinkID: UInt64 = 1
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
    }

    /// Resolves the cookie and prepares the handles; `start` listens and registers.
    init(node: Node, options: DistributionOptions, loop: UnsafeMutablePointer<uv_loop_t>) throws(DistributionError) {
        guard Self.isValid(options.name) else { throw .invalidNodeName(options.name) }
        self.node = node
        self.options = options
        self.name = options.name
        self.cookie = try options.cookie.resolve()
        self.loop = loop
        flusher = TCPFlusher(loop: loop)
        tickTimer = .allocate(capacity: 1)
        uv_timer_init(loop, tickTimer)
        flusher.openHandles += 1
        challengeState = UInt64.random(in: 1...UInt64.max)  // the system generator: getrandom(2)
        tickTimer.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    static func isValid(_ name: String) -> Bool {
        let parts = name.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return false }
        return parts[0].allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
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

    /// Listens, then registers with EPMD; `completion` runs once registered (or failed).
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
            stream: stream, host: "127.0.0.1", request: EPMD.aliveRequest(name: alive, port: listener!.port),
            parse: { [unowned self] bytes throws(DistributionError) -> Bool in
                guard let creation = try EPMD.aliveResponse(bytes) else { return false }
                self.creation = creation
                self.isStarted = true
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
    }

    /// The distribution port (0 before `start`).
    var port: UInt16 { listener?.port ?? 0 }

    /// `options.tickTime` in milliseconds.
    private var tickMillis: UInt64 {
        let (seconds, attoseconds) = options.tickTime.components
        return max(UInt64(max(seconds, 0)) * 1000 + UInt64(max(attoseconds, 0) / 1_000_000_000_000_000), 4)
    }

    private func startTicks() {
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
            if current &- connection.lastReceived > tickMillis {
                connection.fail(.tickTimeout(node: connection.peer ?? "?", milliseconds: tickMillis))
            } else {
                connection.tick(now: current, interval: tickMillis / 4)
            }
        }
    }

    /// Leaves the cluster: every connection closes (links and monitors across them see `noconnection`),
    /// EPMD forgets the name, and the handles close.
    func close() {
        isStarted = false
        isClosing = true
        for connection in Array(connections.values) + Array(anonymous.values) { connection.close(reason: "node stopped") }
        registration?.close()
        registration = nil
        listener?.close()
        listener = nil
        uv_timer_stop(tickTimer)
        uv_close(otp_uv_handle(tickTimer)) { handle in
            Unmanaged<Distribution>.fromOpaque(handle!.pointee.data).takeUnretainedValue().flusher.openHandles -= 1
            UnsafeMutableRawPointer(handle)?.deallocate()
        }
        flusher.close()
    }

    // MARK: Connections

    private func accept(_ stream: TCPStream) {
        let connection = NodeConnection(accepted: stream, distribution: self)
        anonymous[ObjectIdentifier(connection)] = connection
    }

    /// The connection to `peer`, set up (auto-connect, as Erlang does) when there is none.
    func connection(to peer: String) -> NodeConnection? {
        if let existing = connections[peer] { return existing }
        guard isStarted, peer != name, Self.isValid(peer) else { return nil }
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

    func connectionUp(_ connection: NodeConnection) {
        anonymous[ObjectIdentifier(connection)] = nil
        guard let peer = connection.peer else { return }
        connections[peer] = connection
        defer { settled(peer, true) }
        node.configuration.logger.info("node connected", metadata: ["node": "\(name)", "peer": "\(peer)"])
    }

    func connectionClosed(_ connection: NodeConnection, wasUp: Bool, reason: String, droppedFrames: Int) {
        anonymous[ObjectIdentifier(connection)] = nil
        guard let peer = connection.peer, connections[peer] === connection else { return }
        connections[peer] = nil
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
    }

    /// Everything that crossed the connection to `peer` ends as Erlang's `noconnection`.
    private func nodeDown(_ peer: String) {
        for pair in (links.removeValue(forKey: peer) ?? []).sorted(by: { $0.local < $1.local }) {
            node.core(pair.local)?.extras?.links.remove(pair.remote)
            node.signal(pair.local, from: pair.remote, reason: .noconnection, viaLink: true)
        }
        for (ref, monitor) in outgoingMonitors.sorted(by: { $0.key < $1.key })
        where monitor.target.remoteIdentity?.node == peer {
            fireOutgoingMonitor(ref, reason: .noconnection)
        }
        for (local, monitors) in incomingMonitors {
            let kept = monitors.filter { $0.watcher.node != peer }
            incomingMonitors[local] = kept.isEmpty ? nil : kept
        }
        remoteCalls = remoteCalls.filter { $0.value.from.node != peer }
    }

    /// Logs a refused or broken connection. The cookie never appears in any error.
    func log(_ error: DistributionError) {
        node.configuration.logger.warning("distribution connection refused or closed", metadata: [
            "node": "\(name)", "error": "\(error)"])
    }

    // MARK: Identities

    /// This node's wire identity of a local pid.
    func external(_ pid: PID) -> ExternalPID {
        ExternalPID(node: name, id: pid.index, serial: pid.serial, creation: creation)
    }

    /// The `PID` for a wire pid: local for this node's own (of this creation), a remote stand-in otherwise.
    func pid(for external: ExternalPID) -> PID {
        if external.node == name { return PID(index: external.id, serial: external.serial) }
        return PID.remote(.pid(external))
    }

    /// This node's wire reference for a local `Ref`.
    func external(_ ref: Ref) -> ExternalReference {
        ExternalReference(node: name, creation: creation,
                          ids: [UInt32(truncatingIfNeeded: ref.rawValue), UInt32(truncatingIfNeeded: ref.rawValue >> 32), 0])
    }

    /// The local `Ref` behind one of this node's wire references.
    func localRef(_ ref: ExternalReference) -> Ref? {
        guard ref.node == name, ref.creation == creation, ref.ids.count >= 2 else { return nil }
        return Ref(rawValue: UInt64(ref.ids[0]) | UInt64(ref.ids[1]) << 32)
    }

    /// The wire pid (and connection) of a remote stand-in pid.
    private func route(_ pid: PID) -> (RemoteIdentity, NodeConnection)? {
        guard let identity = pid.remoteIdentity, let connection = connection(to: identity.node) else { return nil }
        return (identity, connection)
    }

    private var nodePID: ExternalPID { ExternalPID(node: name, id: 0, serial: 0, creation: creation) }

    // MARK: Outgoing: messages

    /// Sends `message` from `sender` to a remote pid or name. Returns false when the node is unreachable
    /// (unknown to EPMD or not connectable: the message is dropped, as Erlang drops it).
    @discardableResult
    func send(_ message: Term, from sender: PID?, to target: PID) -> Bool {
        guard let (identity, connection) = route(target) else { return false }
        switch identity {
        case .pid(let pid):
            if let sender, connection.peerFlags.contains(.sendSender) || connection.state != .up {
                connection.send(ControlMessage.sendSender(from: external(sender), to: pid).control, payload: message)
            } else {
                connection.send(ControlMessage.send(to: pid).control, payload: message)
            }
        case .name(let name, _):
            connection.send(ControlMessage.regSend(from: sender.map(external) ?? nodePID, to: name).control, payload: message)
        }
        return true
    }

    // MARK: Outgoing: links, exits, monitors

    func link(_ local: PID, _ remote: PID) {
        guard case .pid(let target)? = remote.remoteIdentity, let connection = connection(to: target.node) else {
            node.signal(local, from: remote, reason: .noconnection, viaLink: true)
            return
        }
        node.core(local)?.relations.links.insert(remote)
        links[target.node, default: []].insert(LinkPair(local: local, remote: remote))
        connection.send(ControlMessage.link(from: external(local), to: target).control)
    }

    func unlink(_ local: PID, _ remote: PID) {
        guard case .pid(let target)? = remote.remoteIdentity else { return }
        node.core(local)?.extras?.links.remove(remote)
        guard links[target.node]?.remove(LinkPair(local: local, remote: remote)) != nil,
              let connection = connections[target.node] else { return }
        nextUnlinkID &+= 1
        connection.send(ControlMessage.unlinkID(id: nextUnlinkID, from: external(local), to: target).control)
    }

    /// An exit signal from a local process (or the node) to a remote one: along a link (`EXIT`) or `exit/2`.
    func exitSignal(to remote: PID, from: PID?, reason: ExitReason, viaLink: Bool) {
        guard case .pid(let target)? = remote.remoteIdentity else { return }
        let sender = from.map(external) ?? nodePID
        if viaLink {
            guard let from, links[target.node]?.remove(LinkPair(local: from, remote: remote)) != nil,
                  let connection = connections[target.node] else { return }
            sendExit(.exit(from: sender, to: target, reason: reason.term), on: connection)
        } else if let connection = connection(to: target.node) {
            sendExit(.exit2(from: sender, to: target, reason: reason.term), on: connection)
        }
    }

    private func sendExit(_ message: ControlMessage, on connection: NodeConnection) {
        if connection.peerFlags.contains(.exitPayload) || connection.state != .up {
            connection.send(message.control, payload: message.reasonPayload)
        } else {
            // A peer without payload exits: the reason goes inside the control tuple.
            guard case .tuple(var elements) = message.control, let reason = message.reasonPayload else { return }
            elements[0] = .integer(elements[0] == .integer(24) ? 3 : elements[0] == .integer(26) ? 8 : 21)
            elements.append(reason)
            connection.send(.tuple(elements))
        }
    }

    /// A local process starts monitoring a remote process or name (`ref` is already in the node's table).
    func monitor(_ ref: Ref, watcher: PID, target: PID) {
        guard let (identity, connection) = route(target) else {
            outgoingMonitors[ref] = (watcher, target)
            fireOutgoingMonitor(ref, reason: .noconnection)
            return
        }
        outgoingMonitors[ref] = (watcher, target)
        let targetTerm: Term
        switch identity {
        case .pid(let pid): targetTerm = .pid(pid)
        case .name(let name, _): targetTerm = .atom(name)
        }
        connection.send(ControlMessage.monitor(from: external(watcher), target: targetTerm, ref: external(ref)).control)
    }

    /// A local monitor on a remote target was removed (demonitor, the watcher's exit, a finished call).
    func monitorRemoved(_ ref: Ref) {
        awaitedReplies[ref] = nil
        guard let monitor = outgoingMonitors.removeValue(forKey: ref),
              let identity = monitor.target.remoteIdentity, let connection = connections[identity.node] else { return }
        let targetTerm: Term
        switch identity {
        case .pid(let pid): targetTerm = .pid(pid)
        case .name(let name, _): targetTerm = .atom(name)
        }
        connection.send(ControlMessage.demonitor(from: external(monitor.watcher), target: targetTerm, ref: external(ref)).control)
    }

    /// The remote target of monitor `ref` went down (or its node is unreachable): the watcher gets its `DOWN`.
    private func fireOutgoingMonitor(_ ref: Ref, reason: ExitReason) {
        guard let monitor = outgoingMonitors.removeValue(forKey: ref) else { return }
        awaitedReplies[ref] = nil
        guard let slot = node.monitors.slot(ref), node.monitors[slot].watcher == monitor.watcher else { return }
        if node.monitors.hasReply(slot) { return }  // an answered call: the reply stays, no DOWN follows
        // An external call's request keeps its slot until the external caller takes the DOWN.
        if !node.monitors.hasExternal(slot) { node.removeMonitor(slot) }
        node.core(monitor.watcher)?.pushSystem(.down(Down(monitor: ref, pid: monitor.target, reason: reason)), node: node)
    }

    /// A local process exited: remote watchers get their `MONITOR_P_EXIT`.
    func processExited(_ pid: PID, reason: ExitReason) {
        guard let monitors = incomingMonitors.removeValue(forKey: pid) else { return }
        for monitor in monitors {
            guard let connection = connections[monitor.watcher.node] else { continue }
            sendExit(.monitorExit(target: monitor.target, to: monitor.watcher, ref: monitor.ref, reason: reason.term),
                     on: connection)
        }
    }

    var hasIncomingMonitors: Bool { !incomingMonitors.isEmpty }

    // MARK: Calls across nodes

    /// A remote process called a local server: remembers how to answer, returns the request's reference.
    func openRemoteCall(from caller: ExternalPID, tag: Term, server: PID) -> Ref {
        let ref = node.monitors.detachedRef()
        remoteCalls[ref] = RemoteCall(from: caller, tag: tag, server: server)
        return ref
    }

    func cancelRemoteCall(_ ref: Ref) { remoteCalls[ref] = nil }

    /// A local server answered a remote caller: `{Tag, Reply}` goes back (to the alias of a modern
    /// `gen_server:call`, or to the caller's pid). Returns whether a call was waiting.
    @usableFromInline
    func reply<R>(_ ref: Ref, _ value: R) -> Bool {
        guard let call = remoteCalls.removeValue(forKey: ref) else { return false }
        let reply: Term
        do throws(TermConversionError) {
            guard let encodable = value as? any TermEncodable else {
                throw .unrepresentable("a reply of type \(R.self), which is not TermEncodable")
            }
            reply = try encodable.toTerm()
        } catch {
            node.configuration.logger.error("reply to a remote caller cannot be encoded", metadata: [
                "pid": "\(call.server)", "caller": "\(call.from)", "error": "\(error)"])
            return false
        }
        guard let connection = connection(to: call.from.node) else { return false }
        let message = Term.tuple([call.tag, reply])
        if case .improperList(let head, .reference(let alias)) = call.tag, head == [.atom("alias")] {
            connection.send(ControlMessage.aliasSend(from: external(call.server), alias: alias).control, payload: message)
        } else {
            connection.send(ControlMessage.send(to: call.from).control, payload: message)
        }
        return true
    }

    /// A local caller awaits the reply to request `ref` from a remote server; `deliver` decodes it.
    func awaitReply(_ ref: Ref, deliver: @escaping (Term) -> Void) { awaitedReplies[ref] = deliver }

    // MARK: Incoming

    func received(control: Term, payload: Term?, from connection: NodeConnection) {
        let message: ControlMessage
        do throws(TermConversionError) {
            message = try ControlMessage(control: control, payload: payload)
        } catch {
            return connection.fail(.protocolViolation(node: connection.peer ?? "?", reason: error.description))
        }
        guard let peer = connection.peer else { return }
        switch message {
        case .send(let to):
            deliver(payload ?? .undefined, from: nil, to: to)
        case .sendSender(let from, let to):
            deliver(payload ?? .undefined, from: from, to: to)
        case .regSend(let from, let name):
            deliver(payload ?? .undefined, from: from, toName: name, on: connection)
        case .aliasSend(let from, let alias):
            // This node hands out no aliases: nothing can be waiting on one.
            node.configuration.logger.warning("message to an unknown alias dropped", metadata: [
                "node": "\(name)", "from": "\(from)", "alias": "\(alias)"])
        case .link(let from, let to):
            let local = pid(for: to), remote = pid(for: from)
            guard to.node == name, let process = node.core(local), process.status != .terminated else {
                sendExit(.exit(from: to, to: from, reason: .atom("noproc")), on: connection)
                return
            }
            process.relations.links.insert(remote)
            links[peer, default: []].insert(LinkPair(local: local, remote: remote))
        case .unlinkID(let id, let from, let to):
            let local = pid(for: to), remote = pid(for: from)
            node.core(local)?.extras?.links.remove(remote)
            links[peer]?.remove(LinkPair(local: local, remote: remote))
            connection.send(ControlMessage.unlinkIDAck(id: id, from: to, to: from).control)
        case .unlinkIDAck:
            break
        case .exit(let from, let to, let reason):
            let local = pid(for: to), remote = pid(for: from)
            guard links[peer]?.remove(LinkPair(local: local, remote: remote)) != nil else { return }
            node.core(local)?.extras?.links.remove(remote)
            node.signal(local, from: remote, reason: ExitReason(term: reason), viaLink: true)
        case .exit2(let from, let to, let reason):
            node.signal(pid(for: to), from: pid(for: from), reason: ExitReason(term: reason), viaLink: false)
        case .monitor(let from, let target, let ref):
            monitored(by: from, target: target, ref: ref, on: connection)
        case .demonitor(_, let target, let ref):
            let local: PID?
            switch target {
            case .pid(let p): local = pid(for: p)
            case .atom(let n): local = node.registry[n]
            default: local = nil
            }
            if let local, var monitors = incomingMonitors[local] {
                monitors.removeAll { $0.ref == ref }
                incomingMonitors[local] = monitors.isEmpty ? nil : monitors
            }
            // gen_server:call's monitor doubles as its alias: the call is over.
            remoteCalls = remoteCalls.filter {
                if case .improperList(_, .reference(let alias)) = $0.value.tag { return alias != ref }
                return true
            }
        case .monitorExit(_, _, let ref, let reason):
            if let local = localRef(ref) { fireOutgoingMonitor(local, reason: ExitReason(term: reason)) }
        case .unsupported(let tag, _):
            node.configuration.logger.debug("unsupported control message ignored", metadata: [
                "node": "\(name)", "peer": "\(peer)", "tag": "\(tag)"])
        }
    }

    private func monitored(by watcher: ExternalPID, target: Term, ref: ExternalReference, on connection: NodeConnection) {
        let local: PID?
        switch target {
        case .pid(let p): local = p.node == name ? pid(for: p) : nil
        case .atom("net_kernel"): return  // always there while the connection is
        case .atom(let n): local = node.registry[n]
        default: local = nil
        }
        guard let local, let process = node.core(local), process.status != .terminated else {
            sendExit(.monitorExit(target: target, to: watcher, ref: ref, reason: .atom("noproc")), on: connection)
            return
        }
        incomingMonitors[local, default: []].append(IncomingMonitor(ref: ref, watcher: watcher, target: target))
    }

    /// A message for a local pid.
    private func deliver(_ message: Term, from: ExternalPID?, to target: ExternalPID) {
        // The reply to a call this node made: `{Ref, Reply}`.
        if case .tuple(let elements) = message, elements.count == 2, case .reference(let tag) = elements[0],
           let ref = localRef(tag), let deliverReply = awaitedReplies.removeValue(forKey: ref) {
            return deliverReply(elements[1])
        }
        guard target.node == name, target.creation == creation || target.creation == 0 else {
            return dropped(message, to: "\(target)", reason: "a pid of another incarnation of this node")
        }
        deliverTerm(message, to: PID(index: target.id, serial: target.serial), label: "\(target)")
    }

    private func deliver(_ message: Term, from: ExternalPID, toName name: String, on connection: NodeConnection) {
        if name == "net_kernel" { return netKernel(message, from: from, on: connection) }
        guard let local = node.registry[name] else {
            if name == "rex", case .tuple(let e) = message, e.count == 2, case .pid(let asker) = e[0],
               e[1] == .atom("features_request") {
                // Erlang's rpc server asks every new node what it supports: nothing of rpc here.
                connection.send(ControlMessage.send(to: asker).control,
                                payload: .tuple([.atom("features_reply"), .atom(self.name), .list([])]))
                return
            }
            if name == "global_name_server" || name == "rex" {
                // `global` and `rpc` of Erlang nodes greet every new node; this node takes part in neither.
                node.configuration.logger.debug("system message for a service this node does not run", metadata: [
                    "node": "\(self.name)", "target": "\(name)"])
                return
            }
            return dropped(message, to: name, reason: "no process is registered under this name")
        }
        deliverTerm(message, to: local, label: name)
    }

    private func deliverTerm(_ message: Term, to local: PID, label: String) {
        guard let process = node.core(local), process.status != .terminated else {
            node.counters.droppedToDeadProcesses &+= 1  // a dead pid drops the message, as in Erlang
            return
        }
        switch process.deliverTerm(message, node: node) {
        case .delivered:
            node.counters.delivered &+= 1
        case .mailboxFull:
            node.counters.refusedMailboxFull &+= 1
            dropped(message, to: label, reason: "mailbox full")
        case .undecodable(let error):
            dropped(message, to: label, reason: "\(error)")
        case .notAccepted(let type):
            dropped(message, to: label, reason: "its message type \(type) is not TermDecodable")
        }
    }

    /// A message from another node that cannot be delivered is logged (with its target and why), never lost quietly.
    private func dropped(_ message: Term, to target: String, reason: String) {
        let text = message.description
        node.configuration.logger.warning("message from another node dropped", metadata: [
            "node": "\(name)", "target": "\(target)", "reason": "\(reason)",
            "message": "\(text.count > 200 ? String(text.prefix(200)) + "..." : text)"])
    }

    /// The part of `net_kernel` that `net_adm:ping/1` needs: `{is_auth, Node}` is answered `yes`.
    private func netKernel(_ message: Term, from: ExternalPID, on connection: NodeConnection) {
        guard case .tuple(let elements) = message, elements.count == 3, elements[0] == .atom("$gen_call"),
              case .tuple(let fromTag) = elements[1], fromTag.count == 2 else { return }
        let reply: Term = elements[2].tupleElements?.first == .atom("is_auth") ? .atom("yes") : .atom("error")
        let answer = Term.tuple([fromTag[1], reply])
        if case .improperList(_, .reference(let alias)) = fromTag[1] {
            connection.send(ControlMessage.aliasSend(from: nodePID, alias: alias).control, payload: answer)
        } else if case .pid(let caller) = fromTag[0] {
            connection.send(ControlMessage.send(to: caller).control, payload: answer)
        }
    }
}

/// What became of a term delivered to a local process.
enum TermDelivery {
    case delivered
    case mailboxFull
    case undecodable(TermConversionError)
    case notAccepted(String)
}
