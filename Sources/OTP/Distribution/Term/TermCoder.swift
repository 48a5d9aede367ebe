/// `Codable` to and from terms, for the user's own types.
///
/// | Swift | term sent | also accepted when decoding |
/// |---|---|---|
/// | struct, class (keyed) | map with atom keys `#{name => ...}` | binary keys |
/// | array, unkeyed | list | tuple |
/// | `String` | UTF-8 binary | list of code points, atom |
/// | `Int`, `UInt8`... | integer | |
/// | `Double`, `Float` | float | integer |
/// | `Bool` | `true` / `false` | |
/// | `nil` | `undefined` (a nil field is left out of its map) | `nil` |
/// | `Term`, `ExternalPID` | themselves | |
///
/// An enum with associated values uses Swift's synthesized form (a map keyed by the case name); write
/// `TermConvertible` by hand for Erlang's tagged tuples. Thread: value types, any thread.
public struct TermEncoder: Sendable {
    public init() {}

    public func encode<T: Encodable>(_ value: T) throws(TermConversionError) -> Term {
        do {
            let slot = EncodedSlot()
            try TermValueEncoder(slot: slot, codingPath: []).encodeValue(value)
            return slot.term
        } catch let error as TermConversionError {
            throw error
        } catch {
            throw .unrepresentable(String(describing: error))
        }
    }
}

public struct TermDecoder: Sendable {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from term: Term) throws(TermConversionError) -> T {
        do {
            return try TermValueDecoder(term: term, codingPath: []).decodeValue(T.self)
        } catch let error as TermConversionError {
            throw error
        } catch {
            throw .mismatch(expected: String(describing: T.self), got: term)
        }
    }
}

// MARK: - Encoding

/// A node of the term being built: containers are filled in after they are handed out.
private final class EncodedSlot {
    enum Content {
        case value(Term)
        case map([(String, EncodedSlot)])
        case list([EncodedSlot])
    }
    var content: Content = .value(.undefined)

    var term: Term {
        switch content {
        case .value(let term): return term
        case .map(let pairs): return .map(pairs.map { Term.MapPair(.atom($0.0), $0.1.term) })
        case .list(let elements): return .list(elements.map(\.term))
        }
    }
}

