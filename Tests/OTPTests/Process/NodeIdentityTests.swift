import Foundation
import Testing
@testable import OTP

@Suite("Pids carry their node: a pid of one node is never taken for a process of another", .serialized)
struct NodeIdentityTests {
    @Test("Two nodes in one OS process: the same slot on each is two different pids; a send across is refused, typed")
    func twoLocalNodes() throws {
        let a = makeNode(), b = makeNode()
        let logA = Log<Envelope<Int>>(), logB = Log<Envelope<Int>>()
        let inA = try spawnCollector(a, into: logA)
        let inB = try spawnCollector(b, into: logB)
        #expect(inA.pid.index == inB.pid.index && inA.pid.serial == inB.pid.serial)
        #expect(inA.pid != inB.pid)
        #expect(a.number != b.number)
        #expect(throws: ProcessError.otherNode(inA.pid)) { try b.send(1, to: inA.pid) }
        #expect(throws: ProcessError.otherNode(inA.pid)) { try b.send(1, to: inA) }
        b.runUntilIdle()
        #expect(logB.entries.isEmpty)
        #expect(!b.isAlive(inA.pid))
        // After A is closed, its pids still name nothing on B.
        a.close()
        #expect(throws: ProcessError.otherNode(inA.pid)) { try b.send(2, to: inA.pid) }
        b.runUntilIdle()
        #expect(logB.entries.isEmpty)
        // A monitor from B on A's pid: noproc, as for any process B cannot see.
        let ref = b.monitor(inA.pid, by: inB.pid)
        b.runUntilIdle()
        #expect(logB.entries == [.down(Down(monitor: ref, pid: inA.pid, reason: .noproc))])
        b.close()
    }

    @Test("Two nodes of one OS process in one cluster: a pid of the other is reached through the cluster")
    func twoLocalNodesInACluster() async throws {
        let a = try await clusterNode("swift_ident_a"), b = try await clusterNode("swift_ident_b")
        defer { shutdown(a); shutdown(b) }
        let log = Log<Envelope<Term>>()
        let collector = try await spawnTermCollector(a, name: "collector", into: log)
        try await b.perform { node in try node.send(Term.atom("via_cluster"), to: collector) }
        try await eventually("the message through the cluster") { log.count == 1 }
        #expect(log.messages == [.atom("via_cluster")])
        #expect(try await b.perform { $0.connectedNodes() } == [swiftName("swift_ident_a")])
        let external = try await b.perform { $0.externalPID(for: collector) }
        #expect(external?.node == swiftName("swift_ident_a"))
    }

    @Test("Remote pids need no table row each: a million callers of one node add one row")
    func remotePidsCostNoMemory() {
        #expect(RemoteIdentities.shared.rows(forNode: "many_callers@h") == 0)
        var seen = Set<PID>()
        for id in 0..<1_000_000 as Range<UInt32> {
            let pid = PID.remote(.pid(ExternalPID(node: "many_callers@h", id: id, serial: 0, creation: 7)))
            if id % 100_000 == 0 { seen.insert(pid) }
        }
        #expect(RemoteIdentities.shared.rows(forNode: "many_callers@h") == 1)  // other tests add rows of their own meanwhile
        #expect(seen.count == 10)
        let sample = PID.remote(.pid(ExternalPID(node: "many_callers@h", id: 123_456, serial: 9, creation: 7)))
        #expect(sample.remoteIdentity == .pid(ExternalPID(node: "many_callers@h", id: 123_456, serial: 9, creation: 7)))
        #expect(sample.description == "<many_callers@h.123456.9>")
    }
}
