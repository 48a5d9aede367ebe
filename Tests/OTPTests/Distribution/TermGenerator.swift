@testable import OTP

/// Random terms from a seed (`SplitMix64`, shared with the timer tests): every kind a node sends, nested, with map keys unique and the
/// unused bits of bit strings zero (as Erlang makes them). `withMaps: false` leaves maps out, for byte
/// comparisons against Erlang, which orders map keys its own way.
struct TermGenerator {
    private var random: SplitMix64
    let withMaps: Bool

    init(seed: UInt64, withMaps: Bool = true) {
        random = SplitMix64(seed: seed)
        self.withMaps = withMaps
    }

    mutating func next() -> UInt64 { random.next() }

    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    mutating func term(depth: Int = 4) -> Term {
        guard depth > 0 else { return leaf() }
        switch below(9) {
        case 0: return .tuple((0..<below(4)).map { _ in term(depth: depth - 1) })
        case 1: return .list((0..<below(4)).map { _ in term(depth: depth - 1) })
        case 2 where withMaps:
            var pairs: [Term.MapPair] = []
            for _ in 0..<below(4) {
                let key = leaf()
                if !pairs.contains(where: { $0.key == key }) { pairs.append(.init(key, term(depth: depth - 1))) }
            }
            return .map(pairs)
        case 3:
            let head = (0..<(1 + below(3))).map { _ in term(depth: depth - 1) }
            var tail = leaf()
            if case .list = tail { tail = .atom("tail") }
            if case .improperList = tail { tail = .atom("tail") }
            return .improperList(head, tail: tail)
        case 4: return .tuple((0..<(256 + below(3))).map { _ in .integer(below(300)) })
        default: return leaf()
        }
    }

    mutating func leaf() -> Term {
        switch below(15) {
        case 0: return .integer(below(256))
        case 1: return .integer(Int(Int32.min) + below(Int(UInt32.max)))
        case 2: return .integer(Int(bitPattern: UInt(next())))
        case 3:
            let bytes = (0..<(9 + below(20))).map { _ in UInt8(truncatingIfNeeded: next()) } + [UInt8(1 + below(255))]
            return .bigInteger(BigInteger(isNegative: below(2) == 0, magnitude: bytes))
        case 4: return .float(Double(Int(bitPattern: UInt(next() >> 12))) / Double(1 + below(1000)))
        case 5: return .atom("a\(below(1000))")
        case 6: return .atom(["ünïcødé", "日本", "with space", "", "'quoted'"][below(5)])
        case 7: return .binary((0..<below(12)).map { _ in UInt8(truncatingIfNeeded: next()) })
        case 8:
            let bits = UInt8(1 + below(7))
            var bytes = (0..<(1 + below(4))).map { _ in UInt8(truncatingIfNeeded: next()) }
            bytes[bytes.count - 1] &= ~UInt8((1 << (8 - bits)) - 1) & 0xFF
            return .bitBinary(bytes, bitsInLastByte: bits)
        case 9: return .list((0..<(1 + below(10))).map { _ in .integer(below(256)) })  // a string
        case 10: return .pid(ExternalPID(node: "other@host", id: UInt32(below(1 << 15)), serial: UInt32(below(8)),
                                          creation: UInt32(truncatingIfNeeded: next())))
        case 11: return .reference(ExternalReference(node: "other@host", creation: UInt32(truncatingIfNeeded: next()),
                                                     ids: (0..<3).map { _ in UInt32(truncatingIfNeeded: next() & 0x3FFFF) }))
        case 12: return .export(module: "lists", function: "map", arity: UInt8(below(4)))
        case 13: return .list([.integer(1000 + below(5000))])
        default: return .list([])
        }
    }
}
