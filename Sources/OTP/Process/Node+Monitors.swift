/// Monitors: a one-way watch; the watcher gets one `DOWN` message when the target exits.
extension Node {
    /// `watcher` starts monitoring `target` (Erlang's `monitor(process, Target)`). Each call creates a new
    /// monitor with its own reference; several monitors on one target each get their `DOWN`. A target that
    /// is not alive gives an immediate `DOWN` with reason `noproc`. Thread: loop thread only.
    @discardableResult
    public func monitor(_ target: PID, by watcher: PID) -> Ref {
        monitor(target, by: watcher, ref: makeRef())
    }

    /// `monitor(_:by:)` with a reference chosen beforehand (a request tag handed to the target first).
    @discardableResult
    func monitor(_ target: PID, by watcher: PID, ref: Ref) -> Ref {
        preconditionInLoop()
        guard let watching = core(watcher) else { return ref }
        guard let watched = core(target), watched.status != .terminated else {
            watching.pushSystem(.down(Down(monitor: ref, pid: target, reason: .noproc)), node: self)
            return ref
        }
        monitors[ref] = MonitorEntry(watcher: watcher, target: target)
        watching.relations.monitors.insert(ref)
        watched.relations.monitoredBy.insert(ref)
        return ref
    }

    /// Removes monitor `ref` held by `watcher` (Erlang's `demonitor/2`). With `flush`, a `DOWN` for it that
    /// is already queued is removed too. Returns whether the monitor was still active. Thread: loop thread only.
    @discardableResult
    public func demonitor(_ ref: Ref, by watcher: PID, flush: Bool = false) -> Bool {
        preconditionInLoop()
        var active = false
        if let entry = monitors[ref], entry.watcher == watcher {
            monitors[ref] = nil
            core(entry.target)?.extras?.monitoredBy.remove(ref)
            core(watcher)?.extras?.monitors.remove(ref)
            active = true
        }
        if flush, let watching = core(watcher) {
            _ = watching.flush(ref, replies: false)
        }
        return active
    }
}
