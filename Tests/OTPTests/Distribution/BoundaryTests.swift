import Foundation
import Testing
@testable import OTP

/// Frames a handshake body as the wire does.
private func frame(_ text: String) -> [UInt8] { Handshake.frame(Array(text.utf8)) }

/// No log record carries a raw control character (one record is one line, whatever a peer sent).
private func expectOneLineRecords(_ log: CapturedLog, sourceLocation: SourceLocation = #_sourceLocation) {
    for record in log.records.entries {
        for text in [record.message] + Array(record.metadata.values) {
            #expect(!text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "\(record.message)",
                    sourceLocation: sourceLocation)
        }
    }
}

@Suite("Distribution: the node's boundary against unauthenticated and hostile peers", .serialized)
struct BoundaryTests {
    /// Two Swift nodes, `a` connected to `b`, with `a`'s log captured.
    private func connectedNodes(_ tag: String, log: CapturedLog,
                                adjust: @escaping (inout DistributionOptions) -> Void = { _ in }) async throws
        -> (a: Node, b: Node, nameB: String)
    {
        let a = try await clusterNode("swift_\(tag)_a", logger: log.logger, adjust: adjust)
        let b = try await clusterNode("swift_\(tag)_b")
        let nameB = swiftName("swift_\(tag)_b")
        #expect(try await a.connect(to: nameB))
        return (a, b, nameB)
    }

    private func connectionID(_ node: Node, _ peer: String) async throws -> ObjectIdentifier? {
        try await node.perform { node in node.distribution?.connections[peer].map(ObjectIdentifier.init) }
    }

    @Test("A caller without the cookie that claims a connected peer's name is answered alive and changes nothing")
    func nameTakeoverRefused() async throws {
        let log = CapturedLog()
        let (a, b, nameB) = try await connectedNodes("takeover", log: log)
        defer { shutdown(a); shutdown(b) }
        let before = try await connectionID(a, nameB)
        let port = try await a.perform { $0.distributionPort }

        // Says it restarted, gets the challenge, answers it without the cookie: refused.
        let liar = try RawPeer(port: port)
        liar.sendName(nameB)
        #expect(liar.readMessage() == Array("salive".utf8))
        liar.send(frame("strue"))
        let challenge = liar.readMessage()
        #expect(challenge?.first == UInt8(ascii: "N"))
        liar.send(Handshake.frame([UInt8(ascii: "r"), 0, 0, 0, 1] + [UInt8](repeating: 0, count: 16)))
        #expect(liar.isClosed(within: .seconds(3)))

        // Says it did not restart: closed quietly.
        let shy = try RawPeer(port: port)
        shy.sendName(nameB)
        #expect(shy.readMessage() == Array("salive".utf8))
        shy.send(frame("sfalse"))
        #expect(shy.isClosed(within: .seconds(3)))

        // The real peer's connection is the same one, still up, and still carries messages.
        #expect(try await connectionID(a, nameB) == before)
        #expect(try await a.perform { $0.connectedNodes() } == [nameB])
        let received = Log<Envelope<Term>>()
        _ = try await spawnTermCollector(b, name: "inbox", into: received)
        try await a.perform { node in try node.send(Term.atom("still_here"), to: node.remote("inbox", on: nameB)) }
        try await eventually("the message over the kept connection") { received.count == 1 }
        #expect(received.messages == [.atom("still_here")])
        #expect(!log.records.entries.contains { $0.message == "node disconnected" })
        #expect(log.records.entries.contains { $0.metadata["error"]?.contains("cookie digest does not match") == true })
    }

