import COpenSSL

/// OpenSSL's error queue (per thread) as text. Thread: the calling thread's queue; call `clear` before an
/// operation whose failure is then described, so an earlier channel's leftovers are not reported.
enum OpenSSLErrors {
    /// Empties the calling thread's error queue.
    static func clear() { ERR_clear_error() }

    /// The queued errors, oldest first, joined (and the queue emptied); `fallback` when there are none.
    static func take(or fallback: String) -> String {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            guard code != 0 else { break }
            guard reasons.count < 4 else { continue }  // drained, but only the first few told
            var text = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &text, text.count)
            reasons.append(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return reasons.isEmpty ? fallback : reasons.joined(separator: "; ")
    }
}
