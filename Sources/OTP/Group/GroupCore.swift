import Synchronization

/// What the loops of one `NodeGroup` share: their numbers, the channels between them, the group's names
/// and each loop's published load. Everything else — process tables, run queues, timers, monitors — stays
/// a loop's own.
///
/// Loop `i` has node number `base + i`, so the loop of a pid is one subtraction and a compare. The channel
/// from loop `s` to loop `d` is made by `s` the first time it sends to `d` and published with a release
/// store; `d` finds it with an acquire load when it drains (so a group of 64 loops allocates only the
/// channels its traffic uses).
///
/// Thread: any. The nodes are unowned here (the `NodeGroup` keeps them); the channels are freed with the
/// group, after every loop has closed.
///
/// **No reference counting on the paths between loops.** This object, the channels and the nodes are
/// touched by every loop's thread, so a retain or release of one is an atomic operation on a cache line the
/// other threads write too: under cross-loop load, ARC on them took 29% of a partitioned workload's time
/// (perf). So the nodes and channels are reached through the `with…` methods, which lend them without
/// retaining (`Unmanaged._withUnsafeGuaranteedRef`), the tables are raw buffers rather than arrays (reading
/// an array property retains its buffer), and a node reaches this object through `Node.withGroup`.
@usableFromInline
final class GroupCore: @unchecked Sendable {
    let base: UInt32
    let count: Int
    let names = GroupNames()
    /// The loops, by index (set once, before any loop runs).
    private let nodes: UnsafeMutablePointer<Unmanaged<Node>?>
    /// `count * count` channel pointers, `[source * count + destination]`: nil until first used.
    private let channels: UnsafeMutablePointer<Atomic<UnsafeMutableRawPointer?>>
    /// Each loop's load, published once per loop iteration (placement, `NodeGroup.loads()`), each on lines
    /// of its own (`loadCell`): a loop's stores never take the line another loop publishes on.
    private let loads: UnsafeMutableRawPointer
    private static let loadStride = 128
    /// Whether each loop is busy-waiting (`NodeConfiguration.busyWait`): it looks at its channels on every
    /// spin, so a sender need not wake it with a system call.
    private let polling: UnsafeMutablePointer<Atomic<Bool>>
    /// Each loop's life as the others see it (`Phase`): a closed loop's channels are answered by their
    /// sources (`Node.takeBack(sentTo:)`).
    private let phases: UnsafeMutablePointer<Atomic<UInt8>>
    /// Items a source may hold beyond a full channel before a send is refused.
    @usableFromInline let overflowLimit: Int

    init(base: UInt32, count: Int, overflowLimit: Int) {
        self.base = base
        self.count = count
        self.overflowLimit = overflowLimit
        channels = .allocate(capacity: count * count)
        for i in 0..<count * count { (channels + i).initialize(to: Atomic(nil)) }
        precondition(MemoryLayout<LoadCell>.size <= Self.loadStride)
        loads = .allocate(byteCount: count * Self.loadStride, alignment: Self.loadStride)
        for i in 0..<count {
            (loads + i * Self.loadStride).bindMemory(to: LoadCell.self, capacity: 1).initialize(to: LoadCell())
        }
        nodes = .allocate(capacity: count)
        nodes.initialize(repeating: nil, count: count)
        polling = .allocate(capacity: count)
        for i in 0..<count { (polling + i).initialize(to: Atomic(false)) }
        phases = .allocate(capacity: count)
        for i in 0..<count { (phases + i).initialize(to: Atomic(Phase.open.rawValue)) }
    }

    deinit {
        for i in 0..<count * count {
            if let raw = channels[i].load(ordering: .acquiring) {
                Unmanaged<LoopChannel>.fromOpaque(raw).release()
            }
        }
        channels.deinitialize(count: count * count)
        channels.deallocate()
        for i in 0..<count { loadCell(i).deinitialize(count: 1) }
        loads.deallocate()
        nodes.deallocate()
        polling.deinitialize(count: count)
        polling.deallocate()
        phases.deinitialize(count: count)
        phases.deallocate()
    }

    /// Loop `index`'s published load.
    func loadCell(_ index: Int) -> UnsafeMutablePointer<LoadCell> {
        (loads + index * Self.loadStride).assumingMemoryBound(to: LoadCell.self)
    }

    func setNodes(_ nodes: [Node]) {
        for (index, node) in nodes.enumerated() { self.nodes[index] = Unmanaged.passUnretained(node) }
    }

