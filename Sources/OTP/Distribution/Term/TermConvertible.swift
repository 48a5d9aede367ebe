/// A type that can be built from a term another node sent: what a process or a GenServer that talks to
/// remote nodes declares for its messages (its `Message`, or its server's `Call`, `Cast` and `Info`).
///
/// Conform by hand for Erlang-shaped values (`{ok, Value}` tuples), or just declare it on a `Decodable`
/// type: the default goes through `TermDecoder` (a map with atom keys, as an Elixir struct or an Erlang map).
public protocol TermDecodable {
    init(term: Term) throws(TermConversionError)
}

/// A type that can be turned into a term for another node: what a remote-facing server's `Reply` declares,
/// and any message sent to a remote process. `Encodable` types get a default through `TermEncoder`.
public protocol TermEncodable {
    func toTerm() throws(TermConversionError) -> Term
}

/// Both directions.
public typealias TermConvertible = TermDecodable & TermEncodable

/// Why a term is not the value a type expects, or a value has no term.
public enum TermConversionError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `expected` names the Swift type or the shape wanted; `got` is the term that came instead.
    case mismatch(expected: String, got: Term)
    /// A map lacked a key the type needs.
    case missingKey(String, in: Term)
    /// A value Erlang's terms cannot carry (e.g. a float that is not finite).
    case unrepresentable(String)

    public var description: String {
        switch self {
        case .mismatch(let expected, let got): return "expected \(expected), got \(got)"
        case .missingKey(let key, let term): return "missing key \(key) in \(term)"
        case .unrepresentable(let what): return "no Erlang term for \(what)"
        }
    }
}

extension TermDecodable where Self: Decodable {
    public init(term: Term) throws(TermConversionError) {
        self = try TermDecoder().decode(Self.self, from: term)
    }
}

extension TermEncodable where Self: Encodable {
    public func toTerm() throws(TermConversionError) -> Term {
        try TermEncoder().encode(self)
    }
}

// MARK: - Conformances of common types

extension Term: TermDecodable, TermEncodable {
    public init(term: Term) { self = term }
    public func toTerm() -> Term { self }
}

extension Int: TermDecodable, TermEncodable {
    public init(term: Term) throws(TermConversionError) {
        guard let value = term.intValue else { throw .mismatch(expected: "Int", got: term) }
        self = value
    }
    public func toTerm() -> Term { .integer(self) }
}

extension Double: TermDecodable, TermEncodable {
    public init(term: Term) throws(TermConversionError) {
        switch term {
        case .float(let value): self = value
        case .integer(let value): self = Double(value)
        default: throw .mismatch(expected: "Double", got: term)
        }
    }
    public func toTerm() throws(TermConversionError) -> Term {
        guard isFinite else { throw .unrepresentable("the float \(self)") }
        return .float(self)
    }
}

extension Bool: TermDecodable, TermEncodable {
    public init(term: Term) throws(TermConversionError) {
        switch term.atomValue {
        case "true": self = true
        case "false": self = false
        default: throw .mismatch(expected: "Bool", got: term)
        }
    }
    public func toTerm() -> Term { self ? .true : .false }
}

/// A `String` is sent as a UTF-8 binary (Elixir's strings); a list of code points (Erlang's strings) and an
/// atom are accepted too.
extension String: TermDecodable, TermEncodable {
    public init(term: Term) throws(TermConversionError) {
        if let text = term.stringValue ?? term.atomValue {
            self = text
        } else {
            throw .mismatch(expected: "String", got: term)
        }
    }
    public func toTerm() -> Term { .string(self) }
}

extension Array: TermDecodable where Element: TermDecodable {
    public init(term: Term) throws(TermConversionError) {
        guard case .list(let elements) = term else { throw .mismatch(expected: "a list", got: term) }
        var values: [Element] = []
        values.reserveCapacity(elements.count)
        for element in elements { values.append(try Element(term: element)) }
        self = values
    }
}

extension Array: TermEncodable where Element: TermEncodable {
    public func toTerm() throws(TermConversionError) -> Term {
        var elements: [Term] = []
        elements.reserveCapacity(count)
        for element in self { elements.append(try element.toTerm()) }
        return .list(elements)
    }
}

/// `nil` is the atom `undefined` (`nil` from Elixir is accepted too).
extension Optional: TermDecodable where Wrapped: TermDecodable {
    public init(term: Term) throws(TermConversionError) {
        if term == .undefined || term == .atom("nil") {
            self = .none
        } else {
            self = .some(try Wrapped(term: term))
        }
    }
}

extension Optional: TermEncodable where Wrapped: TermEncodable {
    public func toTerm() throws(TermConversionError) -> Term {
        guard let value = self else { return .undefined }
        return try value.toTerm()
    }
}

/// For a server that takes no calls (or no casts, no infos): no term decodes to it.
extension Never: TermDecodable, TermEncodable {
    public init(term: Term) throws(TermConversionError) { throw .mismatch(expected: "nothing (Never)", got: term) }
    public func toTerm() -> Term { switch self {} }
}

extension ExternalPID: TermDecodable, TermEncodable {
    public init(term: Term) throws(TermConversionError) {
        guard case .pid(let pid) = term else { throw .mismatch(expected: "a pid", got: term) }
        self = pid
    }
    public func toTerm() -> Term { .pid(self) }
}