private struct TermValueEncoder: Encoder {
    let slot: EncodedSlot
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func encodeValue<T: Encodable>(_ value: T) throws {
        switch value {
        case let term as Term: slot.content = .value(term)
        case let pid as ExternalPID: slot.content = .value(.pid(pid))
        default: try value.encode(to: self)
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .map = slot.content {} else { slot.content = .map([]) }
        return KeyedEncodingContainer(KeyedTermEncoder<Key>(slot: slot, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .list = slot.content {} else { slot.content = .list([]) }
        return UnkeyedTermEncoder(slot: slot, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleTermEncoder(slot: slot, codingPath: codingPath) }
}

private func primitive(_ value: Any) throws -> Term? {
    switch value {
    case let v as Bool: return v ? .true : .false
    case let v as String: return .string(v)
    case let v as Double:
        guard v.isFinite else { throw TermConversionError.unrepresentable("the float \(v)") }
        return .float(v)
    case let v as Float:
        guard v.isFinite else { throw TermConversionError.unrepresentable("the float \(v)") }
        return .float(Double(v))
    case let v as any BinaryInteger: return Term(integer: v)
    default: return nil
    }
}

private struct KeyedTermEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let slot: EncodedSlot
    var codingPath: [any CodingKey]

    private func child(_ key: Key) -> EncodedSlot {
        let child = EncodedSlot()
        guard case .map(var pairs) = slot.content else { return child }
        pairs.append((key.stringValue, child))
        slot.content = .map(pairs)
        return child
    }

    mutating func encodeNil(forKey key: Key) throws { child(key).content = .value(.undefined) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        let target = child(key)
        if let term = try primitive(value) {
            target.content = .value(term)
        } else {
            try TermValueEncoder(slot: target, codingPath: codingPath + [key]).encodeValue(value)
        }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey> {
        TermValueEncoder(slot: child(key), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        TermValueEncoder(slot: child(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { TermValueEncoder(slot: slot, codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder {
        TermValueEncoder(slot: child(key), codingPath: codingPath + [key])
    }
}

private struct UnkeyedTermEncoder: UnkeyedEncodingContainer {
    let slot: EncodedSlot
    var codingPath: [any CodingKey]
    var count: Int {
        if case .list(let elements) = slot.content { return elements.count }
        return 0
    }

    private func child() -> EncodedSlot {
        let child = EncodedSlot()
        guard case .list(var elements) = slot.content else { return child }
        elements.append(child)
        slot.content = .list(elements)
        return child
    }

    mutating func encodeNil() throws { child().content = .value(.undefined) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let target = child()
        if let term = try primitive(value) {
            target.content = .value(term)
        } else {
            try TermValueEncoder(slot: target, codingPath: codingPath).encodeValue(value)
        }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
        -> KeyedEncodingContainer<NestedKey> {
        TermValueEncoder(slot: child(), codingPath: codingPath).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        TermValueEncoder(slot: child(), codingPath: codingPath).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { TermValueEncoder(slot: child(), codingPath: codingPath) }
}

private struct SingleTermEncoder: SingleValueEncodingContainer {
    let slot: EncodedSlot
    var codingPath: [any CodingKey]

    mutating func encodeNil() throws { slot.content = .value(.undefined) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        if let term = try primitive(value) {
            slot.content = .value(term)
        } else {
            try TermValueEncoder(slot: slot, codingPath: codingPath).encodeValue(value)
        }
    }
}

// MARK: - Decoding

private struct TermValueDecoder: Decoder {
    let term: Term
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == Term.self { return term as! T }
        if T.self == ExternalPID.self { return try ExternalPID(term: term) as! T }
        if let value = try decodePrimitive(T.self, from: term) { return value }
        return try T(from: self)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .map(let pairs) = term else { throw TermConversionError.mismatch(expected: "a map", got: term) }
        var fields: [String: Term] = [:]
        for pair in pairs {
            if let key = pair.key.atomValue ?? pair.key.stringValue { fields[key] = pair.value }
        }
        return KeyedDecodingContainer(KeyedTermDecoder<Key>(term: term, fields: fields, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        switch term {
        case .list(let elements), .tuple(let elements):
            return UnkeyedTermDecoder(elements: elements, codingPath: codingPath)
        default: throw TermConversionError.mismatch(expected: "a list", got: term)
        }
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleTermDecoder(term: term, codingPath: codingPath)
    }
}

private func isNilTerm(_ term: Term) -> Bool { term == .undefined || term == .atom("nil") }

private func decodePrimitive<T>(_ type: T.Type, from term: Term) throws -> T? {
    switch type {
    case is Bool.Type: return try Bool(term: term) as? T
    case is String.Type: return try String(term: term) as? T
    case is Double.Type: return try Double(term: term) as? T
    case is Float.Type: return Float(try Double(term: term)) as? T
    case let integer as any FixedWidthInteger.Type:
        guard let value = term.intValue, let converted = integer.init(exactly: value) else {
            throw TermConversionError.mismatch(expected: String(describing: T.self), got: term)
        }
        return converted as? T
    default: return nil
    }
}

private struct KeyedTermDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let term: Term
    let fields: [String: Term]
    var codingPath: [any CodingKey]

    var allKeys: [Key] { fields.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { fields[key.stringValue] != nil }

    private func field(_ key: Key) throws -> Term {
        guard let value = fields[key.stringValue] else { throw TermConversionError.missingKey(key.stringValue, in: term) }
        return value
    }

    func decodeNil(forKey key: Key) throws -> Bool { fields[key.stringValue].map(isNilTerm) ?? true }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try TermValueDecoder(term: try field(key), codingPath: codingPath + [key]).decodeValue(T.self)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey> {
        try TermValueDecoder(term: try field(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try TermValueDecoder(term: try field(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { TermValueDecoder(term: term, codingPath: codingPath) }
    func superDecoder(forKey key: Key) throws -> any Decoder {
        TermValueDecoder(term: try field(key), codingPath: codingPath + [key])
    }
}

private struct UnkeyedTermDecoder: UnkeyedDecodingContainer {
    let elements: [Term]
    var codingPath: [any CodingKey]
    var currentIndex = 0

    init(elements: [Term], codingPath: [any CodingKey]) {
        self.elements = elements
        self.codingPath = codingPath
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private mutating func next() throws -> Term {
        guard !isAtEnd else {
            throw TermConversionError.mismatch(expected: "another list element", got: .list(elements))
        }
        defer { currentIndex += 1 }
        return elements[currentIndex]
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, isNilTerm(elements[currentIndex]) else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try TermValueDecoder(term: try next(), codingPath: codingPath).decodeValue(T.self)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
        -> KeyedDecodingContainer<NestedKey> {
        try TermValueDecoder(term: try next(), codingPath: codingPath).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try TermValueDecoder(term: try next(), codingPath: codingPath).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder { TermValueDecoder(term: try next(), codingPath: codingPath) }
}

private struct SingleTermDecoder: SingleValueDecodingContainer {
    let term: Term
    var codingPath: [any CodingKey]

    func decodeNil() -> Bool { isNilTerm(term) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try TermValueDecoder(term: term, codingPath: codingPath).decodeValue(T.self)
    }
}
