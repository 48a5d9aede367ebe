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
        case .name(let name, let node): return "{\(LogText(name)), \(LogText(node))}"
        }
    }
}

/// Remote processes as `PID`s, so every API that takes a `PID` — send, link, monitor, exit, call — takes
/// remote ones too, and messages, `DOWN`s and `EXIT`s carry them.
///
/// A remote pid is `PID(node: remoteBit | entry, index: id, serial: serial)`, where `entry` is the node's
/// row in this process-wide node table (one row per node name and creation, as Erlang's node table): the
/// pid itself needs no row, so a stream of short-lived remote callers costs no memory. A registered name
/// of another node (`{name, node}`) is `PID(node: remoteBit | nameEntry, index: name, serial: 0)`, where
/// `nameEntry` is the node's row for names and `name` a row in the table of names used with it. Rows are
/// added by the node names and creations this OS process meets in control messages (only the connected
/// peer's own, checked) and by names that local code addresses: bounded by the cluster, not by traffic.
///
/// The table also knows which nodes of this OS process are in a cluster under which name (`enroll`), so
/// a pid of another node of the same OS process can be reached through the cluster.
///
/// Interning and lookup take a mutex; only remote paths use them, never local message passing.
///
/// Thread: any thread.
final class RemoteIdentities: @unchecked Sendable {
    static let shared = RemoteIdentities()

    private struct NodeKey: Hashable {
        let name: String
        /// `nil`: the row for registered names on that node.
        let creation: UInt32?
    }

    private var mutex = pthread_mutex_t()
    private var nodes: [NodeKey] = []
    private var nodeRows: [NodeKey: UInt32] = [:]
    private var names: [String] = []
    private var nameRows: [String: UInt32] = [:]
    private var enrolled: [UInt32: (name: String, creation: UInt32)] = [:]

    private init() { pthread_mutex_init(&mutex, nil) }

    private func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }

    private func row(_ key: NodeKey) -> UInt32 {
        if let row = nodeRows[key] { return row }
        let row = UInt32(nodes.count)
        precondition(row < PID.remoteBit, "remote node table full")
        nodes.append(key)
        nodeRows[key] = row
        return row
    }

    /// The pid for `identity`, the same every time.
    func pid(for identity: RemoteIdentity) -> PID {
        locked {
            switch identity {
            case .pid(let external):
                let node = row(NodeKey(name: external.node, creation: external.creation))
                return PID(node: PID.remoteBit | node, index: external.id, serial: external.serial)
            case .name(let name, let nodeName):
                let node = row(NodeKey(name: nodeName, creation: nil))
                let index: UInt32
                if let existing = nameRows[name] {
                    index = existing
                } else {
                    index = UInt32(names.count)
                    names.append(name)
                    nameRows[name] = index
                }
                return PID(node: PID.remoteBit | node, index: index, serial: 0)
            }
        }
    }

    /// What a remote `PID` stands for; `nil` for a pid of this OS process or a row never handed out.
    func identity(of pid: PID) -> RemoteIdentity? {
        guard pid.isRemote else { return nil }
        let row = Int(pid.node & ~PID.remoteBit)
        return locked {
            guard row < nodes.count else { return nil }
            let key = nodes[row]
            guard let creation = key.creation else {
                return Int(pid.index) < names.count ? .name(names[Int(pid.index)], node: key.name) : nil
            }
            return .pid(ExternalPID(node: key.name, id: pid.index, serial: pid.serial, creation: creation))
        }
    }

    /// Rows of the node table for the node called `name` (one per creation, plus one for its names).
    func rows(forNode name: String) -> Int { locked { nodes.filter { $0.name == name }.count } }

    /// Node `number` of this OS process is in a cluster as `name` (`nil`: it left).
    func enroll(_ number: UInt32, as identity: (name: String, creation: UInt32)?) {
        locked { enrolled[number] = identity }
    }

    /// The cluster identity of a process of a node of this OS process, if that node is in a cluster. A
    /// process of a loop of a `NodeGroup` (every loop is enrolled under the group's name) has its loop in its
    /// wire id (`wireID`), as the group's pids print.
    func clusterIdentity(of pid: PID) -> ExternalPID? {
        guard !pid.isRemote else { return nil }
        return locked {
            enrolled[pid.node].map { ExternalPID(node: $0.name, id: Self.wireID(pid), serial: pid.serial, creation: $0.creation) }
        }
    }

    /// The name and creation node `number` of this OS process is in a cluster under, if it is.
    func enrollment(of number: UInt32) -> (name: String, creation: UInt32)? { locked { enrolled[number] } }

    /// The id a pid of this OS process has on the wire: its index, or for a loop of a group its index times
    /// the loop count plus its loop (`<0.index×loops+loop.serial>`), so every loop's pids are one node's.
    static func wireID(_ pid: PID) -> UInt32 {
        guard let (loop, count) = NodeNumbers.loop(of: pid.node) else { return pid.index }
        return pid.index &* count &+ loop
    }
}

extension PID {
    /// The remote process or name this pid stands for; `nil` for a pid of this OS process.
    public var remoteIdentity: RemoteIdentity? { RemoteIdentities.shared.identity(of: self) }

    /// The pid of a remote process or name (`Node.pid(for:)` also maps this node's own pids back to local ones).
    public static func remote(_ identity: RemoteIdentity) -> PID { RemoteIdentities.shared.pid(for: identity) }
}
