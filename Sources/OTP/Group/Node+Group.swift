import Synchronization

/// A loop's traffic with the other loops of its `NodeGroup`: what a send, link, monitor, exit signal or
/// reply to a process of another loop becomes (an item in the channel to that loop), and what each item
/// does when it arrives. The same-loop paths never come here: they reach this file only when a pid is not
/// in this loop's table, which they check already.
///
/// Semantics are a single node's: per-pair order (one channel per pair of loops, messages and signals in
/// it alike), a link to or monitor of a dead process gives `noproc`, whichever of an unlink and an exit
/// signal along the link comes second finds nothing, a `DOWN` after `demonitor` is dropped. Differences,
/// all of them because a loop cannot read another loop's table (docs/migrating.md): a send to a pid of
/// another loop does not know yet whether the process is alive, accepts its type or has room, so a full
/// mailbox there is reported to the sending loop afterwards (a `NodeReport.refused`), and a message of the
/// wrong type is reported by the receiving loop.
///
/// Thread: loop thread only.
extension Node {
    /// Whether `pid` belongs to another loop of this node's group.
    @usableFromInline
    func isSibling(_ pid: PID) -> Bool {
        guard let groupRef, pid.node != number else { return false }
        return groupRef._withUnsafeGuaranteedRef { $0.loop(of: pid) } != nil
    }

    /// Lends this loop's group to `body` without retaining it (`GroupCore`: no reference counting between
    /// loops). - Precondition: the node is a loop of a group.
    @inline(__always)
    func withGroup<R>(_ body: (GroupCore) -> R) -> R {
        groupRef.unsafelyUnwrapped._withUnsafeGuaranteedRef(body)
    }

    /// Queues `item` for the loop of its target. Returns false when the channel and its overflow are full.
    @usableFromInline
    func ship(_ item: consuming Transit) -> Bool {
        let target = item.target
        var parcel: Transit? = consume item  // a closure cannot consume what it captures, but it can take it out
        return ship(to: target) { $0.initialize(to: parcel.take().unsafelyUnwrapped) }
    }

    /// Queues the item `make` initialises for the loop of `target` (the item's target), in place: in its
    /// slot of the channel when the ring has room, so the 120-byte item is never copied or destroyed on
    /// the way. Returns false when the channel and its overflow are full (the item is then destroyed).
    /// `make` runs exactly once.
    @usableFromInline
    func ship(to target: PID, _ make: (UnsafeMutablePointer<Transit>) -> Void) -> Bool {
        guard _fastPath(!traces) else { return shipTraced(to: target, make) }
        return push(to: target, make)
    }

    /// `ship` with tracing on: the item is made aside, given its trace context, then moved in.
    @inline(never)
    private func shipTraced(to target: PID, _ make: (UnsafeMutablePointer<Transit>) -> Void) -> Bool {
        let aside = UnsafeMutablePointer<Transit>.allocate(capacity: 1)
        defer { aside.deallocate() }
        make(aside)
        carryTrace(&aside.pointee)
        return push(to: target) { $0.moveInitialize(from: aside, count: 1) }
    }

    /// Pushes the item `make` initialises into the channel to `target`'s loop and marks that loop to be
    /// woken. The closures capture no reference (a retain and a release of the node an item otherwise).
    @inline(__always)
    private func push(to target: PID, _ make: (UnsafeMutablePointer<Transit>) -> Void) -> Bool {
        let source = loopIndex
        let (destination, number) = withGroup { group -> (Int, Int) in
            let destination = group.loop(of: target)!
            return (destination, group.withChannel(from: source, to: destination) { channel in
                channel.push(make) ? channel.nextNumber &- 1 : -1
            })
        }
        guard number >= 0 else { return false }
        transit.lastNumber = UInt64(number)
        transit.shipped &+= 1
        if !transit.dirty[destination] {
            transit.dirty[destination] = true
            transit.anyDirty = true
        }
        return true
    }

    /// The pid of the process whose code runs now, or `itself` (the node, outside process code).
    @usableFromInline
    var currentPID: PID {
        scheduler.current.map { ProcessTable.borrow($0) { $0.pid } } ?? itself
    }

