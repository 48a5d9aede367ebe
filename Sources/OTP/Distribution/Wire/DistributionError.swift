/// What went wrong with distribution. Every case names the node (or file) involved; none carries the cookie.
/// `description` escapes and shortens every text in it (`LogText`): names and reasons may come from a peer.
public enum DistributionError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Distribution runs on the libuv loop: a node on the manual clock has none.
    case needsSystemClock
    case alreadyStarted(String)
    case notStarted
    /// A node name must be `name@host` with a non-empty name of letters, digits, `_` and `-`.
    case invalidNodeName(String)
    /// No cookie given, none in `ERLANG_COOKIE`, and no `~/.erlang.cookie` (`path`).
    case noCookie(path: String)
    /// The cookie file can be read by others (Erlang refuses it too); `mode` is its octal mode.
    case insecureCookieFile(path: String, mode: String)
    /// EPMD (the port mapper on 127.0.0.1:4369 or the peer's host) refused or could not be reached.
    case epmd(String)
    /// The listening socket could not be opened.
    case listen(String)
    /// The peer's EPMD does not know it, or its address cannot be found or connected to.
    case unreachable(node: String, reason: String)
    /// The handshake with `node` failed for `reason`.
    case handshake(String, String)
    /// The secure channel with `node` (TLS, `DistributionOptions.security`) failed: its handshake (an
    /// untrusted or misnamed certificate, a peer that does not speak TLS) or a record after it.
    case secureChannel(node: String, reason: String)
    /// The peer's digest did not match our cookie (or ours did not match its): the connection is refused.
    case badCookie(String)
    /// The peer lacks capability flags OTP 25+ requires.
    case missingFlags(String, [String])
    /// The peer broke the protocol after the handshake (a malformed or oversized frame, an unknown control
    /// message): its connection is closed.
    case protocolViolation(node: String, reason: String)
    /// The connection with `node` was not up within `DistributionOptions.setupTime` (Erlang's
    /// `net_setuptime`): it is closed.
    case setupTimeout(node: String, milliseconds: UInt64)
    /// Nothing arrived from `node` for the tick time (`DistributionOptions.tickTime`): it is considered down.
    case tickTimeout(node: String, milliseconds: UInt64)

    public var description: String {
        func t(_ text: String) -> LogText { LogText(text) }
        switch self {
        case .needsSystemClock: return "distribution needs a node on the system clock (a libuv loop)"
        case .alreadyStarted(let name): return "distribution is already started as \(t(name))"
        case .notStarted: return "distribution is not started on this node"
        case .invalidNodeName(let name): return "invalid node name '\(t(name))': expected name@host"
        case .noCookie(let path): return "no cookie: none given, ERLANG_COOKIE unset, and \(t(path)) missing"
        case .insecureCookieFile(let path, let mode):
            return "cookie file \(t(path)) has mode \(mode): it must be readable by its owner only (chmod 400)"
        case .epmd(let reason): return "epmd: \(t(reason))"
        case .listen(let reason): return "cannot listen for distribution: \(t(reason))"
        case .unreachable(let node, let reason): return "cannot reach \(t(node)): \(t(reason))"
        case .handshake(let node, let reason): return "handshake with \(t(node)) failed: \(t(reason))"
        case .secureChannel(let node, let reason): return "secure channel with \(t(node)) failed: \(t(reason))"
        case .badCookie(let node): return "connection with \(t(node)) refused: the cookie digest does not match"
        case .missingFlags(let node, let flags):
            return "\(t(node)) lacks mandatory distribution flags: \(flags.joined(separator: ", "))"
        case .protocolViolation(let node, let reason): return "protocol violation by \(t(node)): \(t(reason))"
        case .setupTimeout(let node, let milliseconds):
            return "net_setuptime: the connection with \(t(node)) was not up within \(milliseconds) ms"
        case .tickTimeout(let node, let milliseconds):
            return "net_tick_timeout: nothing from \(t(node)) for \(milliseconds) ms"
        }
    }
}
