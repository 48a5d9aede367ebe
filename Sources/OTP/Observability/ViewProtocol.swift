#if canImport(Glibc)
import Glibc
#endif

/// The wire format between a node's view socket (`Node.startView`) and `otp-top`: plain text, one record
/// per line, fields separated by tabs, so that it can be read with `nc -U` and a shell too.
///
/// Request: `snapshot <limit>\n` (the limit is optional). Answer:
/// ```
/// otp-view 3
/// node <time> <uptime> <metrics 0|1> <omitted> <spawned> <exited> <live> <delivered> <dropped> <refused> <ignored> <timers> <monitors> <names> <run queue>
/// l <loop> <processes> <run queue> <delivered> <messages/s> <measured 0|1> <busy ns> <utilization>
/// p <pid> <supervisor pid|-> <kind> <status> <mailbox> <in> <out> <memory> <handler ns> <loop> <name|-> <type>
/// end
/// ```
/// One `l` line per loop (`LoopLoad`; `<messages/s>` and `<utilization>` are decimal numbers), then one
/// `p` line per process. `<kind>` is `process`, `server`, `supervisor` or `system`. Times are milliseconds:
/// `<time>` the node's clock, `<uptime>` its age. Pids are `<node>.<PID.rawValue>`; names and types have tabs and newlines replaced by spaces. Anything else
/// answers `error <text>`.
public enum ViewProtocol {
    /// The first line of every answer.
    public static let header = "otp-view 3"
    /// The longest request line a node accepts; a longer one closes the connection.
    public static let maximumRequest = 256
    /// Answers a client may leave unread (bytes queued to its socket) before the node closes it: a client
    /// that pipelines requests and never reads costs at most this much memory.
    public static let maximumUnreadOutput = 8 << 20
    /// Clients connected at once; one more is closed at once.
    public static let maximumClients = 64
    /// A client that sends no request for this long is closed (otp-top asks every second).
    public static let defaultIdleTimeout: Duration = .seconds(60)

    /// Where a node's view socket goes when `Node.startView()` is given no path, and where `otp-top` looks:
    /// `$XDG_RUNTIME_DIR/swift-otp`, else `/tmp/swift-otp-<uid>`.
    public static var defaultDirectory: String {
        if let runtime = getenv("XDG_RUNTIME_DIR"), runtime.pointee != 0 {
            return String(cString: runtime) + "/swift-otp"
        }
        return "/tmp/swift-otp-\(geteuid())"
    }

    /// A request for a snapshot of at most `limit` processes.
    public static func request(limit: Int) -> String { "snapshot \(limit)\n" }
}

/// A malformed answer from a view socket.
public struct ViewProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    public let line: String
    public let problem: String
    public var description: String { "bad view answer (\(problem)): \(line.prefix(80))" }
}

extension NodeSnapshot {
    /// The snapshot as `ViewProtocol` text, ending with `end\n`.
    public func encoded() -> String {
        var text = ViewProtocol.header + "\n"
        let s = statistics
        let node: [String] = ["node", "\(time)", "\(uptime)", metricsEnabled ? "1" : "0", "\(omitted)", "\(s.spawned)", "\(s.exited)",
                              "\(s.live)", "\(s.delivered)", "\(s.droppedToDeadProcesses)", "\(s.refusedMailboxFull)",
                              "\(s.ignoredReplies)", "\(s.pendingTimers)", "\(s.monitors)", "\(s.registeredNames)",
                              "\(s.runQueueLength)"]
        text += node.joined(separator: "\t") + "\n"
        for load in loops {
            let fields: [String] = [
                "l", "\(load.loop)", "\(load.processes)", "\(load.runQueueLength)", "\(load.delivered)",
                "\(load.messagesPerSecond)", load.measured ? "1" : "0", "\(load.busyNanoseconds)", "\(load.utilization)",
            ]
            text += fields.joined(separator: "\t") + "\n"
        }
        for row in processes {
            let fields: [String] = [
                "p", Self.field(row.pid), row.supervisor.map(Self.field) ?? "-", row.kind.rawValue,
                row.status.description, "\(row.mailboxLength)", "\(row.messagesIn)", "\(row.messagesOut)",
                "\(row.memory)", "\(row.handlerTime)", "\(row.loop)", row.name.map(Self.clean) ?? "-", Self.clean(row.typeName),
            ]
            text += fields.joined(separator: "\t") + "\n"
        }
        return text + "end\n"
    }

    private static func field(_ pid: PID) -> String { "\(pid.node).\(pid.rawValue)" }