    /// Stands for this loop itself as the sender of an item (an exit signal from `Node.exit(_:reason:)`,
    /// a message from set-up code): a slot no process ever has, so it names no process.
    @usableFromInline
    var itself: PID { PID(node: number, index: .max, serial: .max) }

    // MARK: Outgoing

    /// A message for a process of another loop. Refused at once only when the channel to that loop and
    /// its overflow are full (`mailboxFull`, with the overflow bound as the capacity).
    /// Inlinable: the sender's module specialises it, and with it the item's arrival (`Transit`).
    @inlinable
    func sendToSibling<M>(_ message: consuming M, to pid: PID) throws(ProcessError) {
        var parcel: M? = consume message  // a closure cannot consume what it captures, but it can take it out
        let from = currentPID
        guard ship(to: pid, { Transit.initialize($0, message: parcel.take().unsafelyUnwrapped, to: pid, from: from) })
        else { throw refusedBySibling(pid) }
    }

    /// A message or request leaving for another loop carries the trace context of what sends it: on
    /// arrival it is queued with that context, as a message of the same loop is. Costs a closure (one
    /// allocation) per traced item; none without a context.
    @usableFromInline @inline(never)
    func carryTrace(_ item: inout Transit) {
        guard item.kind == .message || item.kind == .request, let carry = item.handle,
              let context = outgoingTrace ?? tracing?.currentContext() else { return }
        item.handle = { item, node in
            guard let node else { return carry(&item, nil) }
            node.sending(with: context) { carry(&item, node) }
        }
    }

    /// The channel to `pid`'s loop and its overflow are full: counted, and the sender's error.
    @usableFromInline
    func refusedBySibling(_ pid: PID) -> ProcessError {
        counters.refusedMailboxFull &+= 1
        return .mailboxFull(pid, capacity: group!.overflowLimit)
    }

    /// A reply to a caller of another loop (its request lives there).
    @inlinable
    func replyToSibling<R: Sendable>(_ ref: Ref, to caller: PID, _ value: R) -> Bool {
        let replier = currentPID
        // A call from a loop numbered below 64 has no monitor here (`requestArrived`): nothing to drop, and
        // the lookup finds nothing (none at all when no process of another loop monitors one of this loop's).
        // From a loop numbered 64 or more, the server answering drops the request's monitor here, with the
        // reply (a request whose reply is delivered gets no `DOWN`), and says so: the caller's loop then
        // sends no demonitor. A reply from another process finds no monitor of its own and leaves it for
        // the caller to remove.
        let released = dropWatch(on: replier, by: caller, ref: ref)
        return ship(to: caller) {
            Transit.initialize($0, replyTo: caller, from: replier, ref: ref, value, released: released)
        }
    }

    /// Drops the monitor `watcher` holds on `target` with `ref`, if there is one. Out of line (not generic).
    @usableFromInline @inline(never)
    func dropWatch(on target: PID, by watcher: PID, ref: Ref) -> Bool {
        transit.watchers.remove(watcher, ref: ref, on: target)
    }

    /// A request arrived: the server is marked with the caller's loop (or the caller told it is gone),
    /// then the request delivered. The usual case — a live server of the request's type, called from a
    /// loop numbered below 64 — takes one lookup of the server for both; any other goes the long way
    /// (`requestArrived`, then `arrivedMessage`), with the same outcome.
    @inlinable
    func arrivedRequest<V>(_ request: consuming V, to server: PID, from caller: PID, ref: Ref) {
        var parcel: V? = consume request
        let queued = table.withMailbox(server, checking: V.self) { process -> Int in
            guard markRequested(process, by: caller) else { return Self.unmarked }
            return process.deliver(parcel.take()!, node: self) ? process.mailbox.count : -1
        }
        if let queued, queued != Self.unmarked {
            if queued >= 0 {
                counters.delivered &+= 1
            } else {
                notDelivered(server, from: caller, full: true, type: V.self)
            }
            return
        }
        requestArrived(at: server, from: caller, ref: ref)
        arrivedMessage(parcel.take()!, to: server, from: caller)
    }