    /// The loop index of `pid` when it is a process of this group, else nil.
    @inline(__always)
    func loop(of pid: PID) -> Int? {
        let offset = pid.node &- base
        return offset < UInt32(count) ? Int(offset) : nil
    }

    /// Loop `index` (a strong reference: for the cold paths).
    func node(_ index: Int) -> Node { nodes[index].unsafelyUnwrapped.takeUnretainedValue() }

    /// The loop `pid` lives on. - Precondition: `pid` is a process of this group.
    func node(of pid: PID) -> Node { node(loop(of: pid)!) }

    /// Lends loop `index` to `body` without retaining it (the paths between loops).
    @inline(__always)
    func withNode<R>(_ index: Int, _ body: (Node) -> R) -> R {
        nodes[index].unsafelyUnwrapped._withUnsafeGuaranteedRef(body)
    }

    /// The loop of a key whose placement number (`PlacementKey`) is `number`: the one rule of
    /// `NodeGroup.loop(forKey:)` and `ChildSpec.onLoop(forKey:)`, so both place one key on one loop.
    func loopIndex(forNumber number: UInt) -> Int { Int(number % UInt(count)) }

    /// Lends the channel from `source` to `destination` to `body` (without retaining it), made on first
    /// use. Source loop only.
    @inline(__always)
    func withChannel<R>(from source: Int, to destination: Int, _ body: (LoopChannel) -> R) -> R {
        let cell = channels + (source * count + destination)
        let raw = cell.pointee.load(ordering: .acquiring) ?? makeChannel(cell)
        return Unmanaged<LoopChannel>.fromOpaque(raw)._withUnsafeGuaranteedRef(body)
    }

    /// The channel of `cell`, made and published (release) on its first use.
    @inline(never)
    private func makeChannel(_ cell: UnsafeMutablePointer<Atomic<UnsafeMutableRawPointer?>>) -> UnsafeMutableRawPointer {
        let raw = Unmanaged.passRetained(LoopChannel(overflowLimit: overflowLimit)).toOpaque()
        cell.pointee.store(raw, ordering: .releasing)
        return raw
    }

    /// Lends the channel from `source` to `destination` to `body` if it was ever used; nil otherwise. Any loop.
    @inline(__always)
    func withExistingChannel<R>(from source: Int, to destination: Int, _ body: (LoopChannel) -> R) -> R? {
        guard let raw = (channels + (source * count + destination)).pointee.load(ordering: .acquiring) else { return nil }
        return Unmanaged<LoopChannel>.fromOpaque(raw)._withUnsafeGuaranteedRef(body)
    }

    /// Loop `index` starts or stops polling its channels. Stopping is followed by a full fence, so a sender
    /// that saw it polling has published its items before the loop looks at its channels one last time
    /// (`Node.stopPolling`).
    func setPolling(_ value: Bool, of index: Int) {
        polling[index].store(value, ordering: .sequentiallyConsistent)
    }

    /// Whether loop `index` polls its channels now, and its phase, read after a full fence that follows
    /// the sender's pushes: a loop that does not poll is woken; a closing one is looked at again; a closed
    /// one's channel is answered by the sender.
    func peer(_ index: Int) -> (polling: Bool, phase: Phase) {
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        return (polling[index].load(ordering: .sequentiallyConsistent),
                Phase(rawValue: phases[index].load(ordering: .sequentiallyConsistent))!)
    }

    /// Loop `index` enters `phase` (`Node.closeInGroup`); a full fence follows.
    func setPhase(_ phase: Phase, of index: Int) {
        phases[index].store(phase.rawValue, ordering: .sequentiallyConsistent)
        atomicMemoryFence(ordering: .sequentiallyConsistent)
    }

    /// A loop's life, as the other loops see it.
    ///
    /// A closing loop takes what was sent to it one last time, its processes gone, so every request,
    /// monitor and link finds them dead there and is answered as on one loop; then it is closed, and from
    /// then on each sender answers what it sends to it itself. The hand-over is the wake-up's Dekker
    /// pattern: the loop stores `closing` and fences before its last look; a sender publishes, fences
    /// and reads the phase. A sender that read `open` has items the last look sees; one that reads
    /// `closing` looks again later (the loop wakes every loop once it is closed); one that reads `closed`
    /// is the only reader of its channel left.
    enum Phase: UInt8 {
        case open, closing, closed
    }
}
