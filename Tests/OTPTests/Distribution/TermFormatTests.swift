import Foundation
import PropertyBased
import Testing
@testable import OTP

@Suite("External Term Format")
struct TermFormatTests {
    /// `term_to_binary({ok, [1,2,3], <<"hi">>, 3.5, -1, 300, 1 bsl 64, -(1 bsl 70), 'ü', #{a => 1}, [a|b],
    /// <<1:3>>, [], "", [1000], {}, fun lists:map/2}, [{minor_version, 2}])` on OTP 25.
    static let erlangBytes: [UInt8] = [
        131, 104, 17, 119, 2, 111, 107, 107, 0, 3, 1, 2, 3, 109, 0, 0, 0, 2, 104, 105, 70, 64, 12, 0, 0, 0, 0, 0, 0, 98,
        255, 255, 255, 255, 98, 0, 0, 1, 44, 110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 110, 9, 1, 0, 0, 0, 0, 0, 0, 0, 0,
        64, 119, 2, 195, 188, 116, 0, 0, 0, 1, 119, 1, 97, 97, 1, 108, 0, 0, 0, 1, 119, 1, 97, 119, 1, 98, 77, 0, 0, 0,
        1, 3, 32, 106, 106, 108, 0, 0, 0, 1, 98, 0, 0, 3, 232, 106, 104, 0, 113, 119, 5, 108, 105, 115, 116, 115, 119,
        3, 109, 97, 112, 97, 2,
    ]

    static let expected: Term = .tuple([
        .atom("ok"), .list([.integer(1), .integer(2), .integer(3)]), .string("hi"), .float(3.5), .integer(-1),
        .integer(300), .bigInteger(BigInteger(isNegative: false, magnitude: [0, 0, 0, 0, 0, 0, 0, 0, 1])),
        .bigInteger(BigInteger(isNegative: true, magnitude: [0, 0, 0, 0, 0, 0, 0, 0, 64])), .atom("ü"),
        .map([.init(.atom("a"), .integer(1))]), .improperList([.atom("a")], tail: .atom("b")),
        .bitBinary([32], bitsInLastByte: 3), .list([]), .list([]), .list([.integer(1000)]), .tuple([]),
        .export(module: "lists", function: "map", arity: 2),
    ])

    @Test("Bytes from Erlang decode to the expected term and encode back to the same bytes")
    func erlangVector() throws {
        #expect(try ExternalTermFormat.decode(Self.erlangBytes) == Self.expected)
        #expect(ExternalTermFormat.encode(Self.expected) == Self.erlangBytes)
        #expect(Self.expected.description.hasPrefix("{ok, [1, 2, 3], <<\"hi\">>, 3.5, -1, 300, 0x10000000000000000"))
    }

    @Test("Older encodings a peer may send: Latin-1 atoms, FLOAT_EXT, PID_EXT, NEW_REFERENCE_EXT, PORT_EXT")
    func olderForms() throws {
        // 'é' as ATOM_EXT (Latin-1 byte 233).
        #expect(try ExternalTermFormat.decode([131, 100, 0, 1, 233]) == .atom("é"))
        #expect(try ExternalTermFormat.decode([131, 115, 2, 104, 105]) == .atom("hi"))
        var float: [UInt8] = [131, 99] + Array("1.50000000000000000000e+00".utf8)
        float += [UInt8](repeating: 0, count: 33 - float.count)
        #expect(try ExternalTermFormat.decode(float) == .float(1.5))
        let pid: [UInt8] = [131, 103, 119, 1, 110, 0, 0, 0, 5, 0, 0, 0, 1, 2]
        #expect(try ExternalTermFormat.decode(pid) == .pid(ExternalPID(node: "n", id: 5, serial: 1, creation: 2)))
        let ref: [UInt8] = [131, 114, 0, 1, 119, 1, 110, 3, 0, 0, 0, 9]
        #expect(try ExternalTermFormat.decode(ref) == .reference(ExternalReference(node: "n", creation: 3, ids: [9])))
        let port: [UInt8] = [131, 102, 119, 1, 110, 0, 0, 0, 7, 1]
        #expect(try ExternalTermFormat.decode(port) == .port(ExternalPort(node: "n", id: 7, creation: 1)))
        // A 64-bit port id goes out as V4_PORT_EXT and comes back.
        let wide = Term.port(ExternalPort(node: "n", id: 1 << 40, creation: 1))
        #expect(ExternalTermFormat.encode(wide)[1] == 120)
        #expect(try ExternalTermFormat.decode(ExternalTermFormat.encode(wide)) == wide)
    }

