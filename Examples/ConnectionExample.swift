import OTP

/// A client connection as a state machine: requests made while it is disconnected or still connecting are
/// postponed, and answered in order once it is connected; a connection attempt that takes too long is
/// abandoned by a state timeout and retried after a named backoff timeout.
public struct Connection: StateMachine {
    public enum State: Sendable, Equatable { case disconnected, connecting, connected }
    public enum Call: Sendable { case request(String) }
    public typealias Reply = String
    public enum Info: Sendable { case linkUp, linkDown }
    public enum TimeoutEvent: Sendable { case giveUp, retry }
    public static var enterCalls: Bool { true }

    public var attempts = 0
    public var log: [String] = []

    public static func initialize(_ argument: Void, _ machine: MachineContext<Connection>) throws
        -> MachineStart<Connection>
    {
        .ok(Connection(), .disconnected, [.timeout("retry", .zero, .retry)])  // connect at once
    }

    public mutating func handleEvent(_ event: StateMachineEvent<Connection>, in state: State,
                                     _ machine: MachineContext<Connection>) throws -> Transition<Connection>
    {
        switch (state, event) {
        case (_, .enter):
            log.append("\(state)")
            return state == .connecting ? .keep(.stateTimeout(.milliseconds(500), .giveUp)) : .keep
        case (.disconnected, .timeout(name: "retry", .retry)):
            attempts += 1
            return .next(.connecting)
        case (.connecting, .info(.message(.linkUp))):
            return .next(.connected)
        case (.connecting, .stateTimeout(.giveUp)):
            return .next(.disconnected, .timeout("retry", .seconds(1), .retry))
        case (.connected, .info(.message(.linkDown))):
            return .next(.disconnected, .timeout("retry", .milliseconds(100), .retry))
        case (.connected, .call(.request(let text), let caller)):
            return .keep(.reply(caller, "sent \(text)"))
        case (_, .call(.request, _)):
            return .keep(.postpone)  // not connected: answered once connected
        default:
            return .keep
        }
    }
}

enum ConnectionExample {
    static func run(_ node: Node, _ print: (String) -> Void) throws {
        let connection = try node.startMachine(Connection.self, ())
        let replies = Replies()
        // Two processes send requests while the link is not up yet: both wait.
        for text in ["hello", "world"] {
            try node.spawn(of: Never.self) { process in
                try process.call(connection, .request(text)) { result, _ in
                    replies.append((try? result.get()) ?? "failed")
                    return .exit(.normal)
                }
            }
        }
        node.runUntilIdleOrBriefly()
        print("while connecting: \(replies.lines.count) replies")
        try node.send(.message(.linkUp), to: connection)
        node.runUntilIdleOrBriefly()
        print("once connected: \(replies.lines.joined(separator: ", "))")
        print("states: \(try node.getState(connection).data.log.joined(separator: " -> "))")
        try node.stop(connection)
    }
}

/// Lines appended by the example's processes (on the loop thread).
final class Replies: @unchecked Sendable {
    var lines: [String] = []
    func append(_ line: String) { lines.append(line) }
}

extension Node {
    /// Lets the processes of the example run: to idle on the manual clock, a few milliseconds on a real loop.
    func runUntilIdleOrBriefly() {
        if configuration.clock == .manual { runUntilIdle() } else { run(for: .milliseconds(20)) }
    }
}