    /// What `arrivedRequest`'s lookup gives when it did not mark the server.
    @usableFromInline static let unmarked = Int.min

    /// Marks `server` with the loop of `caller`, whose call reached it, unless that loop is numbered 64 or
    /// more or the server is exiting; returns whether it did.
    @usableFromInline
    func markRequested(_ server: ProcessCore, by caller: PID) -> Bool {
        let source = withGroup { $0.loop(of: caller) } ?? Self.listedLoops
        guard source < Self.listedLoops, server.status != .terminated, server.status != .stopping else { return false }
        let bit: UInt64 = 1 << UInt64(source)
        if let extras = server.extras {
            if extras.requestSources & bit == 0 { extras.requestSources |= bit }
        } else {
            server.relations.requestSources = bit
        }
        return true
    }

    /// The monitor of a call from another loop: the server holds no entry for it, only a bit for the
    /// caller's loop, which its exit notifies (`endSiblingRequests`); a server that is gone gives the
    /// caller its `DOWN` (`noproc`) at once. A caller of a loop numbered 64 or more is watched as for
    /// `monitor` (`watch`).
    @usableFromInline
    func requestArrived(at server: PID, from caller: PID, ref: Ref) {
        let source = withGroup { $0.loop(of: caller) } ?? Self.listedLoops
        guard source < Self.listedLoops else { return watch(server, by: caller, ref: ref) }
        // Borrowed: no reference counting on the process.
        let alive = withProcess(server) { markRequested($0, by: caller) }
        if alive != true { signalSibling(.down, to: caller, from: server, ref: ref, reason: .noproc) }
    }

    /// Loops whose calls to other loops are listed by server (`SiblingRequests`): one bit each in
    /// `ProcessExtras.requestSources`.
    @usableFromInline static let listedLoops = 64

    /// Lists the call `ref` just sent to a server of another loop (its request the last item this loop
    /// queued), so that the server's exit notice ends it here. Calls from loops numbered 64 or more are
    /// watched on the server's loop instead.
    @usableFromInline
    func listSiblingRequest(_ ref: Ref) {
        guard loopIndex < Self.listedLoops else { return }
        let slot = MonitorTable.slot(of: ref)
        monitors.entries[slot].sequence = transit.lastNumber
        if !monitors[slot].siblingRequest { transit.requests.add(slot, in: monitors) }  // a parked one is listed
    }

    /// Keeps the monitor of `caller`'s call in `slot`, just ended by its reply, for the caller's next call
    /// to the same server (`MonitorTable.park`), when it is a listed call of a process that keeps none yet.
    /// Returns whether it did; otherwise the monitor is to be removed.
    func parkSiblingRequest(_ slot: Int, of caller: PID) -> Bool {
        guard monitors[slot].siblingRequest, !monitors[slot].owned else { return false }
        guard table.object(for: caller) != nil, table.parkedCall(of: caller) == MonitorTable.none,
              monitors.park(slot) else { return false }
        table.setParkedCall(UInt32(slot), of: caller)
        return true
    }

    /// Takes a listed call's monitor off its server's chain (it fired, or it goes). Removing it tells nobody.
    func unlistSiblingRequest(_ slot: Int) {
        if monitors[slot].siblingRequest { transit.requests.remove(slot, in: monitors) }
    }

    /// Server `pid` exited: each loop whose calls reached it is told, with how many items this loop had
    /// taken from that loop's channel; the calls whose requests came earlier end there with this `DOWN`.
    func endSiblingRequests(on pid: PID, reason: ExitReason, sources: UInt64) {
        var remaining = sources
        while remaining != 0 {
            let loop = remaining.trailingZeroBitCount
            remaining &= remaining &- 1
            let (base, taken) = withGroup { group in
                (group.base, group.withExistingChannel(from: loop, to: loopIndex) { $0.taken } ?? 0)
            }
            let notified = PID(node: base + UInt32(loop), index: .max, serial: .max)
            signalSibling(.requestsEnded, to: notified, from: pid, ref: Ref(rawValue: UInt64(taken)), reason: reason)
        }
    }

