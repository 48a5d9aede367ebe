/// Sending messages between processes.
///
/// Erlang's rules: a send to a dead pid succeeds and the message is dropped (counted in
/// `statistics.droppedToDeadProcesses`); a send to an unregistered name is an error. Beyond Erlang, a
/// mailbox is bounded: a send into a full one is refused with `mailboxFull`, so the sender always learns
/// that its message was not delivered. Messages from one sender to one receiver arrive in send order.
extension Node {
    /// Sends `message` to a typed address.
    ///
    /// Thread: loop thread only (checked in every build: a trap naming the call). Cost: a thread-id compare,
    /// a table lookup and a ring-buffer push, no allocation in steady state, no reference counting.
    /// - Throws: `ProcessError.mailboxFull` when the target's mailbox is at capacity.
    @inlinable
    public func send<M>(_ message: M, to address: Address<M>) throws(ProcessError) {
        preconditionInLoop("send(_:to:)")
        try deliver(message, to: address)
    }

    /// The typed send itself, for process code: a process's turn runs on the loop thread by construction,
    /// so `ProcessContext.send` comes here without the thread check (the message hot path).
    @inlinable @inline(__always)
    func deliver<M>(_ message: M, to address: Address<M>) throws(ProcessError) {
        // The receiver's queue length after the push, or -1 when its mailbox was full.
        guard let queued = table.withMailbox(address.pid, of: M.self, {
            $0.deliverScheduling(message, node: self) ? $0.mailbox.count : -1
        })
        else { return try missed(message, to: address.pid) }
        try delivered(queued, to: address.pid)
    }

    /// After a push into a local mailbox: counts it, and from process code counts the send toward the
    /// sender's budget and lends the sender's time to a flooded receiver (`lendTurn`).
    @inlinable @inline(__always)
    func delivered(_ queued: Int, to pid: PID) throws(ProcessError) {
        guard queued >= 0 else { throw refused(pid) }
        counters.delivered &+= 1
        guard let sender = scheduler.current else { return }
        ProcessTable.borrow(sender) { $0.sent &+= 1 }
        if queued >= scheduler.lendThreshold { lendTurn(to: pid) }
    }

    /// `deliver` for a message that is not plain data (a GenServer's `ServerMessage`): moved into the
    /// mailbox instead of copied. A copy of a generic enum goes through its value witnesses (about 160
    /// instructions a call); for plain data the copy is a few moves and `deliver` is cheaper.
    @inlinable
    func deliver<M>(moving message: consuming M, to address: Address<M>) throws(ProcessError) {
        var parcel: M? = consume message  // a closure cannot consume what it captures, but it can take it out
        guard let queued = table.withMailbox(address.pid, of: M.self, {
            $0.deliver(parcel.take()!, node: self) ? $0.mailbox.count : -1
        }) else { return try missed(address.pid) }
        try delivered(queued, to: address.pid)
    }

    /// `deliver(moving:to:)` into the idle process `object` (`idleServer`), whose turn the caller runs at
    /// once (`serveNow`): the message goes into its mailbox and it is marked running, but not queued to run.
    /// The process is borrowed, not retained (a strong reference taken from the pointer cost an atomic
    /// retain and release per call).
    @inlinable
    func deliver<M>(moving message: consuming M, toIdle object: UnsafeMutableRawPointer,
                    _ address: Address<M>) throws(ProcessError) {
        var parcel: M? = consume message  // a closure cannot consume what it captures, but it can take it out
        let queued = Unmanaged<MailboxProcess<M>>.fromOpaque(object)._withUnsafeGuaranteedRef { process -> Bool in
            guard process.mailbox.push(.message(parcel.take()!)) else { return false }
            process.status = .running
            return true
        }
        guard queued else { throw refused(address.pid) }
        try delivered(1, to: address.pid)
    }

    /// A `deliver(moving:)` found no process of this node: a dead one drops the message (counted, as Erlang
    /// does); a pid of another node is refused. (Its callers send to servers of other loops of the group
    /// themselves: `Node.beginCall`, `Node.cast`.) Out of line and not generic: the hot path stays small.
    @usableFromInline @inline(never)
    func missed(_ pid: PID) throws(ProcessError) {
        guard pid.node == number || pid.isRemote else { throw .otherNode(pid) }
        counters.droppedToDeadProcesses &+= 1
    }

    /// A typed send found no process of this loop: a process of another loop of the group gets it through
    /// the channel to that loop; a dead one of this node drops the message (counted, as Erlang does); an
    /// address of another node (typed addresses come from this node's spawns, so it was carried across)
    /// is refused. Out of line: the hot path stays small enough to inline.
    @inlinable @inline(never)
    func missed<M>(_ message: consuming M, to pid: PID) throws(ProcessError) {
        if isSibling(pid) { return try sendToSibling(message, to: pid) }
        guard pid.node == number || pid.isRemote else { throw .otherNode(pid) }
        counters.droppedToDeadProcesses &+= 1
    }

