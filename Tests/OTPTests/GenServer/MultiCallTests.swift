import Testing
@testable import OTP

@Suite("multiCall and abcast")
struct MultiCallTests {
    @Test("Every server under a key is called at once; each outcome by pid, a wrong one names its error")
    func byRegistryKey() async throws {
        let node = startedNode()
        defer { node.finish() }
        let shards = Registry<String, Void>(keys: .duplicate, name: "shards")
        var counters: [PID] = []
        for start in [1, 2, 3] {
            let ref = try await node.start(Counter.self, start, options: StartOptions(via: shards.via("all")))
            counters.append(ref.pid!)
        }
        let casts = await node.abcast(shards, "all", as: Counter.self, .add(10))
        #expect(casts.mapValues { try? $0.get() } == Dictionary(uniqueKeysWithValues: counters.map { ($0, .delivered) }))
        let replies = await node.multiCall(shards, "all", as: Counter.self, .get)
        #expect(replies.mapValues { try? $0.get() } == [counters[0]: 11, counters[1]: 12, counters[2]: 13])
        // A server of another type under the key: its outcome is its own error, the others still answer.
        let delayer = try await node.start(Delayer.self, 0, options: StartOptions(via: shards.via("all")))
        let mixed = await node.multiCall(shards, "all", as: Counter.self, .get, timeout: .milliseconds(200))
        #expect(mixed.count == 4)
        guard case .failure(.wrongServerType(let pid, _, _))? = mixed[delayer.pid!] else {
            Issue.record("expected wrongServerType for the Delayer, got \(String(describing: mixed[delayer.pid!]))")
            return
        }
        #expect(pid == delayer.pid!)
        #expect(await node.multiCall(shards, "nobody", as: Counter.self, .get).isEmpty)
    }

    @Test("A group: one server per loop under a key, each called through its own loop")
    func acrossLoops() async throws {
        let group = NodeGroup(loops: 2, configuration: NodeConfiguration(logger: quietLogger))
        group.startLoops()
        defer { group.stopLoops(); group.join() }
        let shards = Registry<String, Void>(keys: .duplicate, name: "shards")
        var pids: [PID] = []
        for loop in 0..<2 {
            let ref = try await group.loops[loop].start(Counter.self, loop * 100, options: StartOptions(via: shards.via("all")))
            pids.append(ref.pid!)
        }
        #expect(Set(pids.map { group.loop(of: $0)!.loopIndex }) == [0, 1])
        _ = await group.abcast(shards, "all", as: Counter.self, .add(1))
        let replies = await group.multiCall(shards, "all", as: Counter.self, .get)
        #expect(replies.mapValues { try? $0.get() } == [pids[0]: 1, pids[1]: 101])
    }
}

