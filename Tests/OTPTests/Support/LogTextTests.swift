import Foundation
import Testing
@testable import OTP

@Suite("LogText and bounded descriptions: what outsiders send reaches a log as one bounded line")
struct LogTextTests {
    @Test("Control, escape and invisible characters are escaped; plain text and other scripts are kept")
    func escapes() {
        #expect(LogText("plain text, ünïcödé, 日本").description == "plain text, ünïcödé, 日本")
        #expect(LogText("a\nb\r\tc\\d").description == "a\\nb\\r\\tc\\\\d")
        #expect(LogText("\u{1B}[31mred\u{0}\u{7F}\u{85}").description == "\\u{1b}[31mred\\u{0}\\u{7f}\\u{85}")
        #expect(LogText("a\u{202E}b\u{200B}c\u{2028}").description == "a\\u{202e}b\\u{200b}c\\u{2028}")
    }

    @Test("Long text is cut at the limit and says how much was left out")
    func bounds() {
        #expect(LogText("abcdef", limit: 3).description == "abc…(3 more bytes)")
        let huge = String(repeating: "x", count: 10_000_000)
        let start = ContinuousClock.now
        #expect(LogText(huge).description.count == LogText.defaultLimit + "…(9999744 more bytes)".count)
        #expect(ContinuousClock.now - start < .milliseconds(500))
    }

    @Test("A term's description is bounded whatever its size, and escapes atoms and binary text")
    func termDescription() {
        let huge = Term.tuple([.atom("big"), .binary([UInt8](repeating: 65, count: 50_000_000)),
                               .list((0..<1_000_000).map { .integer($0) })])
        let start = ContinuousClock.now
        let text = huge.description
        #expect(ContinuousClock.now - start < .milliseconds(500))
        #expect(text.count == Term.descriptionLimit + 1)
        #expect(text.hasPrefix("{big, <<\"AAAA"))
        #expect(text.hasSuffix("…"))
        #expect(Term.tuple([.atom("a\nb"), .string("ok"), .string("bad\u{1B}")]).description
            == "{'a\\nb', <<\"ok\">>, <<98,97,100,27>>}")
        #expect(Term.list((1...5).map { .integer($0) }).description(limit: 6) == "[1, 2,…")
        #expect(ExitReason(term: .atom("evil\nline")).description == "evil\\nline")
        #expect(ExternalPID(node: "x\n@h", id: 1, serial: 2, creation: 3).description == "<x\\n@h.1.2>")
    }

    @Test("The cookie never shows: not in descriptions, not through reflection (dump)")
    func cookieHidden() {
        let options = DistributionOptions(name: "a@h", cookie: .value("SECRET-COOKIE"))
        var dumped = ""
        dump(options, to: &dumped)
        #expect(!dumped.contains("SECRET-COOKIE"))
        #expect(dumped.contains("a@h"))
        #expect(!String(describing: options).contains("SECRET-COOKIE"))
        #expect(!String(reflecting: options).contains("SECRET-COOKIE"))
        var dumpedSource = ""
        dump(CookieSource.value("SECRET-COOKIE"), to: &dumpedSource)
        #expect(!dumpedSource.contains("SECRET-COOKIE"))
    }
}
