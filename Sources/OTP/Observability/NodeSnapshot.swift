/// One process in a `NodeSnapshot`: what `otp-top` shows per line.
public struct ProcessRow: Sendable, Equatable {
    public var pid: PID
    public var name: String?
    public var kind: ProcessKind
    /// The server type (`Counter`) of a server or supervisor; the message type of a plain process.
    public var typeName: String
    public var status: ProcessStatus
    public var mailboxLength: Int
    /// Messages it has taken from its mailbox, and messages it has sent, since it started.
    public var messagesIn: UInt64
    public var messagesOut: UInt64
    /// Bytes of the process object, its mailbox buffer and its relations record.
    public var memory: Int
    /// Time spent in its handlers, in nanoseconds: measured while metrics are on, otherwise 0.
    public var handlerTime: UInt64
    /// The supervisor that started it (its parent in the supervision tree).
    public var supervisor: PID?
    /// The loop it runs on (`Node.loopIndex`: 0 on a node of its own).
    public var loop: Int

    public init(pid: PID, name: String?, kind: ProcessKind, typeName: String, status: ProcessStatus,
                mailboxLength: Int, messagesIn: UInt64, messagesOut: UInt64, memory: Int, handlerTime: UInt64,
                supervisor: PID?, loop: Int = 0) {
        self.pid = pid
        self.name = name
        self.kind = kind
        self.typeName = typeName
        self.status = status
        self.mailboxLength = mailboxLength
        self.messagesIn = messagesIn
        self.messagesOut = messagesOut
        self.memory = memory
        self.handlerTime = handlerTime
        self.supervisor = supervisor
        self.loop = loop
    }
}

/// The live system at one moment (Erlang's observer, `otp-top`): the node's counters, each loop's load and
/// every process.
///
/// Taken on the loop thread between two process turns, so it is consistent: no handler is running while
/// it is taken (a handler that holds the loop delays the snapshot; `otp-top` then says the node is not
/// answering). A group's snapshot (`NodeGroup.snapshot`, or the view of a loop of a group) is each loop's,
/// taken one after another on its own thread and merged: consistent per loop, not across loops.
public struct NodeSnapshot: Sendable, Equatable {
    /// The node's clock when it was taken, in milliseconds.
    public var time: UInt64
    /// How long the node has existed, in milliseconds (its clock now minus its clock when it was made).
    public var uptime: UInt64
    public var statistics: NodeStatistics
    /// Whether metrics are on (so `ProcessRow.handlerTime` is measured).
    public var metricsEnabled: Bool
    /// The processes, in table order; with a `limit`, the supervisors, the named processes and then those
    /// with the longest mailboxes and the most messages handled come first.
    public var processes: [ProcessRow]
    /// Processes left out by the limit.
    public var omitted: Int
    /// The load of each loop, by index: one for a node of its own, every loop's for a loop of a group.
    public var loops: [LoopLoad]

    public init(time: UInt64, uptime: UInt64 = 0, statistics: NodeStatistics, metricsEnabled: Bool,
                processes: [ProcessRow], omitted: Int, loops: [LoopLoad] = []) {
        self.time = time
        self.uptime = uptime
        self.statistics = statistics
        self.metricsEnabled = metricsEnabled
        self.processes = processes
        self.omitted = omitted
        self.loops = loops
    }

