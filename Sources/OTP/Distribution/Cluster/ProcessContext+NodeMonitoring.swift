/// Watching other nodes from a process: Erlang's `monitor_node/2` and `net_kernel:monitor_nodes/1`. The
/// events arrive as the process's own messages, made by the function given (`{ .cluster($0) }`).
extension ProcessContext {
    /// Monitors node `peer` (Erlang's `monitor_node(Node, true)`): `message(.down(peer))` arrives once when
    /// the connection to it goes down — at once when it is not connected and cannot be connected. Each call
    /// is one more watch and one more message, as in Erlang. Thread: the process's loop.
    public func monitorNode(_ peer: String, as message: @escaping (NodeEvent) -> Message) {
        let pid = self.pid
        let watch = NodeWatches.Watch(pid: pid) { node, event in
            try? node.send(message(event), to: Address<Message>(unchecked: pid))
        }
        withNode { node in
            node.cluster.nodeWatches.byNode[peer, default: []].append(watch)
            node.checkConnected(peer) { [unowned node] up in
                guard !up, let watch = node.cluster.nodeWatches.removeWatch(of: peer, by: pid) else { return }
                watch.deliver(node, .down(peer))
            }
        }
    }

    /// Removes one of this process's watches of `peer` (`monitor_node(Node, false)`); returns whether it
    /// had one.
    @discardableResult
    public func demonitorNode(_ peer: String) -> Bool {
        withNode { $0.cluster.nodeWatches.removeWatch(of: peer, by: pid) != nil }
    }

    /// Subscribes this process to every node's up and down (`net_kernel:monitor_nodes(true)`): `message`
    /// makes the message for each `NodeEvent`. A second call replaces the first.
    public func subscribeNodeEvents(as message: @escaping (NodeEvent) -> Message) {
        let pid = self.pid
        withNode { node in
            node.cluster.nodeWatches.subscribers[.process(pid)] = { node, event in
                try? node.send(message(event), to: Address<Message>(unchecked: pid))
            }
        }
    }

    /// Ends this process's subscription (`net_kernel:monitor_nodes(false)`).
    public func unsubscribeNodeEvents() {
        withNode { $0.cluster.nodeWatches.subscribers[.process(pid)] = nil }
    }
}

extension Node {
    /// The nodes connected now, by visibility (Erlang's `nodes(visible | hidden | connected)`), sorted.
    /// Thread: loop thread only; on a loop of a group, the group's connections are loop 0's (ask there).
    public func nodes(_ visibility: NodeVisibility = .visible) -> [String] {
        preconditionInLoop()
        let up = distribution?.connections.values.filter { $0.state == .up } ?? []
        return up.filter { connection in
            switch visibility {
            case .visible: return connection.peerFlags.contains(.published)
            case .hidden: return !connection.peerFlags.contains(.published)
            case .connected: return true
            }
        }.compactMap(\.peer).sorted()
    }

    /// Every node's up and down from now on, as an async stream (`net_kernel:monitor_nodes(true)` for async
    /// code). The subscription ends when the stream's consumer stops or the node closes.
    public func nodeEvents() async throws -> AsyncStream<NodeEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: NodeEvent.self)
        let key: UInt64 = try await perform { node in
            node.cluster.nodeWatches.nextStream &+= 1
            let key = node.cluster.nodeWatches.nextStream
            node.cluster.nodeWatches.subscribers[.stream(key)] = { _, event in continuation.yield(event) }
            return key
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.execute { $0.cluster.nodeWatches.subscribers[.stream(key)] = nil }
        }
        return stream
    }
}