    /// Server `server` of another loop exited, and that loop had taken `count` items from this loop's
    /// channel: the calls listed under it whose requests were among them end with its `DOWN`, oldest
    /// first. A later one gets its `noproc` when its request finds the server gone.
    func siblingRequestsEnded(server: PID, taken count: UInt64, reason: ExitReason) {
        // In the order the requests were sent (a taken-up parked entry keeps its old place on the chain).
        let listed = transit.requests.slots(of: server, in: monitors)
        for slot in listed.sorted(by: { monitors[$0].sequence < monitors[$1].sequence }) {
            // Checked again: telling an owner runs code, which may end other calls.
            let entry = monitors[slot]
            guard entry.inUse, entry.siblingRequest, entry.target == server else { continue }
            if entry.parked {  // no call in flight: kept for the next one, which now finds the server gone
                removeMonitor(slot)
                continue
            }
            guard entry.sequence < count else { continue }
            monitorFired(slot, target: server, reason: reason) { self.unlistSiblingRequest($0) }
        }
    }

    /// `watcher` of another loop monitors `target` with `ref`: a `DOWN` goes back when it exits, at once
    /// (`noproc`) when it is not alive.
    @usableFromInline
    func watch(_ target: PID, by watcher: PID, ref: Ref) {
        // Borrowed: no reference counting on the process for a look at its status.
        guard withProcess(target, { $0.status != .terminated && $0.status != .stopping }) == true else {
            return signalSibling(.down, to: watcher, from: target, ref: ref, reason: .noproc)
        }
        transit.watchers.insert(watcher, ref: ref, on: target)
    }

    /// The reply to request `ref` of `caller` came with its monitor dropped by `server`'s loop: removing the
    /// request tells that loop nothing.
    @usableFromInline
    func watchReleased(_ ref: Ref, of caller: PID, by server: PID) {
        guard let slot = monitors.slot(ref), monitors[slot].watcher == caller, monitors[slot].target == server,
              !monitors[slot].attached else { return }
        monitors.markReleasedElsewhere(slot)
    }

    /// Opens a call's request to `server` of another loop: its monitor lives here (listed under the server
    /// once the request is sent, `listSiblingRequest`); the server's loop only marks the server as the
    /// request arrives (`requestArrived`). A caller that is no process gets a reference that names no
    /// monitor (as `openMonitor` gives it).
    @usableFromInline
    func openSiblingRequest(from caller: PID, to server: PID) -> (ref: Ref, monitored: Bool) {
        let ref = withProcess(caller) { watching in
            // The monitor the caller's last call to this server kept, taken up under a new reference: no
            // entry made, no listing (`MonitorTable.Entry.parked`). One kept for another server goes.
            let kept = table.parkedCall(of: caller)
            if kept != MonitorTable.none {
                table.setParkedCall(MonitorTable.none, of: caller)
                if monitors[Int(kept)].target == server { return monitors.unpark(Int(kept), mark: watching.mailboxMark) }
                removeMonitor(Int(kept))
            }
            let ref = monitors.insert(watcher: caller, watching: &watching.watchingHead, awaitingReply: true,
                                      mark: watching.mailboxMark)
            monitors.setRemoteTarget(MonitorTable.slot(of: ref), server)
            return ref
        }
        return ref.map { ($0, true) } ?? (monitors.detachedRef(), false)
    }

    /// Any signal between processes of two loops; `reason` for those that carry one.
    func signalSibling(_ kind: Transit.Kind, to target: PID, from: PID, ref: Ref = Ref(rawValue: 0),
                       reason: ExitReason? = nil) {
        let item = reason.map { Transit(kind, to: target, from: from, ref: ref, carrying: $0) }
            ?? Transit(kind, to: target, from: from, ref: ref)
        // A full channel and overflow drops a signal, which only a runaway sender can cause (it is told of
        // its messages); counted as a refusal, never silent.
        if !ship(item) {
            counters.refusedMailboxFull &+= 1
            emit(.refused(target: target.description, error: .mailboxFull(target, capacity: group!.overflowLimit)))
        }
    }

