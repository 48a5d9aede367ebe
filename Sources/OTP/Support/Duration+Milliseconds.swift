extension Duration {
    /// Whole milliseconds, rounded down; a negative duration is 0 and a huge one `UInt64.max`. For the
    /// settings kept as loop milliseconds (tick, setup and idle times, thresholds, periods).
    var wholeMilliseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        let (ms, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1000)
        return overflow ? .max : ms &+ UInt64(max(attoseconds, 0) / 1_000_000_000_000_000)
    }
}
