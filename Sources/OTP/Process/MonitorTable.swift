/// Every monitor of a node, in a slab of plain structs: a monitor's `Ref` packs its slot and the slot's
/// use count, so finding, adding and removing a monitor is O(1) with no hashing and no allocation in
/// steady state. A call opens and closes one monitor per request, so this is on the call path.
///
/// Each entry is linked into two intrusive doubly linked lists: the monitors its watcher holds and the
/// monitors on its target. A process keeps only the two list heads (in `ProcessExtras`), so its exit
/// walks exactly its own monitors.
///
/// A request (`call`, `sendRequest`) is a monitor whose reference doubles as the request tag, as in
/// Erlang: `awaitingReply` stays true until the first reply is delivered. A reply that finds no entry, or
/// one no longer awaiting, is dropped and counted, so a late reply never reaches a mailbox.
///
/// A monitor may have an owner (`MonitorOwner`), told of its first event instead of the watcher's mailbox,
/// and a deadline (a timer of the wheel); both live in a side array touched only for owned monitors.
///
/// Thread: loop thread only (owned by the node).
@usableFromInline
struct MonitorTable {
    @usableFromInline static let none = UInt32.max

    /// 64 bytes: the fields every monitor uses first, then the flags, then what only a call to another
    /// loop uses.
    @usableFromInline
    struct Entry {
        @usableFromInline var watcher = PID(node: 0, index: 0, serial: 0)
        @usableFromInline var target = PID(node: 0, index: 0, serial: 0)
        @usableFromInline var serial: UInt32 = 1
        /// The watcher's receive mark when the monitor was made: its mailbox length plus the messages it
        /// had received and flushed, wrapping (`Node.receiveMark`).
        @usableFromInline var mark: UInt32 = 0
        var watcherPrev = MonitorTable.none
        var watcherNext = MonitorTable.none
        var targetPrev = MonitorTable.none
        var targetNext = MonitorTable.none
        @usableFromInline var inUse = false
        /// Linked into its target's list (a reserved request is not, until `attach`).
        var attached = false
        @usableFromInline var awaitingReply = false
        /// Has an owner in `owners` (checked before touching that array).
        @usableFromInline var owned = false
        /// Has a deadline timer in `owners`.
        var timed = false
        /// Its reply comes as a term through the node's distribution (a call to this node's own
        /// `{Name, node()}`): removing it tells the distribution, as for a remote target.
        var awaitsTerm = false
        /// Its target is a process of another loop whose loop dropped this monitor as it replied
        /// (`Transit.Kind.releasedReply`), or that keeps none for it (`siblingRequest`): removing it tells
        /// nobody.
        var releasedElsewhere = false
        /// A call's request to a server of another loop, listed under that server in the loop's
        /// `SiblingRequests` (through `targetPrev`/`targetNext`): the server's loop keeps no monitor for
        /// it, so removing it tells nobody, and the server's exit notice fires it.
        var siblingRequest = false
        /// For a `siblingRequest`: the request's number in the channel to the server's loop (how many
        /// items this loop had sent there before it). The exit notice fires requests numbered below the
        /// count of items the server's loop had taken by then.
        var sequence: UInt64 = 0
        /// A `siblingRequest` whose call ended with its reply, kept by its caller (`ProcessTable.parkedCall`)
        /// for the next call to the same server: still listed under that server, under a new reference that
        /// no one holds yet. Not a monitor to anyone: snapshots and counts leave it out.
        var parked = false
    }

    @usableFromInline var entries: UnsafeMutablePointer<Entry>
    /// The reply of each request slot, from delivery until the caller takes it (parallel to `entries`).
    @usableFromInline var replies: UnsafeMutablePointer<StoredReply>
    /// The owner and deadline of each owned monitor (parallel to `entries`).
    private var owners: UnsafeMutablePointer<Ownership>
    private var capacity = 64
    @usableFromInline var highWater = 0
    private var freeHead = MonitorTable.none
    /// Monitors in place, parked ones included.
    private(set) var count = 0
    /// Parked entries (`Entry.parked`): in use, but no monitor of anyone's.
    private(set) var parkedCount = 0
    /// For references that name no entry (the immediate `DOWN` of a monitor on a dead process).
    private var detachedRefs: UInt64 = 0

