import Foundation
import Testing
@testable import OTP

@Suite("Distribution wire: MD5, handshake, cookies, control messages, Codable terms")
struct DistributionWireTests {
    private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test("MD5 matches RFC 1321's test suite")
    func md5() {
        #expect(hex(MD5.digest([])) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(hex(MD5.digest(Array("abc".utf8))) == "900150983cd24fb0d6963f7d28e17f72")
        #expect(hex(MD5.digest(Array("message digest".utf8))) == "f96b697d7cb7938d525a2f31aaf161d0")
        let digits = "12345678901234567890123456789012345678901234567890123456789012345678901234567890"
        #expect(hex(MD5.digest(Array(digits.utf8))) == "57edf4a22be3c955ac49da2e2107b67a")
    }

    /// Runs both sides of a handshake against each other in memory.
    private func handshake(initiatorCookie: String, acceptorCookie: String, lengthSize: Int = 2) throws
        -> (Handshake.Step?, Handshake.Step?)
    {
        var a = Handshake(role: .initiator, localName: "a@h", creation: 1, cookie: initiatorCookie, challenge: 12345,
                          expectedPeer: "b@h", lengthSize: lengthSize)
        var b = Handshake(role: .acceptor, localName: "b@h", creation: 2, cookie: acceptorCookie, challenge: 4_000_000_000,
                          lengthSize: lengthSize)
        var toB = a.start(), toA: [UInt8] = []
        var doneA: Handshake.Step?, doneB: Handshake.Step?
        for _ in 0..<4 {
            var steps = try toB.withUnsafeBytes({ try b.receive($0) })
            if case .named = steps.first { steps = try b.proceed(with: .ok) }
            for step in steps {
                if case .send(let bytes) = step { toA += bytes } else { doneB = step }
            }
            toB = []
            for step in try toA.withUnsafeBytes({ try a.receive($0) }) {
                if case .send(let bytes) = step { toB += bytes } else { doneA = step }
            }
            toA = []
        }
        return (doneA, doneB)
    }

    @Test("A handshake completes with the same cookie; each side learns the other's name, flags and creation")
    func handshakeCompletes() throws {
        let (a, b) = try handshake(initiatorCookie: "c", acceptorCookie: "c")
        #expect(a == .completed(peer: "b@h", flags: .ours, creation: 2))
        #expect(b == .completed(peer: "a@h", flags: .ours, creation: 1))
    }

    @Test("Over a secure channel every handshake message has a 4-byte length (inet_tls_dist's {packet, 4})")
    func handshakeFourByteLengths() throws {
        let (a, b) = try handshake(initiatorCookie: "c", acceptorCookie: "c", lengthSize: 4)
        #expect(a == .completed(peer: "b@h", flags: .ours, creation: 2))
        #expect(b == .completed(peer: "a@h", flags: .ours, creation: 1))
        let first = Handshake(role: .initiator, localName: "a@h", creation: 1, cookie: "c", challenge: 1, lengthSize: 4).start()
        #expect(Array(first.prefix(5)) == [0, 0, 0, UInt8(first.count - 4), UInt8(ascii: "N")])
        // A 2-byte peer's message read as a 4-byte length is too long: refused before it is buffered.
        var acceptor = Handshake(role: .acceptor, localName: "b@h", creation: 2, cookie: "c", challenge: 2, lengthSize: 4)
        let plain = Handshake(role: .initiator, localName: "a@h", creation: 1, cookie: "c", challenge: 1).start()
        #expect(throws: DistributionError.self) { try plain.withUnsafeBytes { try acceptor.receive($0) } }
    }

    @Test("A different cookie is refused by the side that checks the digest")
    func handshakeBadCookie() {
        #expect(throws: DistributionError.badCookie("a@h")) { try handshake(initiatorCookie: "x", acceptorCookie: "y") }
    }

