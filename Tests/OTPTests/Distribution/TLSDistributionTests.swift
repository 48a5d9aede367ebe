import Foundation
import Testing
@testable import OTP
import OTPTLS

/// A swift-otp node on TLS distribution with `leaf`'s certificate (`TestPKI`), its log captured.
private func tlsNode(_ name: String, leaf: String = "node", log: CapturedLog = CapturedLog(),
                     setupTime: Duration = .seconds(7),
                     adjust: (inout TLSConfiguration) -> Void = { _ in }) async throws -> Node {
    var configuration = TestPKI.shared.configuration(leaf)
    adjust(&configuration)
    let security = try TLSDistribution(configuration)
    return try await clusterNode(name, logger: log.logger) {
        $0.security = security
        $0.setupTime = setupTime
    }
}

/// The secure-channel failures a node logged.
private func securityFailures(_ log: CapturedLog) -> [String] {
    log.messages("distribution connection refused or closed").compactMap { $0.metadata["error"] }
        .filter { $0.contains("secure channel") }
}

@Suite("Distribution over TLS (inet_tls_dist): encrypted, authenticated by certificates, with Erlang", .serialized)
struct TLSDistributionTests {
    @Test("Two Swift nodes connect over TLS, name each other's certificate, and exchange messages")
    func swiftToSwift() async throws {
        let logA = CapturedLog()
        let a = try await tlsNode("tls_pair_a", log: logA)
        let b = try await tlsNode("tls_pair_b")
        defer { shutdown(a); shutdown(b) }
        let received = Log<Envelope<Term>>()
        let collector = try await spawnTermCollector(b, name: "collector", into: received)
        _ = collector
        #expect(try await a.connect(to: swiftName("tls_pair_b")))
        try await a.perform { node in
            try node.send(Term.atom("over_tls"), to: PID.remote(.name("collector", node: swiftName("tls_pair_b"))))
        }
        try await eventually("the message over TLS") { received.messages == [.atom("over_tls")] }
        let connected = logA.messages("node connected")
        #expect(connected.count == 1)
        #expect(connected.first?.metadata["certificate"]?.hasPrefix("/CN=node (TLSv1.3)") == true)

        // b leaves the cluster and ends its TLS sessions politely: a sees its node go, not a failure.
        try await b.perform { $0.stopDistribution() }
        try await eventually("b gone") { try await a.perform { $0.connectedNodes().isEmpty } }
        #expect(securityFailures(logA).isEmpty)
    }

    @Test("A Swift node calls an Erlang node on inet_tls_dist, and the Erlang node calls a Swift node")
    func withErlang() async throws {
        let peer = try ErlangPeer(name: "tls_erl", tls: try TestPKI.shared.erlangOptionsFile())
        let logA = CapturedLog()
        let a = try await tlsNode("tls_erl_a", log: logA)
        let logB = CapturedLog()
        let b = try await tlsNode("tls_erl_b", log: logB)
        defer { shutdown(a); shutdown(b); peer.stop() }
        try await connect(a, to: peer)
        // Swift calls (the TLS client), Erlang answers (the server).
        let echoed = try await a.call(remote: peer.echo(), Term.tuple([.atom("echo"), .atom("hello")]), as: Term.self,
                                      timeout: .seconds(30))
        #expect(echoed == .atom("hello"))
        // Erlang calls b (the TLS client now), and sends to a process there.
        let received = Log<Envelope<Term>>()
        _ = try await spawnTermCollector(b, name: "collector", into: received)
        let nameB = swiftName("tls_erl_b")
        #expect(try await command(a, peer, .tuple([.atom("ping"), .atom(nameB)])) == .atom("pong"))
        let target = Term.tuple([.atom("collector"), .atom(nameB)])
        #expect(try await command(a, peer, .tuple([.atom("send"), target, .atom("from_erlang")])) == .atom("ok"))
        try await eventually("Erlang's message over TLS") { received.messages == [.atom("from_erlang")] }
        #expect(logB.messages("node connected").first?.metadata["certificate"]?.hasPrefix("/CN=node") == true)
        #expect(securityFailures(logB).isEmpty)

        // A 3 MB binary goes both ways in fragments through TLS records. Generous deadlines for both echo
        // calls: under `make test-tsan`, every suite at once on two cores (the 10 MB exchange with Erlang
        // among them), one of them timed out once (the error does not say which; this one had 20 s);
        // alone the whole test takes a few seconds.
        let big = Term.binary([UInt8](repeating: 7, count: 3 << 20))
        let back = try await a.call(remote: peer.echo(), Term.tuple([.atom("echo"), big]), as: Term.self,
                                    timeout: .seconds(90))
        #expect(back == big)
        let fragmented = try await a.perform { node in node.statistics.fragmentedReceived }
        #expect(fragmented >= 1)

        // Erlang ends the TLS session with a (disconnect, over b's connection): a's connection closes
        // as any other does, not as a failure.
        let nameA = swiftName("tls_erl_a")
        #expect(try await command(b, peer, .tuple([.atom("disconnect"), .atom(nameA)])) == .true)
        try await eventually("the disconnection") { try await a.perform { !$0.connectedNodes().contains(peer.name) } }
        #expect(securityFailures(logA).isEmpty)
    }

