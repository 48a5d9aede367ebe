/// What a supervisor does when a child exits and must be restarted (Erlang's strategies).
public enum RestartStrategy: Sendable, Equatable, CustomStringConvertible {
    /// Restart that child only.
    case oneForOne
    /// Stop all other children (in reverse start order), then restart all of them (in start order).
    case oneForAll
    /// Stop the children started after it (in reverse order), then restart it and them (in start order).
    case restForOne

    public var description: String {
        switch self {
        case .oneForOne: return "one_for_one"
        case .oneForAll: return "one_for_all"
        case .restForOne: return "rest_for_one"
        }
    }
}

/// How many restarts a supervisor allows: at most `maxRestarts` within any `period`. One more makes it
/// stop all its children and exit with `SupervisorError.reachedMaxRestartIntensity` (an abnormal reason,
/// so its own supervisor or linked parent sees a failure). Erlang's defaults: 1 restart in 5 seconds.
public struct RestartIntensity: Sendable, Equatable {
    public var maxRestarts: Int
    public var period: Duration

    public init(maxRestarts: Int = 1, period: Duration = .seconds(5)) {
        self.maxRestarts = maxRestarts
        self.period = period
    }

    var periodMilliseconds: UInt64 { period.wholeMilliseconds }
}

/// A supervisor's configuration and its children, in start order.
public struct SupervisorSpec: Sendable {
    public var strategy: RestartStrategy
    public var intensity: RestartIntensity
    public var children: [ChildSpec]

    public init(strategy: RestartStrategy = .oneForOne, intensity: RestartIntensity = RestartIntensity(),
                children: [ChildSpec]) {
        self.strategy = strategy
        self.intensity = intensity
        self.children = children
    }
}

/// A dynamic supervisor's configuration: children come later, one `startChild` at a time.
public struct DynamicSupervisorSpec: Sendable {
    public var intensity: RestartIntensity
    /// The most children it runs at once; `startChild` beyond it fails with
    /// `SupervisorError.maxChildren`. `nil`: no limit.
    public var maxChildren: Int?

    public init(intensity: RestartIntensity = RestartIntensity(), maxChildren: Int? = nil) {
        self.intensity = intensity
        self.maxChildren = maxChildren
    }
}

/// The restart history a supervisor keeps to apply its `RestartIntensity` (times on the node's clock).
struct RestartHistory {
    let limit: RestartIntensity
    private var times: [UInt64] = []

    init(_ limit: RestartIntensity) { self.limit = limit }

    /// Records a restart at `now`; false when it is one too many within the period (Erlang's rule:
    /// restarts older than the period are forgotten, then more than `maxRestarts` left is too many).
    mutating func record(at now: UInt64) -> Bool {
        let period = limit.periodMilliseconds
        times.removeAll { now &- $0 >= period }
        times.append(now)
        return times.count <= limit.maxRestarts
    }
}
