import Logging

/// What arrives from a connected node: each control message acted on with the same semantics as between
/// local processes, and messages delivered into local mailboxes (or logged when they cannot be).
/// Thread: loop thread only.
extension Distribution {
    func received(control: Term, payload: Term?, from connection: NodeConnection) {
        let message: ControlMessage
        do throws(TermConversionError) {
            message = try ControlMessage(control: control, payload: payload)
        } catch {
            return connection.fail(.protocolViolation(node: connection.peer ?? "?", reason: error.description))
        }
        guard let peer = connection.peer else { return }
        if let sender = message.sender, sender.node != peer {
            // Only the peer's own processes: a pid of any other node would be a forged sender (and a row in
            // the node table per name a peer makes up).
            return connection.fail(.protocolViolation(node: peer, reason: "a control message from \(sender), not a process of \(peer)"))
        }
        switch message {
        case .send(let to):
            deliver(payload ?? .undefined, from: nil, to: to, on: connection)
        case .sendSender(let from, let to):
            deliver(payload ?? .undefined, from: from, to: to, on: connection)
        case .regSend(let from, let name):
            deliver(payload ?? .undefined, from: from, toName: name, on: connection)
        case .aliasSend(let from, let alias):
            // This node hands out no aliases: nothing can be waiting on one.
            node.configuration.logger.warning("message to an unknown alias dropped", metadata: [
                "node": "\(name)", "from": "\(from)", "alias": "\(alias)"])
        case .link(let from, let to):
            let local = pid(for: to), remote = pid(for: from)
            if to.node == name, node.isSibling(local) {
                // A process of another loop of this node: linked there, or `noproc` back from there.
                links[peer, default: []].insert(LinkPair(local: local, remote: remote))
                node.group!.node(of: local).execute { $0.remoteLinked(local, to: remote, as: to, from: from) }
                return
            }
            guard to.node == name, let process = node.core(local), process.status != .terminated else {
                sendExit(.exit(from: to, to: from, reason: .atom("noproc")), on: connection)
                return
            }
            process.relations.links.insert(remote)
            links[peer, default: []].insert(LinkPair(local: local, remote: remote))
        case .unlinkID(let id, let from, let to):
            let local = pid(for: to), remote = pid(for: from)
            if node.isSibling(local) {
                node.group!.node(of: local).execute { $0.core(local)?.extras?.links.remove(remote) }
            } else {
                node.core(local)?.extras?.links.remove(remote)
            }
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
            if let local = localProcess(target), var monitors = incomingMonitors[local] {
                monitors.removeAll { $0.ref == ref }
                incomingMonitors[local] = monitors.isEmpty ? nil : monitors
            }
            // gen_server:call's monitor doubles as its alias: the call is over (on the loop that holds it).
            if let call = remoteCallsByAlias.removeValue(forKey: ref) { remoteCalls[call] = nil }
            if let relayed = relayedAliases.removeValue(forKey: ref) {
                node.group?.node(relayed.loop).execute { $0.remoteCallAbandoned(alias: ref) }
            }
        case .monitorExit(_, _, let ref, let reason):
            if let local = localRef(ref) { fireOutgoingMonitor(local, reason: ExitReason(term: reason)) }
        case .spawnRequest(let id, let from, _, let module, let function, let arity, let options, let arguments):
            spawnRequested(id: id, from: from, module: module, function: function, arity: arity, options: options,
                           arguments: arguments, on: connection)
        case .spawnReply(let id, let to, let flags, let result):
            spawnReplied(id: id, to: to, flags: flags, result: result, on: connection)
        case .unsupported(let tag, _):
            node.configuration.logger.debug("unsupported control message ignored", metadata: [
                "node": "\(name)", "peer": "\(peer)", "tag": "\(tag)"])
        }
    }

    private func monitored(by watcher: ExternalPID, target: Term, ref: ExternalReference, on connection: NodeConnection) {
        // The system services this node runs without a process (`NetKernel.swift`): there while the connection is.
        if case .atom(let service) = target, service == "net_kernel" || service == "rex",
           node.registeredPID(service) == nil { return }
        if let local = localProcess(target), node.isSibling(local) {
            // A process of another loop of this node: watched from there, which tells `processExited` here.
            incomingMonitors[local, default: []].append(IncomingMonitor(ref: ref, watcher: watcher, target: target))
            node.group!.node(of: local).execute { $0.watchedRemotely(local) }
            return
        }
        guard let local = localProcess(target), let process = node.core(local), process.status != .terminated else {
            sendExit(.monitorExit(target: target, to: watcher, ref: ref, reason: .atom("noproc")), on: connection)
            return
        }
        incomingMonitors[local, default: []].append(IncomingMonitor(ref: ref, watcher: watcher, target: target))
    }

