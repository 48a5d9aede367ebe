import Logging

/// A `NodeGroup` in a cluster is one Erlang node: loop 0 runs the distribution (its connections, EPMD,
/// the links and monitors that cross them), and every other loop reaches the cluster through it.
///
/// A pid of loop k goes on the wire as id `index × loops + k` (as it prints), so the cluster sees one node.
/// What a process of loop k sends out — messages, link, unlink, exit signals, monitors, demonitors, calls and
/// replies — is encoded on loop k and handed to loop 0 as a job (one FIFO job queue per loop: what one
/// process sends keeps its order). What arrives for a process of loop k goes there as a job the same way.
/// A reference made on loop k travels with k in its third word, so the reply or `DOWN` for it comes back
/// to loop k.
///
/// Thread: loop thread only (each function on the loop it names).
extension Node {
    /// Whether this loop reaches the cluster through loop 0 of its group (which runs the distribution).
    var clustersThroughLoop0: Bool {
        groupRef != nil && loopIndex != 0 && RemoteIdentities.shared.enrollment(of: number) != nil
    }

    /// The group's name in the cluster as this loop knows it, with its creation.
    var clusterEnrollment: (name: String, creation: UInt32)? { RemoteIdentities.shared.enrollment(of: number) }

    /// Runs `body` on loop 0 with its distribution (a job; nothing when it has stopped).
    func viaClusterLoop(_ body: @escaping @Sendable (Distribution) -> Void) {
        group?.node(0).execute { node in
            guard let distribution = node.distribution, distribution.isStarted else { return }
            body(distribution)
        }
    }

    /// The local pid behind one of this node's wire ids: of this loop, or of another loop of its group.
    func ownPID(wireID id: UInt32, serial: UInt32) -> PID {
        guard let group else { return PID(node: number, index: id, serial: serial) }
        let count = UInt32(group.count)
        return PID(node: group.base + id % count, index: id / count, serial: serial)
    }

    /// This node's wire pid for `pid` of this OS process (or nil outside a cluster).
    func clusterPID(_ pid: PID) -> ExternalPID? {
        if let distribution, distribution.isStarted { return distribution.external(pid) }
        return RemoteIdentities.shared.clusterIdentity(of: pid)
    }

    /// This node's wire reference for a `Ref` of this loop (its loop in the third word).
    func clusterReference(_ ref: Ref) -> ExternalReference? {
        guard let (name, creation) = clusterEnrollment else { return nil }
        return ExternalReference(node: name, creation: creation,
                                 ids: [UInt32(truncatingIfNeeded: ref.rawValue), UInt32(truncatingIfNeeded: ref.rawValue >> 32),
                                       UInt32(truncatingIfNeeded: loopIndex)])
    }

    /// Whether a wire pid is one of this node's own (this incarnation's, or of a peer that sends no creation).
    func isOwnClusterPID(_ external: ExternalPID) -> Bool {
        guard let (name, creation) = clusterEnrollment else { return false }
        return external.node == name && (external.creation == creation || external.creation == 0)
    }

    // MARK: What arrives from loop 0 for this loop

    /// A message from another node for `local`, a process of this loop: delivered, or dropped with a
    /// warning (dead: counted, as Erlang drops it; full, undecodable or of another type: logged).
    func deliverRelayedTerm(_ message: Term, to local: PID, label: DeliveryLabel) {
        guard let process = core(local), process.status != .terminated else {
            counters.droppedToDeadProcesses &+= 1
            return
        }
        let reason: String
        switch process.deliverTerm(message, node: self) {
        case .delivered:
            counters.delivered &+= 1
            return
        case .mailboxFull:
            counters.refusedMailboxFull &+= 1
            reason = "its mailbox is full (\(process.mailboxCapacity) messages)"
        case .undecodable(let error):
            reason = "\(error)"
        case .notAccepted(let type):
            reason = "its message type \(type) is not TermDecodable"
        }
        configuration.logger.warning("message from another node dropped", metadata: [
            "node": "\(clusterEnrollment?.name ?? "?")", "target": "\(LogText(label.description))",
            "reason": "\(LogText(reason, limit: 500))", "message": "\(message.description(limit: 200))"])
    }

    /// `remote` linked itself to `local`, a process of this loop: linked, or `noproc` back when it is gone.
    func remoteLinked(_ local: PID, to remote: PID, as wireLocal: ExternalPID, from wireRemote: ExternalPID) {
        if let process = core(local), process.status != .terminated {
            process.relations.links.insert(remote)
            return
        }
        viaClusterLoop { distribution in
            distribution.links[wireRemote.node]?.remove(Distribution.LinkPair(local: local, remote: remote))
            guard let connection = distribution.connections[wireRemote.node] else { return }
            distribution.sendExit(.exit(from: wireLocal, to: wireRemote, reason: .atom("noproc")), on: connection)
        }
    }

