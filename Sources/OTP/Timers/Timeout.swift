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
    /// Milliseconds, or `Int64.min` for infinity: 8 bytes, not an optional's 9 (padded to 16), in every
    /// process that keeps one. A timeout of `Int64.min` milliseconds is kept as `Int64.min + 1` (either is
    /// negative, refused the same way).
    @usableFromInline let raw: Int64

    /// Milliseconds, or `nil` for infinity.
    @inlinable
    public var milliseconds: Int64? { raw == .min ? nil : raw }

    @inlinable
    init(milliseconds: Int64?) { raw = milliseconds.map { $0 == .min ? .min &+ 1 : $0 } ?? .min }

    /// Forever. Computed, not stored: a stored static is reached through a lazy-initialisation check.
    @inlinable
    public static var infinity: Timeout { Timeout(milliseconds: nil) }
    /// Poll: look once, time out at once.
    @inlinable
    public static var zero: Timeout { Timeout(milliseconds: 0) }

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
            self.init(milliseconds: seconds < 0 ? Int64.min : Int64.max)
        } else {
            let extra = attoseconds / 1_000_000_000_000_000
            let roundUp: Int64 = attoseconds % 1_000_000_000_000_000 > 0 ? 1 : 0
            self.init(milliseconds: ms &+ extra &+ roundUp)
        }
    }

    public var isInfinite: Bool { milliseconds == nil }

    /// Whether a wait with this timeout can outlast the handler that begins it (not a poll, not invalid):
    /// the calls that may have their idle server run at once (`Node.serveNow`).
    @inlinable
    var outlastsHandler: Bool { milliseconds.map { $0 > 0 } ?? true }

    /// The wait in milliseconds, checked: `nil` for infinity; throws for negative values.
    @inlinable
    func validated() throws(ProcessError) -> UInt64? {
        guard let ms = milliseconds else { return nil }
        guard ms >= 0 else { throw .invalidTimeout("\(ms) ms is negative") }
        return UInt64(ms)
    }

    public var description: String { milliseconds.map { "\($0) ms" } ?? "infinity" }
}
