/// A scope of process groups, interoperating with Erlang's `pg` (OTP 23+): processes join named groups,
/// and every node of the cluster running the same scope sees every member, whatever node it is on.
/// Phoenix.PubSub's default adapter is built on it.
///
/// ```swift
/// let groups = try node.startProcessGroups()           // scope `pg`, as Erlang's default
/// try groups.join("chat", worker)                      // pg:join(pg, chat, Worker)
/// groups.members("chat")                               // pg:get_members(pg, chat): every node's
/// ```
///
/// Groups are Erlang terms (`Term`; a `String` is the atom of that name). Members of this node are any of
/// its processes (of any loop of its group); they leave their groups when they exit. Members of other nodes
/// come and go as those nodes say (`join`, `leave`), and all of a node's members disappear when its scope
/// process or its connection goes down. The scope runs as a process registered under the scope's name,
/// speaking `pg`'s protocol (`discover`, `sync`, `join`, `leave`) with the scopes of the same name on other
/// nodes, Erlang's and swift-otp's alike.
///
/// Thread: the loop of the node that started it (each method checks); the object may be handed to other
/// threads, to come back to that loop (`perform`). Cost: `members` is a dictionary lookup.
public final class ProcessGroups: @unchecked Sendable {
    /// The scope's name (Erlang's scope atom), which its process is registered under.
    public let scope: String
    /// The scope's process.
    public internal(set) var pid = PID(node: 0, index: 0, serial: 0)
    unowned(unsafe) let node: Node

    struct Members {
        var all: [PID] = []
        var local: [PID] = []
    }

    /// Every group with a member, by group.
    var groups: [Term: Members] = [:]
    /// This node's members: the monitor the scope holds on each, and its groups (a process may join one
    /// group more than once, as in `pg`).
    var local: [PID: (monitor: Ref, groups: [Term])] = [:]
    /// The scopes of other nodes: the monitor on each scope process and its members by group.
    var remote: [PID: (monitor: Ref, groups: [Term: [PID]])] = [:]
    /// Subscribers to membership changes: of one group, or (`nil`) of every group.
    var subscribers: [Ref: (pid: PID, group: Term?, deliver: (Node, GroupChange) -> Void)] = [:]

    init(scope: String, node: Node) {
        self.scope = scope
        self.node = node
    }

    // MARK: Queries

    /// The members of `group` on every node (`pg:get_members/2`), in no particular order.
    public func members(_ group: Term) -> [PID] {
        node.preconditionInLoop("ProcessGroups.members")
        return groups[group]?.all ?? []
    }

    /// The members of `group` on this node (`pg:get_local_members/2`).
    public func localMembers(_ group: Term) -> [PID] {
        node.preconditionInLoop("ProcessGroups.localMembers")
        return groups[group]?.local ?? []
    }

    /// Every group with a member anywhere (`pg:which_groups/1`).
    public func whichGroups() -> [Term] {
        node.preconditionInLoop("ProcessGroups.whichGroups")
        return Array(groups.keys)
    }

    public func members(_ group: String) -> [PID] { members(.atom(group)) }
    public func localMembers(_ group: String) -> [PID] { localMembers(.atom(group)) }

    // MARK: Joining and leaving

    /// Adds `pid`, a process of this node, to `group` (`pg:join/3`); joining twice makes it a member twice.
    /// - Throws: `ProcessError.otherNode` for a pid of another node, `noProcess` for one not alive.
    public func join(_ group: Term, _ pid: PID) throws(ProcessError) {
        node.preconditionInLoop("ProcessGroups.join")
        guard !pid.isRemote else { throw .otherNode(pid) }
        guard node.isAlive(pid) else { throw .noProcess(pid) }
        if var entry = local[pid] {
            entry.groups.append(group)
            local[pid] = entry
        } else {
            local[pid] = (node.monitor(pid, by: self.pid), [group])
        }
        groups[group, default: Members()].all.append(pid)
        groups[group, default: Members()].local.append(pid)
        notify(.joined(group, [pid]))
        broadcast { me in .tuple([.atom("join"), me, group, self.wire(pid)]) }
    }

