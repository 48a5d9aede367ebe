import OTP

/// Call timeouts: the caller gets `CallError.timeout`; the server keeps running.
public struct NeverReplies: GenServer {
    public enum Call: Sendable {
        case slowRequest
        case ping
    }
    public typealias Reply = String

    public init() {}

    public mutating func handleCall(_ request: Call, from caller: Caller<String>, _ server: ServerContext<Self>)
        throws -> ServerResult<Self>
    {
        switch request {
        case .slowRequest: return .noReply
        case .ping: return .reply("pong")
        }
    }
}

enum CallTimeoutExample {
    static func run(_ node: Node, _ print: (String) -> Void) throws {
        let server = try node.start(NeverReplies(), options: StartOptions(name: "my_server"))
        do {
            let result = try node.call(server, .slowRequest, timeout: .milliseconds(50))
            print("Unexpected reply: \(result)")
        } catch .timeout {
            print("Request timed out")
        }
        print("The server keeps running: \(try node.call(server, .ping))")
        try node.stop(server)
    }
}
