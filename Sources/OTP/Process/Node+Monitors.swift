/// Monitors: a one-way watch; the watcher gets one `DOWN` message when the target exits.
extension Node {
    /// `watcher` starts monitoring `target` (Erlang's `monitor(process, Target)`). Each call creates a new
    /// monitor with its own reference; several monitors on one target each get their `DOWN`. A target that
    /// is not alive gives an immediate `DOWN` with reason `noproc`. Thread: loop thread only.
    @discardableResult
    public func monitor(_ target: PID, by watcher: PID) -> Ref {
        preconditionInLoop()
        return openMonitor(target, by: watcher, awaitingReply: false)
    }

    /// Adds a monitor; with `awaitingReply` it is also a request tag (see `Node+Requests.swift`).
    @usableFromInline
    func openMonitor(_ target: PID, by watcher: PID, awaitingReply: Bool) -> Ref {
        // Borrowed process references: a call opens a monitor, so no reference counting here.
        let ref: Ref? = withProcess(watcher) { watching in
            let targetObject = table.object(for: target)  // looked up once: checked here, attached below
            guard let targetObject, ProcessTable.borrow(targetObject, { $0.status != .terminated }) else {
                return openMonitorElsewhere(target, by: watching, awaitingReply: awaitingReply)
            }
            let ref = monitors.insert(watcher: watcher, watching: &watching.watchingHead,
                                      awaitingReply: awaitingReply, mark: watching.mailboxMark)
            ProcessTable.borrow(targetObject) {
                monitors.attach(MonitorTable.slot(of: ref), to: target, watchedBy: &$0.watchedByHead)
            }
            return ref
        }
        return ref ?? monitors.detachedRef()
    }

    /// A monitor whose target is no live process of this loop: a process of another node (told over its
    /// connection) or of another loop of the group (told through the channel) is watched there; anything
    /// else gives an immediate `DOWN` with `noproc`. Out of line: the call path stays small.
    @usableFromInline @inline(never)
    func openMonitorElsewhere(_ target: PID, by watching: ProcessCore, awaitingReply: Bool) -> Ref {
        let watcher = watching.pid
        if (target.isRemote && (distribution != nil || clustersThroughLoop0)) || isSibling(target) {
            let ref = monitors.insert(watcher: watcher, watching: &watching.watchingHead,
                                      awaitingReply: awaitingReply, mark: watching.mailboxMark)
            monitors.setRemoteTarget(monitors.slot(ref)!, target)
            if target.isRemote {
                let clusterRef = ClusterRef(loop: loopIndex, ref: ref)
                if let distribution {
                    distribution.monitor(clusterRef, watcher: watcher, target: target)
                } else {
                    viaClusterLoop { $0.monitor(clusterRef, watcher: watcher, target: target) }  // loop 0 holds it
                }
            } else {
                signalSibling(.monitor, to: target, from: watcher, ref: ref)
            }
            return ref
        }
        let ref = monitors.detachedRef()
        watching.pushSystem(.down(Down(monitor: ref, pid: target, reason: .noproc)), node: self)
        return ref
    }

    /// Where a wait for the response to `ref` — its reply or its `DOWN` — starts scanning `process`'s
    /// mailbox: after the messages that were queued when `ref` was made, which cannot be that response
    /// (Erlang's receive marker, OTP 24). So a call from a process with a long mailbox costs O(1), not a
    /// scan of the whole queue. The mark counts the messages queued, received and flushed then; those
    /// received or flushed since came off the front part, so the start is exact when the process took
    /// nothing queued after the mark, and earlier (never later) when it did. 0 — a full scan — for a
    /// reference that names no monitor.
    @inlinable
    func receiveMark(_ ref: Ref, of process: ProcessCore, count: Int) -> Int {
        guard let slot = monitors.slot(ref) else { return 0 }
        let start = Int(Int32(bitPattern: monitors[slot].mark &- UInt32(truncatingIfNeeded: process.received)
                                           &- process.flushed))
        return start >= 0 && start <= count ? start : 0
    }

    /// Removes monitor `ref` held by `watcher` (Erlang's `demonitor/2`). With `flush`, a `DOWN` for it that
    /// is already queued is removed too. Returns whether the monitor was still active. Thread: loop thread only.
    @discardableResult
    public func demonitor(_ ref: Ref, by watcher: PID, flush: Bool = false) -> Bool {
        preconditionInLoop()
        var active = false
        if let slot = monitors.slot(ref), monitors[slot].watcher == watcher {
            removeMonitor(slot)
            active = true
        }
        if flush, let watching = core(watcher) {
            _ = watching.flush(ref, replies: false)
        }
        return active
    }

