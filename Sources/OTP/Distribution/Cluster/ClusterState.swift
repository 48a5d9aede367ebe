/// Cluster membership, stored inline in the node (`Node.startDistribution`).
///
/// Thread: loop thread only.
@usableFromInline
struct ClusterState {
    /// The node's distribution; `nil` for a node on its own. Remote pids route through it.
    @usableFromInline var distribution: Distribution?
    /// A distribution whose handles are closing.
    var closing: Distribution?

    @usableFromInline
    init() {}
}

extension Node {
    /// The node's distribution (`cluster.distribution`); `nil` for a node on its own.
    @inlinable
    var distribution: Distribution? { cluster.distribution }
}
