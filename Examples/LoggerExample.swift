import OTP

/// The tutorial's logger: `log` casts are stored and printed; a `getLogs` call returns them all.
public struct LoggerServer: GenServer {
    public enum Cast: Sendable {
        case log(String)
        case clear
    }
    public enum Call: Sendable { case getLogs }
    public typealias Reply = [String]
    public typealias Argument = @Sendable (String) -> Void

    public var logs: [String] = []
    let output: @Sendable (String) -> Void

    public static func initialize(_ output: @escaping @Sendable (String) -> Void, _ server: ServerContext<Self>)
        throws -> Initialization<Self>
    {
        .ok(LoggerServer(output: output))
    }

    public mutating func handleCast(_ message: Cast, _ server: ServerContext<Self>) throws -> ServerResult<Self> {
        switch message {
        case .log(let text):
            logs.append(text)
            output("Logged: \(text)")
        case .clear:
            logs = []
        }
        return .noReply
    }

    public mutating func handleCall(_ request: Call, from caller: Caller<[String]>, _ server: ServerContext<Self>)
        throws -> ServerResult<Self>
    {
        .reply(logs)
    }
}

enum LoggerExample {
    static func run(_ node: Node, _ print: (String) -> Void) throws {
        let lines = Lines()
        let logger = try node.start(LoggerServer.self, { lines.append($0) }, options: StartOptions(name: "logger"))
        node.cast(logger, .log("Application started"))
        node.cast(logger, .log("Processing request"))
        let logs = try node.call(logger, .getLogs)
        lines.drain(into: print)
        print("All logs: \(logs)")
        try node.stop(logger)
    }
}

/// Lines written by a server callback, collected until the example prints them (loop thread only).
final class Lines: @unchecked Sendable {
    private var lines: [String] = []
    func append(_ line: String) { lines.append(line) }
    func drain(into print: (String) -> Void) {
        lines.forEach(print)
        lines = []
    }
}