    /// A slot set aside, in use by no monitor, whose reference (`spareRef`) a call served at once borrows
    /// (`Node.serve(_:_:request:from:)`): its reply is kept in the slot's `replies` entry until its caller
    /// takes it, and then the reference is used up (`renewSpareRef`), with no entry or list touched. Only
    /// a caller that has to wait after all makes it a monitor (`insertSpare`).
    @usableFromInline private(set) var spare = 0

    init() {
        entries = .allocate(capacity: capacity)
        replies = .allocate(capacity: capacity)
        owners = .allocate(capacity: capacity)
        spare = setAside()
    }

    /// The reference a call served at once borrows: the spare slot's, which no monitor has.
    @inlinable
    var spareRef: Ref { Ref(rawValue: UInt64(entries[spare].serial) << 32 | UInt64(spare)) }

    /// The spare slot's reference was used: its call ended, or its server exited. The next is new (a
    /// slot whose serial would reach the top bit is retired, as in `release`, and another set aside).
    @usableFromInline
    mutating func renewSpareRef() {
        if replies[spare].type != nil || replies[spare].holdsBox { replies[spare] = StoredReply() }
        let (serial, overflow) = entries[spare].serial.addingReportingOverflow(1)
        if !overflow && serial < 1 << 31 { entries[spare].serial = serial } else { spare = setAside() }
    }

    /// The slot of request `ref` for timing its call: its monitor's, or the spare's while it lends `ref`'s
    /// slot (the caller checks the reference it stored there).
    func requestSlot(_ ref: Ref) -> Int? {
        slot(ref) ?? (ref.rawValue >> 63 == 0 && Self.slot(of: ref) == spare ? spare : nil)
    }

    mutating func destroy() {
        entries.deinitialize(count: highWater)
        entries.deallocate()
        replies.deinitialize(count: highWater)
        replies.deallocate()
        owners.deinitialize(count: highWater)
        owners.deallocate()
    }

    // MARK: Owners

    /// Gives monitor `slot` an owner and a deadline timer (`TimerRef(rawValue: 0)` for none).
    func setOwner(_ owner: any MonitorOwner, deadline: TimerRef, in slot: Int) {
        entries[slot].owned = true
        entries[slot].timed = deadline.rawValue != 0
        owners[slot] = Ownership(owner: owner, deadline: deadline)
    }

    /// The owner of monitor `slot`, taken: it is told of one event only. `nil` when it has none.
    func takeOwner(from slot: Int) -> (any MonitorOwner)? {
        guard entries[slot].owned else { return nil }
        entries[slot].owned = false
        return owners[slot].owner.take()
    }

    /// The deadline of monitor `slot` while it is still to be filed in the timer wheel (flagged with
    /// `Node.deferredWait`), to be replaced by the wheel timer; `nil` when it has none or it is filed.
    func deferredDeadline(of slot: Int, flag: UInt64) -> UInt64? {
        guard entries[slot].timed, owners[slot].deadline.rawValue & flag != 0 else { return nil }
        return owners[slot].deadline.rawValue & ~flag
    }

    /// Records the wheel timer that now holds monitor `slot`'s deadline.
    func fileDeadline(_ timer: TimerRef, in slot: Int) {
        owners[slot].deadline = timer
    }

    /// The deadline timer of monitor `slot`, taken (to be cancelled); `nil` when it has none.
    func takeDeadline(from slot: Int) -> TimerRef? {
        guard entries[slot].timed else { return nil }
        entries[slot].timed = false
        return owners[slot].deadline
    }

