import Testing
@testable import OTP

@Suite("Large messages in fragments (DFLAG_FRAGMENTS)", .serialized)
struct FragmentTests {
    /// The frame body `FragmentedMessage` cut from `control` and `payload`, as `NodeConnection` lays it out.
    static func frames(_ control: Term, _ payload: Term, sequence: UInt64) -> [[UInt8]] {
        var writer = TermWriter()
        writer.referencesLargeBinaries = true
        writer.bytes = [0, 0, 0, 0, ExternalTermFormat.version, DistributionHeader.normal, 0]
        writer.write(control)
        let controlLength = writer.bytes.count - 7
        writer.write(payload)
        var message = FragmentedMessage(bytes: writer.bytes, start: 7, references: writer.references,
                                        controlLength: controlLength, sequence: sequence)
        var frames: [[UInt8]] = []
        while !message.isDone {
            let (header, slices) = message.nextFragment()
            var frame = Array(header)
            for slice in slices { frame += slice }
            #expect(frame.count - 4 == Int(frame.uint32(at: 0)))
            frames.append(Array(frame.dropFirst(4)))
        }
        return frames
    }

    static func take(_ assembler: inout FragmentAssembler, _ body: [UInt8], maximum: Int = 1 << 20)
        -> Result<FragmentAssembler.Outcome, DistributionError> {
        body.withUnsafeBytes { assembler.take($0, maximumBytes: maximum, peer: "p@h") }
    }

    static func violation(_ result: Result<FragmentAssembler.Outcome, DistributionError>) -> String? {
        if case .failure(.protocolViolation(_, let reason)) = result { return reason }
        return nil
    }