    /// The local process a monitor target names: one of this node's pids, or a registered name.
    private func localProcess(_ target: Term) -> PID? {
        switch target {
        case .pid(let p) where p.node == name: return pid(for: p)
        case .atom(let n): return node.registeredPID(n)
        default: return nil
        }
    }

    /// The reply to request `ref`, a call this node made: decoded for its caller (on the caller's loop), or
    /// dropped and counted when the call has ended (timed out, server down), as a late local reply.
    func replyArrived(for ref: ClusterRef, _ reply: Term) {
        guard ref.loop == node.loopIndex else {
            node.group?.node(ref.loop).execute { $0.relayedReplyArrived(ref.ref, reply) }
            return
        }
        guard let deliverReply = awaitedReplies.removeValue(forKey: ref.ref) else {
            node.counters.ignoredReplies &+= 1
            return
        }
        deliverReply(reply)
    }

    /// A message for a local pid.
    private func deliver(_ message: Term, from: ExternalPID?, to target: ExternalPID, on connection: NodeConnection) {
        // The reply to a call this node made: `{Ref, Reply}` with one of this node's references. One that
        // comes after its call ended (timed out, server down) is dropped and counted, as a late local reply.
        if case .tuple(let elements) = message, elements.count == 2, case .reference(let tag) = elements[0],
           let ref = localRef(tag) {
            return replyArrived(for: ref, elements[1])
        }
        guard isOwn(target) else {
            return dropped(message, to: "\(target)", reason: "a pid of another incarnation of this node")
        }
        deliverTerm(message, to: node.ownPID(wireID: target.id, serial: target.serial), label: .remote(target), on: connection)
    }

    private func deliver(_ message: Term, from: ExternalPID, toName name: String, on connection: NodeConnection) {
        guard let local = node.registeredPID(name) else {
            if answerSystemService(name, message, from: from, on: connection) { return }
            return dropped(message, to: name, reason: "no process is registered under this name")
        }
        deliverTerm(message, to: local, label: .name(name), on: connection)
    }

    private func deliverTerm(_ message: Term, to local: PID, label: DeliveryLabel, on connection: NodeConnection) {
        // A process of another loop of this node: decoded and delivered there, in arrival order (one job queue
        // per loop); a full mailbox there drops the message with a warning (`Node.deliverRelayedTerm`).
        if node.isSibling(local) {
            let loop = node.group!.loop(of: local)!
            // A call's alias: its caller's DEMONITOR (the call is over) is sent on to that loop.
            if case .tuple(let e) = message, e.count == 3, e[0] == .atom("$gen_call"), case .tuple(let from) = e[1],
               from.count == 2, let alias = Self.alias(in: from[1]), let peer = connection.peer {
                relayedAliases[alias] = (loop, peer)
            }
            node.group!.node(loop).execute { $0.deliverRelayedTerm(message, to: local, label: label) }
            return
        }
        // A full mailbox holds back its own messages (`HeldMessages`); past the connection's bound the
        // connection stops reading, so the sender feels it as TCP backpressure, as an Erlang sender feels
        // a busy distribution port.
        if connection.isHolding(local) || !redeliver(message, to: local, label: label) {
            connection.hold(message, for: local, label: label)
        }
    }

    /// Delivers a message from another node; `false` only when the target's mailbox is full (the message
    /// is kept and tried again). Every other outcome is final: delivered, or dropped and logged.
    func redeliver(_ message: Term, to local: PID, label: DeliveryLabel) -> Bool {
        guard let process = node.core(local), process.status != .terminated else {
            node.counters.droppedToDeadProcesses &+= 1  // a dead pid drops the message, as in Erlang
            return true
        }
        switch process.deliverTerm(message, node: node) {
        case .delivered:
            node.counters.delivered &+= 1
        case .mailboxFull:
            return false
        case .undecodable(let error):
            dropped(message, to: label.description, reason: "\(error)")
        case .notAccepted(let type):
            dropped(message, to: label.description, reason: "its message type \(type) is not TermDecodable")
        }
        return true
    }

    /// A message from another node that cannot be delivered is logged (with its target and why), never lost quietly.
    func dropped(_ message: Term, to target: String, reason: String) {
        node.configuration.logger.warning("message from another node dropped", metadata: [
            "node": "\(name)", "target": "\(LogText(target))", "reason": "\(LogText(reason, limit: 500))",
            "message": "\(message.description(limit: 200))"])
    }
}

/// Whom a message from another node is for, as a log line names it: written out only when one is (a
/// message delivered costs no string).
enum DeliveryLabel: CustomStringConvertible, Sendable {
    case remote(ExternalPID)
    case pid(PID)
    case name(String)

    var description: String {
        switch self {
        case .remote(let pid): return "\(pid)"
        case .pid(let pid): return "\(pid)"
        case .name(let name): return name
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
