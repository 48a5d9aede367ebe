/// Links: a two-way bond along which exit signals travel (see `Node+Exit.swift` for what a signal does).
extension Node {
    /// Links `a` and `b` (Erlang's `link/1` called by `a`). Linking a process to itself, or twice, does
    /// nothing. When `b` does not exist, `a` gets an exit signal with reason `noproc` (an `EXIT` message
    /// if it traps exits; otherwise it exits). Thread: loop thread only.
    public func link(_ a: PID, _ b: PID) {
        preconditionInLoop()
        guard a != b else { return }
        guard let first = core(a) else {
            // `a` lives on another loop of the group (a process spawned there, linked to its requester):
            // the link is made here and there.
            if isSibling(a), let second = core(b), second.status != .terminated,
               second.relations.links.insert(a).inserted
            {
                signalSibling(.link, to: a, from: b)
            }
            return
        }
        guard let second = core(b), second.status != .terminated else {
            if b.isRemote {
                if let distribution {
                    if !first.relations.links.contains(b) { distribution.link(a, b) }
                } else if clustersThroughLoop0 {
                    // Linked here at once; loop 0 tells the other node (or signals noconnection back).
                    if first.relations.links.insert(b).inserted { viaClusterLoop { $0.link(a, b) } }
                } else {
                    signal(a, from: b, reason: .noconnection, viaLink: true)
                }
                return
            }
            if isSibling(b) {
                if first.relations.links.insert(b).inserted { signalSibling(.link, to: b, from: a) }
                return
            }
            signal(a, from: b, reason: .noproc, viaLink: true)
            return
        }
        first.relations.links.insert(b)
        second.relations.links.insert(a)
    }

    /// Removes the link between `a` and `b`, in both directions; no-op when there is none.
    /// Thread: loop thread only.
    public func unlink(_ a: PID, _ b: PID) {
        preconditionInLoop()
        core(a)?.extras?.links.remove(b)
        guard let second = core(b) else {
            // Not a local process: a remote one is told over its connection (UNLINK_ID).
            if b.isRemote {
                if let distribution { distribution.unlink(a, b) } else if clustersThroughLoop0 { viaClusterLoop { $0.unlink(a, b) } }
            }
            if isSibling(b) { signalSibling(.unlink, to: b, from: a) }
            return
        }
        second.extras?.links.remove(a)
    }

    /// Records `parent` as the parent of `child`: its exit signals, other than `normal` and an
    /// untrappable `kill`, reach `child` as `EXIT` messages even when it does not trap exits
    /// (`ProcessExtras.parent`; a GenServer started linked, so that its parent's stop runs `terminate`).
    @usableFromInline
    func setParent(_ parent: PID, of child: PID) {
        core(child)?.relations.parent = parent
    }
}
