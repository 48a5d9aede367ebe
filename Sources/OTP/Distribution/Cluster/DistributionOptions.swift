#if canImport(Glibc)
import Glibc
#endif

/// How a node joins a cluster (`Node.startDistribution(_:)`).
///
/// Thread: a plain value, `Sendable`. The cookie is never printed: `description` leaves it out.
public struct DistributionOptions: Sendable, CustomStringConvertible {
    /// `name@host`: a short name (`swift@localhost`, as `erl -sname`) or a long one (`swift@host.example.com`,
    /// as `erl -name`). Peers reach this node through the host part and EPMD there.
    public var name: String
    /// Where the cookie comes from.
    public var cookie: CookieSource
    /// The address the distribution port listens on. `127.0.0.1` by default: set it to an external address
    /// (or `0.0.0.0`) deliberately, to let other machines in.
    public var listenAddress: String
    /// The distribution port; 0 lets the system choose (EPMD tells peers which).
    public var port: UInt16
    /// Erlang's `net_ticktime`: a peer silent for this long is disconnected; a tick goes out every quarter
    /// of it when nothing else did.
    public var tickTime: Duration
    /// Largest frame accepted from a peer; a bigger one closes that connection.
    public var maximumFrameSize: Int
    /// Erlang's `net_setuptime`: a connection not up this long after it began (EPMD lookup, connect and
    /// handshake, in either direction) is closed. 7 s by default, as Erlang.
    public var setupTime: Duration
    /// How many accepted connections may be in their handshake at once; a caller beyond it is closed at
    /// once (bounds what unauthenticated peers can hold: descriptors and handshake buffers).
    public var maximumPendingHandshakes: Int
    /// How many bytes of messages one connection may hold for local mailboxes that are full
    /// (`SpawnOptions.mailboxCapacity`) before it stops reading from the peer (backpressure). Until then it
    /// keeps reading: ticks are heard and other processes get their messages.
    public var maximumHeldBytes: Int
    /// The port EPMD listens on, on this host and on the peers' hosts: `ERL_EPMD_PORT` when it holds a port
    /// number, else 4369, as Erlang. Registering with EPMD and looking a peer up both have `setupTime` to
    /// get their answer.
    public var epmdPort: UInt16
    /// How many exported `async` functions (`Node.export`) may run at once for other nodes' rpc calls; a
    /// call beyond it fails at once with `{badrpc, {'EXIT', {system_limit, _}}}`. Bounds the tasks a
    /// member of the cluster can start here.
    public var maximumRunningRPCs: Int = 10_000
    /// How many unsent bytes a connection may hold before sends to its node are refused (Erlang's `+zdbbl`
    /// busy limit, 1 MiB by default): `ProcessError.busy` / `CallError.busy` to the sender, who is told at
    /// once rather than paused. Signals, replies and ticks still go out.
    public var busyLimit: Int = 1 << 20
    /// How many unsent bytes a connection may hold at all; past it the peer is taken as not reading and the
    /// connection is closed (its links and monitors see `noconnection`). 64 MiB by default.
    public var maximumQueuedBytes: Int = 64 << 20
    /// Whether to announce `DFLAG_FRAGMENTS` (true by default, as Erlang): messages over 64 KiB go to and
    /// come from the peer in fragments, between which other messages and ticks pass. Off, every message
    /// travels whole (what a peer without fragments gets anyway) — to compare, or for a peer whose fragment
    /// handling is broken.
    public var fragments: Bool = true
    /// Encrypts and authenticates every connection (Erlang's `-proto_dist inet_tls`), when set: `nil`, the
    /// default, is plain TCP. `OTPTLS.TLSDistribution` provides TLS with certificates; every node of the
    /// cluster must use TLS too (a plain peer's call fails its secure handshake, and so does a call to one).
    public var security: (any DistributionSecurity)?

    /// The flags this node announces: `DistributionFlags.ours`, without `fragments` when that is off.
    var flags: DistributionFlags { fragments ? .ours : DistributionFlags.ours.subtracting(.fragments) }

