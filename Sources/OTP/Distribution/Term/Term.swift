/// An Erlang term: the value that travels between nodes of a cluster (Erlang's External Term Format).
///
/// Every term a BEAM node can send has a case. Proper lists are `list`, lists ending in something other
/// than `[]` are `improperList`; a string from Erlang (`"abc"`, a list of small integers) is a `list` of
/// `integer`s and an Elixir string is a `binary` (`Term.charlist(_:)`, `Term.string(_:)` and `stringValue`
/// convert). Maps keep their pairs in the order they arrived, so a decoded term re-encodes to the same
/// bytes. Funs are opaque: they can be received, stored and sent back, not called.
///
/// Thread: a plain value, `Sendable`. Cost: an enum of one word plus payload; lists, tuples, maps and
/// binaries are Swift arrays (copy-on-write).
public indirect enum Term: Hashable, Sendable {
    case atom(String)
    /// An integer that fits in 64 bits (Erlang's small and big integers both map here when they fit).
    case integer(Int)
    /// An integer beyond 64 bits.
    case bigInteger(BigInteger)
    case float(Double)
    case tuple([Term])
    /// A proper list; `[]` is `.list([])`.
    case list([Term])
    /// A list whose tail is not `[]`: `[a | b]` is `.improperList([.atom("a")], tail: .atom("b"))`.
    case improperList([Term], tail: Term)
    /// Pairs in arrival order; keys may be any term.
    case map([MapPair])
    case binary([UInt8])
    /// A bit string: `bytes` with only the high `bitsInLastByte` (1...8) bits of the last byte used.
    case bitBinary([UInt8], bitsInLastByte: UInt8)
    case pid(ExternalPID)
    case reference(ExternalReference)
    case port(ExternalPort)
    /// `fun Module:Function/Arity`.
    case export(module: String, function: String, arity: UInt8)
    /// A fun (closure) of another node, kept as its encoded bytes.
    case fun(OpaqueFun)

    /// One key-value pair of a map.
    public struct MapPair: Hashable, Sendable {
        public var key: Term
        public var value: Term
        public init(_ key: Term, _ value: Term) {
            self.key = key
            self.value = value
        }
    }
}

/// A process identifier of any node, as the wire carries it (Erlang's `NEW_PID_EXT`).
///
/// Local processes appear with this node's name; `Node.pid(for:)` turns one into the `PID` that the rest of
/// the API takes. Thread: a plain value, `Sendable`.
public struct ExternalPID: Hashable, Sendable, CustomStringConvertible {
    public var node: String
    public var id: UInt32
    public var serial: UInt32
    /// Which incarnation of the node created it (EPMD gives each start a new one).
    public var creation: UInt32

    public init(node: String, id: UInt32, serial: UInt32, creation: UInt32) {
        self.node = node
        self.id = id
        self.serial = serial
        self.creation = creation
    }

    public var description: String { "<\(LogText(node)).\(id).\(serial)>" }
}

/// A reference of any node (`NEWER_REFERENCE_EXT`): up to five 32-bit words and the node's creation.
public struct ExternalReference: Hashable, Sendable, CustomStringConvertible {
    public var node: String
    public var creation: UInt32
    public var ids: [UInt32]

    public init(node: String, creation: UInt32, ids: [UInt32]) {
        self.node = node
        self.creation = creation
        self.ids = ids
    }

    public var description: String {
        "#Ref<\(LogText(node)).\(ids.prefix(5).reversed().map(String.init).joined(separator: "."))>"
    }
}

/// A port of any node (`NEW_PORT_EXT`, or `V4_PORT_EXT` for 64-bit ids).
public struct ExternalPort: Hashable, Sendable, CustomStringConvertible {
    public var node: String
    public var id: UInt64
    public var creation: UInt32

    public init(node: String, id: UInt64, creation: UInt32) {
        self.node = node
        self.id = id
        self.creation = creation
    }

    public var description: String { "#Port<\(LogText(node)).\(id)>" }
}

/// A fun of another node, as received (`NEW_FUN_EXT` without its tag byte). It can be sent back unchanged.
public struct OpaqueFun: Hashable, Sendable {
    public let encoded: [UInt8]
    public init(encoded: [UInt8]) { self.encoded = encoded }
}

/// An integer beyond 64 bits: sign and magnitude (little-endian bytes, no trailing zero byte), as Erlang's
/// `SMALL_BIG_EXT` and `LARGE_BIG_EXT` carry it.
public struct BigInteger: Hashable, Sendable, CustomStringConvertible {
    public let isNegative: Bool
    public let magnitude: [UInt8]

