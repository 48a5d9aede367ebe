import Testing
@testable import OTP

/// A closure process's wait for a response keeps its continuation in a `ResponseWait`, which goes back to
/// its loop once the response has come and is taken by the loop's next wait of the same types. These tests
/// pin what the reuse must not change: what the continuation captured is released once it has run, each
/// wait gets its own outcome, and a wait of other types never takes the spare.
@Suite("Waits for a response")
struct ResponseWaitTests {
    /// Something a continuation captures; records its release.
    final class Token: Sendable {
        let released: Log<String>
        let name: String
        init(_ name: String, released: Log<String>) {
            self.name = name
            self.released = released
        }
        deinit { released.append(name) }
    }

    /// A process that calls `delayer` (which answers after its delay) `count` times, one after another,
    /// each continuation capturing a new token; it records each outcome, and the loop's spare wait once the
    /// continuation has made its next call.
    func spawnCaller(_ node: Node, _ delayer: ServerRef<Delayer>, count: Int, released: Log<String>,
                     outcomes: Log<String>, spares: Log<ObjectIdentifier?>) throws {
        func next(_ process: ProcessContext<Never>, _ remaining: Int) throws -> Step<Never> {
            guard remaining > 0 else { return .receive { _, _ in .same } }
            let token = Token("token \(remaining)", released: released)
            return try process.call(delayer, .slow) { result, process in
                outcomes.append("\(token.name): \(try result.get())")
                let step = try next(process, remaining - 1)
                spares.append(node.spareWait.map(ObjectIdentifier.init))  // once the next call was made
                return step
            }
        }
        try node.spawn(of: Never.self) { process in try next(process, count) }
    }

    @Test("A continuation's captures are released once it has run, though its wait is kept for the next; the next wait takes it")
    func releasedAndReused() throws {
        let node = makeNode()
        let delayer = try node.start(Delayer.self, 10)
        let released = Log<String>(), outcomes = Log<String>(), spares = Log<ObjectIdentifier?>()
        try spawnCaller(node, delayer, count: 3, released: released, outcomes: outcomes, spares: spares)
        node.runUntilIdle()
        #expect(outcomes.entries.isEmpty && released.entries.isEmpty && node.spareWait == nil)
        node.advance(by: 10)
        // The first continuation ran (its wait handed back before it, then taken by the call it made), and
        // its token is gone although that wait lives on.
        #expect(outcomes.entries == ["token 3: done"])
        #expect(released.entries == ["token 3"])
        #expect(spares.entries == [nil])  // taken again by the second call
        node.advance(by: 10)
        node.advance(by: 10)
        #expect(outcomes.entries == ["token 3: done", "token 2: done", "token 1: done"])
        #expect(released.entries == ["token 3", "token 2", "token 1"])
        // Every wait after the first was the first one again: the last continuation made no call, and
        // left it as the loop's spare.
        let spare = try #require(node.spareWait)
        #expect(spares.entries == [nil, nil, ObjectIdentifier(spare)])
        #expect(spare is ResponseWait<String, Never>)
        #expect((spare as? ResponseWait<String, Never>)?.then == nil)
        #expect(node.statistics.monitors == 0)
    }

    @Test("A wait of other reply or message types makes its own; each call gets its own outcome")
    func otherTypesMakeTheirOwn() throws {
        let node = makeNode()
        let delayer = try node.start(Delayer.self, 10)
        let counter = try node.start(Counter.self, 41)
        let outcomes = Log<String>()
        // A String reply first, then an Int reply: the second wait must not take the String one's object.
        try node.spawn(of: Never.self) { process in
            try process.call(delayer, .slow) { result, process in
                outcomes.append("string \(try result.get())")
                for _ in 0..<100 { process.cast(counter, .add(0)) }  // more than a turn: the call waits
                return try process.call(counter, .add(1)) { result, _ in
                    outcomes.append("int \(try result.get())")
                    return .exit(.normal)
                }
            }
        }
        node.runUntilIdle()
        node.advance(by: 10)
        node.runUntilIdle()
        #expect(outcomes.entries == ["string done", "int 42"])
        #expect(node.spareWait is ResponseWait<Int, Never>)
        #expect(node.statistics.monitors == 0)
    }

    @Test("A wait that times out hands its object back as well; the late reply is dropped")
    func timeoutHandsBack() throws {
        let node = makeNode()
        let delayer = try node.start(Delayer.self, 50)
        let outcomes = Log<String>()
        let delayerPID = try #require(delayer.pid)
        try node.spawn(of: Never.self) { process in
            try process.call(delayer, .slow, timeout: .milliseconds(20)) { result, _ in
                outcomes.append(result == .failure(.timeout(delayerPID)) ? "timeout" : "\(result)")
                return .receive { _, _ in .same }
            }
        }
        node.runUntilIdle()
        node.advance(by: 20)
        #expect(outcomes.entries == ["timeout"])
        #expect((node.spareWait as? ResponseWait<String, Never>)?.then == nil)
        node.advance(by: 30)
        #expect(outcomes.entries == ["timeout"])
        #expect(node.statistics.ignoredReplies == 2)  // the delayer answers twice
    }
}