    private static func clean(_ text: String) -> String {
        String(text.map { $0 == "\t" || $0 == "\n" || $0 == "\r" ? " " : $0 })
    }

    /// Reads `ViewProtocol` text (as `encoded()` writes it).
    /// - Throws: `ViewProtocolError` naming the first line that does not fit.
    public init(decoding text: String) throws(ViewProtocolError) {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)[...]
        guard lines.popFirst().map(String.init) == ViewProtocol.header else {
            throw ViewProtocolError(line: String(text.prefix(80)), problem: "no header")
        }
        guard let nodeLine = lines.popFirst() else { throw ViewProtocolError(line: "", problem: "no node line") }
        let node = nodeLine.split(separator: "\t", omittingEmptySubsequences: false)
        guard node.count == 16, node[0] == "node" else {
            throw ViewProtocolError(line: String(nodeLine), problem: "node line")
        }
        func number<T: FixedWidthInteger>(_ field: Substring, _ line: Substring) throws(ViewProtocolError) -> T {
            guard let value = T(field) else { throw ViewProtocolError(line: String(line), problem: "not a number: \(field)") }
            return value
        }
        func pid(_ field: Substring, _ line: Substring) throws(ViewProtocolError) -> PID {
            let parts = field.split(separator: ".", maxSplits: 1)
            guard parts.count == 2 else { throw ViewProtocolError(line: String(line), problem: "not a pid: \(field)") }
            return PID(node: try number(parts[0], line), rawValue: try number(parts[1], line))
        }
        var statistics = NodeStatistics()
        statistics.spawned = try number(node[5], nodeLine)
        statistics.exited = try number(node[6], nodeLine)
        statistics.live = try number(node[7], nodeLine)
        statistics.delivered = try number(node[8], nodeLine)
        statistics.droppedToDeadProcesses = try number(node[9], nodeLine)
        statistics.refusedMailboxFull = try number(node[10], nodeLine)
        statistics.ignoredReplies = try number(node[11], nodeLine)
        statistics.pendingTimers = try number(node[12], nodeLine)
        statistics.monitors = try number(node[13], nodeLine)
        statistics.registeredNames = try number(node[14], nodeLine)
        statistics.runQueueLength = try number(node[15], nodeLine)
        var rows: [ProcessRow] = []
        var loops: [LoopLoad] = []
        var ended = false
        while let line = lines.popFirst() {
            if line == "end" {
                ended = true
                break
            }
            let f = line.split(separator: "\t", omittingEmptySubsequences: false)
            if f.first == "l" {
                guard f.count == 9, rows.isEmpty else { throw ViewProtocolError(line: String(line), problem: "loop line") }
                guard let messages = Double(f[5]), let utilization = Double(f[8]), messages.isFinite, utilization.isFinite
                else { throw ViewProtocolError(line: String(line), problem: "not a rate") }
                loops.append(LoopLoad(loop: try number(f[1], line), processes: try number(f[2], line),
                                      runQueueLength: try number(f[3], line), delivered: try number(f[4], line),
                                      messagesPerSecond: messages, measured: f[6] == "1",
                                      busyNanoseconds: try number(f[7], line), utilization: utilization))
                continue
            }
            guard f.count == 13, f[0] == "p" else { throw ViewProtocolError(line: String(line), problem: "process line") }
            guard let kind = ProcessKind(rawValue: String(f[3])), let status = ProcessStatus(named: String(f[4])) else {
                throw ViewProtocolError(line: String(line), problem: "kind or status")
            }
            rows.append(ProcessRow(
                pid: try pid(f[1], line),
                name: f[11] == "-" ? nil : String(f[11]), kind: kind, typeName: String(f[12]), status: status,
                mailboxLength: try number(f[5], line), messagesIn: try number(f[6], line),
                messagesOut: try number(f[7], line), memory: try number(f[8], line),
                handlerTime: try number(f[9], line),
                supervisor: f[2] == "-" ? nil : try pid(f[2], line), loop: try number(f[10], line)))
        }
        guard ended else { throw ViewProtocolError(line: String(text.suffix(80)), problem: "no end line") }
        self.init(time: try number(node[1], nodeLine), uptime: try number(node[2], nodeLine), statistics: statistics, metricsEnabled: node[3] == "1",
                  processes: rows, omitted: try number(node[4], nodeLine), loops: loops)
    }
}

extension ProcessStatus {
    /// The status `description` names.
    init?(named name: String) {
        guard let status = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = status
    }
}
