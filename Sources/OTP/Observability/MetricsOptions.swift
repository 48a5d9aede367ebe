import CoreMetrics

/// Turns on swift-metrics instrumentation for a node (`NodeConfiguration.metrics`).
///
/// Off by default: a node without it pays one predictable branch per scheduler drain, per wake-up and per
/// call (see `docs/observability.md` for the benchmark figures with and without). With it, the node
/// records into the given factory (or the one the program bootstrapped with `MetricsSystem.bootstrap`):
///
/// - per node, sampled every `sampleInterval` (counters from the node's statistics, gauges as they are):
///   `otp_processes`, `otp_processes_spawned_total`, `otp_processes_exited_total`, `otp_messages_in_total`
///   (delivered into a mailbox), `otp_messages_out_total` (sent to a pid: delivered, refused or dropped),
///   `otp_messages_refused_total`, `otp_messages_dropped_total`, `otp_replies_ignored_total`,
///   `otp_mailbox_messages` (queued in all mailboxes), `otp_mailbox_depth_max` (the longest mailbox),
///   `otp_run_queue`, `otp_timers`;
/// - per node, as they happen: `otp_mailbox_wait` (timer: from the moment a waiting process got a message,
///   or yielded, until its turn started; zero for a turn run inside another's), `otp_handler_duration`
///   (timer: one scheduler turn of a process), `otp_call_duration` and `otp_calls_total` (dimension
///   `outcome`: `reply`, `timeout`, `noproc`, `exited`, `refused`, `cancelled`),
///   `otp_supervisor_restarts_total` (dimension `supervisor`);
/// - with `perProcess: .named`, for each registered name (dimension `process`):
///   `otp_process_messages_in_total`, `otp_process_messages_out_total`, `otp_process_mailbox_depth`
///   (sampled) and `otp_process_handler_duration` (each turn).
///
/// Every metric also carries `dimensions` (for example `[("node", "api")]`).
public struct MetricsOptions: Sendable {
    /// Which processes get metrics of their own.
    public enum PerProcess: Sendable, Equatable {
        /// Node-wide metrics only.
        case none
        /// Also every process while it holds a registered name (the name is the `process` dimension, so
        /// a restarted server continues its series).
        case named
    }

    /// Where the metrics go; `nil`: `MetricsSystem.factory`, the program's bootstrapped backend.
    public var factory: (any MetricsFactory)?
    /// Dimensions added to every metric of this node.
    public var dimensions: [(String, String)]
    public var perProcess: PerProcess
    /// How often the sampled metrics are published (and when the scheduler goes idle, at most this often).
    /// `Node.publishMetrics()` publishes at once. Cost of a sample: one pass over the process table
    /// (about 5 ms per million processes) plus one pass over the registered names.
    public var sampleInterval: Timeout

    public init(factory: (any MetricsFactory)? = nil, dimensions: [(String, String)] = [],
                perProcess: PerProcess = .none, sampleInterval: Timeout = .seconds(1)) {
        self.factory = factory
        self.dimensions = dimensions
        self.perProcess = perProcess
        self.sampleInterval = sampleInterval
    }
}

/// How a call ended, the `outcome` dimension of `otp_calls_total` and `otp_call_duration`.
public enum CallOutcome: String, Sendable, CaseIterable {
    /// The server replied.
    case reply
    /// No reply within the call's timeout.
    case timeout
    /// No such process or name (at once, or through the request's monitor).
    case noproc
    /// The server exited before replying.
    case exited
    /// The request was not delivered: the server's mailbox was full, a process called itself, or a remote
    /// request had no term form or no cluster to travel in.
    case refused
    /// The caller gave up (a cancelled Swift task, a closing node).
    case cancelled

    /// The outcome a call that failed with `error` is counted as.
    public init(_ error: CallError) {
        switch error {
        case .unknownName, .noProcess: self = .noproc
        case .timeout: self = .timeout
        case .serverExited: self = .exited
        case .callingSelf, .mailboxFull, .notTermEncodable, .noDistribution, .wrongServerType, .wouldBlock,
             .invalidTimeout, .busy: self = .refused
        case .wrongReplyType: self = .reply
        case .nodeStopped, .cancelled: self = .cancelled
        }
    }
}

// MARK: Timeouts as a Swift `Duration` (rounded up to whole milliseconds; disfavoured, so a literal
// such as `.seconds(2)` stays a `Timeout`)

extension MetricsOptions {
    /// Metrics options sampled every `sampleInterval`.
    @_disfavoredOverload
    public init(factory: (any MetricsFactory)? = nil, dimensions: [(String, String)] = [],
                perProcess: PerProcess = .none, sampleInterval: Duration) {
        self.init(factory: factory, dimensions: dimensions, perProcess: perProcess,
                  sampleInterval: Timeout(sampleInterval))
    }
}
