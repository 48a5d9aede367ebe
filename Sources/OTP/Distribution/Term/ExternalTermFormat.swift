/// Erlang's External Term Format (`term_to_binary`): encoding and decoding of `Term`.
///
/// The encoder writes what a current OTP node writes with `[{minor_version, 2}]`: UTF-8 atoms, new floats,
/// `NEW_PID_EXT`/`NEWER_REFERENCE_EXT`, strings as `STRING_EXT`, the smallest integer form, so a term
/// decoded from such bytes re-encodes to the same bytes. The decoder also reads the older forms a peer
/// may send (Latin-1 atoms, `FLOAT_EXT`, `PID_EXT`, `NEW_REFERENCE_EXT`, `PORT_EXT`) and rejects what
/// never travels over distribution without atom caching (`ATOM_CACHE_REF`, compressed and local terms)
/// with a typed error.
///
/// Bad input never crashes: every length is checked against the bytes left, nesting is limited to
/// `maximumDepth`, and every failure is a `TermFormatError` with the offset where it was found.
///
/// Thread: pure functions, any thread. Cost: one pass; the encoder appends to one growing array.
public enum ExternalTermFormat {
    /// The version byte that starts an encoded term.
    public static let version: UInt8 = 131
    /// Deepest nesting the decoder accepts (a deeper term would exhaust the stack of whoever walks it).
    public static let maximumDepth = 2_000

    /// The bytes of `term`, starting with the version byte.
    public static func encode(_ term: Term) -> [UInt8] {
        var writer = TermWriter()
        writer.bytes.append(version)
        writer.write(term)
        return writer.bytes
    }