    /// Sends `message` to the process registered as `name`.
    /// - Throws: `unknownName`, `wrongMessageType`, `mailboxFull`.
    public func send<M>(_ message: M, to name: String) throws(ProcessError) {
        preconditionInLoop("send(_:to:)")
        guard let pid = registeredPID(name) else { throw .unknownName(name) }
        if isSibling(pid) { return try sendToSibling(message, to: pid) }
        try deliver(message, to: try typedAddress(pid, as: M.self))  // the thread was checked above
    }

    /// Sends `message` to an untyped pid, checking at run time that the process accepts `M`.
    /// A remote pid (a process or name of another node) gets the message as a term: `M` must be
    /// `TermEncodable`; an unreachable node drops it, as Erlang does.
    /// - Throws: `wrongMessageType`, `mailboxFull`; for a remote pid `notTermEncodable`. A dead pid drops the
    ///   message (counted).
    public func send<M>(_ message: M, to pid: PID) throws(ProcessError) {
        preconditionInLoop("send(_:to:)")
        do {
            try deliver(message, to: try typedAddress(pid, as: M.self))  // the thread was checked above
        } catch .noProcess {
            // Not a process of this node: a remote one gets the message over its connection.
            if pid.node != number { return try sendAcross(message, to: pid) }
            counters.droppedToDeadProcesses &+= 1  // a dead pid drops the message, as in Erlang
        }
    }

    /// A pid of another node: of the cluster (over its connection), or of another node of this OS process,
    /// reached through the cluster when both nodes are in one — never taken for a process of this node.
    /// - Throws: `otherNode` when nothing routes to it; the errors of `sendRemote`.
    func sendAcross<M>(_ message: M, to pid: PID) throws(ProcessError) {
        if pid.isRemote { return try sendRemote(message, to: pid) }
        if isSibling(pid) { return try sendToSibling(message, to: pid) }
        guard distribution?.isStarted == true || clustersThroughLoop0,
              let external = RemoteIdentities.shared.clusterIdentity(of: pid) else {
            throw .otherNode(pid)
        }
        try sendRemote(message, to: PID.remote(.pid(external)))
    }

    /// Encodes `message` and hands it to the connection of the pid's node.
    func sendRemote<M>(_ message: M, to pid: PID) throws(ProcessError) {
        guard distribution != nil || clustersThroughLoop0, let (clusterName, _) = clusterEnrollment ?? distribution.map({ ($0.name, $0.creation) })
        else { throw .noDistribution(pid) }
        // `{Name, node()}` (or a stand-in for one of this node's own pids): a local send, as in Erlang.
        switch pid.remoteIdentity {
        case .name(let name, let node)? where node == clusterName: return try send(message, to: name)
        case .pid(let own)? where isOwnClusterPID(own) || distribution?.isOwn(own) == true:
            return try send(message, to: ownPID(wireID: own.id, serial: own.serial))
        default: break
        }
        let term: Term
        do throws(TermConversionError) {
            guard let encodable = message as? any TermEncodable else {
                throw .unrepresentable("\(M.self) (not TermEncodable)")
            }
            term = try encodable.toTerm()
        } catch {
            throw .notTermEncodable(pid, reason: error.description)
        }
        let sender = scheduler.current.map { ProcessTable.borrow($0) { $0.pid } }
        guard let distribution else {
            // Through loop 0, which owns the connections: counted as sent (an unreachable node drops it there,
            // a busy connection refuses it there: counted in loop 0's `refusedBusy`).
            viaClusterLoop { _ = $0.send(term, from: sender, to: pid) }
            counters.delivered &+= 1
            return
        }
        switch distribution.send(term, from: sender, to: pid) {
        case .sent: counters.delivered &+= 1
        case .unreachable: counters.droppedToDeadProcesses &+= 1
        case .busy(let queued): throw .busy(pid, queuedBytes: queued)
        }
    }

    /// A typed address for a live pid whose process accepts `M`.
    func typedAddress<M>(_ pid: PID, as type: M.Type) throws(ProcessError) -> Address<M> {
        guard let process = core(pid) else { throw .noProcess(pid) }
        guard process.messageType == ObjectIdentifier(M.self) else {
            throw .wrongMessageType(pid, expected: String(describing: M.self), accepted: process.messageTypeName)
        }
        return Address(unchecked: pid)
    }

    @usableFromInline
    func refused(_ pid: PID) -> ProcessError {
        counters.refusedMailboxFull &+= 1
        return .mailboxFull(pid, capacity: core(pid)?.mailboxCapacity ?? 0)
    }
}
