/// The process of a GenServer: a `BehaviorProcess` running `ServerLoop<S>` that knows it is a server —
/// its kind and type in snapshots, and how to ask it to stop so that its `terminate` runs (a `sys` stop
/// request, used by a node-wide shutdown). Spawned by the start protocol (`Node.beginStart`).
///
/// Thread: loop thread only.
@usableFromInline
final class ServerProcess<S: GenServer>: BehaviorProcess<ServerLoop<S>> {
    @inlinable
    override init(pid: PID, behavior: ServerLoop<S>, capacity: Int) {
        super.init(pid: pid, behavior: behavior, capacity: capacity)
    }

    override var kind: (ProcessKind, String) {
        (S._stopsInSteps ? .supervisor : .server, String(describing: S.self))
    }

    override var isSupervisor: Bool { S._stopsInSteps }

    override func requestSystemStop(_ reason: ExitReason, caller: PID, ref: Ref, node: Node) -> Bool {
        // Past the mailbox bound, as every system request: control must get through to a flooded server.
        forceDeliver(.message(.system(.stop(reason), Caller(pid: caller, ref: ref))), node: node)
        return true
    }
}
