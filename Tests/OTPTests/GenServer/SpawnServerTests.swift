import Testing
@testable import OTP

@Suite("spawnServer: a GenServer spawned without waiting for initialize")
struct SpawnServerTests {
    @Test("the name is held at once, initialize runs in the first turn, calls work; a taken name is refused")
    func spawnsAtOnce() throws {
        let node = Node(configuration: NodeConfiguration(clock: .manual, report: { _ in }, logger: quietLogger))
        let server = try node.spawnServer(Counter.self, 7, options: SpawnOptions(name: "counter"))
        #expect(node.whereis("counter") == server.pid)  // before any turn
        #expect(try node.call(ServerRef<Counter>.named("counter"), .get) == 7)
        #expect(throws: ProcessError.nameTaken("counter", by: server.pid!)) {
            try node.spawnServer(Counter.self, 1, options: SpawnOptions(name: "counter"))
        }
        // From process code too (no loop to run, nothing to wait for).
        let made = Log<PID>()
        try node.spawn(of: Never.self) { process in
            made.append(try node.spawnServer(Counter.self, 3).pid!)
            return .exit(.normal)
        }
        node.runUntilIdle()
        #expect(try node.call(ServerRef<Counter>(pid: made.entries[0], on: node), .get) == 3)
    }

    @Test("a failing initialize ends the process with its reason, seen by a monitor, not by spawnServer")
    func failingInitialize() throws {
        let node = Node(configuration: NodeConfiguration(clock: .manual, report: { _ in }, logger: quietLogger))
        let downs = Log<String>()
        let watcher = try node.spawn(of: Never.self) { _ in
            .receive { envelope, _ in
                if case .down(let down) = envelope { downs.append("\(down.reason)") }
                return .exit(.normal)
            }
        }
        let server = try node.spawnServer(Counter.self, -1)  // initialize throws for a negative start
        let pid = try #require(server.pid)
        node.monitor(pid, by: watcher.pid)  // before the server's first turn
        node.runUntilIdle()
        #expect(downs.entries.count == 1)
        #expect(downs.entries.first?.contains("negative start") == true)
        #expect(!node.isAlive(pid))
    }
}
