import Testing
@testable import OTP

@Suite("Registered names")
struct RegistryTests {
    @Test("register, whereis, registered and unregister")
    func basics() throws {
        let node = makeNode()
        let a = try spawnIdler(node)
        try node.register("a", a.pid)
        #expect(node.whereis("a") == a.pid)
        #expect(try node.whereis("a", as: Command.self) == a)
        #expect(node.registered() == ["a"])
        #expect(node.processInfo(a.pid)?.registeredName == "a")
        try node.unregister("a")
        #expect(node.whereis("a") == nil)
        #expect(throws: ProcessError.unknownName("a")) { try node.unregister("a") }
    }

    @Test("a taken name reports the holder; a second name for a process is refused; dead pids are refused")
    func errors() throws {
        let node = makeNode()
        let a = try spawnIdler(node)
        let b = try spawnIdler(node)
        try node.register("server", a.pid)
        #expect(throws: ProcessError.nameTaken("server", by: a.pid)) { try node.register("server", b.pid) }
        #expect(throws: ProcessError.alreadyRegistered(a.pid, as: "server")) { try node.register("other", a.pid) }
        #expect(throws: ProcessError.nameTaken("server", by: a.pid)) {
            try spawnIdler(node, options: SpawnOptions(name: "server"))
        }
        try node.send(.exit(.normal), to: b)
        node.runUntilIdle()
        #expect(throws: ProcessError.noProcess(b.pid)) { try node.register("late", b.pid) }
        #expect(throws: ProcessError.wrongMessageType(a.pid, expected: "Int", accepted: "Command")) {
            _ = try node.whereis("server", as: Int.self)
        }
    }

    @Test("a name is released when its process exits and can be registered again")
    func releasedOnExit() throws {
        let node = makeNode()
        let first = try spawnIdler(node, options: SpawnOptions(name: "svc"))
        #expect(node.whereis("svc") == first.pid)
        try node.send(Command.exit(.custom("crash")), to: "svc")
        node.runUntilIdle()
        #expect(node.whereis("svc") == nil)
        #expect(node.registered() == [])
        let second = try spawnIdler(node, options: SpawnOptions(name: "svc"))
        #expect(node.whereis("svc") == second.pid)
        #expect(second.pid != first.pid)
    }

    @Test("a process registers itself from its own code")
    func selfRegistration() throws {
        let node = makeNode()
        let log = Log<String>()
        let p = try node.spawn(of: Int.self) { process in
            try process.register("me")
            do throws(ProcessError) { try process.register("again") } catch { log.append("\(error)") }
            return .receive { _, _ in .same }
        }
        node.runUntilIdle()
        #expect(node.whereis("me") == p.pid)
        #expect(log.entries == ["process \(p.pid) is already registered as 'me'"])
    }
}
