/// Text from outside the process — a peer's node name, an exit reason, a term, a status string — made safe
/// for a log line, a crash report or a terminal: escaped and bounded.
///
/// - Escaped: a backslash becomes `\\`; newline, carriage return and tab become `\n`, `\r`, `\t`; every
///   other control character (C0, DEL, C1: an ANSI escape starts with one), and the invisible format
///   characters that reorder or hide text (bidirectional overrides, zero-width characters, line and
///   paragraph separators) become `\u{…}`. So one log record is always one line, and what it shows is what
///   was sent.
/// - Bounded: at most `limit` characters of the source are looked at; a longer text ends in
///   `…(N more bytes)`. Formatting costs O(`limit`) whatever the size of the source.
///
/// Thread: a plain value. Cost: one pass over at most `limit` characters, when `description` is read.
public struct LogText: CustomStringConvertible, Sendable {
    /// How many characters of a peer-supplied value reach a log by default.
    public static let defaultLimit = 256

    private let text: Substring
    private let limit: Int

    public init(_ text: some StringProtocol, limit: Int = LogText.defaultLimit) {
        self.text = Substring(text)
        self.limit = max(limit, 1)
    }

    public var description: String {
        var out = ""
        var index = text.unicodeScalars.startIndex
        var count = 0
        while index != text.unicodeScalars.endIndex, count < limit {
            Self.append(text.unicodeScalars[index], to: &out)
            text.unicodeScalars.formIndex(after: &index)
            count += 1
        }
        if index != text.unicodeScalars.endIndex {
            let rest = text.utf8.distance(from: index, to: text.utf8.endIndex)
            out += "…(\(rest) more bytes)"
        }
        return out
    }

    /// Whether `scalar` is shown as it is (not escaped).
    static func isPlain(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x20...0x7E: return scalar != "\\"
        case 0..<0x20, 0x7F...0x9F: return false
        default:
            switch scalar.properties.generalCategory {
            case .format, .lineSeparator, .paragraphSeparator, .control, .surrogate, .privateUse, .unassigned:
                return false
            default:
                return true
            }
        }
    }

    /// Appends `scalar`, escaped if it is not plain.
    static func append(_ scalar: Unicode.Scalar, to out: inout String) {
        if isPlain(scalar) { return out.unicodeScalars.append(scalar) }
        switch scalar {
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default: out += "\\u{" + String(scalar.value, radix: 16) + "}"
        }
    }
}
