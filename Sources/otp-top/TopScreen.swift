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

/// What the user chose to see: the keys and options change it, the screen reads it.
struct ViewOptions {
    var sort = SortOrder.mailbox
    /// Rows whose name or type contains this (case-insensitive); empty: every row.
    var filter = ""
    /// Show the runtime's own processes (`ProcessKind.system`).
    var showSystem = false
    /// The first table row shown (scrolling).
    var scroll = 0
    /// The supervision tree with every child (`true`), one line per supervisor (`false`), or expanded only
    /// when it fits (`nil`).
    var treeExpanded: Bool?
}

/// One frame of otp-top: the node's counters, a page of the process table and the supervision tree, as at
/// most `height` lines no wider than `width`. The header and the table always keep their place: the tree
/// gets at most a third of the screen, folded to one line per supervisor when it does not fit. A pure
/// function of two snapshots and the options, so rates need no state of their own.
struct TopScreen {
    let socket: String
    let snapshot: NodeSnapshot
    /// The snapshot of the frame before, for rates (messages per second); `nil` on the first frame.
    let previous: NodeSnapshot?
    let options: ViewOptions
    let width: Int
    let height: Int
    var notice: String?

    /// Messages per second that arrived in each process's mailbox since the previous frame: those it took
    /// plus the growth of its mailbox, so a backlog that grows shows its real arrival rate. Only for processes
    /// in both frames (a new process has no rate yet).
    func rates() -> [PID: Double] {
        guard let previous, snapshot.time > previous.time else { return [:] }
        let seconds = Double(snapshot.time - previous.time) / 1000
        let before = Dictionary(previous.processes.map { ($0.pid, ($0.messagesIn, $0.mailboxLength)) },
                                uniquingKeysWith: { a, _ in a })
        var rates: [PID: Double] = [:]
        for row in snapshot.processes {
            guard let (taken, queued) = before[row.pid] else { continue }
            let arrived = Double(row.messagesIn &- taken) + Double(row.mailboxLength - queued)
            rates[row.pid] = max(0, arrived) / seconds
        }
        return rates
    }

    /// The table's rows: filtered, internal ones hidden unless asked, in the chosen order.
    func tableRows(_ rates: [PID: Double]) -> [ProcessRow] {
        let needle = options.filter.lowercased()
        let shown = snapshot.processes.filter { row in
            (options.showSystem || row.kind != .system)
                && (needle.isEmpty || (row.name ?? "").lowercased().contains(needle)
                    || row.typeName.lowercased().contains(needle))
        }
        return shown.sorted { a, b in
            switch options.sort {
            case .mailbox:
                return (a.mailboxLength, rates[a.pid] ?? 0, a.pid.rawValue) > (b.mailboxLength, rates[b.pid] ?? 0, b.pid.rawValue)
            case .rate:
                return (rates[a.pid] ?? 0, a.mailboxLength, a.pid.rawValue) > (rates[b.pid] ?? 0, b.mailboxLength, b.pid.rawValue)
            case .memory: return (a.memory, a.pid.rawValue) > (b.memory, b.pid.rawValue)
            }
        }
    }

    /// How many table rows fit on one page (for paging keys).
    var pageSize: Int { max(1, height - 7 - treeBudget) }

    /// Whether the node is a group of loops (a LOOP column, and a load per loop).
    private var grouped: Bool { snapshot.loops.count > 1 }

    /// Each loop's load on one line: utilization (when measured), messages per second and run queue — for a
    /// group, loop by loop (as many as the width holds).
    func loopsLine() -> String {
        guard !snapshot.loops.isEmpty else { return "" }
        let parts = snapshot.loops.map { load in
            let busy = load.measured ? "\(Int((load.utilization * 100).rounded()))% " : ""
            return (grouped ? "\(load.loop): " : "") + busy + "\(format(rate: load.messagesPerSecond))/s rq \(load.runQueueLength)"
        }
        return (grouped ? "loops  " : "loop  ") + parts.joined(separator: "  |  ")
    }

    /// Lines the tree may take: a third of the screen, at least two.
    private var treeBudget: Int { max(2, height / 3) }