    /// A name registered from this loop for a process of another: that loop records it on the process
    /// (or releases it when the process is gone).
    func nameSibling(_ pid: PID, _ name: String, register: Bool) {
        if !ship(Transit(register ? .named : .unnamed, to: pid, from: currentPID, carrying: name)) {
            if register { group!.names.release(name, heldBy: pid) }
        }
    }

    /// A process of this loop exited: the monitors other loops hold on it fire there.
    func siblingWatchedExited(_ pid: PID, reason: ExitReason) {
        for watch in transit.watchers.removeAll(on: pid) {
            signalSibling(.down, to: watch.watcher, from: pid, ref: watch.ref, reason: reason)
        }
    }

    // MARK: The loop's part

    /// Wakes each loop this one pushed to since the last flush, once, and moves waiting overflow into the
    /// channels. Runs once per loop iteration (a libuv prepare handle, before the loop polls), and after
    /// each step of the manual driver.
    func flushTransit() {
        guard groupRef != nil else { return }
        publishLoad()
        flushChannels()
    }

    /// `flushTransit` without the load report: also every 8 turns of a long drain (`drainTakingTransit`),
    /// so a loop waiting on replies from a busy one is not left asleep until that one's iteration ends.
    func flushChannels() {
        guard transit.anyDirty else { return }
        transit.anyDirty = false
        withGroup { group in
            for destination in 0..<group.count where transit.dirty[destination] {
                let overflowing = group.withChannel(from: loopIndex, to: destination) { channel in
                    channel.flush()
                    return channel.hasOverflow
                }
                // `peer` orders these reads after the pushes (see `stopPolling` and `GroupCore.Phase`).
                let (polling, phase) = group.peer(destination)
                switch phase {
                case .open:
                    // Overflow the ring had no room for stays dirty: flushed again next iteration (the
                    // consumer also wakes this loop when it frees room: `producerWaiting`).
                    if !overflowing {
                        transit.dirty[destination] = false
                    } else {
                        transit.anyDirty = true
                    }
                    // A destination that is busy-waiting finds the items on its next spin; any other is woken.
                    if !polling { group.withNode(destination) { $0.inbox.nudge() } }
                case .closing:
                    transit.anyDirty = true  // looked at again: the loop wakes this one when it is closed
                case .closed:
                    transit.dirty[destination] = false
                    takeBack(sentTo: destination)
                }
            }
        }
    }

    /// Ends this loop of its group (`close()`, its processes gone): what other loops sent it is taken one
    /// last time — every request, monitor and link finds its process dead and is answered so — and once it
    /// is closed, every loop is woken, so that what they send it from then on is answered where it is sent
    /// (`takeBack(sentTo:)`; `GroupCore.Phase`).
    func closeInGroup() {
        guard groupRef != nil else { return }
        withGroup { $0.setPhase(.closing, of: loopIndex) }
        drainTransit()
        flushChannels()
        withGroup { group in
            group.setPhase(.closed, of: loopIndex)
            for index in 0..<group.count where index != loopIndex { group.withNode(index) { $0.inbox.nudge() } }
        }
    }

    /// Loop `destination` is closed: this loop takes back what it sent there (the only reader of that
    /// channel now), each item answered as its dead target's loop would have answered it.
    private func takeBack(sentTo destination: Int) {
        withGroup { group in
            group.withChannel(from: loopIndex, to: destination) { channel in
                repeat {
                    channel.flush()  // the overflow, behind what the ring holds
                    _ = channel.drain { Transit.answerForDeadTarget(at: $0, on: self) }
                } while channel.hasOverflow
            }
        }
    }

