import Testing
@testable import OTP
import OTPExamples

@Suite("Seed examples")
struct ExamplesTests {
    static let expected: [String: [String]] = [
        "counter": ["Current count: 0", "New count: 5"],
        "logger": [
            "Logged: Application started", "Logged: Processing request",
            "All logs: [\"Application started\", \"Processing request\"]",
        ],
        "key-value store": ["Name: Alice", "All data: [\"age\": 30, \"name\": \"Alice\"]", "After delete: [\"name\": \"Alice\"]"],
        "delayed reply": ["Slow operation result: completed", "Server still answers: pong"],
        "stopping": [
            "terminate(normal) ran", "Stop: reply 'stopping', server alive: false",
            "terminate(Intentional stop) ran", "Stop with error: the caller got the exit reason: Intentional stop",
        ],
        "call timeouts": ["Request timed out", "The server keeps running: pong"],
        "request-response server": ["set color=blue -> ok", "get color -> blue", "get size -> nil"],
        "event processor": [
            "Processed batch 1 of 100 events (click 50, view 50; sum 4950)",
            "Processed batch 2 of 100 events (click 50, view 50; sum 14950)",
            "Events waiting for the next batch: 50",
        ],
        "debugging": [
            "is alive: true", "in the process list: true", "whereis(\"debug_counter\") finds it: true",
            "status: waiting, mailbox: 0, name: debug_counter", "after stop: alive false, whereis nil",
        ],
        "sessions by key": [
            "alice's session found again: true, cart: 2 books", "sessions: [\"alice\", \"bob\"]",
            "by key: 2 books", "after idling: 0 sessions, alice's cart: empty",
        ],
        "code lock": [
            "after 1 2 3: open", "a button while open is postponed: open",
            "after the open time: locked, pressed since: [9]", "door: locked, open, locked, wrong code",
        ],
        "connection": [
            "while connecting: 0 replies", "once connected: sent hello, sent world",
            "states: disconnected -> connecting -> connected",
        ],
    ]

    @Test("each example prints exactly what the seed documents show, on the deterministic driver",
          arguments: Examples.all.map(\.name))
    func deterministic(name: String) throws {
        let node = makeNode()
        var lines: [String] = []
        try Examples.all.first { $0.name == name }!.run(node) { lines.append($0) }
        #expect(lines == Self.expected[name])
        #expect(node.statistics.live == 0)
        #expect(node.statistics.monitors == 0)
        #expect(node.statistics.pendingTimers == 0)
    }

    @Test("all examples in a row on the real libuv loop, as the demo runs them")
    func realLoop() throws {
        let node = Node(configuration: NodeConfiguration(report: Reports().handler))
        for example in Examples.all {
            var lines: [String] = []
            try example.run(node) { lines.append($0) }
            #expect(lines == Self.expected[example.name], "\(example.name)")
        }
        #expect(node.statistics.live == 0)
        #expect(node.close() == 0)
    }
}
