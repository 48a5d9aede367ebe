import Foundation
import Testing
@testable import OTP

/// Random traffic across the loops of a group on the deterministic driver, many seeds: processes on every
/// loop send each other numbered messages, link, monitor, call servers of any loop with short timeouts, and
/// are killed from any loop and replaced. Checked: what one process sends another arrives in order, never
/// twice; every call's continuation runs at most once, and exactly once when its caller lives; links are
/// symmetric across loops once the group is idle; and closing the group leaves no process, monitor, name
/// or cross-loop watcher behind.
@Suite("Node groups: random traffic across loops")
struct NodeGroupChaosTests {
    enum Chaos: Sendable {
        case ping(from: PID, seq: Int)
        case pings(to: Address<Chaos>, count: Int)
        case link(PID)
        case monitor(PID)
        case call(ServerRef<Counter>, timeout: Int64, id: Int)
    }

    /// What the processes saw, appended on the (single) driver thread.
    final class Ledger: @unchecked Sendable {
        var lastSeq: [PID: [PID: Int]] = [:]
        var violations: [String] = []
        var callsStarted: [Int: PID] = [:]
        var callsEnded: [Int: Int] = [:]
        var received = 0
    }

    static func spawnMember(_ node: Node, _ ledger: Ledger, trap: Bool, name: String?) throws -> Address<Chaos> {
        var nextSeq: [PID: Int] = [:]
        return try node.spawn(of: Chaos.self, options: SpawnOptions(mailboxCapacity: 64, trapExits: trap, name: name)) { _ in
            func loop() -> Step<Chaos> {
                .receive { envelope, process in
                    guard case .message(let message) = envelope else { return .same }  // EXIT, DOWN
                    switch message {
                    case .ping(let from, let seq):
                        ledger.received += 1
                        let last = ledger.lastSeq[process.pid]?[from] ?? -1
                        if seq <= last {
                            ledger.violations.append("\(process.pid) got \(seq) from \(from) after \(last)")
                        }
                        ledger.lastSeq[process.pid, default: [:]][from] = seq
                    case .pings(let target, let count):
                        for _ in 0..<count {
                            let seq = nextSeq[target.pid, default: 0]
                            nextSeq[target.pid] = seq + 1
                            try? process.send(.ping(from: process.pid, seq: seq), to: target)  // full: a gap, never a reorder
                        }
                    case .link(let other): process.link(other)
                    case .monitor(let other): _ = process.monitor(other)
                    case .call(let server, let timeout, let id):
                        ledger.callsStarted[id] = process.pid
                        return try process.call(server, .add(1), timeout: .milliseconds(timeout)) { _, _ in
                            ledger.callsEnded[id, default: 0] += 1
                            return loop()
                        }
                    }
                    return .same
                }
            }
            return loop()
        }
    }

    @Test("per-pair order, calls end once, links symmetric, nothing left after close", arguments: Array(UInt64(1)...24))
    func invariants(seed: UInt64) throws {
        let group = makeGroup(loops: 3, seed: seed)
        let ledger = Ledger()
        var random = SplitMix64(seed: seed)
        let servers = try group.loops.map { try $0.start(Counter.self, 0) }
        var members: [Address<Chaos>] = []
        func spawnAnywhere() throws {
            let loop = group.loop(Int(random.next() % 3))
            let name = random.next() % 4 == 0 ? "member-\(random.next() % 8)" : nil
            do {
                members.append(try Self.spawnMember(loop, ledger, trap: random.next() % 2 == 0, name: name))
            } catch ProcessError.nameTaken {
                members.append(try Self.spawnMember(loop, ledger, trap: false, name: nil))
            }
        }
        for _ in 0..<12 { try spawnAnywhere() }
        var callID = 0
        for _ in 0..<300 {
            let member = members[Int(random.next() % UInt64(members.count))]
            let other = members[Int(random.next() % UInt64(members.count))]
            let home = group.loop(of: member.pid)!
            switch random.next() % 10 {
            case 0..<4: try? home.send(.pings(to: other, count: Int(random.next() % 40)), to: member)
            case 4: try? home.send(.link(other.pid), to: member)
            case 5: try? home.send(.monitor(other.pid), to: member)
            case 6, 7:
                callID += 1
                let server = servers[Int(random.next() % 3)]
                try? home.send(.call(server, timeout: Int64(random.next() % 20), id: callID), to: member)
            case 8:
                // Killed from a random loop (an exit signal across loops, or on its own), then replaced.
                let killer = group.loop(Int(random.next() % 3))
                killer.exit(member.pid, reason: random.next() % 2 == 0 ? .kill : .custom("chaos"))
                try spawnAnywhere()
            default:
                group.advance(by: random.next() % 15)
            }
            if random.next() % 4 == 0 { group.runUntilIdle() }
        }
        group.advance(by: 1_000)
        #expect(ledger.violations == [], "seed \(seed)")
        #expect(ledger.received > 100, "seed \(seed): too little traffic")
        for (id, caller) in ledger.callsStarted {
            let ended = ledger.callsEnded[id, default: 0]
            let alive = group.loop(of: caller)!.isAlive(caller)
            #expect(ended <= 1 && (ended == 1 || !alive), "seed \(seed): call \(id) ended \(ended) times")
        }
        // Links are symmetric across loops once everything has arrived.
        for loop in group.loops {
            for pid in loop.processes() {
                for linked in loop.processInfo(pid)?.links ?? [] {
                    let back = group.loop(of: linked)?.processInfo(linked)?.links ?? []
                    #expect(back.contains(pid), "seed \(seed): \(pid) links \(linked), not back")
                }
            }
        }
        group.close()
        for loop in group.loops {
            let after = loop.statistics
            #expect(after.live == 0 && after.monitors == 0 && after.registeredNames == 0 && after.pendingTimers == 0,
                    "seed \(seed): \(after)")
            #expect(loop.transit.watchers.isEmpty, "seed \(seed)")
        }
        #expect(group.core.names.all() == [], "seed \(seed)")
    }
}
