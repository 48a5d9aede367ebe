/// What local processes send to remote ones: messages, links and exit signals, monitors, and the
/// replies of local servers to remote callers. Thread: loop thread only.
extension Distribution {
    // MARK: Outgoing: messages

    /// Sends `message` from `sender` to a remote pid or name: `unreachable` when the node is unknown to EPMD
    /// or not connectable (the message is dropped, as Erlang drops it); `busy` (nothing is sent: the sender
    /// is told) when its connection's socket holds more unsent bytes than `options.busyLimit`, or when the
    /// message is big enough to go in fragments and the fragments already waiting pass it (a small message
    /// overtakes those, so they do not make it wait).
    @discardableResult
    func send(_ message: Term, from sender: PID?, to target: PID) -> RemoteSend {
        guard let (identity, connection) = route(target) else { return .unreachable }
        let queued = connection.socketBytes
        if queued > options.busyLimit {
            node.counters.refusedBusy &+= 1
            return .busy(queuedBytes: queued)
        }
        let control: Term
        switch identity {
        case .pid(let pid):
            if let sender, connection.peerFlags.contains(.sendSender) || connection.state != .up {
                control = ControlMessage.sendSender(from: external(sender), to: pid).control
            } else {
                control = ControlMessage.send(to: pid).control
            }
        case .name(let name, _):
            control = ControlMessage.regSend(from: sender.map(external) ?? nodePID, to: name).control
        }
        if let waiting = connection.sendMessage(control, payload: message, limit: options.busyLimit) {
            node.counters.refusedBusy &+= 1
            return .busy(queuedBytes: waiting)
        }
        return .sent
    }

    /// What became of a message to another node.
    enum RemoteSend: Equatable {
        case sent
        case unreachable
        case busy(queuedBytes: Int)
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

    func sendExit(_ message: ControlMessage, on connection: NodeConnection) {
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

    /// A process of this node (of loop `ref.loop`) starts monitoring a remote process or name (`ref` is
    /// already in that loop's table).
    func monitor(_ ref: ClusterRef, watcher: PID, target: PID) {
        guard let (identity, connection) = route(target) else {
            outgoingMonitors[ref] = (watcher, target)
            fireOutgoingMonitor(ref, reason: .noconnection)
            return
        }
        outgoingMonitors[ref] = (watcher, target)
        connection.send(ControlMessage.monitor(from: external(watcher), target: identity.term,
                                               ref: external(ref.ref, loop: ref.loop)).control)
    }

    /// A monitor on a remote target was removed (demonitor, the watcher's exit, a finished call).
    func monitorRemoved(_ ref: ClusterRef) {
        if ref.loop == node.loopIndex {
            awaitedReplies[ref.ref] = nil
            if !spawnsByRequest.isEmpty { spawnRequestEnded(ref.ref) }
        }
        guard let monitor = outgoingMonitors.removeValue(forKey: ref),
              let identity = monitor.target.remoteIdentity, let connection = connections[identity.node] else { return }
        connection.send(ControlMessage.demonitor(from: external(monitor.watcher), target: identity.term,
                                                 ref: external(ref.ref, loop: ref.loop)).control)
    }

    /// The remote target of monitor `ref` went down (or its node is unreachable): the watcher gets its `DOWN`,
    /// on its own loop.
    func fireOutgoingMonitor(_ ref: ClusterRef, reason: ExitReason) {
        guard let monitor = outgoingMonitors.removeValue(forKey: ref) else { return }
        if ref.loop == node.loopIndex {
            return node.remoteMonitorFired(ref.ref, watcher: monitor.watcher, target: monitor.target, reason: reason)
        }
        node.group?.node(ref.loop).execute {
            $0.remoteMonitorFired(ref.ref, watcher: monitor.watcher, target: monitor.target, reason: reason)
        }
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
        let call = RemoteCall(from: caller, tag: tag, server: server)
        remoteCalls[ref] = call
        if let alias = call.alias { remoteCallsByAlias[alias] = ref }
        return ref
    }

    /// A local server answered a remote caller: `{Tag, Reply}` goes back (to the alias of a modern
    /// `gen_server:call`, or to the caller's pid). Returns whether a call was waiting.
    @usableFromInline
    func reply<R>(_ ref: Ref, _ value: R) -> Bool {
        guard let call = remoteCalls.removeValue(forKey: ref) else { return false }
        if let alias = call.alias { remoteCallsByAlias[alias] = nil }
        guard let reply = node.encodeReply(value, for: call) else { return false }
        return send(reply, for: call)
    }

    /// `reply`, encoded, to the remote caller of `call`; false when its node is not connected.
    func send(_ reply: Term, for call: RemoteCall) -> Bool {
        if let alias = call.alias { relayedAliases[alias] = nil }  // a call another loop held: over
        if isOwn(call.from) {
            // A call this node made to itself (`{Name, node()}`): the reply goes straight to the caller's request.
            if case .reference(let tag) = call.tag, let ref = localRef(tag) {
                replyArrived(for: ref, reply)
            } else {
                node.counters.ignoredReplies &+= 1
            }
            return true
        }
        guard let connection = connection(to: call.from.node) else { return false }
        sendReply(reply, tag: call.tag, to: call.from, from: external(call.server), on: connection)
        return true
    }

    /// `{Tag, Reply}` to a `gen_server:call` caller: to its alias (`ALIAS_SEND`), or to its pid for a caller
    /// that tagged the call with a plain reference.
    func sendReply(_ reply: Term, tag: Term, to caller: ExternalPID, from sender: ExternalPID, on connection: NodeConnection) {
        let message = Term.tuple([tag, reply])
        if let alias = Self.alias(in: tag) {
            connection.send(ControlMessage.aliasSend(from: sender, alias: alias).control, payload: message)
        } else {
            connection.send(ControlMessage.send(to: caller).control, payload: message)
        }
    }

    /// A local caller awaits the reply to request `ref` from a remote server; `deliver` decodes it.
    func awaitReply(_ ref: Ref, deliver: @escaping (Term) -> Void) { awaitedReplies[ref] = deliver }
}