    @Test("Certificates that do not verify are refused in both directions, and the reason is logged")
    func untrustedRefused() async throws {
        let peer = try ErlangPeer(name: "tls_refuse", tls: try TestPKI.shared.erlangOptionsFile())
        let good = try await tlsNode("tls_refuse_good")
        let logRogue = CapturedLog()
        let rogue = try await tlsNode("tls_refuse_rogue", leaf: "rogue", log: logRogue)
        let misnamed = try await tlsNode("tls_refuse_misnamed", leaf: "elsewhere")
        defer { shutdown(good); shutdown(rogue); shutdown(misnamed); peer.stop() }
        try await connect(good, to: peer)

        // A certificate from another authority: Erlang refuses the caller, and the callee.
        #expect(try await rogue.connect(to: peer.name) == false)
        #expect(securityFailures(logRogue).first?.contains(peer.name) == true)
        #expect(try await command(good, peer, .tuple([.atom("ping"), .atom(swiftName("tls_refuse_rogue"))])) == .atom("pang"))

        // A certificate that does not name the host called: Erlang (calling) refuses it.
        #expect(try await command(good, peer, .tuple([.atom("ping"), .atom(swiftName("tls_refuse_misnamed"))])) == .atom("pang"))

        // Swift checks the same: the rogue caller is refused by a Swift node, which says why.
        let logGood = CapturedLog()
        let judge = try await tlsNode("tls_refuse_judge", log: logGood)
        defer { shutdown(judge) }
        #expect(try await rogue.connect(to: swiftName("tls_refuse_judge")) == false)
        try await eventually("the judge's log") { !securityFailures(logGood).isEmpty }
        #expect(securityFailures(logGood).first?.contains("certificate verify failed") == true)
        // And a Swift caller checks the host name in the callee's certificate.
        #expect(try await judge.connect(to: swiftName("tls_refuse_misnamed")) == false)
        let judgeFailures = securityFailures(logGood)
        #expect(judgeFailures.contains { $0.contains(swiftName("tls_refuse_misnamed")) && $0.contains("hostname mismatch") })
    }

    @Test("Without the host-name check, a certificate for another host is accepted")
    func hostNameCheckOff() async throws {
        let a = try await tlsNode("tls_nohost_a") { $0.checkHostName = false }
        let b = try await tlsNode("tls_nohost_b", leaf: "elsewhere")
        defer { shutdown(a); shutdown(b) }
        #expect(try await a.connect(to: swiftName("tls_nohost_b")))
    }