    /// A process of another node monitors `local`, a process of this loop: its exit is told to loop 0
    /// (`processExited`), at once when it is gone already.
    func watchedRemotely(_ local: PID) {
        guard let process = core(local), process.status != .terminated else {
            return viaClusterLoop { $0.processExited(local, reason: .noproc) }
        }
        cluster.watchedRemotely.insert(local)
    }

    /// The remote target of monitor `ref` (of this loop) went down or its node is unreachable: the watcher
    /// gets its `DOWN`, and a call waiting on it ends.
    func remoteMonitorFired(_ ref: Ref, watcher: PID, target: PID, reason: ExitReason) {
        if let distribution { distribution.awaitedReplies[ref] = nil } else { cluster.relayedReplies[ref] = nil }
        guard let slot = monitors.slot(ref), monitors[slot].watcher == watcher else { return }
        // A remote target's monitor is in no target list: nothing to detach.
        monitorFired(slot, target: target, reason: reason) { _ in }
    }

    /// The reply to request `ref` of this loop, a call to another node, arrived (through loop 0).
    func relayedReplyArrived(_ ref: Ref, _ reply: Term) {
        guard let deliver = cluster.relayedReplies.removeValue(forKey: ref) else {
            counters.ignoredReplies &+= 1
            return
        }
        deliver(reply)
    }

    // MARK: Calls from other nodes to servers of this loop

    /// A process of another node called `server` (its request tagged `tag`): remembers how to answer and
    /// returns the request's reference and the caller as a `PID`; nil when this node is in no cluster.
    func openRemoteCall(from caller: ExternalPID, tag: Term, server: PID) -> (ref: Ref, caller: PID)? {
        if let distribution {
            let ref = distribution.openRemoteCall(from: caller, tag: tag, server: server)
            // A caller of this node (a call to `{Name, node()}`) keeps its remote form, so the reply goes
            // back as a term (`Distribution.reply`), decoded as the type it asked for.
            return (ref, distribution.isOwn(caller) ? PID.remote(.pid(caller)) : distribution.pid(for: caller))
        }
        guard clustersThroughLoop0 else { return nil }
        let ref = monitors.detachedRef()
        let call = Distribution.RemoteCall(from: caller, tag: tag, server: server)
        cluster.relayedCalls[ref] = call
        if let alias = call.alias { cluster.relayedCallsByAlias[alias] = ref }
        // A caller of this node keeps its remote form too, so its reply goes back as a term (`relayReply`).
        return (ref, PID.remote(.pid(caller)))
    }

    /// The caller of a remote call to a server of this loop gave up (its DEMONITOR of the call's alias).
    func remoteCallAbandoned(alias: ExternalReference) {
        guard let ref = cluster.relayedCallsByAlias.removeValue(forKey: alias) else { return }
        cluster.relayedCalls[ref] = nil
    }

    /// The node `peer` went down: the calls from it that servers of this loop had not answered end.
    func remoteCallsEnded(from peer: String) {
        guard !cluster.relayedCalls.isEmpty else { return }
        cluster.relayedCalls = cluster.relayedCalls.filter { $0.value.from.node != peer }
        cluster.relayedCallsByAlias = cluster.relayedCallsByAlias.filter { cluster.relayedCalls[$0.value] != nil }
    }

    /// A server of this loop answers a caller of another node: the reply, encoded here, goes out through
    /// loop 0. Returns whether a call was waiting.
    @usableFromInline
    func relayReply<R>(_ ref: Ref, _ value: R) -> Bool {
        guard let call = cluster.relayedCalls.removeValue(forKey: ref) else { return false }
        if let alias = call.alias { cluster.relayedCallsByAlias[alias] = nil }
        guard let reply = encodeReply(value, for: call) else { return false }
        viaClusterLoop { _ = $0.send(reply, for: call) }
        return true
    }

    /// A server's reply to a caller of another node, as a term; nil (logged) when it cannot be one.
    func encodeReply<R>(_ value: R, for call: Distribution.RemoteCall) -> Term? {
        do throws(TermConversionError) {
            guard let encodable = value as? any TermEncodable else {
                throw .unrepresentable("a reply of type \(R.self), which is not TermEncodable")
            }
            return try encodable.toTerm()
        } catch {
            configuration.logger.error("reply to a remote caller cannot be encoded", metadata: [
                "pid": "\(call.server)", "caller": "\(call.from)", "error": "\(error)"])
            return nil
        }
    }
}
