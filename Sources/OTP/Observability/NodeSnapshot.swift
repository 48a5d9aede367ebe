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

    public init(pid: PID, name: String?, kind: ProcessKind, typeName: String, status: ProcessStatus,
                mailboxLength: Int, messagesIn: UInt64, messagesOut: UInt64, memory: Int, handlerTime: UInt64,
                supervisor: PID?) {
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
    }
}

/// The live system at one moment (Erlang's observer, `otp-top`): the node's counters and every process.
///
/// Taken on the loop thread between two process turns, so it is consistent: no handler is running while
/// it is taken (a handler that holds the loop delays the snapshot; `otp-top` then says the node is not
/// answering).
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

    public init(time: UInt64, uptime: UInt64 = 0, statistics: NodeStatistics, metricsEnabled: Bool,
                processes: [ProcessRow], omitted: Int) {
        self.time = time
        self.uptime = uptime
        self.statistics = statistics
        self.metricsEnabled = metricsEnabled
        self.processes = processes
        self.omitted = omitted
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
        var omitted = 0
        if rows.count > limit {
            // Keep the structure (supervisors, names), then the busiest.
            let ranked = rows.enumerated().sorted { a, b in
                let (x, y) = (a.element, b.element)
                let keyX = (x.kind == .supervisor || x.name != nil ? 1 : 0, x.mailboxLength, x.messagesIn)
                let keyY = (y.kind == .supervisor || y.name != nil ? 1 : 0, y.mailboxLength, y.messagesIn)
                return keyX > keyY
            }
            let kept = Set(ranked.prefix(max(0, limit)).map(\.offset))
            omitted = rows.count - kept.count
            rows = rows.enumerated().filter { kept.contains($0.offset) }.map(\.element)
        }
        let now = currentTime
        return NodeSnapshot(time: now, uptime: now &- createdAt, statistics: statistics, metricsEnabled: instruments != nil,
                            processes: rows, omitted: omitted)
    }

    func row(for process: ProcessCore) -> ProcessRow {
        let (kind, typeName) = process.kind
        return ProcessRow(pid: process.pid, name: process.extras?.name,
                          kind: process.extras?.system == true ? .system : kind, typeName: typeName,
                          status: process.status, mailboxLength: process.mailboxCount,
                          messagesIn: process.received, messagesOut: process.sent,
                          memory: memoryEstimate(process), handlerTime: process.extras?.handlerNanoseconds ?? 0,
                          supervisor: process.extras?.supervisor)
    }

    /// Bytes of the process object plus its mailbox buffer and relations record.
    func memoryEstimate(_ process: ProcessCore) -> Int {
        var memory = process.objectBytes + process.mailboxBytes
        if let extras = process.extras { memory += 64 + extras.links.count * 8 }
        return memory
    }
}
