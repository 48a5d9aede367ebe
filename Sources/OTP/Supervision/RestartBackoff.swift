/// A delay before each restart of one child that grows while the child keeps failing (Akka's
/// `restartWithBackoff`, Ergo's restart delays) — an extension beyond Erlang, whose supervisors restart at
/// once and stop after too many restarts (`RestartIntensity`, which still applies: each restart counts when
/// it happens).
///
/// The first restart waits `initial`; each next one `multiplier` times longer, up to `maximum`. A child that
/// ran for `resetAfter` (default: `maximum`) before it exited starts over at `initial`. While it waits the
/// child shows as `restarting` (`whichChildren`), and its supervisor serves requests as usual; with
/// `oneForAll` or `restForOne`, the other members of its group are stopped and started when the delay is over.
///
/// Thread: a plain value.
public struct RestartBackoff: Sendable, Equatable {
    public var initial: Duration
    public var maximum: Duration
    public var multiplier: Double
    public var resetAfter: Duration?

    /// - Precondition: `initial` and `maximum` not negative, `multiplier` at least 1 (checked by the
    ///   supervisor: an invalid backoff fails the child's start with `invalidChildSpec`).
    public init(initial: Duration, maximum: Duration, multiplier: Double = 2, resetAfter: Duration? = nil) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
        self.resetAfter = resetAfter
    }

    /// Why this backoff cannot be used, or `nil`.
    var problem: String? {
        if initial < .zero || maximum < .zero { return "a backoff delay is negative" }
        if maximum < initial { return "the backoff's maximum is below its initial delay" }
        if !(multiplier >= 1) { return "the backoff's multiplier is below 1" }
        if let resetAfter, resetAfter < .zero { return "the backoff's resetAfter is negative" }
        return nil
    }

    /// The delay after `delay`.
    func next(after delay: Duration) -> Duration {
        let grown = Double(delay.wholeMilliseconds) * multiplier
        return grown >= Double(maximum.wholeMilliseconds) ? maximum : .milliseconds(Int64(grown.rounded(.up)))
    }
}

extension ChildSpec {
    /// This child restarted after a growing delay (`RestartBackoff`).
    public func withBackoff(_ backoff: RestartBackoff) -> ChildSpec {
        var child = self
        child.backoff = backoff
        return child
    }
}
