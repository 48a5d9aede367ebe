import Testing
@testable import OTP

@Suite("Introspection")
struct IntrospectionTests {
    @Test("status moves through initializing, running, processing, waiting, and the process disappears")
    func statuses() throws {
        let node = makeNode()
        let seen = Log<ProcessStatus>()
        let p = try node.spawn(of: Int.self) { process in
            seen.append(process.currentNode.processInfo(process.pid)!.status)
            return .receive { envelope, process in
                if envelope.message == 0 { return .exit(.normal) }
                return .same
            }
        }
        #expect(node.processInfo(p.pid)?.status == .initializing)
        node.runUntilIdle()
        #expect(seen.entries == [.processing])
        #expect(node.processInfo(p.pid)?.status == .waiting)
        try node.send(1, to: p)
        #expect(node.processInfo(p.pid)?.status == .running)
        node.runUntilIdle()
        #expect(node.processInfo(p.pid)?.status == .waiting)
        try node.send(0, to: p)
        node.runUntilIdle()
        #expect(node.processInfo(p.pid) == nil)
        #expect(!node.isAlive(p.pid))
    }

    @Test("process info reports name, mailbox, links, monitors, trap flag and counters")
    func info() throws {
        let node = makeNode()
        let a = try spawnIdler(node, options: SpawnOptions(mailboxCapacity: 10, trapExits: true, name: "a"))
        let b = try spawnIdler(node)
        node.link(a.pid, b.pid)
        let ref = node.monitor(b.pid, by: a.pid)
        node.runUntilIdle()
        try node.send(.value(1), to: a)
        try node.send(.value(2), to: a)
        let info = try #require(node.processInfo(a.pid))
        #expect(info.pid == a.pid)
        #expect(info.registeredName == "a")
        #expect(info.status == .running)
        #expect(info.mailboxLength == 2)
        #expect(info.mailboxCapacity == 10)
        #expect(info.links == [b.pid])
        #expect(info.monitors == [ref])
        #expect(info.monitoredBy == [])
        #expect(info.trapExits)
        #expect(info.messagesReceived == 0)
        #expect(info.messageType == "Command")
        #expect(node.processInfo(b.pid)?.monitoredBy == [ref])
        #expect(node.processes() == [a.pid, b.pid])
    }

    @Test("an idle process costs a few hundred bytes")
    func idleProcessMemory() throws {
        // The estimate is what the allocator gave (`malloc_usable_size`), and a chunk reused from a free list
        // may be up to a bin larger than asked (glibc hands over a whole chunk when the rest would be too
        // small to split), depending on what the test process freed before: the smallest of 16 is what a
        // process asks for.
        let node = makeNode()
        let idlers = try (0..<16).map { _ in try spawnIdler(node) }
        node.runUntilIdle()
        let memory = try idlers.map { try #require(node.processInfo($0.pid)).memory }.min()!
        print("idle process: \(memory) bytes (object only, empty mailbox, no links)")
        #expect(memory <= 256)
    }

    @Test("an idle GenServer with an Int state costs 312 bytes: the loop's fields hold no call continuation")
    func idleServerMemory() throws {
        // `ServerLoop` keeps an awaited call as one reference (`PendingCall` is a class) and its caller and
        // starter as `ReplyTarget`s; as optional values they made this object 424 bytes. The smallest of 16,
        // as above.
        let node = makeNode()
        let servers = try (0..<16).map { _ in try node.spawnServer(Tally()) }
        node.runUntilIdle()
        let pids = try servers.map { try #require($0.pid) }
        let memory = try pids.map { try #require(node.processInfo($0)).memory }.min()!
        print("idle server: \(memory) bytes (object only, empty mailbox, no links)")
        #expect(memory <= 320)
    }

    @Test("pids print like Erlang's and are never reused")
    func pidFormatAndUniqueness() throws {
        let node = makeNode()
        let first = try spawnIdler(node)
        #expect(first.pid.description == "<0.0.0>")
        try node.send(.exit(.normal), to: first)
        node.runUntilIdle()
        let second = try spawnIdler(node)
        #expect(second.pid.description == "<0.0.1>")
        #expect(second.pid != first.pid)
        #expect(Ref(rawValue: 7).description == "#Ref<0.7>")
    }

    @Test("spawn refuses a mailbox capacity below one")
    func invalidCapacity() {
        let node = makeNode()
        #expect(throws: ProcessError.invalidCapacity(0)) {
            try spawnIdler(node, options: SpawnOptions(mailboxCapacity: 0))
        }
        #expect(node.statistics.live == 0)
    }

    @Test("exit reasons compare by value and describe themselves")
    func exitReasons() {
        #expect(ExitReason.error(TestFailure(text: "a")) == .error(TestFailure(text: "a")))
        #expect(ExitReason.error(TestFailure(text: "a")) != .error(TestFailure(text: "b")))
        #expect(ExitReason.custom("x") != .shutdownWith("x"))
        #expect(ExitReason.shutdownWith("x").isQuiet)
        #expect(!ExitReason.killed.isQuiet)
        #expect(ExitReason.shutdownWith("x").description == "{shutdown, x}")
    }
}

/// A server whose state is one `Int`: what a process object of a small GenServer costs.
private struct Tally: GenServer {
    typealias Call = Never
    var count = 0
}
