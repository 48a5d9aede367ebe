import OTP

/// The tutorial's counter: `get` and `add(n)` calls on a server registered as "counter".
public struct CounterServer: GenServer {
    public enum Call: Sendable {
        case get
        case add(Int)
    }
    public typealias Reply = Int

    public var count: Int

    public init(count: Int) { self.count = count }

    public mutating func handleCall(_ request: Call, from caller: Caller<Int>, _ server: ServerContext<Self>)
        throws -> ServerResult<Self>
    {
        switch request {
        case .get:
            return .reply(count)
        case .add(let n):
            count += n
            return .reply(count)
        }
    }
}

enum CounterExample {
    static func run(_ node: Node, _ print: (String) -> Void) throws {
        try node.start(CounterServer(count: 0), options: StartOptions(name: "counter"))
        let counter = ServerRef<CounterServer>.named("counter")
        let value = try node.call(counter, .get)
        print("Current count: \(value)")
        let newValue = try node.call(counter, .add(5))
        print("New count: \(newValue)")
        try node.stop(counter)
    }
}