    // MARK: Replies

    /// Keeps the reply to the request in `slot` until its caller takes it. A plain value of up to 16
    /// bytes (an `Int`, a small struct of numbers) is stored inline as bits with its type; anything else as
    /// an existential. No allocation and no dynamic cast for the common small replies.
    @inlinable
    func storeReply<R: Sendable>(_ value: R, in slot: Int) {
        if _isPOD(R.self) && MemoryLayout<R>.size <= 16 && MemoryLayout<R>.alignment <= 8 {
            withUnsafeMutableBytes(of: &replies[slot].bits) { $0.storeBytes(of: value, as: R.self) }
            replies[slot].type = R.self
        } else {
            replies[slot].boxed = value
            replies[slot].holdsBox = true
        }
    }

    /// Whether the request in `slot` holds a reply its caller has not taken yet.
    func hasReply(_ slot: Int) -> Bool { replies[slot].type != nil || replies[slot].holdsBox }

    /// Takes the reply of the request in `slot` as an `R`.
    @inlinable
    func takeReply<R>(from slot: Int, as type: R.Type) -> TakenReply<R> {
        if let stored = replies[slot].type {
            replies[slot].type = nil
            guard ObjectIdentifier(stored) == ObjectIdentifier(R.self) else { return .wrongType(String(describing: stored)) }
            return .value(withUnsafeBytes(of: replies[slot].bits) { $0.load(as: R.self) })
        }
        guard replies[slot].holdsBox, let boxed = replies[slot].boxed.take() else { return .none }
        replies[slot].holdsBox = false
        guard let value = boxed as? R else { return .wrongType(String(describing: Swift.type(of: boxed))) }
        return .value(value)
    }

    /// A reference that can never name a monitor entry (its top bit is set; entry references never set it).
    mutating func detachedRef() -> Ref {
        detachedRefs &+= 1
        return Ref(rawValue: 1 << 63 | detachedRefs)
    }

    // MARK: Lookup

    /// The slot a reference of a live monitor names, unchecked (for a reference just made by `insert`).
    @inlinable
    static func slot(of ref: Ref) -> Int { Int(UInt32(truncatingIfNeeded: ref.rawValue)) }

    /// The slot of a live monitor, or `nil`.
    @inlinable @inline(__always)
    func slot(_ ref: Ref) -> Int? {
        let index = Int(UInt32(truncatingIfNeeded: ref.rawValue))
        let serial = UInt32(truncatingIfNeeded: ref.rawValue >> 32)
        guard ref.rawValue >> 63 == 0, index < highWater, entries[index].inUse, entries[index].serial == serial else {
            return nil
        }
        return index
    }

    @inlinable
    subscript(slot: Int) -> Entry {
        get { entries[slot] }
        nonmutating set { entries[slot] = newValue }
    }

    // MARK: Adding and removing

    /// Adds a monitor held by `watcher` (whose list head is `watching`, receive mark `mark`), not yet
    /// attached to a target.
    mutating func insert(watcher: PID, watching: inout UInt32, awaitingReply: Bool, mark: UInt32 = 0) -> Ref {
        fill(take(), watcher: watcher, watching: &watching, awaitingReply: awaitingReply, mark: mark)
    }

    /// `insert` into the spare slot, under the reference it lent (`spareRef`): a call served at once
    /// whose caller has to wait after all gets its monitor under the reference its server already holds.
    /// A new spare is set aside.
    mutating func insertSpare(watcher: PID, watching: inout UInt32, mark: UInt32) -> Ref {
        let index = spare
        entries[index].inUse = true
        count += 1
        spare = setAside()
        return fill(index, watcher: watcher, watching: &watching, awaitingReply: true, mark: mark)
    }

