/// A typed address: the identity of a process together with the type of the messages it accepts.
///
/// `Address<Message>` is what `spawn` returns. Sending through it is checked by the compiler, so a wrong
/// message type is a compile error; the untyped `pid` serves links, monitors, names and introspection.
/// A registered name can be turned back into an address with `Node.whereis(_:as:)`, which checks the
/// message type at run time.
///
/// Thread: a plain value, `Sendable`. Cost: 12 bytes (a `PID`).
public struct Address<Message>: Hashable, Sendable, CustomStringConvertible {
    public let pid: PID

    /// Only the node creates addresses, after checking the message type.
    @usableFromInline
    internal init(unchecked pid: PID) { self.pid = pid }

    public var description: String { pid.description }
}