    /// An item sent to a process of a closed loop, answered here, on the sender's loop, as that loop
    /// answered a dead target: a link gets the linker its exit signal (`noproc`), a monitor or a call's
    /// request its `DOWN` (`noproc`), a spawn its error (`nodeStopped`), a name is released, and a message
    /// is dropped and counted (`droppedToDeadProcesses`); anything else is dropped.
    func answerForDeadTarget(_ item: borrowing Transit) {
        let target = item.target, from = item.from
        switch item.kind {
        case .link:
            arrived(Transit(.linkExit, to: from, from: target), reason: .noproc)
        case .monitor, .request:
            arrived(Transit(.down, to: from, from: target, ref: item.ref), reason: .noproc)
        case .message:
            counters.droppedToDeadProcesses &+= 1
        case .spawn:
            _ = deliverReply(item.ref, to: from, SpawnOutcome.failure(.nodeStopped))
        case .named:
            break  // released as its payload arrives here (`Transit.answerForDeadTarget`, `arrivedName`)
        case .unlink, .exit, .linkExit, .demonitor, .down, .requestsEnded, .refused, .reply, .releasedReply,
             .unnamed:
            break
        }
    }

    /// A busy-waiting loop of a group: while it spins it takes what other loops send without being woken
    /// (`pollTransit` on every spin); before it sleeps it stops polling, then looks at its channels once
    /// more. Either a sender saw it polling, and its items are visible to that last look (both sides fence
    /// between their store and their load), or the sender saw it stopped and woke it.
    /// Returns whether it may sleep (nothing arrived meanwhile).
    func stopPolling() -> Bool {
        guard groupRef != nil else { return true }
        withGroup { $0.setPolling(false, of: loopIndex) }
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        guard hasTransitPending else { return true }
        withGroup { $0.setPolling(true, of: loopIndex) }
        return false
    }

    /// Starts polling (the loop spins again after a sleep, or starts to).
    func startPolling() {
        guard groupRef != nil else { return }
        withGroup { $0.setPolling(true, of: loopIndex) }
    }

    /// `drainRunQueue` for a loop of a group: the same turns, and every 8 turns what other loops sent is
    /// taken and the loops this one sent to are woken if they sleep (a busy loop would otherwise see and
    /// wake them only between drains, up to `messagesPerIteration` messages later: a reply to a call from
    /// another loop would wait that long). Every 32 turns let a loop's own callers, served at once
    /// (`serveQueued`), starve a fan-in's callers on other loops (docs/architecture.md). A single-loop node
    /// never runs it.
    func drainTakingTransit(limit: Int, budget: Int) {
        var handled = 0, turns = 0
        while handled < limit, let raw = scheduler.runQueue.popFirst() {
            guard let object = table.object(for: PID(node: number, rawValue: raw)) else { continue }  // exited while queued
            let (outcome, turnHandled) = turn(object, raw: raw, budget: budget)
            handled &+= turnHandled
            finishTurn(object, raw: raw, outcome)
            turns &+= 1
            if turns & 7 == 0 {
                if hasTransitPending { drainTransit() }
                flushChannels()
            }
        }
    }

    /// One spin of a busy-waiting group loop: what other loops sent is taken at once, with its turns, and
    /// what this loop sent meanwhile is flushed. Returns whether anything arrived.
    func pollTransit() -> Bool {
        guard groupRef != nil, hasTransitPending else { return false }
        drainInbox()
        if !scheduler.runQueue.isEmpty { drainRunQueue(limit: configuration.messagesPerIteration) }
        flushTransit()
        return true
    }

    /// Carries out everything the other loops sent this one, and marks this loop's own channels whose
    /// overflow waits for room (their consumer woke this loop when it made some). Runs with the inbox
    /// (woken by `nudge`).
    func drainTransit() {
        guard groupRef != nil else { return }
        withGroup { group in
            for source in 0..<group.count where source != loopIndex {
                let producerWaits = group.withExistingChannel(from: source, to: loopIndex) { channel in
                    channel.drain { Transit.arrive(at: $0, on: self) }
                }
                if producerWaits == true { group.withNode(source) { $0.inbox.nudge() } }
            }
            for destination in 0..<group.count where destination != loopIndex {
                guard group.withExistingChannel(from: loopIndex, to: destination, { $0.hasOverflow }) == true
                else { continue }
                transit.dirty[destination] = true
                transit.anyDirty = true
            }
        }
    }

