import Foundation
import Testing
@testable import OTP

/// What processes saw, appended on the loop thread and read by the test after the node is idle.
class Log<Entry>: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Entry] = []

    func append(_ entry: Entry) { lock.withLock { storage.append(entry) } }
    var entries: [Entry] { lock.withLock { storage } }
    var count: Int { lock.withLock { storage.count } }
}

/// Collects node reports (crashes, refusals) instead of printing them.
final class Reports: @unchecked Sendable {
    let log = Log<NodeReport>()
    var handler: @Sendable (NodeReport) -> Void { { [log] in log.append($0) } }
    var crashes: [ExitReason] {
        log.entries.compactMap { if case .crash(_, _, let reason) = $0 { return reason } else { return nil } }
    }
}

/// A deterministic node whose reports go to `reports`.
func makeNode(reports: Reports = Reports(), capacity: Int = 100_000) -> Node {
    Node.deterministic(defaultMailboxCapacity: capacity, report: reports.handler, logger: quietLogger)
}

/// Spawns a process that records every envelope it receives, forever.
@discardableResult
func spawnCollector<M>(
    _ node: Node, into log: Log<Envelope<M>>, options: SpawnOptions = .init()
) throws -> Address<M> {
    try node.spawn(of: M.self, options: options) { _ in
        .receive { envelope, _ in
            log.append(envelope)
            return .same
        }
    }
}

/// A process that does nothing until it is told to exit with a reason (a message `.exit(reason)`).
enum Command: Sendable, Equatable {
    case exit(ExitReason)
    case value(Int)
}

@discardableResult
func spawnIdler(_ node: Node, options: SpawnOptions = .init()) throws -> Address<Command> {
    try node.spawn(of: Command.self, options: options) { _ in
        .receive { envelope, _ in
            if case .message(.exit(let reason)) = envelope { return .exit(reason) }
            return .same
        }
    }
}

struct TestFailure: Error, Equatable, CustomStringConvertible {
    let text: String
    var description: String { text }
}
