import Testing
@testable import OTP

/// `Registry`: Elixir's Registry semantics (unique and duplicate keys, values, cleanup on exit), via names
/// everywhere a name works, get-or-start, local pub/sub, and one registry across the loops of a group.
@Suite("Registry: processes by key")
struct KeyRegistryTests {
    /// Spawns a process that registers itself under `keys` (with `value`), then waits for `.exit`.
    @discardableResult
    func spawnRegistrant<K, V>(_ node: Node, _ registry: Registry<K, V>, _ keys: [K], value: V,
                               errors: Log<ProcessError>? = nil) throws -> Address<Command> {
        try node.spawn(of: Command.self) { process in
            for key in keys {
                do throws(ProcessError) { try registry.register(key, value: value, for: process) } catch {
                    errors?.append(error)
                }
            }
            return .receive { envelope, _ in
                if case .message(.exit(let reason)) = envelope { return .exit(reason) }
                return .same
            }
        }
    }

    @Test("Unique keys: register, lookup, values, keys of a process, count, update, unregister")
    func uniqueKeys() throws {
        let node = makeNode()
        let sessions = Registry<String, Int>(keys: .unique, name: "sessions")
        let errors = Log<ProcessError>()
        let a = try spawnRegistrant(node, sessions, ["alice", "carol"], value: 1)
        let b = try spawnRegistrant(node, sessions, ["alice", "bob"], value: 2, errors: errors)
        node.runUntilIdle()
        #expect(errors.entries == [.nameTaken("sessions[\"alice\"]", by: a.pid)])
        #expect("\(errors.entries[0])" == "name 'sessions[\"alice\"]' is already registered by \(a.pid)")
        #expect(sessions.whereis("alice") == a.pid)
        #expect(sessions.lookup("bob").map(\.pid) == [b.pid])
        #expect(sessions.lookup("bob").map(\.value) == [2])
        #expect(sessions.lookup("nobody").isEmpty)
        #expect(sessions.value(forKey: "carol", of: a.pid) == 1)
        #expect(sessions.value(forKey: "carol", of: b.pid) == nil)
        #expect(sessions.keys(of: a.pid) == ["alice", "carol"])
        #expect(sessions.count == 3)
        #expect(sessions.count("alice") == 1)
        #expect(Set(sessions.allKeys()) == ["alice", "bob", "carol"])
        #expect(sessions.select { _, entry in entry.value == 1 }.map(\.key).sorted() == ["alice", "carol"])

        // Updates and removals act on the calling process's own entries only.
        let outcomes = Log<String>()
        try node.spawn(of: Never.self) { process in
            outcomes.append("\(sessions.updateValue("alice", for: process) { $0 + 10 } as Int?)")
            outcomes.append("\(sessions.unregister("alice", for: process))")
            return .exit(.normal)
        }
        try node.send(.value(0), to: a)  // a does nothing with it; its entries stay
        node.runUntilIdle()
        #expect(outcomes.entries == ["nil", "0"])
        #expect(sessions.whereis("alice") == a.pid)
    }

    @Test("A process's entries go when it exits, before its monitors fire: a DOWN handler finds the key free")
    func removedOnExit() throws {
        let node = makeNode()
        let devices = Registry<Int, String>(keys: .unique, name: "devices")
        let a = try spawnRegistrant(node, devices, [7, 8], value: "thermostat")
        node.runUntilIdle()
        let seen = Log<String>()
        try node.spawn(of: Never.self) { process in
            _ = process.monitor(a.pid)
            return .receive { envelope, _ in
                if case .down = envelope { seen.append("down; 7 held by \(devices.whereis(7).map { "\($0)" } ?? "none")") }
                return .exit(.normal)
            }
        }
        node.runUntilIdle()
        try node.send(.exit(.custom("unplugged")), to: a)
        node.runUntilIdle()
        #expect(seen.entries == ["down; 7 held by none"])
        #expect(devices.count == 0)
        #expect(devices.keys(of: a.pid).isEmpty)
        let b = try spawnRegistrant(node, devices, [7], value: "lamp")
        node.runUntilIdle()
        #expect(devices.lookup(7).map(\.value) == ["lamp"])
        #expect(devices.whereis(7) == b.pid)
    }

