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
        // Unmanaged, guaranteed references: a call opens a monitor, so no reference counting here.
        guard let watchingObject = table.object(for: watcher) else { return monitors.detachedRef() }
        let watching = Unmanaged<ProcessCore>.fromOpaque(watchingObject)
        guard let watchedObject = table.object(for: target),
              Unmanaged<ProcessCore>.fromOpaque(watchedObject)._withUnsafeGuaranteedRef({ $0.status != .terminated })
        else {
            if target.isRemote, let distribution {
                let ref = watching._withUnsafeGuaranteedRef { process in
                    monitors.insert(watcher: watcher, watching: &process.relations.watching, awaitingReply: awaitingReply)
                }
                monitors.setRemoteTarget(monitors.slot(ref)!, target)
                distribution.monitor(ref, watcher: watcher, target: target)
                return ref
            }
            let ref = monitors.detachedRef()
            watching._withUnsafeGuaranteedRef {
                $0.pushSystem(.down(Down(monitor: ref, pid: target, reason: .noproc)), node: self)
            }
            return ref
        }
        let ref = watching._withUnsafeGuaranteedRef { process in
            monitors.insert(watcher: watcher, watching: &process.relations.watching, awaitingReply: awaitingReply)
        }
        Unmanaged<ProcessCore>.fromOpaque(watchedObject)._withUnsafeGuaranteedRef { process in
            monitors.attach(monitors.slot(ref)!, to: target, watchedBy: &process.relations.watchedBy)
        }
        return ref
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

    /// Removes the monitor in `slot` from the table and from both processes' lists.
    func removeMonitor(_ slot: Int) {
        let entry = monitors[slot]
        if entry.target.isRemote { distribution?.monitorRemoved(monitors.ref(ofSlot: slot)) }
        let watcher = table.object(for: entry.watcher).map { Unmanaged<ProcessCore>.fromOpaque($0) }
        let target = entry.attached ? table.object(for: entry.target).map { Unmanaged<ProcessCore>.fromOpaque($0) } : nil
        var watching = watcher?._withUnsafeGuaranteedRef { $0.extras?.watching } ?? MonitorTable.none
        var watchedBy = target?._withUnsafeGuaranteedRef { $0.extras?.watchedBy } ?? MonitorTable.none
        monitors.remove(slot, watching: &watching, watchedBy: &watchedBy)
        watcher?._withUnsafeGuaranteedRef { $0.extras?.watching = watching }
        target?._withUnsafeGuaranteedRef { $0.extras?.watchedBy = watchedBy }
    }
}
