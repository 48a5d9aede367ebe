/// How long to wait: a number of milliseconds, or forever. Erlang's `after` clause and call timeouts.
///
/// `Timeout.zero` means "poll": a receive with it looks at the mailbox once and times out at once when
/// nothing matches. Negative values are representable so that they can be reported: every API that takes
/// a `Timeout` refuses them with `ProcessError.invalidTimeout`.
///
/// Every API that takes a `Timeout` also takes a Swift `Duration` (`.seconds(0.5)`, `.milliseconds(250)`,
/// or a `Duration` value), rounded up to whole milliseconds; `Timeout` remains for `.infinity`, which a
/// `Duration` cannot say.
///
/// Thread: a plain value, `Sendable`. Resolution: one millisecond, like Erlang and libuv.
public struct Timeout: Sendable, Hashable, CustomStringConvertible {
    /// Milliseconds, or `nil` for infinity.
    public let milliseconds: Int64?

    @inlinable
    init(milliseconds: Int64?) { self.milliseconds = milliseconds }

    public static let infinity = Timeout(milliseconds: nil)
    public static let zero = Timeout(milliseconds: 0)

    @inlinable
    public static func milliseconds(_ value: Int64) -> Timeout { Timeout(milliseconds: value) }

    @inlinable
    public static func seconds(_ value: Int64) -> Timeout {
        let (product, overflow) = value.multipliedReportingOverflow(by: 1000)
        return Timeout(milliseconds: overflow ? (value < 0 ? Int64.min : Int64.max) : product)
    }

    /// A Swift `Duration`, rounded up to whole milliseconds.
    public init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let (ms, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow {
            self.milliseconds = seconds < 0 ? Int64.min : Int64.max
        } else {
            let extra = attoseconds / 1_000_000_000_000_000
            let roundUp: Int64 = attoseconds % 1_000_000_000_000_000 > 0 ? 1 : 0
            self.milliseconds = ms &+ extra &+ roundUp
        }
    }

    public var isInfinite: Bool { milliseconds == nil }

    /// The wait in milliseconds, checked: `nil` for infinity; throws for negative values.
    @inlinable
    func validated() throws(ProcessError) -> UInt64? {
        guard let ms = milliseconds else { return nil }
        guard ms >= 0 else { throw .invalidTimeout("\(ms) ms is negative") }
        return UInt64(ms)
    }

    public var description: String { milliseconds.map { "\($0) ms" } ?? "infinity" }
}
