/// The process of a `ProcessGroups` scope: `pg`'s protocol with the scopes of the same name on other
/// nodes, and the exits of local members and subscribers.
///
/// - `{discover, Peer}` (and OTP 26's `{discover, Peer, Version}`): answer `gen_server:cast(Peer, {sync,
///   Self, LocalGroups})`; a scope not known yet is monitored and discovered back.
/// - `{'$gen_cast', {sync, Peer, Groups}}`: everything that scope has, replacing what was known of it.
/// - `{join, Peer, Group, PidOrPids}`, `{leave, Peer, PidOrPids, Groups}`: changes from a known scope.
/// - a node coming up: `{discover, Self}` to the scope of that name there.
/// - `DOWN` of a local member: it leaves its groups (told to every scope); of another node's scope (or its
///   connection): all that scope's members go.
///
/// Messages from scopes that are not known (a node that left, a stray `join`) are ignored, as `pg` does.
/// Thread: the scope's loop.
extension ProcessGroups {
    enum ScopeMessage {
        case term(Term)
        case node(NodeEvent)
    }

    func handle(_ message: Term) {
        guard case .tuple(let e) = message, let tag = e.first?.atomValue else { return }
        switch (tag, e.count) {
        case ("discover", 2), ("discover", 3):
            guard case .pid(let peer) = e[1] else { return }
            discovered(by: node.pid(for: peer))
        case ("$gen_cast", 2):
            guard case .tuple(let s) = e[1], s.count == 3, s[0] == .atom("sync"), case .pid(let peer) = s[1],
                  case .list(let entries) = s[2] else { return }
            synced(node.pid(for: peer), entries)
        case ("join", 4):
            guard case .pid(let peer) = e[1], let known = remote[node.pid(for: peer)] else { return }
            let pids = pidList(e[3])
            var entry = known
            entry.groups[e[2], default: []].append(contentsOf: pids)
            remote[node.pid(for: peer)] = entry
            addRemote(pids, to: e[2])
        case ("leave", 4):
            guard case .pid(let peer) = e[1], var entry = remote[node.pid(for: peer)], case .list(let left) = e[3] else { return }
            let pids = pidList(e[2])
            for group in left {
                guard var members = entry.groups[group] else { continue }
                for pid in pids { if let i = members.firstIndex(of: pid) { members.remove(at: i) } }
                entry.groups[group] = members.isEmpty ? nil : members
                removeRemote(pids, from: group)
            }
            remote[node.pid(for: peer)] = entry
        default:
            return
        }
    }

    /// Another node's scope discovered this one: it gets this node's members; a new one is watched and
    /// discovered back.
    func discovered(by peer: PID) {
        guard let me = ownTerm else { return }
        try? node.send(Term.tuple([.atom("$gen_cast"), .tuple([.atom("sync"), me, localGroups])]), to: peer)
        guard remote[peer] == nil else { return }
        remote[peer] = (node.monitor(peer, by: pid), [:])
        try? node.send(Term.tuple([.atom("discover"), me]), to: peer)
    }

    /// Everything `peer`'s scope has: what changed since it was last known is joined or left.
    func synced(_ peer: PID, _ entries: [Term]) {
        var entry = remote[peer] ?? (node.monitor(peer, by: pid), [:])
        var fresh: [Term: [PID]] = [:]
        for item in entries {
            guard case .tuple(let pair) = item, pair.count == 2 else { continue }
            fresh[pair[0], default: []].append(contentsOf: pidList(pair[1]))
        }
        for (group, old) in entry.groups {
            let kept = fresh[group] ?? []
            removeRemote(old.filter { !kept.contains($0) }, from: group)
        }
        for (group, pids) in fresh {
            let old = entry.groups[group] ?? []
            addRemote(pids.filter { !old.contains($0) }, to: group)
        }
        entry.groups = fresh
        remote[peer] = entry
    }

    /// This node's members by group, as `sync` carries them.
    var localGroups: Term {
        var byGroup: [Term: [Term]] = [:]
        for (pid, entry) in local.sorted(by: { $0.key < $1.key }) {
            for group in entry.groups { byGroup[group, default: []].append(wire(pid)) }
        }
        return .list(byGroup.map { Term.tuple([$0.key, .list($0.value)]) })
    }

    /// A process this scope monitors went down: a local member, another node's scope, or a subscriber.
    func down(_ down: Down) {
        if subscribers.removeValue(forKey: down.monitor) != nil { return }
        if let entry = local.removeValue(forKey: down.pid), entry.monitor == down.monitor {
            for group in entry.groups { removeLocal(down.pid, from: group) }
            broadcast { me in .tuple([.atom("leave"), me, self.wire(down.pid), .list(entry.groups)]) }
            return
        }
        if let entry = remote.removeValue(forKey: down.pid) {
            for (group, pids) in entry.groups.sorted(by: { "\($0.key)" < "\($1.key)" }) { removeRemote(pids, from: group) }
        }
    }

    /// A node came up: discover the scope of this name there.
    func nodeUp(_ peer: String) {
        guard let me = ownTerm else { return }
        try? node.send(Term.tuple([.atom("discover"), me]), to: node.remote(scope, on: peer))
    }

    func pidList(_ term: Term) -> [PID] {
        switch term {
        case .pid(let one): return [node.pid(for: one)]
        case .list(let many): return many.compactMap { if case .pid(let p) = $0 { return node.pid(for: p) } else { return nil } }
        default: return []
        }
    }
}
