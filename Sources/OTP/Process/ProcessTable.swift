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

    /// Reserves a slot for a new process and stores its (retained) object.
    @usableFromInline
    mutating func insert(_ make: (PID) -> UnsafeMutableRawPointer) -> PID {
        let index: UInt32
        if freeHead != Self.none {
            index = freeHead
            freeHead = slots[Int(index)].nextFree
        } else {
            if highWater == capacity { grow() }
            precondition(highWater < Int(UInt32.max), "process table exhausted")
            index = UInt32(highWater)
            (slots + highWater).initialize(to: Slot(serial: 0, nextFree: Self.none, object: nil))
            highWater += 1
        }
        let pid = PID(node: node, index: index, serial: slots[Int(index)].serial)
        slots[Int(index)].object = make(pid)
        count += 1
        return pid
    }

    /// Frees the slot of `pid` and returns its object (still retained: the caller releases it).
    mutating func remove(_ pid: PID) -> UnsafeMutableRawPointer? {
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
        return object
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
            Unmanaged<ProcessCore>.fromOpaque(object)._withUnsafeGuaranteedRef(body)
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