    /// The target of monitor `slot` exited with `reason`: the watcher learns it once — its owner is told,
    /// or a `DOWN` goes to its mailbox — unless the monitor is an answered request whose reply the caller
    /// has not taken yet (no `DOWN` follows a reply: Erlang's caller would flush it). An owned monitor
    /// stays (detached from the target) until its owner ends it; any other is removed.
    /// `detach` unlinks the entry from the target's list when the target's list must stay consistent.
    func monitorFired(_ slot: Int, target: PID, reason: ExitReason, detach: (Int) -> Void) {
        let ref = monitors.ref(ofSlot: slot)
        let watcher = monitors[slot].watcher
        if monitors.hasReply(slot) {
            detach(slot)
            return
        }
        if let owner = monitors.takeOwner(from: slot) {
            detach(slot)
            owner.monitorEnded(ref, .down(reason), on: self)
            return
        }
        removeMonitor(slot)
        withProcess(watcher) { $0.pushSystem(.down(Down(monitor: ref, pid: target, reason: reason)), node: self) }
    }

    /// The deadline of owned monitor `ref` passed: its owner is told (when it still has one).
    func monitorDeadlinePassed(_ ref: Ref) {
        guard let slot = monitors.slot(ref) else { return }
        _ = monitors.takeDeadline(from: slot)  // it has fired: nothing to cancel
        monitors.takeOwner(from: slot)?.monitorEnded(ref, .deadline, on: self)
    }

    /// A monitor whose target is not a process of this loop goes: its target's node or loop is told (a
    /// listed call to a server of another loop is not told anywhere: `removeMonitor` unlists it).
    /// Out of line: the call path's close stays small.
    @inline(never)
    func monitorRemovedElsewhere(_ entry: MonitorTable.Entry, slot: Int) {
        if entry.target.isRemote || entry.awaitsTerm {
            let ref = ClusterRef(loop: loopIndex, ref: monitors.ref(ofSlot: slot))
            if let distribution {
                distribution.monitorRemoved(ref)
            } else if clustersThroughLoop0 {
                cluster.relayedReplies[ref.ref] = nil
                viaClusterLoop { $0.monitorRemoved(ref) }
            }
        }
        if isSibling(entry.target) && !entry.releasedElsewhere {
            signalSibling(.demonitor, to: entry.target, from: entry.watcher, ref: monitors.ref(ofSlot: slot))
        }
    }

    /// Parked monitor `slot` goes: its holder no longer keeps it. Out of line: parked monitors go rarely.
    @inline(never)
    func forgetParked(_ slot: Int, of holder: PID) {
        if table.object(for: holder) != nil, table.parkedCall(of: holder) == UInt32(slot) {
            table.setParkedCall(MonitorTable.none, of: holder)
        }
    }

    /// Removes the monitor in `slot` from the table and from both processes' lists, and cancels its
    /// deadline, if it has one.
    func removeMonitor(_ slot: Int) {
        let entry = monitors[slot]
        if entry.timed, let deadline = monitors.takeDeadline(from: slot) { cancelWheelTimer(deadline) }
        // A call's request to a server of another loop (the common case of an unattached monitor): taken
        // off its server's chain here, inline, with no one to tell. Any other monitor not attached to a
        // process of this loop has a target of another node or loop, to be told.
        if entry.siblingRequest {
            transit.requests.remove(slot, in: monitors)
            if entry.parked { forgetParked(slot, of: entry.watcher) }
        } else if !entry.attached || entry.awaitsTerm {
            monitorRemovedElsewhere(entry, slot: slot)
        }
        // One lookup each; the objects stay borrowed (no reference counting) while the lists are relinked.
        let watcher = table.object(for: entry.watcher)
        let target = entry.attached ? table.object(for: entry.target) : nil
        let none = MonitorTable.none
        var watching = watcher.map { ProcessTable.borrow($0) { $0.watchingHead } } ?? none
        var watchedBy = target.map { ProcessTable.borrow($0) { $0.watchedByHead } } ?? none
        monitors.remove(slot, watching: &watching, watchedBy: &watchedBy)
        if let watcher { ProcessTable.borrow(watcher) { $0.watchingHead = watching } }
        if let target { ProcessTable.borrow(target) { $0.watchedByHead = watchedBy } }
    }
}
