/// A unique reference: names a monitor, a timer or a request.
///
/// References are 64-bit values taken from a per-node counter and never repeat for the node's lifetime.
/// They print like Erlang's `#Ref<0.N>`.
///
/// Thread: a plain value, `Sendable`. Cost: 8 bytes, trivially copyable.
public struct Ref: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let rawValue: UInt64

    @inlinable
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public var description: String { "#Ref<0.\(rawValue)>" }

    public static func < (lhs: Ref, rhs: Ref) -> Bool { lhs.rawValue < rhs.rawValue }
}