    public init(name: String, cookie: CookieSource = .default, listenAddress: String = "127.0.0.1",
                port: UInt16 = 0, tickTime: Duration = .seconds(60), maximumFrameSize: Int = 128 << 20,
                setupTime: Duration = .seconds(7), maximumPendingHandshakes: Int = 64, maximumHeldBytes: Int = 64 << 20,
                epmdPort: UInt16 = DistributionOptions.defaultEPMDPort) {
        self.name = name
        self.cookie = cookie
        self.listenAddress = listenAddress
        self.port = port
        self.tickTime = tickTime
        self.maximumFrameSize = maximumFrameSize
        self.setupTime = setupTime
        self.maximumPendingHandshakes = maximumPendingHandshakes
        self.maximumHeldBytes = maximumHeldBytes
        self.epmdPort = epmdPort
    }

    /// EPMD's port as Erlang finds it: `ERL_EPMD_PORT` from the environment when it holds a port number
    /// (1-65535; anything else is ignored), else 4369.
    public static var defaultEPMDPort: UInt16 { EPMD.defaultPort }

    public var description: String {
        "DistributionOptions(name: \(name), cookie: \(cookie), listen: \(listenAddress):\(port), tickTime: \(tickTime), "
            + "setupTime: \(setupTime), maximumFrameSize: \(maximumFrameSize), "
            + "maximumPendingHandshakes: \(maximumPendingHandshakes), maximumHeldBytes: \(maximumHeldBytes), "
            + "epmdPort: \(epmdPort), fragments: \(fragments), security: \(security.map { "\($0)" } ?? "none"))"
    }
}

extension DistributionOptions: CustomReflectable {
    /// What `dump` and debuggers show: the same fields as `description`, the cookie by its source only.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "name": name, "cookie": cookie, "listenAddress": listenAddress, "port": port, "tickTime": tickTime,
            "maximumFrameSize": maximumFrameSize, "setupTime": setupTime,
            "maximumPendingHandshakes": maximumPendingHandshakes, "maximumHeldBytes": maximumHeldBytes,
            "epmdPort": epmdPort, "fragments": fragments, "security": security.map { "\($0)" } ?? "none",
        ])
    }
}

/// Where a node's cookie comes from: given, or looked up as Erlang does.
public enum CookieSource: Sendable, Equatable, CustomStringConvertible, CustomReflectable {
    /// `ERLANG_COOKIE` from the environment if set, else `~/.erlang.cookie` (which must be readable by its
    /// owner only, as Erlang requires; Erlang creates it when missing, this node does not).
    case `default`
    /// This cookie.
    case value(String)
    /// The first line of this file, with the same permission check as `~/.erlang.cookie`.
    case file(String)

    /// The cookie, or why there is none. Never logged.
    func resolve() throws(DistributionError) -> String {
        switch self {
        case .value(let cookie): return cookie
        case .file(let path): return try Self.read(path)
        case .default:
            if let value = getenv("ERLANG_COOKIE"), value.pointee != 0 { return String(cString: value) }
            let home = getenv("HOME").map { String(cString: $0) } ?? "/"
            return try Self.read(home + "/.erlang.cookie")
        }
    }

    private static func read(_ path: String) throws(DistributionError) -> String {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .noCookie(path: path) }
        guard info.st_mode & 0o077 == 0 else {
            throw .insecureCookieFile(path: path, mode: String(info.st_mode & 0o777, radix: 8))
        }
        guard let file = fopen(path, "r") else { throw .noCookie(path: path) }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        while true {
            let c = fgetc(file)
            if c == EOF || c == 10 || c == 13 { break }
            bytes.append(UInt8(truncatingIfNeeded: c))
        }
        let cookie = String(decoding: bytes, as: UTF8.self).trimmingSpaces()
        guard !cookie.isEmpty else { throw .noCookie(path: path) }
        return cookie
    }

    public var description: String {
        switch self {
        case .default: return "default (ERLANG_COOKIE or ~/.erlang.cookie)"
        case .value: return "value (hidden)"
        case .file(let path): return "file \(path)"
        }
    }

    /// What `dump` and debuggers show: `description`, never the cookie itself.
    public var customMirror: Mirror { Mirror(self, children: ["source": description], displayStyle: .enum) }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return String(text)
    }
}
