/// The group leader of the processes this node spawns on other nodes (`ProcessContext.spawn(on:)`).
///
/// An Erlang process sends its output (`io:format`, `io:put_chars`, a crash report's text) to its group
/// leader as io requests (stdlib's io protocol: `{io_request, From, ReplyAs, Request}`, answered
/// `{io_reply, ReplyAs, Reply}`), and a spawned process takes the requester's node's. This process answers
/// them: text goes to the node's log (message `io`, at info level, with the sender and the text escaped and
/// bounded — it comes from another node), and the sender gets `ok`. `io:format` asks its group leader to
/// format (`{put_chars, Encoding, io_lib, format, [Format, Data]}`): the common directives are applied
/// (`~s`, `~p`, `~w`, `~n`, `~~`, and the rest as `~p`), field widths ignored. Input requests (`get_line`, `get_chars`, ...) are answered
/// `{error, enotsup}`: a swift-otp node has no terminal to read for them.
///
/// Thread: loop thread only. It is started with the first remote spawn and is a system process (not in
/// `processes()` listings, not stopped by a user).
extension Distribution {
    /// The group leader's pid, started if it is not running.
    func groupLeader() -> PID? {
        if let pid = groupLeaderPID, node.isAlive(pid) { return pid }
        let logger = node.configuration.logger, nodeName = name
        let pid = try? node.spawn(of: Term.self) { _ in
            .receive { envelope, process in
                guard case .message(.tuple(let e)) = envelope, e.count == 4, e[0] == .atom("io_request"),
                      case .pid(let from) = e[1] else { return .same }
                let reply = Self.answer(e[3]) { text in
                    var line = text
                    if line.hasSuffix("\n") { line.removeLast() }
                    logger.info("io", metadata: ["node": "\(nodeName)", "from": "\(from)",
                                                 "text": "\(LogText(line, limit: 1_000))"])
                }
                try? process.send(Term.tuple([.atom("io_reply"), e[2], reply]), to: process.currentNode.pid(for: from))
                return .same
            }
        }.pid
        if let pid { node.markSystem(pid) }
        groupLeaderPID = pid
        return pid
    }

    /// The reply to one io request; `write` gets the text of an output request.
    static func answer(_ request: Term, write: (String) -> Void) -> Term {
        guard case .tuple(let r) = request, let kind = r.first?.atomValue else { return notSupported }
        switch (kind, r.count) {
        case ("put_chars", 2), ("put_chars", 3):
            guard let text = characters(r[r.count - 1]) else { return .tuple([.atom("error"), .atom("put_chars")]) }
            write(text)
            return .atom("ok")
        case ("put_chars", 5):
            // {put_chars, Encoding, Module, Function, Args}: io_lib:format(Format, Data) in practice.
            if r[2] == .atom("io_lib"), r[3] == .atom("format"), case .list(let a) = r[4], a.count == 2,
               let format = characters(a[0]), case .list(let data) = a[1] {
                write(formatted(format, data))
            } else {
                write("\(r[2].description(limit: 100)):\(r[3].description(limit: 100))(\(r[4].description(limit: 1_000)))")
            }
            return .atom("ok")
        case ("requests", 2):
            guard case .list(let requests) = r[1] else { return notSupported }
            var last: Term = .atom("ok")
            for request in requests.prefix(1_000) {
                last = answer(request, write: write)
                if last != .atom("ok") { break }
            }
            return last
        case ("setopts", 2): return .atom("ok")
        case ("getopts", 1): return .tuple([.atom("ok"), .list([])])
        default: return notSupported
        }
    }

    /// `io_lib:format(Format, Data)` for the directives processes print with; an argument a directive
    /// lacks is left out.
    static func formatted(_ format: String, _ data: [Term]) -> String {
        var out = "", arguments = data[...]
        var scalars = format.unicodeScalars.makeIterator()
        while let scalar = scalars.next(), out.utf8.count < 64 * 1024 {
            guard scalar == "~" else {
                out.unicodeScalars.append(scalar)
                continue
            }
            var control = scalars.next()
            // Field width, precision, padding and the t/l modifiers: skipped.
            while let c = control, c == "." || c == "*" || c == "-" || c == "t" || c == "l"
                    || ("0"..."9").contains(c) {
                control = scalars.next()
            }
            switch control {
            case "n": out += "\n"
            case "~": out += "~"
            case "s":
                guard let argument = arguments.popFirst() else { break }
                out += characters(argument) ?? argument.description(limit: 1_000)
            case "c":
                guard let argument = arguments.popFirst() else { break }
                if let value = argument.intValue, let c = Unicode.Scalar(UInt32(clamping: max(value, 0))) {
                    out.unicodeScalars.append(c)
                }
            case "P", "W":
                guard let argument = arguments.popFirst() else { break }
                _ = arguments.popFirst()  // the depth
                out += argument.description(limit: 1_000)
            case "i": _ = arguments.popFirst()
            case nil: break
            default:
                guard let argument = arguments.popFirst() else { break }
                out += argument.description(limit: 1_000)
            }
        }
        return out
    }

    private static let notSupported = Term.tuple([.atom("error"), .atom("enotsup")])

    /// The text of chardata: a binary, or a (deep) list of characters and binaries; `nil` if it is not
    /// chardata. At most 64 KiB of it is kept.
    static func characters(_ data: Term) -> String? {
        var scalars = String.UnicodeScalarView()
        var budget = 64 * 1024
        func add(_ term: Term) -> Bool {
            guard budget > 0 else { return true }
            switch term {
            case .binary(let bytes):
                let text = String(decoding: bytes.prefix(budget), as: UTF8.self)
                scalars.append(contentsOf: text.unicodeScalars)
                budget -= bytes.count
                return true
            case .integer(let value):
                guard let scalar = Unicode.Scalar(UInt32(clamping: max(value, 0))) else { return false }
                scalars.append(scalar)
                budget -= 1
                return true
            case .list(let elements):
                return elements.allSatisfy(add)
            case .atom(let name):  // io:put_chars accepts an atom's text, as io_lib does
                scalars.append(contentsOf: name.unicodeScalars)
                budget -= name.utf8.count
                return true
            default:
                return false
            }
        }
        return add(data) ? String(scalars) : nil
    }
}
