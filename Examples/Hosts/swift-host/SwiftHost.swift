// A Swift host app: the node runs on its own thread; async code calls into it.
import OTP

struct Greeter: GenServer, Sendable {
    enum Call: Sendable { case greet(String) }
    typealias Reply = String
    var greeted = 0

    mutating func handleCall(_ request: Call, from caller: Caller<String>, _ server: ServerContext<Greeter>) throws
        -> ServerResult<Greeter>
    {
        guard case .greet(let name) = request else { return .noReply }
        greeted += 1
        return .reply("Hello, \(name)! (#\(greeted))")
    }
}

@main
struct SwiftHost {
    static func main() async throws {
        let node = Node()
        node.startLoop()                                    // the loop runs on a dedicated thread
        let greeter = try await node.start(Greeter(), options: StartOptions(name: "greeter"))
        print("swift-host: \(try await node.call(greeter, .greet("Erlang")))")
        print("swift-host: \(try await node.call(ServerRef<Greeter>.named("greeter"), .greet("Swift")))")
        node.stopLoop()
        node.join()
        print("swift-host: node stopped")
    }
}
