import OTP

/// The request-response pattern: `get` answers the value, `set` answers "ok".
public struct RequestResponseServer: GenServer {
    public enum Call: Sendable {
        case get(String)
        case set(String, String)
    }
    public typealias Reply = String?

    public var values: [String: String] = [:]

    public init() {}

    public mutating func handleCall(_ request: Call, from caller: Caller<String?>, _ server: ServerContext<Self>)
        throws -> ServerResult<Self>
    {
        switch request {
        case .get(let key):
            return .reply(values[key])
        case .set(let key, let value):
            values[key] = value
            return .reply("ok")
        }
    }
}

enum RequestResponseExample {
    static func run(_ node: Node, _ print: (String) -> Void) throws {
        let server = try node.start(RequestResponseServer())
        print("set color=blue -> \(try node.call(server, .set("color", "blue")) ?? "nil")")
        print("get color -> \(try node.call(server, .get("color")) ?? "nil")")
        print("get size -> \(try node.call(server, .get("size")) ?? "nil")")
        try node.stop(server)
    }
}
