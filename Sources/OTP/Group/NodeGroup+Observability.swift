import CLibUV

/// What a group shows of itself: each loop's load, a snapshot of every loop, and `otp-top`'s view of the
/// whole group (`docs/observability.md`).
extension NodeGroup {
    /// Each loop's load, by index, as each loop last published it (once per loop iteration; a loop that
    /// waits for work has done none since, and its rates fall as time passes). Thread-safe; O(loops).
    public func loads() -> [LoopLoad] {
        let now = loops[0].uv == nil ? loops[0].timers.manualNow : uv_hrtime() / 1_000_000
        return (0..<core.count).map { core.loadCell($0).pointee.load(of: $0, now: now) }
    }

    /// Turns busy-time measurement (`Node.measuresBusyTime`, Erlang's `scheduler_wall_time`) on or off on
    /// every loop, each on its own thread soon (a job). Thread-safe.
    public func measureBusyTime(_ on: Bool = true) {
        for node in loops { node.execute { $0.measuresBusyTime = on } }
    }

    /// A snapshot of the whole group: each loop's counters, load and up to `limit` processes, taken on its
    /// own thread one loop after another and merged (counters added; at most `limit` processes in all,
    /// chosen as `Node.snapshot(limit:)` chooses them). A closed loop is left out. Thread: async code, not on
    /// a loop thread of this group (it waits for each loop).
    public func snapshot(limit: Int = .max) async -> NodeSnapshot {
        var parts: [(loop: Int, snapshot: NodeSnapshot)] = []
        for (index, node) in loops.enumerated() {
            if let part = try? await node.perform({ $0.snapshot(limit: limit) }) { parts.append((index, part)) }
        }
        return NodeSnapshot.merging(parts, limit: limit)
    }

    /// Serves the whole group's view for `otp-top` (`Node.startView(at:)`) from loop 0: every loop's
    /// processes and load. Returns the socket's path.
    /// - Throws: `ViewError` naming the path; `ProcessError.nodeStopped` when loop 0 is closed.
    @discardableResult
    public func startView(at path: String? = nil, idleTimeout: Duration = ViewProtocol.defaultIdleTimeout)
        async throws -> String
    {
        try await loops[0].perform { try $0.startView(at: path, idleTimeout: idleTimeout) }
    }
}
