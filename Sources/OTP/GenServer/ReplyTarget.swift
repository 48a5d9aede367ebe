/// Who a GenServer answers next — the caller of the call being handled, or the process waiting for the
/// start acknowledgement — or no one: reference 0, which no request has (a monitor's reference carries its
/// slot's serial, which starts at 1, in its high half; a detached one has the top bit set).
///
/// A plain 24-byte value where an optional `(pid, ref)` took 32 with its tag and padding, twice in every
/// server process. Thread: a plain value, used on the server's loop.
@usableFromInline
struct ReplyTarget {
    @usableFromInline var pid: PID
    @usableFromInline var ref: UInt64

    @inlinable
    init(pid: PID, ref: Ref) {
        self.pid = pid
        self.ref = ref.rawValue
    }

    @inlinable
    init(_ target: (pid: PID, ref: Ref)?) {
        pid = target?.pid ?? PID(node: 0, index: 0, serial: 0)
        ref = target?.ref.rawValue ?? 0
    }

    /// No one to answer.
    @inlinable
    static var none: ReplyTarget { ReplyTarget(nil) }

    /// The target, or `nil` for none.
    @inlinable
    var value: (pid: PID, ref: Ref)? { ref == 0 ? nil : (pid, Ref(rawValue: ref)) }

    /// Leaves no one to answer: one store (the pid left behind is never read while the reference is 0).
    @inlinable
    mutating func clear() {
        ref = 0
    }

    /// The target, leaving none behind.
    @inlinable
    mutating func take() -> (pid: PID, ref: Ref)? {
        defer { ref = 0 }
        return value
    }
}
