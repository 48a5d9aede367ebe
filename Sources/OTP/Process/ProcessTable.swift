/// Every live process of a node, by slot: a PID is `(node, slot, serial)`, so a lookup is one array read and
/// two comparisons, a PID of a dead process never matches again, and a PID of another node never matches.
///
/// Slots hold manually retained raw pointers to the process objects (retained at spawn, released at
/// exit), so lookups cause no reference counting. Freed slots are reused most-recent-first with their
/// serial incremented; a slot whose serial would wrap is retired for good, so PIDs are unique for the
/// node's lifetime.
///
/// Thread: loop thread only.
@usableFromInline
struct ProcessTable {
    @usableFromInline
    struct Slot {
        @usableFromInline var serial: UInt32
        /// While the slot is free, the next free slot. While it holds a process, the slot of the monitor
        /// that process's last call to a server of another loop kept for its next one (`parkedCall`):
        /// here rather than in the process object, which has no room left in its padding.
        @usableFromInline var nextFree: UInt32
        @usableFromInline var object: UnsafeMutableRawPointer?
    }

    private static let none = UInt32.max

    /// The node's number: the `node` of every pid in this table.
    @usableFromInline let node: UInt32
    @usableFromInline var slots: UnsafeMutablePointer<Slot>
    private var capacity: Int
    @usableFromInline var highWater = 0
    private var freeHead = ProcessTable.none
    /// Processes alive now.
    private(set) var count = 0

    @usableFromInline
    init(node: UInt32) {
        self.node = node
        capacity = 1024
        slots = .allocate(capacity: capacity)
    }

    mutating func destroy() {
        slots.deinitialize(count: highWater)
        slots.deallocate()
    }

    /// The process object for `pid`, if that process is alive.
    @inlinable @inline(__always)
    func object(for pid: PID) -> UnsafeMutableRawPointer? {
        guard pid.node == node, Int(pid.index) < highWater else { return nil }
        let slot = slots[Int(pid.index)]
        guard slot.serial == pid.serial else { return nil }
        return slot.object
    }

    // MARK: Borrowing a process

    // The only place (with the scheduler's turn, which holds the object of the running process) where a
    // process object is reached through its raw pointer: borrowed for the closure, with no reference
    // counting — the table's own retain keeps it alive, and nothing removes it during the closure except
    // its own exit, which runs after the turn.

    /// Runs `body` with the live process `pid`, borrowed; `nil` when `pid` is not alive.
    @inlinable @inline(__always)
    func withProcess<R>(_ pid: PID, _ body: (ProcessCore) throws -> R) rethrows -> R? {
        guard let object = object(for: pid) else { return nil }
        return try Self.borrow(object, body)
    }

    /// Runs `body` with the mailbox process `pid`, borrowed, as a `MailboxProcess<M>`; `nil` when `pid` is
    /// not alive. The caller vouches for the type: `pid` comes from a typed `Address<M>` or its type was
    /// checked (`ProcessCore.messageType`).
    @inlinable @inline(__always)
    func withMailbox<M, R>(_ pid: PID, of type: M.Type, _ body: (MailboxProcess<M>) throws -> R) rethrows -> R? {
        guard let object = object(for: pid) else { return nil }
        return try Unmanaged<MailboxProcess<M>>.fromOpaque(object)._withUnsafeGuaranteedRef(body)
    }

    /// `withMailbox(_:of:_:)` for a pid whose type nobody checked (an item from another loop): `nil` also
    /// when the process accepts another type than `M` (`ProcessCore.messageType`).
    @inlinable @inline(__always)
    func withMailbox<M, R>(_ pid: PID, checking type: M.Type, _ body: (MailboxProcess<M>) throws -> R) rethrows -> R? {
        guard let object = object(for: pid),
              Self.borrow(object, { $0.messageType == ObjectIdentifier(M.self) }) else { return nil }
        return try Unmanaged<MailboxProcess<M>>.fromOpaque(object)._withUnsafeGuaranteedRef(body)
    }

