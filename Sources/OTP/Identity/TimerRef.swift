/// Names a pending timer (`sendAfter`): cancel it or read the time left.
///
/// A distinct type from `Ref`, so a monitor reference can never cancel a timer by accident. The value packs
/// the timer's slot and that slot's use count, so it is unique for the node's lifetime and finding the
/// timer is one array read.
///
/// Thread: a plain value, `Sendable`. Cost: 8 bytes.
public struct TimerRef: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64

    @inlinable
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public var description: String { "#TimerRef<0.\(rawValue >> 32).\(rawValue & 0xFFFF_FFFF)>" }
}