    private mutating func fill(_ index: Int, watcher: PID, watching: inout UInt32, awaitingReply: Bool,
                               mark: UInt32) -> Ref {
        entries[index].watcher = watcher
        entries[index].awaitingReply = awaitingReply
        entries[index].releasedElsewhere = false
        entries[index].mark = mark
        entries[index].watcherNext = watching
        if watching != Self.none { entries[Int(watching)].watcherPrev = UInt32(index) }
        watching = UInt32(index)
        return Ref(rawValue: UInt64(entries[index].serial) << 32 | UInt64(index))
    }

    /// Parks request monitor `slot`, whose call has just ended with its reply: the reference the call used
    /// is retired (a late reply or signal for it finds nothing), and the entry stays where it is listed.
    /// Returns false when the slot's serial is used up (the entry is to be removed instead).
    mutating func park(_ slot: Int) -> Bool {
        let (serial, overflow) = entries[slot].serial.addingReportingOverflow(1)
        guard !overflow, serial < 1 << 31 else { return false }
        entries[slot].serial = serial
        entries[slot].parked = true
        parkedCount += 1
        return true
    }

    /// Takes parked entry `slot` up for a new call of its holder (receive mark `mark`): its reference.
    mutating func unpark(_ slot: Int, mark: UInt32) -> Ref {
        entries[slot].parked = false
        entries[slot].awaitingReply = true
        entries[slot].mark = mark
        parkedCount -= 1
        return Ref(rawValue: UInt64(entries[slot].serial) << 32 | UInt64(slot))
    }

    /// Whether `ref` names a parked entry (no monitor of anyone's: left out of snapshots).
    func isParked(_ ref: Ref) -> Bool { slot(ref).map { entries[$0].parked } ?? false }

    /// The reference of the monitor in `slot`.
    func ref(ofSlot slot: Int) -> Ref { Ref(rawValue: UInt64(entries[slot].serial) << 32 | UInt64(slot)) }

    /// Records a remote target (a process of another node) without linking the entry into any list: the
    /// node's `Distribution` tracks it and ends it.
    mutating func setRemoteTarget(_ slot: Int, _ target: PID) { entries[slot].target = target }

    /// Monitor `slot`'s target loop dropped it (`Entry.releasedElsewhere`).
    mutating func markReleasedElsewhere(_ slot: Int) { entries[slot].releasedElsewhere = true }

    /// Attaches monitor `slot` to `target` (whose list head is `watchedBy`).
    mutating func attach(_ slot: Int, to target: PID, watchedBy: inout UInt32) {
        entries[slot].target = target
        entries[slot].attached = true
        entries[slot].targetNext = watchedBy
        if watchedBy != Self.none { entries[Int(watchedBy)].targetPrev = UInt32(slot) }
        watchedBy = UInt32(slot)
    }

    /// Unlinks monitor `slot` from its target's list only (the target is gone, the entry stays).
    mutating func detach(_ slot: Int, watchedBy: inout UInt32) {
        let entry = entries[slot]
        guard entry.attached else { return }
        if entry.targetPrev != Self.none {
            entries[Int(entry.targetPrev)].targetNext = entry.targetNext
        } else if watchedBy == UInt32(slot) {
            watchedBy = entry.targetNext
        }
        if entry.targetNext != Self.none { entries[Int(entry.targetNext)].targetPrev = entry.targetPrev }
        entries[slot].attached = false
    }

    /// Removes monitor `slot`, unlinking it from both lists given their heads.
    mutating func remove(_ slot: Int, watching: inout UInt32, watchedBy: inout UInt32) {
        let entry = entries[slot]
        if entry.watcherPrev != Self.none {
            entries[Int(entry.watcherPrev)].watcherNext = entry.watcherNext
        } else if watching == UInt32(slot) {
            watching = entry.watcherNext
        }
        if entry.watcherNext != Self.none { entries[Int(entry.watcherNext)].watcherPrev = entry.watcherPrev }
        if entry.attached {
            if entry.targetPrev != Self.none {
                entries[Int(entry.targetPrev)].targetNext = entry.targetNext
            } else if watchedBy == UInt32(slot) {
                watchedBy = entry.targetNext
            }
            if entry.targetNext != Self.none { entries[Int(entry.targetNext)].targetPrev = entry.targetPrev }
        }
        release(slot)
    }