    @Test("Status alive: the initiator confirms it restarted with strue; an acceptor told sfalse declines")
    func handshakeAlive() throws {
        var a = Handshake(role: .initiator, localName: "a@h", creation: 1, cookie: "c", challenge: 1, expectedPeer: "b@h")
        _ = a.start()
        #expect(try Handshake.frame(Array("salive".utf8)).withUnsafeBytes { try a.receive($0) }
            == [.send(Handshake.frame(Array("strue".utf8)))])
        var b = Handshake(role: .acceptor, localName: "b@h", creation: 2, cookie: "c", challenge: 1)
        let named = try a.start().withUnsafeBytes { try b.receive($0) }
        #expect(named == [.named("a@h")])
        #expect(try b.proceed(with: .alive) == [.send(Handshake.frame(Array("salive".utf8)))])
        #expect(try Handshake.frame(Array("sfalse".utf8)).withUnsafeBytes { try b.receive($0) } == [.declined])
        // A length prefix over the bound is refused before its body arrives.
        var c = Handshake(role: .acceptor, localName: "b@h", creation: 2, cookie: "c", challenge: 1)
        #expect(throws: DistributionError.self) { try [UInt8]([0x04, 0x01]).withUnsafeBytes { _ = try c.receive($0) } }
    }

    @Test("A peer lacking a mandatory flag is refused, naming the flag; a version 5 peer is refused")
    func handshakeFlags() throws {
        var b = Handshake(role: .acceptor, localName: "b@h", creation: 2, cookie: "c", challenge: 1)
        var name = TermWriter()
        name.u8(UInt8(ascii: "N"))
        name.u64(DistributionFlags.ours.subtracting([.utf8Atoms, .unlinkID]).rawValue)
        name.u32(1)
        name.u16(3)
        name.bytes += Array("a@h".utf8)
        let framed = Handshake.frame(name.bytes)
        #expect(throws: DistributionError.missingFlags("a@h", ["UTF8_ATOMS", "UNLINK_ID"])) {
            try framed.withUnsafeBytes { _ = try b.receive($0) }
        }
        var old = Handshake(role: .acceptor, localName: "b@h", creation: 2, cookie: "c", challenge: 1)
        let v5 = Handshake.frame([UInt8(ascii: "n"), 0, 5, 0, 0, 0, 0] + Array("a@h".utf8))
        #expect(throws: DistributionError.self) {
            try v5.withUnsafeBytes { _ = try old.receive($0) }
        }
        #expect(DistributionFlags.ours.isSuperset(of: .required))
        #expect(!DistributionFlags.ours.contains(.distHeaderAtomCache) && DistributionFlags.ours.contains(.fragments))
    }

    @Test("Cookie files: readable by others is refused as Erlang refuses it; missing is noCookie; 0400 is read")
    func cookieFiles() throws {
        let directory = NSTemporaryDirectory() + "swift-otp-cookie-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/.erlang.cookie"
        try "SECRET\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o644)
        #expect(throws: DistributionError.insecureCookieFile(path: path, mode: "644")) { try CookieSource.file(path).resolve() }
        chmod(path, 0o400)
        #expect(try CookieSource.file(path).resolve() == "SECRET")
        #expect(throws: DistributionError.noCookie(path: directory + "/none")) {
            try CookieSource.file(directory + "/none").resolve()
        }
        #expect(try CookieSource.value("v").resolve() == "v")
        // Neither errors nor descriptions carry the cookie.
        #expect(!DistributionError.insecureCookieFile(path: path, mode: "644").description.contains("SECRET"))
        #expect(!CookieSource.value("SECRET").description.contains("SECRET"))
        #expect(!DistributionOptions(name: "a@h", cookie: .value("SECRET")).description.contains("SECRET"))
    }

    @Test("Node names: name@host only")
    func nodeNames() {
        #expect(NodeName.isValidLocal("swift@localhost"))
        #expect(NodeName.isValidLocal("a_b-1@host.example.com"))
        for bad in ["swift", "@host", "swift@", "a@b@c", "sp ace@h", "a.b@h"] { #expect(!NodeName.isValidLocal(bad), "\(bad)") }
        // A peer's name may be any printable name@host of at most 255 characters.
        #expect(NodeName.problem(with: "elixir.app-1@host.example.com") == nil)
        #expect(NodeName.problem(with: "ünï@höst") == nil)
        #expect(NodeName.problem(with: String(repeating: "a", count: 250) + "@host") == nil)
        for bad in ["", "nohost", "@h", "a@", "a@b@c", "a b@h", "a\nb@h", "a\u{1B}[31m@h", "a\u{202E}b@h",
                    "a\u{0}@h", String(repeating: "a", count: 251) + "@host"] {
            #expect(NodeName.problem(with: bad) != nil, "\(LogText(bad))")
        }
    }

    @Test("Control messages decode from and encode to their tuples; trace-token and payload forms read too")
    func controlMessages() throws {
        let a = ExternalPID(node: "a@h", id: 1, serial: 0, creation: 1)
        let b = ExternalPID(node: "b@h", id: 2, serial: 0, creation: 2)
        let ref = ExternalReference(node: "a@h", creation: 1, ids: [1, 2, 3])
        let messages: [ControlMessage] = [
            .link(from: a, to: b), .send(to: b), .sendSender(from: a, to: b), .regSend(from: a, to: "name"),
            .aliasSend(from: a, alias: ref), .exit(from: a, to: b, reason: .atom("boom")),
            .exit2(from: a, to: b, reason: .atom("kill")), .monitor(from: a, target: .atom("srv"), ref: ref),
            .demonitor(from: a, target: .pid(b), ref: ref),
            .monitorExit(target: .pid(b), to: a, ref: ref, reason: .atom("noproc")),
            .unlinkID(id: 7, from: a, to: b), .unlinkIDAck(id: 1 << 63, from: b, to: a),
        ]
        for message in messages {
            #expect(try ControlMessage(control: message.control, payload: message.reasonPayload) == message)
        }
        // EXIT with the reason inside the tuple (a peer without payload exits), and SEND_TT with a token.
        #expect(try ControlMessage(control: .tuple([.integer(3), .pid(a), .pid(b), .atom("r")]), payload: nil)
            == .exit(from: a, to: b, reason: .atom("r")))
        #expect(try ControlMessage(control: .tuple([.integer(12), .atom(""), .pid(b), .atom("token")]), payload: .atom("m"))
            == .send(to: b))
        #expect(throws: TermConversionError.self) { try ControlMessage(control: .tuple([.integer(1), .atom("x")]), payload: nil) }
        #expect(throws: TermConversionError.self) { try ControlMessage(control: .atom("x"), payload: nil) }
    }

    struct Order: Codable, Equatable, TermConvertible {
        var id: Int
        var item: String
        var quantity: UInt8
        var price: Double
        var express: Bool
        var note: String?
        var tags: [String]
    }

    @Test("Codable types become maps with atom keys and come back; Erlang-shaped input decodes too")
    func codable() throws {
        let order = Order(id: 7, item: "book", quantity: 2, price: 9.5, express: true, note: nil, tags: ["a", "b"])
        let term = try order.toTerm()
        #expect(term == .map([
            .init(.atom("id"), .integer(7)), .init(.atom("item"), .string("book")), .init(.atom("quantity"), .integer(2)),
            .init(.atom("price"), .float(9.5)), .init(.atom("express"), .true),
            .init(.atom("tags"), .list([.string("a"), .string("b")])),
        ]))
        #expect(try Order(term: term) == order)
        // From Erlang: binary keys, a charlist, an integer price, `undefined` for nil, a tuple for the list.
        let erlang = Term.map([
            .init(.string("id"), .integer(7)), .init(.atom("item"), .charlist("book")), .init(.atom("quantity"), .integer(2)),
            .init(.atom("price"), .integer(9)), .init(.atom("express"), .false), .init(.atom("note"), .undefined),
            .init(.atom("tags"), .tuple([.atom("a")])),
        ])
        #expect(try Order(term: erlang) == Order(id: 7, item: "book", quantity: 2, price: 9, express: false, note: nil, tags: ["a"]))
        #expect(throws: TermConversionError.self) { try Order(term: .map([.init(.atom("id"), .integer(1))])) }
        #expect(throws: TermConversionError.self) {
            try Order(term: .map(erlang.mapPairs.map { $0.key == .atom("quantity") ? .init($0.key, .integer(300)) : $0 }))
        }
        #expect(throws: TermConversionError.self) { try Double.infinity.toTerm() }
    }

    @Test("Exit reasons map to Erlang's and back")
    func exitReasons() {
        let reasons: [ExitReason] = [.normal, .shutdown, .shutdownWith("x"), .kill, .killed, .noproc, .noconnection,
                                     .custom("boom"), .error(RemoteExit(.tuple([.atom("badarith"), .list([])])))]
        for reason in reasons { #expect(ExitReason(term: reason.term) == reason) }
        #expect(ExitReason.error(Boom()).term == .tuple([.atom("error"), .string("Boom: boom")]))
    }
}

extension Term {
    var mapPairs: [MapPair] {
        if case .map(let pairs) = self { return pairs }
        return []
    }
}
