/// Why a process exited, or the reason carried by an exit signal. Erlang's exit reasons, typed.
///
/// - `normal`, `shutdown` and `shutdownWith(_:)` are *quiet*: no crash report is written for them.
/// - `normal` is the only reason that does not kill a linked, non-trapping process.
/// - `kill`, sent with `exit(_:reason:)`, cannot be trapped; the victim exits with `killed`, and that is
///   what its links and monitors see.
/// - `noproc` is reported for a monitor or link on a process that does not exist.
/// - `noconnection` is what links and monitors on a process of another node see when the connection to
///   that node is lost.
/// - `error(_:)` carries what a process body threw; `custom(_:)` is any other user reason.
///
/// Thread: `Sendable`. Equality compares errors by value when their type is `Equatable`, otherwise by
/// type and description.
public enum ExitReason: Sendable, Equatable, CustomStringConvertible {
    case normal
    case shutdown
    case shutdownWith(String)
    case kill
    case killed
    case noproc
    case noconnection
    case custom(String)
    case error(any Error & Sendable)

    /// `normal`, `shutdown` and `shutdownWith`: exits that are part of ordinary operation.
    public var isQuiet: Bool {
        switch self {
        case .normal, .shutdown, .shutdownWith: return true
        default: return false
        }
    }

    /// Every reason but `normal` kills a linked process that does not trap exits.
    public var isNormal: Bool {
        if case .normal = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .normal: return "normal"
        case .shutdown: return "shutdown"
        case .shutdownWith(let info): return "{shutdown, \(LogText(info, limit: Term.descriptionLimit))}"
        case .kill: return "kill"
        case .killed: return "killed"
        case .noproc: return "noproc"
        case .noconnection: return "noconnection"
        case .custom(let text): return LogText(text, limit: Term.descriptionLimit).description
        case .error(let error):
            return "error(\(String(describing: type(of: error))): \(LogText(String(describing: error), limit: Term.descriptionLimit)))"
        }
    }

    public static func == (lhs: ExitReason, rhs: ExitReason) -> Bool {
        switch (lhs, rhs) {
        case (.normal, .normal), (.shutdown, .shutdown), (.kill, .kill), (.killed, .killed), (.noproc, .noproc),
             (.noconnection, .noconnection):
            return true
        case (.shutdownWith(let a), .shutdownWith(let b)), (.custom(let a), .custom(let b)):
            return a == b
        case (.error(let a), .error(let b)):
            return errorsAreEqual(a, b)
        default:
            return false
        }
    }
}

private func errorsAreEqual(_ a: any Error, _ b: any Error) -> Bool {
    if let equatable = a as? any Equatable {
        return equatable.isEqual(to: b)
    }
    return type(of: a) == type(of: b) && String(describing: a) == String(describing: b)
}

extension Equatable {
    fileprivate func isEqual(to other: Any) -> Bool {
        guard let other = other as? Self else { return false }
        return self == other
    }
}