    /// Removes one membership of `pid` in `group` (`pg:leave/3`); returns whether it was a member.
    @discardableResult
    public func leave(_ group: Term, _ pid: PID) -> Bool {
        node.preconditionInLoop("ProcessGroups.leave")
        guard var entry = local[pid], let index = entry.groups.firstIndex(of: group) else { return false }
        entry.groups.remove(at: index)
        if entry.groups.isEmpty {
            _ = node.demonitor(entry.monitor, by: pid, flush: true)
            local[pid] = nil
        } else {
            local[pid] = entry
        }
        removeLocal(pid, from: group)
        broadcast { me in .tuple([.atom("leave"), me, self.wire(pid), .list([group])]) }
        return true
    }

    public func join(_ group: String, _ pid: PID) throws(ProcessError) { try join(.atom(group), pid) }
    @discardableResult public func leave(_ group: String, _ pid: PID) -> Bool { leave(.atom(group), pid) }

    // MARK: Watching membership

    /// Tells process `subscriber` of every join to and leave from `group` — of every group when `nil`
    /// (`pg:monitor/2`, `pg:monitor_scope/1`) — as its own message made by `message`. Returns the current
    /// members (of `group`, or all by group) and the subscription's reference for `unsubscribe`. The
    /// subscription ends when the subscriber exits.
    public func subscribe<Message>(_ subscriber: Address<Message>, to group: Term?,
                                   as message: @escaping (GroupChange) -> Message) -> Ref {
        node.preconditionInLoop("ProcessGroups.subscribe")
        let ref = node.monitor(subscriber.pid, by: pid)
        subscribers[ref] = (subscriber.pid, group, { node, change in try? node.send(message(change), to: subscriber) })
        return ref
    }

    /// Ends subscription `ref` (`pg:demonitor/2`); returns whether it was one.
    @discardableResult
    public func unsubscribe(_ ref: Ref) -> Bool {
        node.preconditionInLoop("ProcessGroups.unsubscribe")
        guard subscribers.removeValue(forKey: ref) != nil else { return false }
        _ = node.demonitor(ref, by: pid, flush: true)
        return true
    }

    // MARK: Internals

    /// The scope's pid as other nodes see it; `nil` once the node has left the cluster (nothing is sent then).
    var ownTerm: Term? { node.externalPID(for: pid).map(Term.pid) }

    /// A pid as the wire carries it.
    func wire(_ pid: PID) -> Term { node.externalPID(for: pid).map(Term.pid) ?? .atom("undefined") }

    /// Sends the message `make` builds around the scope's own pid to every known scope of another node.
    func broadcast(_ make: (Term) -> Term) {
        guard let me = ownTerm else { return }
        let message = make(me)
        for peer in remote.keys.sorted() { try? node.send(message, to: peer) }
    }

    func notify(_ change: GroupChange) {
        for (_, subscriber) in subscribers.sorted(by: { $0.key.rawValue < $1.key.rawValue })
        where subscriber.group == nil || subscriber.group == change.group {
            subscriber.deliver(node, change)
        }
    }

    func removeLocal(_ pid: PID, from group: Term) {
        guard var members = groups[group] else { return }
        if let i = members.all.firstIndex(of: pid) { members.all.remove(at: i) }
        if let i = members.local.firstIndex(of: pid) { members.local.remove(at: i) }
        groups[group] = members.all.isEmpty ? nil : members
        notify(.left(group, [pid]))
    }

    func addRemote(_ pids: [PID], to group: Term) {
        guard !pids.isEmpty else { return }
        groups[group, default: Members()].all.append(contentsOf: pids)
        notify(.joined(group, pids))
    }

    func removeRemote(_ pids: [PID], from group: Term) {
        guard var members = groups[group], !pids.isEmpty else { return }
        for pid in pids { if let i = members.all.firstIndex(of: pid) { members.all.remove(at: i) } }
        groups[group] = members.all.isEmpty && members.local.isEmpty ? nil : members
        notify(.left(group, pids))
    }
}

/// A change of a group's membership, told to subscribers (`ProcessGroups.subscribe`): Erlang's
/// `{Ref, join, Group, Pids}` and `{Ref, leave, Group, Pids}`.
public enum GroupChange: Sendable, Equatable {
    case joined(Term, [PID])
    case left(Term, [PID])

    public var group: Term {
        switch self {
        case .joined(let group, _), .left(let group, _): return group
        }
    }
}
