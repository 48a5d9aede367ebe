/// The node watches of one loop: processes that monitor a node (`monitorNode`, one entry per call, as
/// Erlang counts them) and subscribers to every node's up and down (`subscribeNodeEvents`, async streams).
/// The loop that runs the distribution tells every loop of its group about each event
/// (`Node.nodeEventOccurred`). A process's entries go when it exits.
///
/// Thread: loop thread only.
struct NodeWatches {
    /// Hands an event to its watcher on this loop.
    typealias Delivery = (Node, NodeEvent) -> Void

    struct Watch {
        let pid: PID
        let deliver: Delivery
    }

    enum Subscriber: Hashable {
        case process(PID)
        case stream(UInt64)
    }

    /// `monitorNode` watches by node name.
    var byNode: [String: [Watch]] = [:]
    /// Subscribers to every up and down.
    var subscribers: [Subscriber: Delivery] = [:]
    var nextStream: UInt64 = 0

    var isEmpty: Bool { byNode.isEmpty && subscribers.isEmpty }

    /// Removes one of `pid`'s watches of `peer` and returns it, if it had one.
    mutating func removeWatch(of peer: String, by pid: PID) -> Watch? {
        guard var watches = byNode[peer], let index = watches.firstIndex(where: { $0.pid == pid }) else { return nil }
        let watch = watches.remove(at: index)
        byNode[peer] = watches.isEmpty ? nil : watches
        return watch
    }

    /// Drops everything `pid` held.
    mutating func remove(_ pid: PID) {
        subscribers[.process(pid)] = nil
        for (peer, watches) in byNode where watches.contains(where: { $0.pid == pid }) {
            let kept = watches.filter { $0.pid != pid }
            byNode[peer] = kept.isEmpty ? nil : kept
        }
    }
}

extension Node {
    /// A node event on this loop: `up` and `down` go to every subscriber; `down` also fires (and removes)
    /// each `monitorNode` watch of that node. `subscribers: false` for a connection that never came up:
    /// only the node's watchers hear of it.
    func nodeEventOccurred(_ event: NodeEvent, subscribers: Bool = true) {
        guard !cluster.nodeWatches.isEmpty else { return }
        if case .down(let peer) = event, let watches = cluster.nodeWatches.byNode.removeValue(forKey: peer) {
            for watch in watches { watch.deliver(self, event) }
        }
        guard subscribers else { return }
        for (_, deliver) in cluster.nodeWatches.subscribers.sorted(by: { "\($0.key)" < "\($1.key)" }) {
            deliver(self, event)
        }
    }

    /// Tells every loop of the group (this one at once) about `event`.
    func broadcastNodeEvent(_ event: NodeEvent, subscribers: Bool = true) {
        nodeEventOccurred(event, subscribers: subscribers)
        guard let group else { return }
        for loop in 0..<group.count where loop != loopIndex {
            group.node(loop).execute { $0.nodeEventOccurred(event, subscribers: subscribers) }
        }
    }

    /// Whether `peer` is connected, asked on the loop that runs the distribution; `answer` runs on this loop.
    func checkConnected(_ peer: String, _ answer: @escaping (Bool) -> Void) {
        if distribution != nil || group == nil {
            return connect(to: peer, then: answer)
        }
        let reply = LoopCallback(answer)
        let home = loopIndex
        viaClusterLoop { distribution in
            distribution.node.connect(to: peer) { up in
                distribution.node.group?.node(home).execute { _ in reply.body(up) }
            }
        }
    }
}

/// A callback made on one loop and run back on it after a hop to another.
struct LoopCallback<Value>: @unchecked Sendable {
    let body: (Value) -> Void
    init(_ body: @escaping (Value) -> Void) { self.body = body }
}
