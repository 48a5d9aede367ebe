/// Cluster membership, stored inline in the node (`Node.startDistribution`).
///
/// Thread: loop thread only.
@usableFromInline
struct ClusterState {
    /// The node's distribution; `nil` for a node on its own. Remote pids route through it.
    @usableFromInline var distribution: Distribution?
    /// A distribution whose handles are closing.
    var closing: Distribution?
    /// This loop's processes watching nodes (`monitorNode`, `subscribeNodeEvents`).
    var nodeWatches = NodeWatches()
    /// The functions other nodes may call by rpc (`Node.export`), kept across a restart of the distribution.
    var exports: [RPCKey: RPCFunction] = [:]
    /// The factories other nodes' spawn requests start processes with (`Node.exportSpawn`).
    var spawnables: [RPCKey: SpawnFactory] = [:]

    // A loop of a group that reaches the cluster through loop 0 (`Node+GroupCluster`):
    /// Calls from other nodes to servers of this loop, by the reference their `Caller` has.
    var relayedCalls: [Ref: Distribution.RemoteCall] = [:]
    /// `relayedCalls` by the alias of a modern `gen_server:call` (its caller's DEMONITOR ends it).
    var relayedCallsByAlias: [ExternalReference: Ref] = [:]
    /// Calls of this loop to servers of other nodes: how to deliver each reply, by request reference.
    var relayedReplies: [Ref: (Term) -> Void] = [:]
    /// Processes of this loop that processes of other nodes monitor: their exit is told to loop 0.
    var watchedRemotely: Set<PID> = []

    @usableFromInline
    init() {}
}

extension Node {
    /// The node's distribution (`cluster.distribution`); `nil` for a node on its own.
    @inlinable
    var distribution: Distribution? { cluster.distribution }
}