    func lines() -> [String] {
        let s = snapshot.statistics
        let rates = rates()
        var lines: [String] = []
        lines.append("otp-top  \(socket)  up \(format(uptime: snapshot.uptime))  metrics \(snapshot.metricsEnabled ? "on" : "off")")
        var delivered = "delivered \(s.delivered)"
        if let previous, snapshot.time > previous.time {
            let perSecond = Double(s.delivered &- previous.statistics.delivered) * 1000 / Double(snapshot.time - previous.time)
            delivered += " (\(Int(perSecond.rounded()))/s)"
        }
        lines.append("processes \(s.live)  run queue \(s.runQueueLength)  timers \(s.pendingTimers)  monitors \(s.monitors)  "
                     + "names \(s.registeredNames)  \(delivered)  dropped \(s.droppedToDeadProcesses)  refused \(s.refusedMailboxFull)")
        lines.append(loopsLine())
        let system = snapshot.processes.filter { $0.kind == .system }.count
        var state = "sorted by \(options.sort.title)"
        if !options.filter.isEmpty { state += "  filter \"\(options.filter)\"" }
        if options.showSystem { state += "  internal shown (\(system))" } else if system > 0 { state += "  \(system) internal hidden" }
        if snapshot.omitted > 0 { state += "  (\(snapshot.omitted) quiet processes not sent)" }
        lines.append(state + "   keys: m r s sort  j k space b scroll  / filter  i internal  t tree  q quit")
        lines.append(notice ?? "")
        lines.append(columns(["PID", "NAME", "KIND", "TYPE", "STATUS", "MAILBOX", "IN/S", "IN", "OUT", "MEMORY", "TIME"]
                             + (grouped ? ["LOOP"] : [])))

        let ordered = tableRows(rates)
        let tree = treeLines(budget: treeBudget)
        let room = max(1, height - lines.count - tree.count - 2)  // 2: the table's footer and a blank line
        let first = min(max(0, options.scroll), max(0, ordered.count - room))
        for row in ordered.dropFirst(first).prefix(room) {
            lines.append(columns([
                row.pid.description, row.name ?? "", row.kind.rawValue, row.typeName, row.status.description,
                "\(row.mailboxLength)", rates[row.pid].map { "\(Int($0.rounded()))" } ?? "-", "\(row.messagesIn)",
                "\(row.messagesOut)", format(bytes: row.memory),
                snapshot.metricsEnabled ? format(nanoseconds: row.handlerTime) : "-",
            ] + (grouped ? ["\(row.loop)"] : [])))
        }
        let shownCount = min(room, max(0, ordered.count - first))
        lines.append(ordered.isEmpty ? "  no process matches" :
            "  rows \(first + 1)-\(first + shownCount) of \(ordered.count)")
        lines.append(contentsOf: tree)
        return lines.prefix(height).map { String($0.prefix(width)) }
    }

    /// The supervision tree in at most `budget` lines: every child when that fits (or when asked), otherwise
    /// one line per supervisor with its child counts; what still does not fit ends in "... n more".
    func treeLines(budget: Int) -> [String] {
        let children = Dictionary(grouping: snapshot.processes.filter { $0.supervisor != nil }, by: { $0.supervisor! })
        let roots = snapshot.processes.filter { $0.kind == .supervisor && $0.supervisor == nil }
        guard !roots.isEmpty else { return ["SUPERVISION TREE (none)"] }
        func render(expanded: Bool) -> [String] {
            var lines: [String] = []
            func walk(_ row: ProcessRow, _ prefix: String, _ branch: String) {
                let kids = children[row.pid] ?? []
                let shown = expanded ? kids : kids.filter { $0.kind == .supervisor }
                var text = prefix + branch + label(row)
                if row.kind == .supervisor && shown.count < kids.count {
                    let workers = kids.filter { $0.kind != .supervisor }.count
                    text += "  [\(kids.count) children: \(workers) workers folded]"
                }
                lines.append(text)
                let indent = prefix + (branch == "└─ " ? "   " : branch.isEmpty ? "" : "│  ")
                for (i, kid) in shown.enumerated() { walk(kid, indent, i == shown.count - 1 ? "└─ " : "├─ ") }
            }
            for root in roots { walk(root, "", "") }
            return lines
        }
        var body = render(expanded: options.treeExpanded ?? true)
        if options.treeExpanded == nil && body.count > budget - 1 { body = render(expanded: false) }
        let title = "SUPERVISION TREE"
        if body.count > budget - 1 {
            let kept = max(0, budget - 2)
            body = Array(body.prefix(kept)) + ["... \(body.count - kept) more lines (t: fold or expand)"]
        }
        return [title] + body
    }

    private func label(_ row: ProcessRow) -> String {
        let name = row.name.map { "\($0) " } ?? ""
        return "\(name)\(row.pid) \(row.kind.rawValue) \(row.typeName) \(row.status)"
            + (row.mailboxLength > 0 ? " mailbox \(row.mailboxLength)" : "")
    }

    private func columns(_ fields: [String]) -> String {
        let widths = [13, 18, 11, 16, 11, 8, 8, 10, 10, 9, 9, 5]
        return zip(fields, widths).map { field, width in
            let text = String(field.prefix(width - 1))
            return text + String(repeating: " ", count: width - text.count)
        }.joined()
    }
}

/// A rate, short: `950`, `12.5k`, `3.2M`.
func format(rate: Double) -> String {
    if rate < 1_000 { return "\(Int(rate.rounded()))" }
    if rate < 1_000_000 { return "\((rate / 100).rounded() / 10)k" }
    return "\((rate / 100_000).rounded() / 10)M"
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

/// A node's age: `42s`, `12m 03s`, `5h 02m`, `3d 04h`.
func format(uptime milliseconds: UInt64) -> String {
    let seconds = milliseconds / 1000
    func two(_ n: UInt64) -> String { n < 10 ? "0\(n)" : "\(n)" }
    if seconds < 60 { return "\(seconds)s" }
    if seconds < 3600 { return "\(seconds / 60)m \(two(seconds % 60))s" }
    if seconds < 86_400 { return "\(seconds / 3600)h \(two(seconds / 60 % 60))m" }
    return "\(seconds / 86_400)d \(two(seconds / 3600 % 24))h"
}