    @Test("A plain node and a TLS node do not connect, either way; garbage on the TLS port is dropped")
    func plainAndGarbageRefused() async throws {
        let logTLS = CapturedLog()
        let secure = try await tlsNode("tls_plain_secure", log: logTLS)
        let plain = try await clusterNode("tls_plain_plain")
        defer { shutdown(secure); shutdown(plain) }
        #expect(try await plain.connect(to: swiftName("tls_plain_secure")) == false)
        #expect(try await secure.connect(to: swiftName("tls_plain_plain")) == false)

        let port = try await secure.perform { $0.distributionPort }
        let raw = try RawPeer(port: port)
        raw.sendName("intruder@localhost")  // the plain handshake's first message
        #expect(raw.isClosed(within: .seconds(5)))
        // The node still works: another TLS node connects.
        let other = try await tlsNode("tls_plain_other")
        defer { shutdown(other) }
        #expect(try await other.connect(to: swiftName("tls_plain_secure")))
        // Nothing the intruder sent reached the log unescaped.
        for record in logTLS.records.entries {
            #expect(!(record.metadata["error"] ?? "").unicodeScalars.contains { $0.value < 0x20 })
        }
    }

    @Test("A caller that stalls in the TLS handshake is closed at setupTime")
    func stalledHandshake() async throws {
        let log = CapturedLog()
        let node = try await tlsNode("tls_stall", log: log, setupTime: .seconds(1))
        defer { shutdown(node) }
        let port = try await node.perform { $0.distributionPort }
        let staller = try RawPeer(port: port)
        staller.send([0x16, 0x03, 0x01, 0x00, 0x40, 0x01])  // the start of a ClientHello, never finished
        #expect(staller.isClosed(within: .milliseconds(300)) == false)
        #expect(staller.isClosed(within: .seconds(4)))
        let expired = log.messages("distribution connection refused or closed")
            .filter { $0.metadata["error"]?.contains("net_setuptime") == true }
        #expect(expired.count == 1)
        #expect(expired.first?.level == .debug)  // a caller that never named itself: not worth a warning
    }

    @Test("A bad configuration is a typed error naming the file")
    func configurationErrors() {
        let pki = TestPKI.shared
        var missing = pki.configuration()
        missing.certificateFile = pki.path("absent.pem")
        let missingRefusal = refusal(missing)
        #expect(missingRefusal?.kind == "certificate")
        #expect(missingRefusal?.path == pki.path("absent.pem"))

        var mismatched = pki.configuration()
        mismatched.privateKeyFile = pki.path("rogue.key")
        let mismatchRefusal = refusal(mismatched)
        #expect(mismatchRefusal?.kind == "privateKey")
        #expect(mismatchRefusal?.path == pki.path("rogue.key"))
        #expect(mismatchRefusal?.reason == "not the key of the certificate in \(pki.path("node.pem"))")

        // Refused at once: OpenSSL is not let to ask for a passphrase on the terminal.
        var encrypted = pki.configuration()
        encrypted.privateKeyFile = pki.path("encrypted.key")
        let encryptedRefusal = refusal(encrypted)
        #expect(encryptedRefusal?.kind == "privateKey")
        #expect(encryptedRefusal?.path == pki.path("encrypted.key"))

        var noCA = pki.configuration()
        noCA.trustedCAFile = pki.path("absent-ca.pem")
        let caRefusal = refusal(noCA)
        #expect(caRefusal?.kind == "trustedCA")
        #expect(caRefusal?.path == pki.path("absent-ca.pem"))
    }

    /// What `TLSDistribution(configuration)` refuses it with: the kind of file, its path and the reason
    /// (`nil` when it is accepted).
    private func refusal(_ configuration: TLSConfiguration) -> (kind: String, path: String, reason: String)? {
        do {
            _ = try TLSDistribution(configuration)
            return nil
        } catch {
            switch error {
            case .certificate(let path, let reason): return ("certificate", path, reason)
            case .privateKey(let path, let reason): return ("privateKey", path, reason)
            case .trustedCA(let path, let reason): return ("trustedCA", path, reason)
            case .library(let reason): return ("library", "", reason)
            }
        }
    }
}