    @Test("A caller that proves the cookie after alive (a restarted peer) replaces the stale connection")
    func restartedPeerReplaces() async throws {
        let log = CapturedLog()
        let (a, b, nameB) = try await connectedNodes("restart", log: log)
        defer { shutdown(a); shutdown(b) }
        let before = try await connectionID(a, nameB)
        let port = try await a.perform { $0.distributionPort }
        let peer = try RawPeer(port: port)
        peer.sendName(nameB)
        #expect(peer.readMessage() == Array("salive".utf8))
        peer.send(frame("strue"))
        let challenge = try #require(peer.readMessage())
        #expect(challenge.count > 17)
        let theirs = challenge.uint32(at: 9)
        let ours: UInt32 = 42
        let digest = MD5.digest(Array(ErlangPeer.cookie.utf8) + Array(String(theirs).utf8))
        var reply = TermWriter()
        reply.u8(UInt8(ascii: "r"))
        reply.u32(ours)
        peer.send(Handshake.frame(reply.bytes + digest))
        let ack = try #require(peer.readMessage())
        #expect(ack == [UInt8(ascii: "a")] + MD5.digest(Array(ErlangPeer.cookie.utf8) + Array(String(ours).utf8)))
        try await eventually("the new connection takes the name") {
            (try? await connectionID(a, nameB)) != before
        }
        #expect(try await connectionID(a, nameB) != nil)
        #expect(log.records.entries.contains { $0.metadata["reason"]?.contains("connected again (restarted)") == true })
    }

