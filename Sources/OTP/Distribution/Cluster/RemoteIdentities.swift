#if canImport(Glibc)
import Glibc
#endif

/// What a remote `PID` stands for: a process of another node, or a registered name there.
public enum RemoteIdentity: Hashable, Sendable, CustomStringConvertible {
    case pid(ExternalPID)
    case name(String, node: String)

    /// The node it lives on.
    public var node: String {
        switch self {
        case .pid(let pid): return pid.node
        case .name(_, let node): return node
        }
    }

    /// How the wire names it in a monitor: the pid, or the name as an atom.
    var term: Term {
        switch self {
        case .pid(let pid): return .pid(pid)
        case .name(let name, _): return .atom(name)
        }
    }

    public var description: String {
        switch self {
        case .pid(let pid): return pid.description
        case .name(let name, let node): return "{\(name), \(node)}"
        }
    }
}

/// Remote processes as `PID`s: each process of another node (or name there) that this OS process meets gets
/// one stand-in `PID` with the top bit of its index set, so every API that takes a `PID` — send, link,
/// monitor, exit, call — takes remote ones too, and messages, `DOWN`s and `EXIT`s carry them.
///
/// The table is shared by all nodes of the OS process and only grows (as Erlang's node table keeps every
/// remote pid it has seen while it is referenced; here for the process lifetime: about 80 bytes an entry).
/// Interning and lookup take a mutex; only remote paths use them, never local message passing.
///
/// Thread: any thread.
final class RemoteIdentities: @unchecked Sendable {
    static let shared = RemoteIdentities()
    static let remoteBit: UInt32 = 0x8000_0000

    private var mutex = pthread_mutex_t()
    private var identities: [RemoteIdentity] = []
    private var indices: [RemoteIdentity: UInt32] = [:]

    private init() { pthread_mutex_init(&mutex, nil) }

    /// The stand-in for `identity`, the same every time.
    func pid(for identity: RemoteIdentity) -> PID {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        if let index = indices[identity] { return PID(index: Self.remoteBit | index, serial: 0) }
        let index = UInt32(identities.count)
        precondition(index < Self.remoteBit, "remote identity table full")
        identities.append(identity)
        indices[identity] = index
        return PID(index: Self.remoteBit | index, serial: 0)
    }

    /// What a stand-in `PID` stands for; `nil` for a local pid or an index never handed out.
    func identity(of pid: PID) -> RemoteIdentity? {
        guard pid.index & Self.remoteBit != 0 else { return nil }
        let index = Int(pid.index & ~Self.remoteBit)
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return index < identities.count ? identities[index] : nil
    }
}

extension PID {
    /// Whether this pid stands for a process (or name) of another node.
    @inlinable
    public var isRemote: Bool { index & 0x8000_0000 != 0 }

    /// The remote process or name this pid stands for; `nil` for a local pid.
    public var remoteIdentity: RemoteIdentity? { RemoteIdentities.shared.identity(of: self) }

    /// The stand-in pid of a remote process (`Node.pid(for:)` also maps this node's own pids back to local ones).
    public static func remote(_ identity: RemoteIdentity) -> PID { RemoteIdentities.shared.pid(for: identity) }
}