    /// `magnitude` is little-endian; trailing zero bytes are dropped.
    public init(isNegative: Bool, magnitude: [UInt8]) {
        var bytes = magnitude
        while bytes.last == 0 { bytes.removeLast() }
        self.isNegative = isNegative && !bytes.isEmpty
        self.magnitude = bytes
    }

    /// The little-endian magnitude of `value`, without trailing zero bytes (any integer type, any width).
    static func magnitudeBytes(of value: some BinaryInteger) -> [UInt8] {
        var bytes: [UInt8] = []
        for word in value.magnitude.words {
            for shift in stride(from: 0, to: UInt.bitWidth, by: 8) { bytes.append(UInt8(truncatingIfNeeded: word >> shift)) }
        }
        while bytes.last == 0 { bytes.removeLast() }
        return bytes
    }

    /// The magnitude as a `UInt64`, when it fits in 8 bytes.
    var magnitudeValue: UInt64? {
        guard magnitude.count <= 8 else { return nil }
        return magnitude.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }

    /// The value as an `Int`, when it fits.
    public var intValue: Int? {
        guard let value = magnitudeValue else { return nil }
        if isNegative {
            if value <= UInt64(Int.max) { return -Int(value) }
            return value == UInt64(Int.max) + 1 ? Int.min : nil
        }
        return value <= UInt64(Int.max) ? Int(value) : nil
    }

    /// Hexadecimal, as `-0x1F...`: exact without a decimal conversion of arbitrary size.
    public var description: String {
        let digits = magnitude.reversed().map { String($0, radix: 16, uppercase: true) }
        var text = digits.first ?? "0"
        for digit in digits.dropFirst() { text += digit.count == 1 ? "0" + digit : digit }
        return (isNegative ? "-0x" : "0x") + text
    }
}

// MARK: - Building and reading terms

extension Term {
    public static let `true` = Term.atom("true")
    public static let `false` = Term.atom("false")
    public static let ok = Term.atom("ok")
    public static let undefined = Term.atom("undefined")
    /// `[]`.
    public static let emptyList = Term.list([])

    /// Any Swift integer: `integer` when it fits in an `Int`, `bigInteger` beyond.
    public init(integer value: some BinaryInteger) {
        if let small = Int(exactly: value) {
            self = .integer(small)
        } else {
            self = .bigInteger(BigInteger(isNegative: value < 0, magnitude: BigInteger.magnitudeBytes(of: value)))
        }
    }

    /// A UTF-8 binary, as Elixir strings and Erlang's `<<"text">>`.
    public static func string(_ text: String) -> Term { .binary(Array(text.utf8)) }

    /// A list of code points, as Erlang's `"text"`.
    public static func charlist(_ text: String) -> Term {
        .list(text.unicodeScalars.map { .integer(Int($0.value)) })
    }

    /// The atom's name, for an atom.
    public var atomValue: String? {
        if case .atom(let name) = self { return name }
        return nil
    }

    /// The integer, for an integer that fits in an `Int`.
    public var intValue: Int? {
        switch self {
        case .integer(let value): return value
        case .bigInteger(let big): return big.intValue
        default: return nil
        }
    }

    /// A non-negative integer of up to 64 bits.
    public var unsignedValue: UInt64? {
        switch self {
        case .integer(let value): return value >= 0 ? UInt64(value) : nil
        case .bigInteger(let big) where !big.isNegative: return big.magnitudeValue
        default: return nil
        }
    }

