/// One child as its supervisor holds it: the specification, and the running process if any.
struct SupervisedChild {
    /// Unique within its supervisor, increasing in start order (dynamic children may share `spec.id`).
    let key: Int
    var spec: ChildSpec
    var pid: PID?
    /// Its last start failed and a retry is queued, or it waits out its restart backoff.
    var restarting = false
    /// Node time (ms) of its last start, and the delay its next backed-off restart waits.
    var startedAt: UInt64 = 0
    var nextDelay: Duration?

    var info: ChildInfo {
        ChildInfo(id: spec.id, state: pid.map { .running($0) } ?? (restarting ? .restarting : .undefined),
                  type: spec.type, restart: spec.restart)
    }
}

/// The state every supervisor keeps: its strategy, its children in start order, its restart history.
/// Loop thread only (it is a GenServer's state).
struct SupervisionState {
    let strategy: RestartStrategy
    var history: RestartHistory
    private(set) var children: [SupervisedChild] = []
    private var nextKey = 0
    /// The `sys` stop request to answer once an orderly stop has stopped every child.
    var stopRequest: (pid: PID, ref: Ref)?

    init(strategy: RestartStrategy, intensity: RestartIntensity) {
        self.strategy = strategy
        self.history = RestartHistory(intensity)
    }

    @discardableResult
    mutating func append(_ spec: ChildSpec) -> Int {
        nextKey += 1
        children.append(SupervisedChild(key: nextKey, spec: spec))
        return nextKey
    }

    func index(key: Int) -> Int? { children.firstIndex { $0.key == key } }
    func index(id: String) -> Int? { children.firstIndex { $0.spec.id == id } }
    func index(pid: PID) -> Int? { children.firstIndex { $0.pid == pid } }

    subscript(key key: Int) -> SupervisedChild? {
        get { index(key: key).map { children[$0] } }
        set {
            guard let i = index(key: key) else { return }
            if let newValue { children[i] = newValue } else { children.remove(at: i) }
        }
    }

    /// Keys of the running children, newest first: the shutdown order.
    var runningKeysNewestFirst: [Int] { children.reversed().filter { $0.pid != nil }.map(\.key) }

    var counts: ChildCounts {
        ChildCounts(specs: children.count, active: children.count { $0.pid != nil },
                    supervisors: children.count { $0.spec.type == .supervisor },
                    workers: children.count { $0.spec.type == .worker })
    }
}
