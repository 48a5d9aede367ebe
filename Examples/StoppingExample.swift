import OTP

/// Stopping a server from a handler: gracefully (with a reply sent after `terminate`), or with an error.
public struct StoppableServer: GenServer {
    public enum Call: Sendable {
        case stop
        case stopWithError
    }
    public typealias Reply = String
    public typealias Argument = @Sendable (String) -> Void

    let output: @Sendable (String) -> Void

    public static func initialize(_ output: @escaping @Sendable (String) -> Void, _ server: ServerContext<Self>)
        throws -> Initialization<Self>
    {
        .ok(StoppableServer(output: output))
    }

    public mutating func handleCall(_ request: Call, from caller: Caller<String>, _ server: ServerContext<Self>)
        throws -> ServerResult<Self>
    {
        switch request {
        case .stop: return .stop(.normal, reply: "stopping")
        case .stopWithError: return .stop(.custom("Intentional stop"))
        }
    }

    public mutating func terminate(_ reason: ExitReason, _ server: ServerContext<Self>) throws {
        output("terminate(\(reason)) ran")
    }
}

enum StoppingExample {
    static func run(_ node: Node, _ print: (String) -> Void) throws {
        let lines = Lines()
        let first = try node.start(StoppableServer.self, { lines.append($0) })
        let reply = try node.call(first, .stop)
        lines.drain(into: print)
        print("Stop: reply '\(reply)', server alive: \(node.isAlive(first.pid!))")

        let second = try node.start(StoppableServer.self, { lines.append($0) })
        do {
            _ = try node.call(second, .stopWithError)
        } catch {
            lines.drain(into: print)
            if case .serverExited(_, let reason) = error {
                print("Stop with error: the caller got the exit reason: \(reason)")
            }
        }
    }
}