    @Test("Duplicate keys: several processes (one twice), match, dispatch, and exit removes only its own")
    func duplicateKeys() throws {
        let node = makeNode()
        let topics = Registry<String, Int>(keys: .duplicate, name: "topics")
        let a = try spawnRegistrant(node, topics, ["news", "news", "sport"], value: 1)
        let b = try spawnRegistrant(node, topics, ["news"], value: 5)
        node.runUntilIdle()
        #expect(topics.lookup("news").map(\.pid) == [a.pid, a.pid, b.pid])
        #expect(topics.count("news") == 3)
        #expect(topics.count == 4)
        #expect(topics.keys(of: a.pid) == ["news", "news", "sport"])
        #expect(topics.match("news") { $0 > 2 }.map(\.pid) == [b.pid])
        var dispatched: [PID] = []
        #expect(topics.dispatch("news") { dispatched = $0.map(\.pid) } == 3)
        #expect(dispatched == [a.pid, a.pid, b.pid])
        #expect(topics.dispatch("weather") { _ in Issue.record("no entries: body not run") } == 0)
        try node.send(.exit(.normal), to: a)
        node.runUntilIdle()
        #expect(topics.lookup("news").map(\.pid) == [b.pid])
        #expect(topics.lookup("sport").isEmpty)
        #expect(topics.count == 1)
    }

    @Test("publish sends to every subscriber of a key, in order, and reports each refusal")
    func publish() throws {
        let node = makeNode()
        let topics = Registry<String, Void>(keys: .duplicate, name: "topics")
        let log = Log<String>()
        func subscriber(_ label: String) throws -> PID {
            try node.spawn(of: String.self) { process in
                try topics.register("news", for: process)
                return .receive { envelope, _ in
                    if case .message(let text) = envelope { log.append("\(label) got \(text)") }
                    return .same
                }
            }.pid
        }
        let first = try subscriber("first"), second = try subscriber("second")
        let wrong = try spawnRegistrant(node, topics, ["news"], value: ())
        node.runUntilIdle()
        let outcome = Log<Publication>()
        try node.spawn(of: Never.self) { process in
            outcome.append(topics.publish("hello", to: "news", from: process))
            return .exit(.normal)
        }
        node.runUntilIdle()
        #expect(log.entries == ["first got hello", "second got hello"])
        let publication = try #require(outcome.entries.first)
        #expect(publication.delivered == 2)
        #expect(publication.refused.map(\.pid) == [wrong.pid])
        #expect(publication.refused.map(\.error) == [.wrongMessageType(wrong.pid, expected: "String", accepted: "Command")])
        _ = (first, second)
    }