    @Test("Handshakes have a deadline (setupTime) and a bound (maximumPendingHandshakes); the node keeps serving")
    func handshakeDeadlineAndBound() async throws {
        let log = CapturedLog()
        let a = try await clusterNode("swift_silent", logger: log.logger) { options in
            options.setupTime = .seconds(4)
            options.maximumPendingHandshakes = 8
        }
        defer { shutdown(a) }
        let port = try await a.perform { $0.distributionPort }
        var silent: [RawPeer] = []
        for _ in 0..<8 { silent.append(try RawPeer(port: port)) }
        try await eventually("eight pending handshakes") {
            (try? await a.perform { $0.distribution?.pendingHandshakes ?? -1 }) == 8
        }
        // The ninth is closed at once; the eight are still open then.
        let ninth = try RawPeer(port: port)
        #expect(ninth.isClosed(within: .seconds(1)))
        #expect(try await a.perform { $0.distribution?.pendingHandshakes } == 8)
        // Past the deadline every silent caller is gone.
        for peer in silent { #expect(peer.isClosed(within: .seconds(10))) }
        #expect(try await a.perform { $0.distribution?.pendingHandshakes } == 0)
        // And a real peer still gets in.
        let b = try await clusterNode("swift_silent_b")
        defer { shutdown(b) }
        #expect(try await b.connect(to: swiftName("swift_silent")))
        #expect(log.messages("distribution caller refused: too many pending handshakes").count == 1)
    }

    @Test("Handshake messages over the bound, and names Erlang refuses, end the handshake before anything else")
    func badNamesAndLengths() async throws {
        let log = CapturedLog()
        let (a, b, nameB) = try await connectedNodes("names", log: log)
        defer { shutdown(a); shutdown(b) }
        let port = try await a.perform { $0.distributionPort }
        let nameA = swiftName("swift_names_a")

        // A 65,535-byte length prefix: refused from the prefix, before the body is buffered.
        let long = try RawPeer(port: port)
        long.send([0xFF, 0xFF] + [UInt8](repeating: 0x41, count: 1000))
        #expect(long.isClosed(within: .seconds(3)))

        let refused = ["", "nohost", "@h", "a@", "a@b@c", "evil\nINFO forged line@h", "a\u{1B}[31mred@h", "a\u{0}@h",
                       String(repeating: "x", count: 300) + "@h"]
        for name in refused {
            let peer = try RawPeer(port: port)
            peer.sendName(name)
            #expect(peer.readMessage(timeout: .seconds(1)) == nil, "\(LogText(name))")
            #expect(peer.isClosed(within: .seconds(3)), "\(LogText(name))")
        }
        // Invalid UTF-8.
        let garbled = try RawPeer(port: port)
        var body = TermWriter()
        body.u8(UInt8(ascii: "N")); body.u64(DistributionFlags.ours.rawValue); body.u32(1); body.u16(4)
        body.bytes += [0xC3, 0x28, 0x40, 0x68]
        garbled.send(Handshake.frame(body.bytes))
        #expect(garbled.isClosed(within: .seconds(3)))

        // This node's own name is not allowed.
        let mirror = try RawPeer(port: port)
        mirror.sendName(nameA)
        #expect(mirror.readMessage() == Array("snot_allowed".utf8))
        #expect(mirror.isClosed(within: .seconds(3)))

        #expect(try await a.perform { $0.connectedNodes() } == [nameB])
        #expect(try await a.perform { $0.distribution?.pendingHandshakes } == 0)
        let refusals = log.records.entries.filter { $0.metadata["error"]?.hasPrefix("handshake with") == true }
        #expect(refusals.count == refused.count + 3)
        #expect(refusals.contains { $0.metadata["error"]?.contains("evil\\nINFO forged line@h") == true })
        #expect(refusals.contains { $0.metadata["error"]?.contains("exceeds 1024") == true })
        expectOneLineRecords(log)
    }

    @Test("Peer-supplied names and terms reach the log escaped and bounded, however large")
    func logInjection() async throws {
        let log = CapturedLog()
        let (a, b, nameB) = try await connectedNodes("inject", log: log)
        defer { shutdown(a); shutdown(b) }
        let nameA = swiftName("swift_inject_a")
        // From b: to an unregistered name with a newline, a term with escapes, and a 20 MB binary.
        let huge = Term.binary([UInt8](repeating: 0x41, count: 20 << 20))
        let started = ContinuousClock.now
        try await b.perform { node in
            try node.send(Term.tuple([.atom("x\n\u{1B}[2Jy"), .string("\u{202E}evil")]), to: node.remote("no\nbody", on: nameA))
            try node.send(huge, to: node.remote("nobody", on: nameA))
        }
        try await eventually("both drops logged") { log.messages("message from another node dropped").count == 2 }
        #expect(ContinuousClock.now - started < .seconds(5))
        let drops = log.messages("message from another node dropped")
        #expect(drops[0].metadata["target"] == "no\\nbody")
        // Binary text with an invisible character shows as bytes.
        #expect(drops[0].metadata["message"] == "{'x\\n\\u{1b}[2Jy', <<226,128,174,101,118,105,108>>}")
        #expect(drops[1].metadata["message"]?.count == 201)  // 200 characters and "…"
        expectOneLineRecords(log)
        #expect(try await a.perform { $0.connectedNodes() } == [nameB])
    }

    @Test("A control message naming a sender of another node than the peer is a protocol violation")
    func forgedSender() async throws {
        let log = CapturedLog()
        let a = try await clusterNode("swift_forge_a")
        let b = try await clusterNode("swift_forge_b", logger: log.logger)
        defer { shutdown(a); shutdown(b) }
        let nameB = swiftName("swift_forge_b")
        let received = Log<Envelope<Term>>()
        _ = try await spawnTermCollector(b, name: "inbox", into: received)
        #expect(try await a.connect(to: nameB))
        let forged = ExternalPID(node: "someone_else@h", id: 1, serial: 0, creation: 1)
        try await a.perform { node in
            node.distribution?.connections[nameB]?.send(ControlMessage.regSend(from: forged, to: "inbox").control,
                                                         payload: .atom("forged"))
        }
        try await eventually("the violation") { log.records.entries.contains { $0.metadata["error"]?.contains("protocol violation") == true } }
        #expect(log.records.entries.contains { $0.metadata["error"]?.contains("not a process of") == true })
        #expect(received.count == 0)
        #expect(RemoteIdentities.shared.rows(forNode: "someone_else@h") == 0)
    }

    @Test("A full mailbox holds back only its own messages: ticks are heard, other processes get theirs")
    func fullMailboxKeepsTheConnection() async throws {
        let log = CapturedLog()
        let b = try await clusterNode("swift_held_b", logger: log.logger, tickTime: .seconds(1))
        defer { shutdown(b) }
        let a = try await clusterNode("swift_held_a", tickTime: .seconds(1))
        defer { shutdown(a) }
        let nameB = swiftName("swift_held_b"), nameA = swiftName("swift_held_a")
        let slow = Log<Int>(), other = Log<Envelope<Term>>()
        // Room for 2 messages, reads nothing for 2.5 s (longer than two tick times), then everything.
        try await b.perform { node in
            let address = try node.spawn(of: Term.self, options: SpawnOptions(mailboxCapacity: 2)) { _ in
                .receive(matching: { _ in false }, timeout: .milliseconds(2500), after: { _ in
                    .receive { envelope, _ in
                        if case .message(let term) = envelope, let n = term.intValue { slow.append(n) }
                        return .same
                    }
                }) { _, _ in .same }
            }
            try node.register("slow", address.pid)
        }
        _ = try await spawnTermCollector(b, name: "other", into: other)
        try await a.perform { node in
            for i in 1...20 { try node.send(Term.integer(i), to: node.remote("slow", on: nameB)) }
            try node.send(Term.atom("meanwhile"), to: node.remote("other", on: nameB))
        }
        try await eventually("the other process's message") { other.count == 1 }
        #expect(slow.count == 0)
        try await eventually("all 20, after the pause") { slow.count == 20 }
        #expect(slow.entries == Array(1...20))
        #expect(try await b.perform { $0.connectedNodes() } == [nameA])
        #expect(!log.records.entries.contains { $0.metadata["error"]?.contains("net_tick_timeout") == true })
    }

    @Test("Past maximumHeldBytes the connection stops reading; the tick timeout waits, nothing is lost")
    func heldBytesBound() async throws {
        let log = CapturedLog()
        let b = try await clusterNode("swift_bound_b", logger: log.logger, tickTime: .seconds(1)) { options in
            options.maximumHeldBytes = 2000
        }
        defer { shutdown(b) }
        let a = try await clusterNode("swift_bound_a", tickTime: .seconds(1))
        defer { shutdown(a) }
        let nameB = swiftName("swift_bound_b"), nameA = swiftName("swift_bound_a")
        let slow = Log<Int>()
        try await b.perform { node in
            let address = try node.spawn(of: Term.self, options: SpawnOptions(mailboxCapacity: 1)) { _ in
                .receive(matching: { _ in false }, timeout: .milliseconds(2500), after: { _ in
                    .receive { envelope, _ in
                        if case .message(let term) = envelope, let e = term.tupleElements, let n = e[0].intValue {
                            slow.append(n)
                        }
                        return .same
                    }
                }) { _, _ in .same }
            }
            try node.register("slow", address.pid)
        }
        try await a.perform { node in
            for i in 1...100 {
                try node.send(Term.tuple([.integer(i), .binary([UInt8](repeating: 7, count: 100))]),
                              to: node.remote("slow", on: nameB))
            }
        }
        try await eventually("the connection paused") {
            (try? await b.perform { $0.distribution?.connections[nameA]?.isPaused }) == true
        }
        try await eventually("all 100 after the pause") { slow.count == 100 }
        #expect(slow.entries == Array(1...100))
        #expect(try await b.perform { $0.connectedNodes() } == [nameA])
        #expect(!log.records.entries.contains { $0.metadata["error"]?.contains("net_tick_timeout") == true })
    }

    @Test("An EPMD that accepts the registration and never answers: start fails after setupTime, naming the port; the node goes on")
    func silentEPMD() async throws {
        let silent = try SilentListener()  // the kernel accepts connections into the backlog; nobody answers
        let node = Node(configuration: NodeConfiguration(logger: quietLogger))
        node.startLoop()
        defer { shutdown(node) }
        let options = DistributionOptions(name: swiftName("swift_silent_epmd"), cookie: .value(ErlangPeer.cookie),
                                          setupTime: .milliseconds(300), epmdPort: silent.port)
        // Started from the loop with a callback, so that this test cannot hang if the deadline is missing.
        let outcome = Log<Result<Void, DistributionError>>()
        try await node.perform { node in try node.startDistribution(options) { outcome.append($0) } }
        try await eventually("the start's outcome") { outcome.count == 1 }  // at most 10 s
        let expected = "epmd on port \(silent.port) did not answer the registration of \(options.name) within 300 ms"
        if case .failure(.epmd(let text))? = outcome.entries.first {
            #expect(text == expected)
        } else {
            Issue.record("expected the registration to fail: \(outcome.entries)")
        }
        #expect(try await node.perform { ($0.distribution == nil, $0.nodeName) } == (true, nil))
        // The node still works, and can join a cluster through a real EPMD afterwards.
        try await node.startDistribution(DistributionOptions(name: swiftName("swift_silent_epmd"),
                                                             cookie: .value(ErlangPeer.cookie)))
        #expect(try await node.perform { $0.nodeName } == swiftName("swift_silent_epmd"))
    }
}

/// A TCP listener on 127.0.0.1 that never accepts or answers: connections complete in the kernel's backlog
/// and whatever they send is never read (a peer that holds a caller without a word).
final class SilentListener {
    let fd: Int32
    let port: UInt16

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw TestFailure(text: "cannot listen on 127.0.0.1: errno \(errno)")
        }
        self.fd = fd
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(fd) }
}