    @Test("A message cut into fragments comes back whole; two messages' fragments may interleave")
    func roundTrip() throws {
        let control = ControlMessage.send(to: ExternalPID(node: "a@h", id: 1, serial: 0, creation: 1)).control
        let big = Term.binary((0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        // Two binaries kept by reference, with encoded bytes before, between and after them.
        let other = Term.tuple([.atom("other"), .binary([UInt8](repeating: 1, count: 70_000)), .integer(5),
                                .binary([UInt8](repeating: 2, count: 65_536)), .atom("end")])
        let first = Self.frames(control, big, sequence: 1)
        let second = Self.frames(control, other, sequence: 2)
        #expect(first.count == 4)  // 200,000 bytes and change: three whole fragments and a rest
        #expect(second.count == 3)
        #expect(first[0].prefix(2) == [131, 69] && first[1].prefix(2) == [131, 70])
        var assembler = FragmentAssembler()
        var whole: [Term] = []
        for body in [first[0], second[0], first[1], second[1], first[2], second[2], first[3]] {
            switch Self.take(&assembler, body) {
            case .success(.message(let c, let p?, let fragmented)):
                #expect(c == control && fragmented)
                whole.append(p)
            case .success(.partial): #expect(assembler.incomplete > 0)
            case let other: Issue.record("unexpected \(other)")
            }
        }
        #expect(whole == [other, big])
        #expect(assembler.incomplete == 0 && assembler.heldBytes == 0)
    }

    @Test("A peer's fragments are checked: order, unknown or restarted sequences, atom caches, the bound")
    func hostileFragments() {
        let control = ControlMessage.send(to: ExternalPID(node: "a@h", id: 1, serial: 0, creation: 1)).control
        let frames = Self.frames(control, .binary([UInt8](repeating: 3, count: 200_000)), sequence: 9)
        var a = FragmentAssembler()
        #expect(Self.violation(Self.take(&a, frames[1]))?.contains("never started") == true)
        var b = FragmentAssembler()
        _ = Self.take(&b, frames[0])
        #expect(Self.violation(Self.take(&b, frames[2]))?.contains("fragment 2 of sequence 9 where 3 was due") == true)
        var c = FragmentAssembler()
        _ = Self.take(&c, frames[0])
        #expect(Self.violation(Self.take(&c, frames[0]))?.contains("started twice") == true)
        // The bound: a large binary's announced size counts from its first fragment; other bytes as they come.
        var d = FragmentAssembler()
        #expect(Self.violation(Self.take(&d, frames[0], maximum: 100_000))?.contains("exceed 100000 bytes") == true)
        // Many messages each announcing a large binary, sent a fragment each: the announced sizes count.
        var announced = FragmentAssembler()
        let big = Self.frames(control, .binary([UInt8](repeating: 5, count: 300_000)), sequence: 1)
        #expect(Self.violation(Self.take(&announced, big[0], maximum: 700_000)) == nil)
        var second = Self.frames(control, .binary([UInt8](repeating: 5, count: 300_000)), sequence: 2)[0]
        #expect(Self.violation(Self.take(&announced, second, maximum: 700_000)) == nil)
        second = Self.frames(control, .binary([UInt8](repeating: 5, count: 300_000)), sequence: 3)[0]
        #expect(Self.violation(Self.take(&announced, second, maximum: 700_000))?.contains("exceed 700000 bytes") == true)
        let atoms = Self.frames(control, .list(Array(repeating: .atom("a"), count: 50_000)), sequence: 4)
        var g = FragmentAssembler()
        #expect(Self.violation(Self.take(&g, atoms[0], maximum: 100_000)) == nil)
        #expect(Self.violation(Self.take(&g, atoms[1], maximum: 100_000))?.contains("exceed 100000 bytes") == true)
        var e = FragmentAssembler()
        #expect(Self.violation(Self.take(&e, [131, 68, 1, 0, 0]))?.contains("atom cache") == true)
        #expect(Self.violation(Self.take(&e, [112, 131, 97, 1]))?.contains("without a distribution header") == true)
        var zero = frames[0]
        for i in 10..<18 { zero[i] = 0 }
        #expect(Self.violation(Self.take(&e, zero))?.contains("0 fragments") == true)
        #expect(Self.violation(Self.take(&e, [131, 70, 0]))?.contains("truncated") == true)
        // A message announced as two fragments whose large binary is not complete after the second.
        var short = frames[0]
        for i in 10..<17 { short[i] = 0 }
        short[17] = 2
        var f = FragmentAssembler()
        #expect(Self.violation(Self.take(&f, short)) == nil)
        #expect(Self.violation(Self.take(&f, frames[3]))?.contains("cut short") == true)
    }

    @Test("10 MB both ways with Erlang: in fragments, intact; a small message overtakes it, one sender's order holds")
    func bigMessagesWithErlang() async throws {
        let (peer, node) = try await connectedPair("frag_peer", "frag_swift")
        defer { stop(peer, node) }
        let log = Log<Envelope<Term>>()
        let collector = try await spawnTermCollector(node, name: "collector", into: log)
        let big = Term.binary((0..<(10 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 13) })
        let echo = peer.echo()
        // A sends the big message then a small one; B, right after A in the same loop pass, a small one. All
        // go to Erlang's echo, which forwards each to the collector in the order it got them.
        let (a, b) = try await node.perform { node -> (PID, PID) in
            let to = Term.pid(node.externalPID(for: collector)!)
            func forward(_ message: Term) -> Term {
                .tuple([.atom("$gen_cast"), .tuple([.atom("forward"), to, message])])
            }
            let a = try node.spawn(of: Term.self) { _ in
                .receive { _, process in
                    try? process.send(forward(.tuple([.atom("big"), big])), to: echo)
                    try? process.send(forward(.atom("a_small")), to: echo)
                    return .same
                }
            }
            let b = try node.spawn(of: Term.self) { _ in
                .receive { _, process in
                    try? process.send(forward(.atom("b_small")), to: echo)
                    return .same
                }
            }
            return (a.pid, b.pid)
        }
        try await node.perform { node in
            try node.send(Term.atom("go"), to: a)
            try node.send(Term.atom("go"), to: b)
        }
        try await eventually("three forwarded messages") { log.messages.count == 3 }
        let got = log.messages.map { term -> String in
            guard case .tuple(let e) = term, e.first == .atom("big") else { return "\(term)" }
            return e.count == 2 && e[1] == big ? "big, intact" : "big, damaged"
        }
        #expect(got == ["b_small", "big, intact", "a_small"])
        let statistics = try await node.perform { $0.statistics }
        #expect(statistics.fragmentedSent == 1)
        #expect(statistics.fragmentedReceived == 1)
        #expect(try await command(node, peer, .atom("nodes")) == .list([.atom(swiftName("frag_swift"))]))
    }
}
