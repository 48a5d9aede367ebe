/// Exit signals and process termination, with Erlang's rules:
///
/// | signal | target traps exits | target does not trap exits |
/// |---|---|---|
/// | `exit(pid, .kill)` | exits with `killed` | exits with `killed` |
/// | `normal` from a link, or from `exit/2` by another process | `EXIT` message | ignored |
/// | `normal` from `exit(self, .normal)` | `EXIT` message | exits with `normal` |
/// | any other reason | `EXIT` message | exits with that reason |
/// | any other reason, from its parent (`ProcessExtras.parent`) | `EXIT` message | `EXIT` message |
///
/// A process that exits tells each linked process (an exit signal with its reason) and each monitor (a
/// `DOWN` message), releases its name, and cancels its timers. Cascades run from a work list, never by
/// recursion, so a chain of 100,000 links is as safe as one. A signal to the process whose callback is
/// running takes effect when the callback returns.
extension Node {
    /// Sends an exit signal to `target` (Erlang's `exit/2`); `from` is `nil` when the node itself sends it.
    /// A dead target is ignored. Thread: loop thread only.
    public func exit(_ target: PID, reason: ExitReason, from: PID? = nil) {
        preconditionInLoop()
        signal(target, from: from, reason: reason, viaLink: false)
    }

    /// Sets whether `pid` traps exits; returns the previous value (false for a dead pid).
    /// Thread: loop thread only.
    @discardableResult
    public func setTrapExits(_ pid: PID, _ enabled: Bool) -> Bool {
        preconditionInLoop()
        guard let process = core(pid) else { return false }
        let old = process.trapExits
        process.trapExits = enabled
        return old
    }

    /// Delivers one exit signal according to the table above.
    func signal(_ target: PID, from: PID?, reason: ExitReason, viaLink: Bool) {
        guard let process = core(target) else {
            // Not a local process: a remote one gets the signal over its connection.
            if target.isRemote {
                if let distribution {
                    distribution.exitSignal(to: target, from: from, reason: reason, viaLink: viaLink)
                } else if clustersThroughLoop0 {
                    viaClusterLoop { $0.exitSignal(to: target, from: from, reason: reason, viaLink: viaLink) }
                }
            }
            if isSibling(target) {
                signalSibling(viaLink ? .linkExit : .exit, to: target, from: from ?? itself, reason: reason)
            }
            return
        }
        guard process.status != .stopping, process.status != .terminated else { return }
        if !viaLink, case .kill = reason {
            kill(process, reason: .killed)
        } else if process.trapExits || (!reason.isNormal && from != nil && from == process.extras?.parent) {
            process.pushSystem(.exit(ExitSignal(from: from, reason: reason)), node: self)
        } else if reason.isNormal {
            if !viaLink && from == target { kill(process, reason: .normal) }
        } else {
            kill(process, reason: reason)
        }
    }

    /// Makes `process` exit with `reason`: at once, or when its running callback returns. A process is
    /// `processing` exactly while its callback runs — the current process's, or one further up the stack
    /// whose handler lent its time to another process (`lendTurn`, `serveNow`).
    func kill(_ process: ProcessCore, reason: ExitReason) {
        if process.status == .processing {
            let extras = process.relations
            if extras.pendingExit == nil { extras.pendingExit = reason }
        } else {
            terminate(process, reason: reason)
        }
    }

    /// Queues the exit of a process that is not running and carries out the queue.
    func terminate(_ process: ProcessCore, reason: ExitReason) {
        guard process.status != .stopping, process.status != .terminated else { return }
        process.status = .stopping
        exits.dying.append((process.pid, reason))
        guard !exits.draining else { return }
        exits.draining = true
        var i = 0
        while i < exits.dying.count {
            let (pid, reason) = exits.dying[i]
            finishExit(pid, reason: reason)
            i += 1
        }
        exits.dying.removeAll(keepingCapacity: true)
        exits.draining = false
    }

    /// Removes a process and tells everyone who asked to know.
    private func finishExit(_ pid: PID, reason: ExitReason) {
        guard let process = table.remove(pid) else { return }  // the table's reference, released on return
        process.status = .terminated
        counters.exited &+= 1
        if process.waitTimer != 0 {
            cancelReceiveTimeout(process.waitTimer)
            process.waitTimer = 0
        }
        process.releaseMailbox()
        if let extras = process.extras {
            if let name = extras.name {
                registry[name] = nil
                group?.names.release(name, heldBy: pid)
            }
            // Before links and monitors fire: whoever learns of the exit finds its keys free.
            for registry in extras.registries { registry.processExited(pid) }
            for task in extras.tasks.values { task.cancel() }  // their outcomes would find no process
            timers.wheel.cancelChain(extras.timerChain) { Unmanaged<TimedPayload>.fromOpaque($0).release() }
            // Its timers were the last: the libuv timer must not keep an idle loop waiting for them.
            if timers.wheel.count == 0 { uv?.timerIdle() }
            // A set, for O(1) removal with many links; sorted so signals go out in a reproducible order.
            for linked in extras.links.sorted() {
                core(linked)?.extras?.links.remove(pid)
                signal(linked, from: pid, reason: reason, viaLink: true)
            }
        }
        // The monitors it held go away (an owner learns that nothing will answer); each monitor on it
        // becomes a DOWN, oldest first.
        for ref in monitors.refs(from: process.watchingHead, byWatcher: true) {
            guard let slot = monitors.slot(ref) else { continue }
            if let owner = monitors.takeOwner(from: slot) {
                owner.monitorEnded(ref, .watcherExited(reason), on: self)
                if let slot = monitors.slot(ref) { removeMonitor(slot) }
            } else {
                removeMonitor(slot)
            }
        }
        for ref in monitors.refs(from: process.watchedByHead, byWatcher: false) {
            guard let slot = monitors.slot(ref) else { continue }
            monitorFired(slot, target: pid, reason: reason) { slot in
                var head = process.watchedByHead
                monitors.detach(slot, watchedBy: &head)
                process.watchedByHead = head
            }
        }
        // A call it was serving at once has no monitor (`Node.serve(_:_:request:from:)`): its DOWN comes last.
        if _slowPath(scheduler.servedServer == pid.rawValue) { servedServerExited(pid, reason: reason) }
        if let distribution, distribution.hasIncomingMonitors { distribution.processExited(pid, reason: reason) }
        if !cluster.watchedRemotely.isEmpty, cluster.watchedRemotely.remove(pid) != nil {
            viaClusterLoop { $0.processExited(pid, reason: reason) }  // watched from another node: loop 0 tells it
        }
        if !transit.watchers.isEmpty { siblingWatchedExited(pid, reason: reason) }
        if let sources = process.extras?.requestSources, sources != 0 {
            endSiblingRequests(on: pid, reason: reason, sources: sources)
        }
        if !cluster.nodeWatches.isEmpty { cluster.nodeWatches.remove(pid) }
        process.extras = nil
    }
}
