import OTP

/// Delayed reply: the server hands slow work to a worker process and returns `.noReply`; the worker
/// answers the caller directly when it is done, while the server keeps serving others.
public struct SlowServer: GenServer {
    public enum Call: Sendable {
        case slowOperation(milliseconds: Int64)
        case ping
    }
    public typealias Reply = String

    public init() {}

    public mutating func handleCall(_ request: Call, from caller: Caller<String>, _ server: ServerContext<Self>)
        throws -> ServerResult<Self>
    {
        switch request {
        case .slowOperation(let milliseconds):
            try server.node.spawn(of: Never.self) { worker in
                .receive(timeout: .milliseconds(milliseconds), after: { worker in
                    worker.currentNode.reply(to: caller, "completed")
                    return .exit(.normal)
                }) { _, _ in .same }
            }
            return .noReply
        case .ping:
            return .reply("pong")
        }
    }
}

enum DelayedReplyExample {
    static func run(_ node: Node, _ print: (String) -> Void) throws {
        let server = try node.start(SlowServer())
        let result = try node.call(server, .slowOperation(milliseconds: 100), timeout: .seconds(1))
        print("Slow operation result: \(result)")
        print("Server still answers: \(try node.call(server, .ping))")
        try node.stop(server)
    }
}
