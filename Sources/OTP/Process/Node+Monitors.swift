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
        guard let watching = core(watcher) else { return monitors.detachedRef() }
        guard let watched = core(target), watched.status != .terminated else {
            let ref = monitors.detachedRef()
            watching.pushSystem(.down(Down(monitor: ref, pid: target, reason: .noproc)), node: self)
            return ref
        }
        let ref = monitors.insert(watcher: watcher, watching: &watching.relations.watching, awaitingReply: awaitingReply)
        monitors.attach(monitors.slot(ref)!, to: target, watchedBy: &watched.relations.watchedBy)
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
        let watcherExtras = core(entry.watcher)?.extras
        let targetExtras = entry.attached ? core(entry.target)?.extras : nil
        var watching = watcherExtras?.watching ?? MonitorTable.none
        var watchedBy = targetExtras?.watchedBy ?? MonitorTable.none
        monitors.remove(slot, watching: &watching, watchedBy: &watchedBy)
        watcherExtras?.watching = watching
        targetExtras?.watchedBy = watchedBy
    }
}