    /// How many monitors processes of other loops hold on processes of this one.
    var siblingWatchCount: Int { transit.watchers.count }

    /// How many calls this loop's processes have open to servers of other loops (listed by server).
    var siblingRequestCount: Int { transit.requests.count - monitors.parkedCount }

    /// Whether another loop has published items for this one that are not drained: one acquire load per
    /// channel in use.
    var hasTransitPending: Bool {
        guard groupRef != nil else { return false }
        return withGroup { group in
            for source in 0..<group.count where source != loopIndex {
                if group.withExistingChannel(from: source, to: loopIndex, { !$0.isEmpty }) == true { return true }
            }
            return false
        }
    }

    // MARK: Incoming

    /// An item with a payload arrived.
    func arrived<V>(_ value: consuming V, in item: borrowing Transit) {
        switch item.kind {
        case .named, .unnamed:
            arrivedName(value as! String, for: item.target, register: item.kind == .named)
        case .spawn:
            let outcome = (value as! SpawnOrder).run(self)
            _ = replyToSibling(item.ref, to: item.from, outcome)
        default:
            arrived(copy item, reason: value as? ExitReason)
        }
    }

    /// A message arrived for `pid`'s mailbox. Inlinable: specialised with the sender's send (`Transit`);
    /// the rare outcomes (dead, wrong type, full) are out of line. The sending loop could not check the
    /// type (an untyped send, by pid or by name, to a process of another loop): it is checked here, one
    /// compare, before the process is taken as a mailbox of `V`s.
    @inlinable
    func arrivedMessage<V>(_ value: consuming V, to pid: PID, from: PID) {
        var parcel: V? = consume value
        let queued = table.withMailbox(pid, checking: V.self) {
            $0.deliver(parcel.take()!, node: self) ? $0.mailbox.count : -1
        }
        if let queued, queued >= 0 {
            counters.delivered &+= 1
        } else {
            notDelivered(pid, from: from, full: queued != nil, type: V.self)
        }
    }

    /// A message from another loop found no mailbox for it: a dead process drops it (counted), a process
    /// of another type reports it, a full mailbox is reported to the sender's loop.
    @usableFromInline @inline(never)
    func notDelivered(_ pid: PID, from: PID, full: Bool, type: Any.Type) {
        guard full else {
            if let process = core(pid) {  // alive, but it accepts another type
                emit(.refused(target: pid.description, error: .wrongMessageType(
                    pid, expected: String(describing: type), accepted: process.messageTypeName)))
            } else {
                counters.droppedToDeadProcesses &+= 1
            }
            return
        }
        counters.refusedMailboxFull &+= 1
        let capacity = core(pid)?.mailboxCapacity ?? 0
        if isSibling(from) {
            signalSibling(.refused, to: from, from: pid, ref: Ref(rawValue: UInt64(capacity)))
        } else {
            emit(.refused(target: pid.description, error: .mailboxFull(pid, capacity: capacity)))
        }
    }

    private func arrivedName(_ name: String, for pid: PID, register: Bool) {
        guard register else {
            if let process = core(pid), process.extras?.name == name {
                process.extras?.name = nil
                process.extras?.instruments = nil
                registry[name] = nil
            }
            return
        }
        guard let process = core(pid), process.status != .stopping, process.extras?.name == nil else {
            group!.names.release(name, heldBy: pid)
            return
        }
        registry[name] = pid
        process.relations.name = name
        instrumentName(name, of: process)
    }