    /// The snapshots of the loops of one group, each taken on its own loop with `limit`, as one: counters
    /// added up, each loop's load from its own snapshot (the fresh one), and at most `limit` processes chosen
    /// again from all of them. A closed loop has no part. Time and uptime are the first part's.
    static func merging(_ parts: [(loop: Int, snapshot: NodeSnapshot)], limit: Int) -> NodeSnapshot {
        var statistics = NodeStatistics()
        var rows: [ProcessRow] = []
        var omitted = 0
        var loops: [LoopLoad] = []
        let parts = parts.sorted { $0.loop < $1.loop }
        for (loop, part) in parts {
            let s = part.statistics
            statistics.spawned &+= s.spawned
            statistics.exited &+= s.exited
            statistics.live &+= s.live
            statistics.delivered &+= s.delivered
            statistics.droppedToDeadProcesses &+= s.droppedToDeadProcesses
            statistics.lentTurns &+= s.lentTurns
            statistics.callsServedInline &+= s.callsServedInline
            statistics.refusedMailboxFull &+= s.refusedMailboxFull
            statistics.refusedBusy &+= s.refusedBusy
            statistics.fragmentedSent &+= s.fragmentedSent
            statistics.fragmentedReceived &+= s.fragmentedReceived
            statistics.ignoredReplies &+= s.ignoredReplies
            statistics.pendingTimers &+= s.pendingTimers
            statistics.monitors &+= s.monitors
            statistics.registeredNames &+= s.registeredNames  // each name is in the registry of its process's loop
            statistics.runQueueLength &+= s.runQueueLength
            rows += part.processes
            omitted &+= part.omitted
            if let load = part.loops.first(where: { $0.loop == loop }) { loops.append(load) }
        }
        let (kept, dropped) = choose(rows, limit: limit)
        let first = parts.first?.snapshot
        return NodeSnapshot(time: first?.time ?? 0, uptime: first?.uptime ?? 0, statistics: statistics,
                            metricsEnabled: parts.contains { $0.snapshot.metricsEnabled }, processes: kept,
                            omitted: omitted &+ dropped, loops: loops)
    }

    /// At most `limit` of `rows`, in their order: the supervisors and named processes first, then those with
    /// the longest mailboxes and the most messages handled. Returns the rows kept and how many were left out.
    static func choose(_ rows: [ProcessRow], limit: Int) -> ([ProcessRow], Int) {
        guard rows.count > limit else { return (rows, 0) }
        let ranked = rows.enumerated().sorted { a, b in
            let (x, y) = (a.element, b.element)
            let keyX = (x.kind == .supervisor || x.name != nil ? 1 : 0, x.mailboxLength, x.messagesIn)
            let keyY = (y.kind == .supervisor || y.name != nil ? 1 : 0, y.mailboxLength, y.messagesIn)
            return keyX > keyY
        }
        let kept = Set(ranked.prefix(max(0, limit)).map(\.offset))
        return (rows.enumerated().filter { kept.contains($0.offset) }.map(\.element), rows.count - kept.count)
    }
}

extension Node {
    /// A snapshot of the node and up to `limit` processes. Thread: loop thread only.
    /// Cost: one pass over the process table; O(n log n) to choose the rows when there are more than `limit`.
    public func snapshot(limit: Int = .max) -> NodeSnapshot {
        preconditionInLoop()
        var rows: [ProcessRow] = []
        rows.reserveCapacity(min(table.count, limit == .max ? table.count : limit * 2))
        table.forEachProcess { rows.append(row(for: $0)) }
        let (kept, omitted) = NodeSnapshot.choose(rows, limit: limit)
        let now = currentTime
        return NodeSnapshot(time: now, uptime: now &- createdAt, statistics: statistics, metricsEnabled: instruments != nil,
                            processes: kept, omitted: omitted, loops: loads)
    }

    func row(for process: ProcessCore) -> ProcessRow {
        let (kind, typeName) = process.kind
        return ProcessRow(pid: process.pid, name: process.extras?.name,
                          kind: process.extras?.system == true ? .system : kind, typeName: typeName,
                          status: process.status, mailboxLength: process.mailboxCount,
                          messagesIn: process.received, messagesOut: process.sent,
                          memory: memoryEstimate(process), handlerTime: process.extras?.handlerNanoseconds ?? 0,
                          supervisor: process.extras?.supervisor, loop: loopIndex)
    }

    /// Bytes of the process object plus its mailbox buffer and relations record.
    func memoryEstimate(_ process: ProcessCore) -> Int {
        var memory = process.objectBytes + process.mailboxBytes
        if let extras = process.extras { memory += 64 + extras.links.count * 8 }
        return memory
    }
}
