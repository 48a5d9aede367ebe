import OTP

/// How the process table is ordered.
enum SortOrder: String, CaseIterable {
    case mailbox, rate, memory

    var title: String {
        switch self {
        case .mailbox: return "mailbox length"
        case .rate: return "message rate"
        case .memory: return "memory"
        }
    }
}

/// One frame of otp-top: the node's counters, the busiest processes and the supervision tree, as lines of
/// text no wider than `width`. A pure function of two snapshots, so rates need no state of their own.
struct TopScreen {
    let socket: String
    let snapshot: NodeSnapshot
    /// The snapshot of the frame before, for rates (messages per second); `nil` on the first frame.
    let previous: NodeSnapshot?
    let sort: SortOrder
    let width: Int
    let height: Int
    var notice: String?

    /// Messages per second taken from each process's mailbox since the previous frame.
    func rates() -> [PID: Double] {
        guard let previous, snapshot.time > previous.time else { return [:] }
        let seconds = Double(snapshot.time - previous.time) / 1000
        let before = Dictionary(previous.processes.map { ($0.pid, $0.messagesIn) }, uniquingKeysWith: { a, _ in a })
        var rates: [PID: Double] = [:]
        for row in snapshot.processes {
            rates[row.pid] = Double(row.messagesIn &- (before[row.pid] ?? 0)) / seconds
        }
        return rates
    }

    func lines() -> [String] {
        let s = snapshot.statistics
        let rates = rates()
        var lines: [String] = []
        lines.append("otp-top  \(socket)  loop clock \(format(seconds: snapshot.time))  metrics \(snapshot.metricsEnabled ? "on" : "off")")
        var delivered = "messages delivered \(s.delivered)"
        if let previous, snapshot.time > previous.time {
            let perSecond = Double(s.delivered &- previous.statistics.delivered) * 1000 / Double(snapshot.time - previous.time)
            delivered += " (\(Int(perSecond.rounded()))/s)"
        }
        lines.append("processes \(s.live)  run queue \(s.runQueueLength)  timers \(s.pendingTimers)  monitors \(s.monitors)  "
                     + "names \(s.registeredNames)  \(delivered)  dropped \(s.droppedToDeadProcesses)  refused \(s.refusedMailboxFull)")
        lines.append("sorted by \(sort.title)   keys: m mailbox  r rate  s memory  q quit"
                     + (snapshot.omitted > 0 ? "   (\(snapshot.omitted) quiet processes not shown)" : ""))
        lines.append(notice ?? "")
        lines.append(columns(["PID", "NAME", "KIND", "TYPE", "STATUS", "MAILBOX", "IN/S", "IN", "OUT", "MEMORY", "TIME"]))

        let ordered = snapshot.processes.sorted { a, b in
            switch sort {
            case .mailbox: return (a.mailboxLength, rates[a.pid] ?? 0, a.pid.rawValue) > (b.mailboxLength, rates[b.pid] ?? 0, b.pid.rawValue)
            case .rate: return (rates[a.pid] ?? 0, a.mailboxLength, a.pid.rawValue) > (rates[b.pid] ?? 0, b.mailboxLength, b.pid.rawValue)
            case .memory: return (a.memory, a.pid.rawValue) > (b.memory, b.pid.rawValue)
            }
        }
        let tree = treeLines()
        let room = max(3, height - lines.count - tree.count - 2)
        for row in ordered.prefix(room) {
            lines.append(columns([
                row.pid.description, row.name ?? "", row.kind.rawValue, row.typeName, row.status.description,
                "\(row.mailboxLength)", "\(Int((rates[row.pid] ?? 0).rounded()))", "\(row.messagesIn)", "\(row.messagesOut)",
                format(bytes: row.memory), snapshot.metricsEnabled ? format(nanoseconds: row.handlerTime) : "-",
            ]))
        }
        if ordered.count > room { lines.append("  ... \(ordered.count - room) more") }
        lines.append("")
        lines.append(contentsOf: tree)
        return lines.map { String($0.prefix(width)) }
    }

    /// The supervision tree: each supervisor without a parent, then its children, indented.
    func treeLines() -> [String] {
        let children = Dictionary(grouping: snapshot.processes.filter { $0.supervisor != nil }, by: { $0.supervisor! })
        let roots = snapshot.processes.filter { $0.kind == .supervisor && $0.supervisor == nil }
        guard !roots.isEmpty else { return ["SUPERVISION TREE (none)"] }
        var lines = ["SUPERVISION TREE"]
        func walk(_ row: ProcessRow, _ prefix: String, _ branch: String) {
            lines.append(prefix + branch + label(row))
            let kids = children[row.pid] ?? []
            let indent = prefix + (branch == "└─ " ? "   " : branch.isEmpty ? "" : "│  ")
            for (i, kid) in kids.enumerated() { walk(kid, indent, i == kids.count - 1 ? "└─ " : "├─ ") }
        }
        for root in roots { walk(root, "", "") }
        return lines
    }

    private func label(_ row: ProcessRow) -> String {
        let name = row.name.map { "\($0) " } ?? ""
        return "\(name)\(row.pid) \(row.kind.rawValue) \(row.typeName) \(row.status)"
            + (row.mailboxLength > 0 ? " mailbox \(row.mailboxLength)" : "")
    }

    private func columns(_ fields: [String]) -> String {
        let widths = [13, 18, 11, 16, 11, 8, 8, 10, 10, 9, 9]
        return zip(fields, widths).map { field, width in
            let text = String(field.prefix(width - 1))
            return text + String(repeating: " ", count: width - text.count)
        }.joined()
    }
}

func format(bytes: Int) -> String {
    bytes < 10_240 ? "\(bytes) B" : bytes < 10_485_760 ? "\(bytes / 1024) KiB" : "\(bytes / 1_048_576) MiB"
}

func format(nanoseconds: UInt64) -> String {
    if nanoseconds < 10_000 { return "\(nanoseconds) ns" }
    if nanoseconds < 10_000_000 { return "\(nanoseconds / 1000) us" }
    if nanoseconds < 10_000_000_000 { return "\(nanoseconds / 1_000_000) ms" }
    return "\(nanoseconds / 1_000_000_000) s"
}

func format(seconds milliseconds: UInt64) -> String {
    "\(milliseconds / 1000).\(milliseconds % 1000 / 100) s"
}