    /// The text of a UTF-8 binary or of a list of code points (Erlang's string), else `nil`.
    public var stringValue: String? {
        switch self {
        case .binary(let bytes):
            // ASCII needs no validation (and the generic validation is the costly part).
            if bytes.allSatisfy({ $0 < 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
            return String(validating: bytes, as: UTF8.self)
        case .list(let elements):
            var scalars = String.UnicodeScalarView()
            for element in elements {
                guard case .integer(let code) = element, let scalar = Unicode.Scalar(UInt32(clamping: max(code, 0))),
                      code >= 0 else { return nil }
                scalars.append(scalar)
            }
            return String(scalars)
        default: return nil
        }
    }

    /// The elements of a tuple.
    public var tupleElements: [Term]? {
        if case .tuple(let elements) = self { return elements }
        return nil
    }

    /// The value for `key` in a map (linear in the map's size).
    public subscript(key: Term) -> Term? {
        guard case .map(let pairs) = self else { return nil }
        return pairs.first { $0.key == key }?.value
    }
}

extension Term: CustomStringConvertible {
    /// How many characters `description` writes at most: a term may come from a peer and be any size.
    public static let descriptionLimit = 1000

    /// Erlang's notation (`{ok, [1, 2]}`, `#{a => 1}`, `<<1,2>>`), at most `Term.descriptionLimit`
    /// characters: a longer term ends in `…`. Atoms and binary text are escaped (`LogText`), so the text
    /// is one printable line whatever the term holds.
    public var description: String { description(limit: Term.descriptionLimit) }

    /// `description` with another bound: it costs O(`limit`), whatever the size of the term.
    public func description(limit: Int) -> String {
        var printer = TermPrinter(budget: max(limit, 1))
        printer.write(self)
        return printer.text
    }

    fileprivate static func quotedAtom(_ name: String) -> String {
        let plain = name.first.map { $0.isLowercase && $0.isASCII } ?? false
            && name.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "_" || $0 == "@" }
        return plain ? name : "'" + name.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "\\'") + "'"
    }
}

/// Writes a term in Erlang's notation until a budget of characters is spent, then `…`: work and output
/// are bounded by the budget, not by the term.
private struct TermPrinter {
    var text = ""
    var budget: Int
    var isFull: Bool { budget <= 0 }

    init(budget: Int) { self.budget = budget }

    mutating func emit(_ piece: String) {
        guard !isFull else { return }
        let count = piece.count
        if count <= budget {
            text += piece
            budget -= count
        } else {
            text += piece.prefix(budget)
            text += "…"
            budget = 0
        }
    }

    mutating func write(_ term: Term) {
        guard !isFull else { return }
        switch term {
        case .atom(let name): emit(LogText(Term.quotedAtom(name), limit: budget + 1).description)
        case .integer(let value): emit(String(value))
        case .bigInteger(let big): emit(big.magnitude.count > budget ? "<big integer of \(big.magnitude.count) bytes>" : big.description)
        case .float(let value): emit(String(value))
        case .tuple(let elements): sequence("{", elements, "}")
        case .list(let elements): sequence("[", elements, "]")
        case .improperList(let elements, let tail):
            sequence("[", elements, "")
            emit(" | ")
            write(tail)
            emit("]")
        case .map(let pairs):
            emit("#{")
            for (index, pair) in pairs.enumerated() {
                guard !isFull else { return }
                if index > 0 { emit(", ") }
                write(pair.key)
                emit(" => ")
                write(pair.value)
            }
            emit("}")
        case .binary(let bytes): binary(bytes)
        case .bitBinary(let bytes, let bits):
            emit("<<")
            for (index, byte) in bytes.enumerated() {
                guard !isFull else { return }
                if index > 0 { emit(",") }
                emit(index == bytes.count - 1 ? "\(byte >> (8 - bits)):\(bits)" : String(byte))
            }
            emit(">>")
        case .pid(let pid): emit(pid.description)
        case .reference(let ref): emit(ref.description)
        case .port(let port): emit(port.description)
        case .export(let module, let function, let arity):
            emit("fun ")
            write(.atom(module))
            emit(":")
            write(.atom(function))
            emit("/\(arity)")
        case .fun: emit("#Fun<>")
        }
    }

    private mutating func sequence(_ open: String, _ elements: [Term], _ close: String) {
        emit(open)
        for (index, element) in elements.enumerated() {
            guard !isFull else { return }
            if index > 0 { emit(", ") }
            write(element)
        }
        emit(close)
    }

    /// `<<"text">>` for printable UTF-8 (only what the budget shows is examined), else `<<1,2,3>>`.
    private mutating func binary(_ bytes: [UInt8]) {
        let shown = bytes.prefix(budget + 4)
        let text = String(decoding: shown, as: UTF8.self)
        let scalars = text.unicodeScalars.count
        // A character cut by the prefix decodes as U+FFFD at the very end: that does not make it binary.
        let isText = !bytes.isEmpty && text.unicodeScalars.enumerated().allSatisfy { index, scalar in
            (LogText.isPlain(scalar) && scalar != "\"")
                || (scalar == "\u{FFFD}" && shown.count < bytes.count && index >= scalars - 3)
        }
        if isText {
            emit("<<\"")
            emit(text)
            emit("\">>")
            return
        }
        emit("<<")
        for (index, byte) in bytes.enumerated() {
            guard !isFull else { return }
            if index > 0 { emit(",") }
            emit(String(byte))
        }
        emit(">>")
    }
}