    /// The term encoded in `bytes`, which must start with the version byte and hold nothing after the term.
    public static func decode(_ bytes: [UInt8]) throws(TermFormatError) -> Term {
        let result = bytes.withUnsafeBytes { buffer -> Result<Term, TermFormatError> in
            var reader = TermReader(buffer)
            do throws(TermFormatError) {
                let term = try reader.readVersionedTerm()
                guard reader.isAtEnd else { throw TermFormatError.trailingBytes(offset: reader.offset) }
                return .success(term)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

/// Why bytes are not a valid encoded term. `offset` is where in the input the problem was found.
public enum TermFormatError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(offset: Int)
    case badVersion(UInt8, offset: Int)
    case unknownTag(UInt8, offset: Int)
    /// A tag that is valid Erlang but never sent over a connection without atom caching.
    case unsupportedTag(UInt8, offset: Int)
    case invalidAtom(offset: Int)
    case invalidFloat(offset: Int)
    case invalidBitString(offset: Int)
    case tooDeep(offset: Int)
    case trailingBytes(offset: Int)

    public var description: String {
        switch self {
        case .truncated(let at): return "term truncated at byte \(at)"
        case .badVersion(let v, let at): return "expected version byte 131, found \(v) at byte \(at)"
        case .unknownTag(let t, let at): return "unknown term tag \(t) at byte \(at)"
        case .unsupportedTag(let t, let at): return "term tag \(t) at byte \(at) is not used over distribution"
        case .invalidAtom(let at): return "invalid atom text at byte \(at)"
        case .invalidFloat(let at): return "invalid float at byte \(at)"
        case .invalidBitString(let at): return "invalid bit string at byte \(at)"
        case .tooDeep(let at): return "term nested deeper than \(ExternalTermFormat.maximumDepth) at byte \(at)"
        case .trailingBytes(let at): return "unexpected bytes after the term at byte \(at)"
        }
    }
}

/// Tags of the External Term Format.
enum TermTag {
    static let newFloat: UInt8 = 70
    static let bitBinary: UInt8 = 77
    static let compressed: UInt8 = 80
    static let atomCacheRef: UInt8 = 82
    static let newPID: UInt8 = 88
    static let newPort: UInt8 = 89
    static let newerReference: UInt8 = 90
    static let smallInteger: UInt8 = 97
    static let integer: UInt8 = 98
    static let float: UInt8 = 99
    static let atom: UInt8 = 100
    static let reference: UInt8 = 101
    static let port: UInt8 = 102
    static let pid: UInt8 = 103
    static let smallTuple: UInt8 = 104
    static let largeTuple: UInt8 = 105
    static let `nil`: UInt8 = 106
    static let string: UInt8 = 107
    static let list: UInt8 = 108
    static let binary: UInt8 = 109
    static let smallBig: UInt8 = 110
    static let largeBig: UInt8 = 111
    static let newFun: UInt8 = 112
    static let export: UInt8 = 113
    static let newReference: UInt8 = 114
    static let smallAtom: UInt8 = 115
    static let map: UInt8 = 116
    static let fun: UInt8 = 117
    static let atomUTF8: UInt8 = 118
    static let smallAtomUTF8: UInt8 = 119
    static let v4Port: UInt8 = 120
    static let local: UInt8 = 121
}

/// Appends encoded terms to `bytes`.
///
/// With `referencesLargeBinaries` set (a frame that will go out in fragments), a binary of at least
/// `referencedBinarySize` bytes is not copied: its header goes into `bytes` and its contents are kept in
/// `references`, to be written where `at` says (the fragments take their slices from it directly, as
/// Erlang's distribution sends a large binary from its own memory).
struct TermWriter {
    var bytes: [UInt8] = []
    var referencesLargeBinaries = false
    /// Large binaries kept by reference: each belongs at offset `at` of `bytes` (before the bytes that
    /// follow it there), in order.
    var references: [(at: Int, data: [UInt8])] = []
    static let referencedBinarySize = 64 * 1024

    init(capacity: Int = 64) { bytes.reserveCapacity(capacity) }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { bytes.append(UInt8(v >> 8)); bytes.append(UInt8(truncatingIfNeeded: v)) }
    mutating func u32(_ v: UInt32) {
        bytes.append(UInt8(v >> 24)); bytes.append(UInt8(truncatingIfNeeded: v >> 16))
        bytes.append(UInt8(truncatingIfNeeded: v >> 8)); bytes.append(UInt8(truncatingIfNeeded: v))
    }
    mutating func u64(_ v: UInt64) { u32(UInt32(v >> 32)); u32(UInt32(truncatingIfNeeded: v)) }

    mutating func write(_ term: Term) {
        switch term {
        case .atom(let name): writeAtom(name)
        case .integer(let value): writeInteger(value)
        case .bigInteger(let big): writeBig(isNegative: big.isNegative, magnitude: big.magnitude)
        case .float(let value):
            u8(TermTag.newFloat)
            u64(value.bitPattern)
        case .tuple(let elements):
            if elements.count <= 255 {
                u8(TermTag.smallTuple); u8(UInt8(elements.count))
            } else {
                u8(TermTag.largeTuple); u32(UInt32(elements.count))
            }
            for element in elements { write(element) }
        case .list(let elements):
            if elements.isEmpty {
                u8(TermTag.nil)
            } else if elements.count <= 0xFFFF, let text = Self.byteString(elements) {
                u8(TermTag.string); u16(UInt16(text.count)); bytes.append(contentsOf: text)
            } else {
                u8(TermTag.list); u32(UInt32(elements.count))
                for element in elements { write(element) }
                u8(TermTag.nil)
            }
        case .improperList(let elements, let tail):
            u8(TermTag.list); u32(UInt32(elements.count))
            for element in elements { write(element) }
            write(tail)
        case .map(let pairs):
            u8(TermTag.map); u32(UInt32(pairs.count))
            for pair in pairs { write(pair.key); write(pair.value) }
        case .binary(let data):
            u8(TermTag.binary); u32(UInt32(data.count))
            if referencesLargeBinaries && data.count >= Self.referencedBinarySize {
                references.append((bytes.count, data))
            } else {
                bytes.append(contentsOf: data)
            }
        case .bitBinary(let data, let bits):
            u8(TermTag.bitBinary); u32(UInt32(data.count)); u8(bits); bytes.append(contentsOf: data)
        case .pid(let pid):
            u8(TermTag.newPID); writeAtom(pid.node); u32(pid.id); u32(pid.serial); u32(pid.creation)
        case .reference(let ref):
            u8(TermTag.newerReference); u16(UInt16(ref.ids.count)); writeAtom(ref.node); u32(ref.creation)
            for id in ref.ids { u32(id) }
        case .port(let port):
            if port.id > UInt64(UInt32.max) {
                u8(TermTag.v4Port); writeAtom(port.node); u64(port.id); u32(port.creation)
            } else {
                u8(TermTag.newPort); writeAtom(port.node); u32(UInt32(port.id)); u32(port.creation)
            }
        case .export(let module, let function, let arity):
            u8(TermTag.export); writeAtom(module); writeAtom(function); u8(TermTag.smallInteger); u8(arity)
        case .fun(let fun):
            u8(TermTag.newFun); bytes.append(contentsOf: fun.encoded)
        }
    }

    mutating func writeAtom(_ name: String) {
        let utf8 = name.utf8
        if utf8.count <= 255 {
            u8(TermTag.smallAtomUTF8); u8(UInt8(utf8.count))
        } else {
            u8(TermTag.atomUTF8); u16(UInt16(clamping: utf8.count))
        }
        // A native string's bytes are contiguous: one copy (the generic prefix path copies byte by byte).
        let copied: Void? = utf8.withContiguousStorageIfAvailable { bytes.append(contentsOf: $0.prefix(0xFFFF)) }
        if copied == nil { bytes.append(contentsOf: utf8.prefix(0xFFFF)) }
    }

    mutating func writeInteger(_ value: Int) {
        if value >= 0 && value <= 255 {
            u8(TermTag.smallInteger); u8(UInt8(value))
        } else if value >= Int(Int32.min) && value <= Int(Int32.max) {
            u8(TermTag.integer); u32(UInt32(bitPattern: Int32(value)))
        } else {
            writeBig(isNegative: value < 0, magnitude: BigInteger.magnitudeBytes(of: value))
        }
    }

    mutating func writeBig(isNegative: Bool, magnitude: [UInt8]) {
        if magnitude.count <= 255 {
            u8(TermTag.smallBig); u8(UInt8(magnitude.count))
        } else {
            u8(TermTag.largeBig); u32(UInt32(magnitude.count))
        }
        u8(isNegative ? 1 : 0)
        bytes.append(contentsOf: magnitude)
    }

    /// The bytes of a list of integers 0...255 (Erlang sends such a list as `STRING_EXT`).
    private static func byteString(_ elements: [Term]) -> [UInt8]? {
        var text: [UInt8] = []
        text.reserveCapacity(elements.count)
        for element in elements {
            guard case .integer(let value) = element, value >= 0, value <= 255 else { return nil }
            text.append(UInt8(value))
        }
        return text
    }
}

/// Reads encoded terms from a buffer, checking every length against what is left.
///
/// Two hooks serve fragmented messages (`FragmentAssembler`), whose large binary is gathered apart from
/// the rest: `findsLargeBinary` stops reading at the first binary of at least that many bytes whose contents
/// run past the buffer, noting where they start in `largeBinary`; `external` is such a binary's contents,
/// taken in place of bytes the buffer leaves out at offset `at`.
struct TermReader {
    let buffer: UnsafeRawBufferPointer
    private(set) var offset = 0
    private var depth = 0
    var findsLargeBinary: Int?
    private(set) var largeBinary: (contentsAt: Int, count: Int)?
    var external: (at: Int, data: [UInt8])?

    init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    var isAtEnd: Bool { offset == buffer.count }
    var remaining: Int { buffer.count - offset }

    mutating func u8() throws(TermFormatError) -> UInt8 {
        guard offset < buffer.count else { throw .truncated(offset: offset) }
        defer { offset += 1 }
        return buffer[offset]
    }

    mutating func u16() throws(TermFormatError) -> UInt16 {
        guard remaining >= 2 else { throw .truncated(offset: offset) }
        defer { offset += 2 }
        return UInt16(buffer[offset]) << 8 | UInt16(buffer[offset + 1])
    }

    mutating func u32() throws(TermFormatError) -> UInt32 {
        guard remaining >= 4 else { throw .truncated(offset: offset) }
        defer { offset += 4 }
        return UInt32(buffer[offset]) << 24 | UInt32(buffer[offset + 1]) << 16
            | UInt32(buffer[offset + 2]) << 8 | UInt32(buffer[offset + 3])
    }

    mutating func u64() throws(TermFormatError) -> UInt64 {
        let high = try u32()
        return UInt64(high) << 32 | UInt64(try u32())
    }

    mutating func bytes(_ count: Int) throws(TermFormatError) -> [UInt8] {
        guard count >= 0, remaining >= count else { throw .truncated(offset: offset) }
        defer { offset += count }
        return Array(UnsafeRawBufferPointer(rebasing: buffer[offset..<offset + count]))
    }

    /// A count of items each at least `minimumSize` bytes long, checked against what is left.
    private mutating func count(_ raw: UInt32, minimumSize: Int) throws(TermFormatError) -> Int {
        let count = Int(raw)
        guard count <= remaining / max(minimumSize, 1) else { throw .truncated(offset: offset) }
        return count
    }

    mutating func readVersionedTerm() throws(TermFormatError) -> Term {
        let start = offset
        let version = try u8()
        guard version == ExternalTermFormat.version else { throw .badVersion(version, offset: start) }
        return try readTerm()
    }

    /// One term. The recursive path (`readTerm` → `readElements`/`readMap` → `readTerm`) keeps its frames
    /// small — the scalar cases live in `readScalar` — so `maximumDepth` levels fit in a loop thread's
    /// stack even in a debug build.
    mutating func readTerm() throws(TermFormatError) -> Term {
        let start = offset
        depth += 1
        defer { depth -= 1 }
        guard depth <= ExternalTermFormat.maximumDepth else { throw .tooDeep(offset: start) }
        let tag = try u8()
        switch tag {
        case TermTag.smallTuple: return .tuple(try readElements(UInt32(try u8())))
        case TermTag.largeTuple: return .tuple(try readElements(try u32()))
        case TermTag.list: return try readList()
        case TermTag.map: return try readMap()
        default: return try readScalar(tag, start: start)
        }
    }

    @inline(never)
    private mutating func readElements(_ raw: UInt32) throws(TermFormatError) -> [Term] {
        let arity = try count(raw, minimumSize: 1)
        var elements: [Term] = []
        elements.reserveCapacity(arity)
        for _ in 0..<arity { elements.append(try readTerm()) }
        return elements
    }

    @inline(never)
    private mutating func readList() throws(TermFormatError) -> Term {
        let length = try u32()
        let elements = try readElements(length)
        let tail = try readTerm()
        if case .list(let rest) = tail, rest.isEmpty { return .list(elements) }
        return elements.isEmpty ? tail : .improperList(elements, tail: tail)
    }

    @inline(never)
    private mutating func readMap() throws(TermFormatError) -> Term {
        let arity = try count(try u32(), minimumSize: 2)
        var pairs: [Term.MapPair] = []
        pairs.reserveCapacity(arity)
        for _ in 0..<arity {
            let key = try readTerm()
            pairs.append(Term.MapPair(key, try readTerm()))
        }
        return .map(pairs)
    }

    /// Every term that holds no other term (`export` holds atoms and an integer, read directly).
    @inline(never)
    private mutating func readScalar(_ tag: UInt8, start: Int) throws(TermFormatError) -> Term {
        switch tag {
        case TermTag.smallInteger: return .integer(Int(try u8()))
        case TermTag.integer: return .integer(Int(Int32(bitPattern: try u32())))
        case TermTag.newFloat:
            let value = Double(bitPattern: try u64())
            guard value.isFinite else { throw .invalidFloat(offset: start) }
            return .float(value)
        case TermTag.float:
            let text = try bytes(31)
            let digits = String(decoding: text.prefix { $0 != 0 }, as: UTF8.self)
            guard let value = Double(digits.trimmingCharacters()), value.isFinite else { throw .invalidFloat(offset: start) }
            return .float(value)
        case TermTag.atom, TermTag.smallAtom, TermTag.atomUTF8, TermTag.smallAtomUTF8:
            offset = start
            return .atom(try readAtom())
        case TermTag.nil: return .list([])
        case TermTag.string:
            let length = Int(try u16())
            return .list(try bytes(length).map { .integer(Int($0)) })
        case TermTag.binary:
            let count = Int(try u32())
            if let external, external.at == offset, external.data.count == count {
                self.external = nil
                return .binary(external.data)
            }
            if let threshold = findsLargeBinary, count >= threshold, count > remaining {
                largeBinary = (offset, count)
            }
            return .binary(try bytes(count))
        case TermTag.bitBinary:
            let length = Int(try u32())
            let bits = try u8()
            guard (1...8).contains(bits), length > 0 else { throw .invalidBitString(offset: start) }
            return .bitBinary(try bytes(length), bitsInLastByte: bits)
        case TermTag.smallBig, TermTag.largeBig:
            let length = tag == TermTag.smallBig ? Int(try u8()) : Int(try u32())
            let sign = try u8()
            let big = BigInteger(isNegative: sign != 0, magnitude: try bytes(length))
            if let small = big.intValue { return .integer(small) }
            return .bigInteger(big)
        case TermTag.newPID, TermTag.pid:
            let node = try readAtom()
            let id = try u32(), serial = try u32()
            let creation = tag == TermTag.newPID ? try u32() : UInt32(try u8())
            return .pid(ExternalPID(node: node, id: id, serial: serial, creation: creation))
        case TermTag.newerReference, TermTag.newReference:
            let length = Int(try u16())
            guard length <= 5 else { throw .truncated(offset: start) }
            let node = try readAtom()
            let creation = tag == TermTag.newerReference ? try u32() : UInt32(try u8())
            var ids: [UInt32] = []
            for _ in 0..<length { ids.append(try u32()) }
            return .reference(ExternalReference(node: node, creation: creation, ids: ids))
        case TermTag.reference:
            let node = try readAtom()
            let id = try u32()
            return .reference(ExternalReference(node: node, creation: UInt32(try u8()), ids: [id]))
        case TermTag.newPort, TermTag.v4Port, TermTag.port:
            let node = try readAtom()
            let id = tag == TermTag.v4Port ? try u64() : UInt64(try u32())
            let creation = tag == TermTag.port ? UInt32(try u8()) : try u32()
            return .port(ExternalPort(node: node, id: id, creation: creation))
        case TermTag.export:
            let module = try readAtom()
            let function = try readAtom()
            guard try u8() == TermTag.smallInteger else { throw .unknownTag(tag, offset: start) }
            return .export(module: module, function: function, arity: try u8())
        case TermTag.newFun:
            let size = Int(try u32())
            guard size >= 4 else { throw .truncated(offset: start) }
            offset -= 4
            let encoded = try bytes(size)
            return .fun(OpaqueFun(encoded: encoded))
        case TermTag.atomCacheRef, TermTag.compressed, TermTag.local, TermTag.fun:
            throw .unsupportedTag(tag, offset: start)
        default:
            throw .unknownTag(tag, offset: start)
        }
    }

    mutating func readAtom() throws(TermFormatError) -> String {
        let start = offset
        let tag = try u8()
        let length: Int
        switch tag {
        case TermTag.atom, TermTag.atomUTF8: length = Int(try u16())
        case TermTag.smallAtom, TermTag.smallAtomUTF8: length = Int(try u8())
        default: throw .invalidAtom(offset: start)
        }
        guard remaining >= length else { throw .truncated(offset: offset) }
        let text = UnsafeBufferPointer(start: buffer.baseAddress.map { ($0 + offset).assumingMemoryBound(to: UInt8.self) },
                                       count: length)
        offset += length
        // ASCII (nearly every atom) is the same in Latin-1 and UTF-8: decoded without validation, in place
        // (no array, no generic validation: both cost more than the rest of a small message's decoding).
        if text.allSatisfy({ $0 < 0x80 }) { return String(decoding: text, as: UTF8.self) }
        if tag == TermTag.atom || tag == TermTag.smallAtom {
            // Latin-1: each byte is its code point.
            return String(String.UnicodeScalarView(text.map { Unicode.Scalar($0) }))
        }
        guard let name = String(validating: text, as: UTF8.self) else { throw .invalidAtom(offset: start) }
        return name
    }
}

extension String {
    fileprivate func trimmingCharacters() -> String {
        String(self.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