    /// Runs `body` with the process whose object is `object` (from `object(for:)`), borrowed.
    @inlinable @inline(__always)
    static func borrow<R>(_ object: UnsafeMutableRawPointer, _ body: (ProcessCore) throws -> R) rethrows -> R {
        try Unmanaged<ProcessCore>.fromOpaque(object)._withUnsafeGuaranteedRef(body)
    }

    /// Reserves a slot for a new process, makes it with its pid and keeps a reference to it.
    @inlinable
    mutating func insert(_ make: (PID) -> ProcessCore) -> PID {
        let pid = reserve()
        slots[Int(pid.index)].object = Unmanaged.passRetained(make(pid)).toOpaque()
        return pid
    }

    /// The pid the next `insert` will give (a registry key is claimed for it before the spawn).
    @usableFromInline
    func nextPID() -> PID {
        if freeHead != Self.none { return PID(node: node, index: freeHead, serial: slots[Int(freeHead)].serial) }
        return PID(node: node, index: UInt32(highWater), serial: 0)
    }

    @usableFromInline
    mutating func reserve() -> PID {
        let index: UInt32
        if freeHead != Self.none {
            index = freeHead
            freeHead = slots[Int(index)].nextFree
            slots[Int(index)].nextFree = Self.none  // no parked call
        } else {
            if highWater == capacity { grow() }
            precondition(highWater < Int(UInt32.max), "process table exhausted")
            index = UInt32(highWater)
            (slots + highWater).initialize(to: Slot(serial: 0, nextFree: Self.none, object: nil))
            highWater += 1
        }
        count += 1
        return PID(node: node, index: index, serial: slots[Int(index)].serial)
    }

    /// The monitor slot live process `pid` keeps parked for its next call to another loop's server
    /// (`MonitorTable.Entry.parked`), or `MonitorTable.none`. - Precondition: `pid` is alive.
    @inline(__always)
    func parkedCall(of pid: PID) -> UInt32 { slots[Int(pid.index)].nextFree }

    /// Records the monitor slot live process `pid` keeps parked (`MonitorTable.none`: none).
    @inline(__always)
    func setParkedCall(_ slot: UInt32, of pid: PID) { slots[Int(pid.index)].nextFree = slot }

    /// Frees the slot of `pid` and hands over the table's reference to its process.
    mutating func remove(_ pid: PID) -> ProcessCore? {
        guard let object = object(for: pid) else { return nil }
        let i = Int(pid.index)
        slots[i].object = nil
        count -= 1
        let (serial, overflow) = slots[i].serial.addingReportingOverflow(1)
        if overflow {
            slots[i].serial = UInt32.max  // retired: no PID can match (serials of live PIDs are below it)
        } else {
            slots[i].serial = serial
            slots[i].nextFree = freeHead
            freeHead = UInt32(i)
        }
        return Unmanaged<ProcessCore>.fromOpaque(object).takeRetainedValue()
    }

    /// Whether `object` (the running process's, `Node.currentProcess`) is `process`.
    static func isObject(_ object: UnsafeMutableRawPointer, of process: ProcessCore) -> Bool {
        object == Unmanaged.passUnretained(process).toOpaque()
    }

    /// Every live PID, in slot order.
    func pids() -> [PID] {
        var result: [PID] = []
        result.reserveCapacity(count)
        for i in 0..<highWater where slots[i].object != nil {
            result.append(PID(node: node, index: UInt32(i), serial: slots[i].serial))
        }
        return result
    }

    /// Calls `body` with every live process, in slot order (no array is built: a pass over a million
    /// processes for a metrics sample or a snapshot allocates nothing).
    func forEachProcess(_ body: (ProcessCore) -> Void) {
        for i in 0..<highWater {
            guard let object = slots[i].object else { continue }
            Self.borrow(object, body)
        }
    }

    private mutating func grow() {
        let newCapacity = capacity * 2
        let newSlots = UnsafeMutablePointer<Slot>.allocate(capacity: newCapacity)
        newSlots.moveInitialize(from: slots, count: highWater)
        slots.deallocate()
        slots = newSlots
        capacity = newCapacity
    }
}
