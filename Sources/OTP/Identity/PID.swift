/// The identity of a process: its node, and its place on that node. Never reused while the node lives,
/// and never taken for a process of another node.
///
/// A `PID` packs three words:
/// - `node`: which node the process belongs to. A node of this OS process has a number of its own
///   (`Node.number`, top bit clear, never reused while the OS process lives: a pid of a closed node matches
///   no other node). A node of the cluster has an entry in the process-wide table of remote nodes (top bit
///   set; one entry per node name and creation, as Erlang's node table).
/// - `index`: the process-table slot (for a remote pid, the process id on its node);
/// - `serial`: how many times that slot was used before (a slot whose serial would wrap is retired).
///
/// Looking a local process up is one array read and two comparisons (node, serial). A remote pid needs no
/// table entry of its own, so meeting millions of short-lived remote processes costs no memory. It prints
/// like Erlang's `<0.Index.Serial>` for a process of this OS process, and as `<node.id.serial>` (or
/// `{name, node}`) for a remote one.
///
/// Thread: a plain value, `Sendable`; it can be passed anywhere. Cost: 12 bytes, trivially copyable.
public struct PID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The node: `Node.number` for a node of this OS process, a remote-node entry (top bit set) otherwise.
    public let node: UInt32
    /// Slot in the node's process table (the process id, for a remote pid).
    public let index: UInt32
    /// How many earlier processes used the same slot.
    public let serial: UInt32

    /// The top bit of `node` (and, for a registered name of another node, of `index`).
    public static let remoteBit: UInt32 = 0x8000_0000

    @inlinable
    public init(node: UInt32, index: UInt32, serial: UInt32) {
        self.node = node
        self.index = index
        self.serial = serial
    }

    /// `index` and `serial` packed into one word (serial in the high half): what a node's own tables (run
    /// queue, timers) keep. With `node` it names the process again (`init(node:rawValue:)`).
    @inlinable
    public var rawValue: UInt64 { UInt64(serial) << 32 | UInt64(index) }

    @inlinable
    public init(node: UInt32, rawValue: UInt64) {
        self.init(node: node, index: UInt32(truncatingIfNeeded: rawValue), serial: UInt32(truncatingIfNeeded: rawValue >> 32))
    }

    /// Whether this pid stands for a process (or name) of another node of the cluster.
    @inlinable
    public var isRemote: Bool { node & PID.remoteBit != 0 }

    /// `<0.Index.Serial>`; a remote pid prints as its process (`<node.id.serial>`) or name (`{name, node}`).
    public var description: String {
        if isRemote, let identity = remoteIdentity { return identity.description }
        // A process of a `NodeGroup`'s loop: its loop folded into the number, so the pids of one group print
        // apart (`index × loops + loop`), as one Erlang node's would.
        if let (loop, count) = NodeNumbers.loop(of: node) {
            return "<0.\(UInt64(index) * UInt64(count) + UInt64(loop)).\(serial)>"
        }
        return "<0.\(index).\(serial)>"
    }

    public static func < (lhs: PID, rhs: PID) -> Bool {
        (lhs.node, lhs.index, lhs.serial) < (rhs.node, rhs.index, rhs.serial)
    }
}