    /// The references of a list, oldest first (`byWatcher`: the monitors a process holds; otherwise the
    /// monitors on it).
    func refs(from head: UInt32, byWatcher: Bool) -> [Ref] {
        var result: [Ref] = []
        var index = head
        while index != Self.none {
            result.append(Ref(rawValue: UInt64(entries[Int(index)].serial) << 32 | UInt64(index)))
            index = byWatcher ? entries[Int(index)].watcherNext : entries[Int(index)].targetNext
        }
        return result.reversed()
    }

    // MARK: Slots

    private mutating func take() -> Int {
        let index = setAside()
        entries[index].inUse = true
        count += 1
        return index
    }

    /// A slot off the free list (or a new one), its entry blank but for its serial; not in use.
    private mutating func setAside() -> Int {
        let index: Int
        if freeHead != Self.none {
            index = Int(freeHead)
            freeHead = entries[index].watcherNext
        } else {
            if highWater == capacity {
                let grown = UnsafeMutablePointer<Entry>.allocate(capacity: capacity * 2)
                grown.moveInitialize(from: entries, count: highWater)
                entries.deallocate()
                entries = grown
                let grownReplies = UnsafeMutablePointer<StoredReply>.allocate(capacity: capacity * 2)
                grownReplies.moveInitialize(from: replies, count: highWater)
                replies.deallocate()
                replies = grownReplies
                let grownOwners = UnsafeMutablePointer<Ownership>.allocate(capacity: capacity * 2)
                grownOwners.moveInitialize(from: owners, count: highWater)
                owners.deallocate()
                owners = grownOwners
                capacity *= 2
            }
            index = highWater
            (entries + index).initialize(to: Entry())
            (replies + index).initialize(to: StoredReply())
            (owners + index).initialize(to: Ownership())
            highWater += 1
        }
        let serial = entries[index].serial
        entries[index] = Entry()
        entries[index].serial = serial
        return index
    }

    private mutating func release(_ slot: Int) {
        count -= 1
        if entries[slot].parked {
            entries[slot].parked = false
            parkedCount -= 1
        }
        entries[slot].inUse = false
        if replies[slot].type != nil || replies[slot].holdsBox { replies[slot] = StoredReply() }
        if entries[slot].owned { owners[slot].owner = nil }
        let (serial, overflow) = entries[slot].serial.addingReportingOverflow(1)
        // A slot whose serial would reach the top bit (or wrap) is retired, so refs stay unique.
        guard !overflow, serial < 1 << 31 else { return }
        entries[slot].serial = serial
        entries[slot].watcherNext = freeHead
        freeHead = UInt32(slot)
    }
}

/// The owner of a monitor and its deadline timer (`TimerRef(rawValue: 0)`: none).
struct Ownership {
    var owner: (any MonitorOwner)? = nil
    var deadline = TimerRef(rawValue: 0)
}

/// A reply waiting in its request's slot: small plain values inline, the rest boxed.
@usableFromInline
struct StoredReply {
    /// The type of an inline value in `bits`.
    @usableFromInline var type: Any.Type?
    @usableFromInline var bits: (UInt64, UInt64) = (0, 0)
    @usableFromInline var boxed: (any Sendable)?
    /// Whether `boxed` holds a value: tested instead of `boxed != nil`, which copies the existential through
    /// its value witnesses (about 80 instructions on every request's close).
    @usableFromInline var holdsBox = false

    @usableFromInline
    init() {}
}

/// What a caller finds in its request's slot.
@usableFromInline
enum TakenReply<R> {
    case value(R)
    case wrongType(String)
    case none
}
