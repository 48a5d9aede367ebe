import OTP

/// The event processor: casts accumulate events; every 100 events are processed as one batch.
public struct EventProcessor: GenServer {
    public enum Cast: Sendable { case event(type: String, data: Int) }
    public enum Call: Sendable { case pending }
    public typealias Reply = Int
    public typealias Argument = @Sendable (String) -> Void

    public static let batchSize = 100
    var events: [(type: String, data: Int)] = []
    var batches = 0
    let output: @Sendable (String) -> Void

    public static func initialize(_ output: @escaping @Sendable (String) -> Void, _ server: ServerContext<Self>)
        throws -> Initialization<Self>
    {
        .ok(EventProcessor(output: output))
    }

    public mutating func handleCast(_ message: Cast, _ server: ServerContext<Self>) throws -> ServerResult<Self> {
        guard case .event(let type, let data) = message else { return .noReply }
        events.append((type, data))
        if events.count == Self.batchSize { processBatch() }
        return .noReply
    }

    public mutating func handleCall(_ request: Call, from caller: Caller<Int>, _ server: ServerContext<Self>)
        throws -> ServerResult<Self>
    {
        .reply(events.count)
    }

    private mutating func processBatch() {
        batches += 1
        let byType = Dictionary(grouping: events, by: \.type).mapValues(\.count)
        let summary = byType.keys.sorted().map { "\($0) \(byType[$0]!)" }.joined(separator: ", ")
        let total = events.reduce(0) { $0 + $1.data }
        output("Processed batch \(batches) of \(events.count) events (\(summary); sum \(total))")
        events = []
    }
}

enum EventProcessorExample {
    static func run(_ node: Node, _ print: (String) -> Void) throws {
        let lines = Lines()
        let processor = try node.start(EventProcessor.self, { lines.append($0) })
        for i in 0..<250 {
            node.cast(processor, .event(type: i % 2 == 0 ? "click" : "view", data: i))
        }
        let pending = try node.call(processor, .pending)
        lines.drain(into: print)
        print("Events waiting for the next batch: \(pending)")
        try node.stop(processor)
    }
}
