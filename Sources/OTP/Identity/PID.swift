/// The identity of a process on a node: a small value that is never reused for the node's lifetime.
///
/// A `PID` packs the process-table slot (`index`) and how many times that slot has been used before
/// (`serial`). Looking a process up is one array read plus one comparison; a PID whose process has exited
/// never matches again, because the slot's serial moved on (a slot whose serial would wrap is retired).
/// It prints like Erlang's `<0.Index.Serial>`.
///
/// Thread: a plain value, `Sendable`; it can be passed anywhere. Cost: 8 bytes, trivially copyable.
public struct PID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Slot in the node's process table.
    public let index: UInt32
    /// How many earlier processes used the same slot.
    public let serial: UInt32

    @inlinable
    public init(index: UInt32, serial: UInt32) {
        self.index = index
        self.serial = serial
    }

    /// Both fields packed into one word (serial in the high half).
    @inlinable
    public var rawValue: UInt64 { UInt64(serial) << 32 | UInt64(index) }

    @inlinable
    public init(rawValue: UInt64) {
        self.init(index: UInt32(truncatingIfNeeded: rawValue), serial: UInt32(truncatingIfNeeded: rawValue >> 32))
    }

    /// `<0.Index.Serial>`; a remote pid prints as its process (`<node.id.serial>`) or name (`{name, node}`).
    public var description: String {
        if isRemote, let identity = remoteIdentity { return identity.description }
        return "<0.\(index).\(serial)>"
    }

    public static func < (lhs: PID, rhs: PID) -> Bool {
        (lhs.index, lhs.serial) < (rhs.index, rhs.serial)
    }
}