    @Test("What never travels without atom caching is refused by name")
    func unsupported() {
        #expect(throws: TermFormatError.unsupportedTag(82, offset: 1)) { try ExternalTermFormat.decode([131, 82, 0]) }
        #expect(throws: TermFormatError.unsupportedTag(80, offset: 1)) { try ExternalTermFormat.decode([131, 80, 0, 0, 0, 1, 0]) }
        #expect(throws: TermFormatError.badVersion(130, offset: 0)) { try ExternalTermFormat.decode([130, 106]) }
        #expect(throws: TermFormatError.unknownTag(1, offset: 1)) { try ExternalTermFormat.decode([131, 1]) }
        #expect(throws: TermFormatError.trailingBytes(offset: 2)) { try ExternalTermFormat.decode([131, 106, 0]) }
    }

    @Test("Lengths beyond the input are truncation errors, not allocations")
    func hugeLengths() {
        // A list, a tuple, a map and a binary each claiming 4 billion elements in a 10-byte input.
        for tag: UInt8 in [108, 105, 116, 109] {
            #expect(throws: TermFormatError.truncated(offset: 6)) {
                try ExternalTermFormat.decode([131, tag, 255, 255, 255, 255, 97, 1, 97, 2])
            }
        }
    }

    @Test("Nesting deeper than maximumDepth is refused")
    func tooDeep() {
        // On a thread with a loop thread's stack (8 MB): Swift Testing's own threads may have less.
        // Tuples nested `levels` deep around `[]`: `levels + 1` terms deep.
        @Sendable func nested(_ levels: Int) -> [UInt8] {
            [131] + Array(repeating: [104, 1] as [UInt8], count: levels).flatMap { $0 } + [106]
        }
        let results = Log<Result<Term, TermFormatError>>()
        onLoopSizedStack {
            for levels in [ExternalTermFormat.maximumDepth - 1, ExternalTermFormat.maximumDepth] {
                results.append(Result { () throws(TermFormatError) -> Term in try ExternalTermFormat.decode(nested(levels)) })
            }
        }
        #expect((try? results.entries[0].get()) != nil)
        #expect(throws: TermFormatError.tooDeep(offset: 1 + 2 * ExternalTermFormat.maximumDepth)) {
            try results.entries[1].get()
        }
    }

    @Test("Fuzz: random bytes, every truncation and random corruption of valid terms never crash")
    func fuzz() async {
        await propertyCheck(count: 500, input: Gen.int(in: 0...Int(Int32.max))) { seed in
            var generator = TermGenerator(seed: UInt64(seed))
            let valid = ExternalTermFormat.encode(generator.term())
            // Every truncation is an error (a term is never a prefix of another's encoding here).
            for cut in 0..<valid.count {
                #expect(throws: TermFormatError.self, "\(valid) cut at \(cut)") {
                    try ExternalTermFormat.decode(Array(valid[..<cut]))
                }
            }
            // Corrupted bytes: an error, or a term that re-encodes to something that decodes to itself.
            for _ in 0..<20 {
                var bytes = valid
                for _ in 0...generator.below(3) {
                    bytes[generator.below(bytes.count)] = UInt8(truncatingIfNeeded: generator.next())
                }
                if let term = try? ExternalTermFormat.decode(bytes) {
                    #expect((try? ExternalTermFormat.decode(ExternalTermFormat.encode(term))) == term, "\(bytes)")
                }
            }
            // Pure noise after the version byte.
            let noise: [UInt8] = [131] + (0..<generator.below(64)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            _ = try? ExternalTermFormat.decode(noise)
        }
    }

    @Test("Frames: a body must start with pass-through (112) and hold one or two terms, nothing else")
    func frames() {
        let control = ExternalTermFormat.encode(.tuple([.integer(2), .atom(""), .pid(ExternalPID(node: "a@b", id: 1, serial: 0, creation: 1))]))
        let message = ExternalTermFormat.encode(.atom("hi"))
        func parse(_ bytes: [UInt8]) -> Result<(Term, Term?), DistributionError> {
            bytes.withUnsafeBytes { NodeConnection.parse($0, peer: "p@h") }
        }
        guard case .success(let (c, m)) = parse([112] + control + message) else {
            Issue.record("valid frame refused")
            return
        }
        #expect(c == (try? ExternalTermFormat.decode(control)))
        #expect(m == .atom("hi"))
        guard case .failure(.protocolViolation(let node, _)) = parse([113] + control) else {
            Issue.record("a frame without pass-through was accepted")
            return
        }
        #expect(node == "p@h")
        guard case .failure = parse([112] + control + message + [1]) else {
            Issue.record("trailing bytes accepted")
            return
        }
    }
}

/// Runs `body` on a thread with an 8 MB stack (what the node's loop thread gets) and waits for it.
func onLoopSizedStack(_ body: @escaping @Sendable () -> Void) {
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        body()
        done.signal()
    }
    thread.stackSize = 8 << 20
    thread.start()
    done.wait()
}