    @Test("A server started under a key is called, cast to, sent to, monitored and stopped by that key")
    func viaNames() throws {
        let node = makeNode()
        let sessions = Registry<String, Void>(keys: .unique, name: "sessions")
        let alice = try node.start(Counter.self, 1, options: StartOptions(via: sessions.via("alice")))
        let byKey = ServerRef<Counter>.via(sessions, "alice")
        #expect(sessions.whereis("alice") == alice.pid)
        #expect(byKey.description == "sessions[\"alice\"]")
        #expect(byKey == ServerRef<Counter>.via(sessions.via("alice")))
        #expect(try node.call(byKey, .add(2)) == 3)
        #expect(node.cast(byKey, .add(10)) == .delivered)
        try node.send(.add(100), to: byKey)
        #expect(try node.call(byKey, .get) == 113)
        #expect(try node.getState(byKey).count == 113)

        // A second start under the key finds the first.
        #expect(throws: StartError.alreadyStarted(alice.pid!)) {
            try node.start(Counter.self, 0, options: StartOptions(via: sessions.via("alice")))
        }
        // Typed errors name the key.
        let bob = ServerRef<Counter>.via(sessions, "bob")
        #expect(throws: CallError.unknownName("sessions[\"bob\"]")) { try node.call(bob, .get) }
        #expect(node.cast(bob, .add(1)) == .unknownName("sessions[\"bob\"]"))
        #expect(throws: ProcessError.unknownName("sessions[\"bob\"]")) { try node.send(.add(1), to: bob) }
        #expect(throws: CallError.wrongServerType(alice.pid!, expected: "Delayer", got: "Counter")) {
            try node.call(ServerRef<Delayer>.via(sessions, "alice"), .pending)
        }
        // One name per process; a name only looked up carries no value to start with.
        let values = Registry<String, Int>(keys: .unique, name: "values")
        #expect(throws: StartError.invalidOptions(
            "invalid name 'x': a process takes one name: this one or sessions[\"carol\"], not both")) {
            try node.start(Counter.self, 0, options: StartOptions(name: "x", via: sessions.via("carol")))
        }
        // The same through the properties: setting one keeps the other (both live in one box).
        var both = SpawnOptions()
        both.via = sessions.via("carol")
        both.name = "x"
        #expect(both.name == "x" && both.via == sessions.via("carol"))
        #expect(throws: ProcessError.invalidName("x", reason: "a process takes one name: this one or "
                                                 + "sessions[\"carol\"], not both")) {
            try node.spawn(of: Int.self, options: both) { _ in .exit(.normal) }
        }
        both.name = nil
        #expect(both.name == nil && both.via == sessions.via("carol"))
        var started = StartOptions(name: "x")
        started.via = sessions.via("carol")
        started.name = nil
        #expect(started.name == nil && started.via == sessions.via("carol"))
        #expect(throws: StartError.invalidOptions("invalid name 'values[\"dave\"]': a name to start under carries "
                                                  + "its entry's value: use Registry.via(_:value:)")) {
            try node.start(Counter.self, 0, options: StartOptions(via: ServerRef<Counter>.via(values, "dave").viaName!))
        }
        #expect(sessions.count == 1 && values.count == 0 && node.whereis("x") == nil)

        // Monitor by key, then stop by key: the DOWN arrives and the key is free.
        let downs = Log<String>()
        try node.spawn(of: Never.self) { process in
            let ref = try process.monitor(byKey)
            do throws(ProcessError) { _ = try process.monitor(bob) } catch { downs.append("\(error)") }
            return .receive { envelope, _ in
                if case .down(let down) = envelope, down.monitor == ref { downs.append("down \(down.reason)") }
                return .exit(.normal)
            }
        }
        node.runUntilIdle()
        try node.stop(byKey)
        node.runUntilIdle()
        #expect(downs.entries == ["no process is registered as 'sessions[\"bob\"]'", "down normal"])
        #expect(sessions.whereis("alice") == nil)
    }

    @Test("A supervised child under a key is registered again on restart; get-or-start is one call")
    func supervisedAndGetOrStart() throws {
        let node = supervisionNode()
        let sessions = Registry<String, Void>(keys: .unique, name: "sessions")
        let sup = try node.start(Supervisor.self, SupervisorSpec(children: [
            .server("alice", Counter.self, 5, via: sessions.via("alice"))]))
        let first = try #require(sessions.whereis("alice"))
        node.crash(first)
        let second = try #require(sessions.whereis("alice"))
        #expect(second != first)
        #expect(try node.childPIDs(sup) == [second])
        #expect(try node.call(ServerRef<Counter>.via(sessions, "alice"), .get) == 5)

        let dynamic = try node.start(DynamicSupervisor.self, DynamicSupervisorSpec())
        func session(_ user: String) -> ChildSpec {
            .server("session", Counter.self, 0, via: sessions.via(user), restart: .temporary)
        }
        let bob = try node.findOrStartChild(dynamic, session("bob"), as: Counter.self)
        #expect(try node.findOrStartChild(dynamic, session("bob"), as: Counter.self) == bob)
        #expect(try node.countChildren(dynamic).active == 1)
        #expect(bob.pid == sessions.whereis("bob"))
        // A start that loses the race (the key taken after the lookup) gets the holder from the supervisor.
        #expect(throws: SupervisorError.childStartFailed(id: "session", .alreadyStarted(bob.pid!))) {
            try node.startChild(dynamic, session("bob"))
        }
        try node.stop(ServerRef<Counter>.via(sessions, "bob"))
        let again = try node.findOrStartChild(dynamic, session("bob"), as: Counter.self)
        #expect(again != bob && sessions.whereis("bob") == again.pid)
        #expect(throws: SupervisorError.childStartFailed(id: "w", .invalidOptions(
            "findOrStartChild needs a child started under a Registry key: ChildSpec.server(…, via:)"))) {
            try node.findOrStartChild(dynamic, .server("w", Counter.self, 0), as: Counter.self)
        }
    }

    @Test("get-or-start from many tasks at once: one session per key, every task gets it")
    func getOrStartFromTasks() async throws {
        let node = startedNode()
        defer { node.finish() }
        let sessions = Registry<String, Void>(keys: .unique, name: "sessions")
        let supervisor = try await node.start(DynamicSupervisor.self, DynamicSupervisorSpec())
        let spec = ChildSpec.server("session", Counter.self, 0, via: sessions.via("alice"), restart: .temporary)
        let refs = try await withThrowingTaskGroup(of: ServerRef<Counter>.self) { tasks in
            for _ in 0..<16 { tasks.addTask { try await node.findOrStartChild(supervisor, spec, as: Counter.self) } }
            var refs: [ServerRef<Counter>] = []
            for try await ref in tasks { refs.append(ref) }
            return refs
        }
        #expect(Set(refs).count == 1)
        #expect(refs[0].pid == sessions.whereis("alice"))
        #expect(try await node.countChildren(supervisor).active == 1)
        #expect(try await node.call(ServerRef<Counter>.via(sessions, "alice"), .add(3)) == 3)
    }

    @Test("One registry across the loops of a group: register on one loop, reach by key from another")
    func acrossLoops() throws {
        for seed: UInt64 in [1, 2, 3] {
            let group = makeGroup(seed: seed)
            let sessions = Registry<String, Int>(keys: .unique, name: "sessions")
            let owner = try spawnRegistrant(group.loop(1), sessions, ["u1"], value: 42)
            group.runUntilIdle()
            #expect(sessions.whereis("u1") == owner.pid)
            // A server on loop 1 under a key; a process on loop 0 calls it by key.
            let replies = Log<String>()
            try group.loop(1).spawnServer(Counter.self, 7, options: SpawnOptions(via: sessions.via("counter", value: 0)))
            try group.loop(0).spawn(of: Never.self) { process in
                try process.call(ServerRef<Counter>.via(sessions, "counter"), .add(1)) { result, _ in
                    replies.append("\(result)")
                    return .exit(.normal)
                }
            }
            group.runUntilIdle()
            #expect(replies.entries == ["success(8)"], "seed \(seed)")
            // Two loops start under one key at once: one holds it, the other learns who.
            let outcomes = Log<String>()
            for loop in 0..<2 {
                try group.loop(loop).spawn(of: Never.self) { process in
                    try process.startServer(Counter.self, loop, options: StartOptions(via: sessions.via("race", value: 0))) {
                        result, _ in
                        switch result {
                        case .success(let started): outcomes.append("started \(started.server.pid!)")
                        case .failure(.alreadyStarted(let pid)): outcomes.append("found \(pid)")
                        case .failure(let error): outcomes.append("\(error)")
                        }
                        return .exit(.normal)
                    }
                }
            }
            group.runUntilIdle()
            let holder = try #require(sessions.whereis("race"))
            #expect(outcomes.entries.sorted() == ["found \(holder)", "started \(holder)"], "seed \(seed)")
            // The exit of the owner on loop 1 removes its entry there.
            try group.loop(1).send(Command.exit(.normal), to: owner)
            group.runUntilIdle()
            #expect(sessions.whereis("u1") == nil)
            #expect(sessions.count == 2)
        }
    }
}

extension ServerRef {
    /// The registry name behind a reference made by `via`, for tests.
    var viaName: ViaName? {
        if case .via(let name) = target { return name }
        return nil
    }
}
