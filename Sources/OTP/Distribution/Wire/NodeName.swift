/// Node names as Erlang accepts them, checked before a peer's name is used for anything.
///
/// A node name is an atom: at most 255 characters of valid UTF-8, of the shape `name@host` with exactly one
/// `@` and neither part empty, and (here) printable: no space, control or invisible format character
/// (`LogText.isPlain`). A name from a peer that fails any of these ends its handshake before the node acts
/// on it. This node's own name (`DistributionOptions.name`) must also keep its name part to letters,
/// digits, `_` and `-` (what `erl -sname` accepts).
///
/// Thread: any (pure functions).
enum NodeName {
    /// The most characters in a node name (Erlang's atom limit).
    static let maximumLength = 255

    /// The name in `bytes`, if it is a valid node name; otherwise a handshake error saying why (with the
    /// offending name escaped and shortened).
    static func validate(_ bytes: some Collection<UInt8>) throws(DistributionError) -> String {
        guard let name = String(validating: bytes, as: UTF8.self) else {
            throw .handshake("unknown peer", "node name is not valid UTF-8")
        }
        if let problem = problem(with: name) { throw .handshake(name, problem) }
        return name
    }

    /// Why `name` is not a valid node name, or `nil` when it is.
    static func problem(with name: String) -> String? {
        var count = 0, ats = 0, atIsInside = false
        for scalar in name.unicodeScalars {
            count += 1
            guard count <= maximumLength else { return "node name longer than \(maximumLength) characters" }
            guard scalar != " ", LogText.isPlain(scalar) || scalar == "\\" else {
                return "node name holds a space, control or invisible character"
            }
            if scalar == "@" { ats += 1 }
        }
        if let at = name.firstIndex(of: "@") {
            atIsInside = at != name.startIndex && name.index(after: at) != name.endIndex
        }
        guard ats == 1, atIsInside else { return "node name is not of the form name@host" }
        return nil
    }

    /// Whether `name` is valid as this node's own name (stricter: `erl -sname`'s name part).
    static func isValidLocal(_ name: String) -> Bool {
        guard problem(with: name) == nil, let alive = name.split(separator: "@").first else { return false }
        return alive.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
    }
}
