import Foundation
import Testing
@testable import OTP

/// Deaths Swift cannot isolate are named; handlers that hold the loop are reported.
@Suite("Diagnostics: slow turns and fatal signals name the process")
struct DiagnosticsTests {
    @Test("A handler that holds the loop past the threshold is reported once, with its pid, name and type")
    func slowTurn() throws {
        let reports = Reports()
        let node = Node(configuration: NodeConfiguration(clock: .manual, report: reports.handler, logger: quietLogger,
                                                         slowTurnThreshold: .milliseconds(50)))
        let slow = try node.spawn(of: Int.self) { _ in
            .receive { _, _ in
                usleep(200_000)  // holds the loop for 200 ms
                return .same
            }
        }
        try node.register("sleepy", slow.pid)
        let quick = try spawnCollector(node, into: Log<Envelope<Int>>())
        for i in 0..<3 {
            try node.send(i, to: slow)
            try node.send(i, to: quick)
            node.runUntilIdle()
        }
        let warnings = reports.log.entries.compactMap { report -> (PID, String?, String)? in
            if case .warning(let pid, let name, let text) = report, text.hasPrefix("slow turn") { return (pid, name, text) }
            return nil
        }
        #expect(warnings.count == 1)
        #expect(warnings.first?.0 == slow.pid)
        #expect(warnings.first?.1 == "sleepy")
        #expect(warnings.first?.2.contains("a handler of Int held the loop for at least") == true)
        #expect(warnings.first?.2.contains("(threshold 0.05 seconds)") == true)
    }

    @Test("Without a threshold nothing is reported")
    func slowTurnOff() throws {
        let reports = Reports()
        let node = Node(configuration: NodeConfiguration(clock: .manual, report: reports.handler, logger: quietLogger,
                                                         slowTurnThreshold: nil))
        let slow = try node.spawn(of: Int.self) { _ in .receive { _, _ in usleep(100_000); return .same } }
        try node.send(1, to: slow)
        node.runUntilIdle()
        #expect(reports.log.entries.isEmpty)
    }

    @Test("A Swift trap in a handler: one line names the node, the pid, the name and the type before the process dies")
    func trapIsNamed() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let node = Node.deterministic()
            let crasher = try node.spawn(of: Int.self) { _ in
                .receive { message, _ in
                    if case .message(let n) = message, n == 0 { fatalError("division by zero asked for") }
                    return .same
                }
            }
            try node.register("crasher", crasher.pid)
            try node.send(0, to: crasher)
            node.runUntilIdle()
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("swift-otp: fatal signal SIGILL"))
        #expect(stderr.contains(", in the turn of process <0.0.0> (name: crasher, type: Int)"))
    }

    @Test("A stack overflow in a handler is named too (the report runs on an alternate stack)")
    func stackOverflowIsNamed() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            @inline(never) func deep(_ n: Int) -> Int { n == 0 ? 0 : 1 &+ deep(n &- 1) &* 3 }
            let node = Node.deterministic()
            let recursive = try node.spawn(of: Int.self) { _ in
                .receive { message, _ in
                    if case .message(let n) = message { print(deep(n)) }
                    return .same
                }
            }
            try node.register("recursive", recursive.pid)
            try node.send(100_000_000, to: recursive)
            node.runUntilIdle()
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("swift-otp: fatal signal SIGSEGV"))
        #expect(stderr.contains("(name: recursive, type: Int)"))
    }
}
