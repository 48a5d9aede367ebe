#if canImport(Glibc)
import Glibc
#endif
import Logging
import OTP

/// `otp-demo --view`: a small shop that keeps running, served on a view socket for `otp-top`.
///
/// A supervision tree (`shop` → `orders`, `stock`, and `couriers` → two couriers), a `ticker` that sends
/// orders every 100 ms, and a `backlog` that takes only the orders it is told to flush, so its mailbox
/// grows: something to sort by.
enum LiveView {
    /// An order desk: counts orders, passes each to stock.
    struct Orders: GenServer, Sendable {
        enum Cast: Sendable { case order(Int) }
        enum Call: Sendable { case count }
        typealias Reply = Int
        var count = 0

        mutating func handleCast(_ message: Cast, _ server: ServerContext<Orders>) throws -> ServerResult<Orders> {
            if case .order(let item) = message {
                count += 1
                server.node.cast(ServerRef<Stock>.named("stock"), .take(item))
            }
            return .noReply
        }

        mutating func handleCall(_ request: Call, from caller: Caller<Int>, _ server: ServerContext<Orders>) throws
            -> ServerResult<Orders> { .reply(count) }
    }

    /// Stock levels by item.
    struct Stock: GenServer, Sendable {
        enum Cast: Sendable { case take(Int) }
        var levels: [Int: Int] = [:]

        mutating func handleCast(_ message: Cast, _ server: ServerContext<Stock>) throws -> ServerResult<Stock> {
            if case .take(let item) = message { levels[item, default: 100] -= 1 }
            return .noReply
        }
    }

    /// A courier that waits for parcels.
    struct Courier: GenServer, Sendable {
        enum Cast: Sendable { case parcel }
        var delivered = 0

        mutating func handleCast(_ message: Cast, _ server: ServerContext<Courier>) throws -> ServerResult<Courier> {
            delivered += 1
            return .noReply
        }
    }

    /// A customer's session: idle until told otherwise (`--view-sessions N` starts N of them).
    struct Session: GenServer, Sendable {
        enum Cast: Sendable { case touch }
        var touched = 0

        mutating func handleCast(_ message: Cast, _ server: ServerContext<Session>) throws -> ServerResult<Session> {
            touched += 1
            return .noReply
        }
    }

    enum Backlog: Sendable { case order(Int), flush }
    enum Tick: Sendable { case tick }

    /// Builds the shop on `node` (with `sessions` idle sessions under a dynamic supervisor: the view at
    /// scale), serves the view (at `socket`, or the default place) and runs until `seconds` have passed
    /// (forever without), SIGINT or SIGTERM.
    static func run(socket: String?, seconds: Int64?, sessions: Int = 0) throws {
        let node = Node(configuration: NodeConfiguration(logger: Logger(label: "otp-demo") { label in
            StreamLogHandler.standardOutput(label: label)
        }, metrics: MetricsOptions(perProcess: .named)))
        let couriers = SupervisorSpec(strategy: .oneForOne, children: [
            .server("courier-1", Courier(), name: "courier-1"),
            .server("courier-2", Courier(), name: "courier-2"),
        ])
        try node.start(Supervisor.self, SupervisorSpec(strategy: .oneForOne, children: [
            .server("orders", Orders(), name: "orders"),
            .server("stock", Stock(), name: "stock"),
            .supervisor("couriers", couriers, name: "couriers"),
        ]), options: StartOptions(name: "shop"))
        if sessions > 0 {
            let supervisor = try node.start(DynamicSupervisor.self, DynamicSupervisorSpec(),
                                            options: StartOptions(name: "sessions"))
            for i in 0..<sessions {
                try node.startChild(supervisor, .server("session-\(i)", Session(), restart: .temporary))
            }
        }
        try node.spawn(of: Backlog.self, options: SpawnOptions(mailboxCapacity: 100_000, name: "backlog")) { _ in
            // Takes only `.flush`: the orders pile up in its mailbox.
            .receive(matching: { envelope in
                if case .message(.flush) = envelope { return true }
                return false
            }) { _, _ in .same }
        }
        var sent = 0
        try node.spawn(of: Tick.self, options: SpawnOptions(name: "ticker")) { process in
            _ = try process.sendAfter(.milliseconds(100), .tick)
            return .receive { _, process in
                for _ in 0..<25 {
                    sent += 1
                    process.cast(ServerRef<Orders>.named("orders"), .order(sent % 7))
                    try? process.send(Backlog.order(sent), to: "backlog")
                }
                process.cast(ServerRef<Courier>.named("courier-\(sent % 2 + 1)"), .parcel)
                _ = try process.sendAfter(.milliseconds(100), .tick)
                return .same
            }
        }
        if let seconds {
            try node.spawn(of: Never.self) { _ in
                .receive(timeout: .seconds(seconds), after: { _ in
                    node.stopLoop()
                    return .exit(.normal)
                }) { _, _ in .same }
            }
        }
        let path = try node.startView(at: socket)
        try node.stopLoop(on: [SIGTERM, SIGINT])  // Ctrl-C or kill: close the node, which removes the socket
        print("  view: otp-top \(path)   (the shop runs\(seconds.map { " for \($0) s" } ?? " until stopped: Ctrl-C"))")
        node.run()
        print("  view closed: \(node.close())")
    }
}
