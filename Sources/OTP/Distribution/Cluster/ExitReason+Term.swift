/// An exit reason from another node that has no `ExitReason` case of its own (`{badarith, Stack}`,
/// `{shutdown, {a, b}}` ...): carried as `.error(RemoteExit(term))`, sent back unchanged.
public struct RemoteExit: Error, Hashable, Sendable, CustomStringConvertible {
    public let term: Term
    public init(_ term: Term) { self.term = term }
    public var description: String { term.description }
}

extension ExitReason {
    /// The reason as Erlang sees it: `normal`, `shutdown`, `{shutdown, Info}`, `kill`, `killed`, `noproc`,
    /// `noconnection`; a custom reason is an atom (a binary when longer than an atom may be); a Swift error is
    /// `{error, <<"Type: description">>}`, or the original term for a `RemoteExit`.
    public var term: Term {
        switch self {
        case .normal: return .atom("normal")
        case .shutdown: return .atom("shutdown")
        case .shutdownWith(let info): return .tuple([.atom("shutdown"), .string(info)])
        case .kill: return .atom("kill")
        case .killed: return .atom("killed")
        case .noproc: return .atom("noproc")
        case .noconnection: return .atom("noconnection")
        case .custom(let text): return text.unicodeScalars.count <= 255 ? .atom(text) : .string(text)
        case .error(let error):
            if let remote = error as? RemoteExit { return remote.term }
            return .tuple([.atom("error"), .string("\(type(of: error)): \(error)")])
        }
    }

    /// The reason for a term from another node (the inverse of `term` for the reasons with a case).
    public init(term: Term) {
        switch term {
        case .atom("normal"): self = .normal
        case .atom("shutdown"): self = .shutdown
        case .atom("kill"): self = .kill
        case .atom("killed"): self = .killed
        case .atom("noproc"): self = .noproc
        case .atom("noconnection"): self = .noconnection
        case .atom(let name): self = .custom(name)
        case .tuple(let elements) where elements.count == 2 && elements[0] == .atom("shutdown"):
            if let text = elements[1].stringValue, case .binary = elements[1] {
                self = .shutdownWith(text)
            } else {
                self = .error(RemoteExit(term))
            }
        default: self = .error(RemoteExit(term))
        }
    }
}