    /// A signal arrived (`reason` for those that carry one).
    func arrived(_ item: Transit, reason: ExitReason?) {
        let target = item.target, from = item.from
        switch item.kind {
        case .link:
            guard let process = core(target), process.status != .terminated, process.status != .stopping else {
                return signalSibling(.linkExit, to: from, from: target, reason: .noproc)
            }
            process.relations.links.insert(from)
        case .unlink:
            core(target)?.extras?.links.remove(from)
        case .linkExit:
            // Only along a link that still exists: after an unlink, a signal already on its way finds none.
            guard let process = core(target), process.extras?.links.remove(from) != nil else { return }
            signal(target, from: from, reason: reason!, viaLink: true)
        case .exit:
            // From another loop itself (not one of its processes): as `Node.exit(_:reason:)` with no sender.
            let sender: PID? = from.index == .max && from.serial == .max ? nil : from
            signal(target, from: sender, reason: reason!, viaLink: false)
        case .monitor:
            watch(target, by: from, ref: item.ref)
        case .demonitor:
            _ = dropWatch(on: target, by: from, ref: item.ref)
        case .down:
            guard let slot = monitors.slot(item.ref), monitors[slot].watcher == target else { return }
            monitorFired(slot, target: from, reason: reason!) { self.unlistSiblingRequest($0) }
        case .requestsEnded:
            siblingRequestsEnded(server: from, taken: item.ref.rawValue, reason: reason!)
        case .refused:
            counters.refusedMailboxFull &+= 1
            emit(.refused(target: from.description, error: .mailboxFull(from, capacity: Int(item.ref.rawValue))))
        case .message, .request, .reply, .releasedReply, .named, .unnamed, .spawn:
            break  // carry a payload: `Transit.handle`, `arrived(_:in:)`
        }
    }
}

/// Calls and casts to a GenServer of another loop. `resolve` finds no process of this loop for its pid;
/// `beginCall` and `cast` come here from that error path (out of line: their hot paths stay as small as
/// before). The server's type is checked on its loop, when the request arrives. Inlinable (never inlined):
/// the caller's module specialises them, so the request's arrival runs specialised code too.
extension Node {
    /// Returns the request's id, or `nil` when the channel and its overflow were full (the request is
    /// closed then; `siblingRefusal` is the error). Not a `Result`: the id comes back in registers.
    @inlinable @inline(never)
    func beginSiblingCall<T: GenServer, R>(from caller: PID, to server: PID, _ request: (Caller<R>) -> T.Call,
                                           of _: T.Type) -> RequestID<R>?
    {
        // One item, the request, which marks the server with this loop as it arrives (`requestArrived`); the
        // request's monitor lives here, listed under the server (`listSiblingRequest`), and the server's
        // exit notice fires it (a request with its reply delivered ends with no `DOWN`, on one loop as on
        // two: `monitorFired`). A caller that is no process has no monitor.
        let (ref, monitored) = openSiblingRequest(from: caller, to: server)
        callStarted(ref)
        if _slowPath(traces) { traceCall(ref, to: server.description, request: T.Call.self) }
        defer { if _slowPath(traces) { tracedCallSent() } }
        // Made where it is moved into the item, and the item where it is moved into its channel: a named
        // value passed on was copied (about 250 instructions a call; `consume` of it trips the compiler).
        func message() -> ServerMessage<T> { .call(request(Caller(pid: caller, ref: ref)), Caller(pid: caller, ref: ref)) }
        let shipped = ship(to: server) { slot in
            if monitored {
                Transit.initialize(slot, request: message(), to: server, from: caller, ref: ref)
            } else {
                Transit.initialize(slot, message: message(), to: server, from: caller)
            }
        }
        if shipped && monitored { listSiblingRequest(ref) }
        if !shipped {
            closeRequest(ref, of: caller, outcome: CallOutcome(siblingRefusal(server)))
            return nil
        }
        return RequestID(ref: ref, server: server)
    }

    /// Why a request to `server` of another loop was refused: the channel to its loop and the channel's
    /// overflow were full.
    @usableFromInline
    func siblingRefusal(_ server: PID) -> CallError {
        .mailboxFull(server, capacity: group!.overflowLimit)
    }

    @inlinable @inline(never)
    func castToSibling<M>(_ server: PID, _ message: M) -> CastOutcome {
        do {
            try sendToSibling(message, to: server)
            return .delivered
        } catch {
            return .mailboxFull(server, capacity: group!.overflowLimit)
        }
    }
}
