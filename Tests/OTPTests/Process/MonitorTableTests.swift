import Testing
@testable import OTP

/// Counts live instances, so a test can see that the table releases what it holds.
private final class Counted: @unchecked Sendable {
    nonisolated(unsafe) static var live = 0
    init() { Counted.live += 1 }
    deinit { Counted.live -= 1 }
}

/// An owner that records what it was told.
private final class RecordingOwner: MonitorOwner {
    var events: [String] = []
    func monitorEnded(_ ref: Ref, _ event: MonitorEvent, on node: Node) { events.append("\(event)") }
}

/// The monitor table tested directly, without a node: references and slot reuse, the two intrusive lists
/// against a model, replies stored inline and boxed, owners and deadlines, and growth.
@Suite("MonitorTable", .serialized)
struct MonitorTableTests {
    private static func pid(_ n: UInt32) -> PID { PID(node: 1, index: n, serial: 0) }

    @Test("A reference names its slot until the monitor is removed; a reused slot gets a new reference")
    func referencesAndReuse() {
        var table = MonitorTable()
        var watching = MonitorTable.none, watchedBy = MonitorTable.none
        let ref = table.insert(watcher: Self.pid(1), watching: &watching, awaitingReply: true)
        let slot = table.slot(ref)
        #expect(slot != nil && table.count == 1 && table[slot!].awaitingReply && table.ref(ofSlot: slot!) == ref)
        table.remove(slot!, watching: &watching, watchedBy: &watchedBy)
        #expect(table.slot(ref) == nil && table.count == 0 && watching == MonitorTable.none)
        let again = table.insert(watcher: Self.pid(1), watching: &watching, awaitingReply: false)
        #expect(again != ref && table.slot(again) == slot && table.slot(ref) == nil)
        let detached = table.detachedRef()
        #expect(table.slot(detached) == nil && detached.rawValue >> 63 == 1 && table.detachedRef() != detached)
        table.destroy()
    }

    @Test("The watcher's and the target's lists stay consistent through 20,000 random operations (model)")
    func listsMatchAModel() {
        var random = SplitMix64(seed: 11)
        var table = MonitorTable()
        // Four processes, each with the heads of its two lists; the model keeps each list oldest first.
        var watchingHeads = [UInt32](repeating: MonitorTable.none, count: 4)
        var watchedHeads = [UInt32](repeating: MonitorTable.none, count: 4)
        var byWatcher = [[Ref]](repeating: [], count: 4)
        var onTarget = [[Ref]](repeating: [], count: 4)
        var live: [Ref: (watcher: Int, target: Int?)] = [:]
        for _ in 0..<20_000 {
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<5:
                let watcher = Int.random(in: 0..<4, using: &random)
                let ref = table.insert(watcher: Self.pid(UInt32(watcher)), watching: &watchingHeads[watcher],
                                       awaitingReply: false)
                byWatcher[watcher].append(ref)
                var target: Int?
                if Bool.random(using: &random) {
                    let t = Int.random(in: 0..<4, using: &random)
                    table.attach(table.slot(ref)!, to: Self.pid(UInt32(t)), watchedBy: &watchedHeads[t])
                    onTarget[t].append(ref)
                    target = t
                }
                live[ref] = (watcher, target)
            case 5..<8:
                guard let (ref, entry) = live.randomElement(using: &random) else { continue }
                let slot = table.slot(ref)!
                if let t = entry.target {
                    table.remove(slot, watching: &watchingHeads[entry.watcher], watchedBy: &watchedHeads[t])
                } else {
                    var none = MonitorTable.none
                    table.remove(slot, watching: &watchingHeads[entry.watcher], watchedBy: &none)
                }
                byWatcher[entry.watcher].removeAll { $0 == ref }
                if let t = entry.target { onTarget[t].removeAll { $0 == ref } }
                live[ref] = nil
            default:
                guard let (ref, entry) = live.randomElement(using: &random), let t = entry.target else { continue }
                table.detach(table.slot(ref)!, watchedBy: &watchedHeads[t])
                onTarget[t].removeAll { $0 == ref }
                live[ref] = (entry.watcher, nil)
            }
            #expect(table.count == live.count)
        }
        for p in 0..<4 {
            #expect(table.refs(from: watchingHeads[p], byWatcher: true) == byWatcher[p])
            #expect(table.refs(from: watchedHeads[p], byWatcher: false) == onTarget[p])
        }
        table.destroy()
    }

    @Test("Replies: a small plain value inline, anything else boxed; the wrong type is named; removal releases")
    func replies() {
        Counted.live = 0
        var table = MonitorTable()
        var watching = MonitorTable.none, watchedBy = MonitorTable.none
        let aRef = table.insert(watcher: Self.pid(1), watching: &watching, awaitingReply: true)
        let a = table.slot(aRef)!
        let bRef = table.insert(watcher: Self.pid(1), watching: &watching, awaitingReply: true)
        let b = table.slot(bRef)!
        table.storeReply(42, in: a)
        #expect(table.hasReply(a))
        if case .wrongType(let got) = table.takeReply(from: a, as: String.self) { #expect(got == "Int") } else {
            Issue.record("an Int taken as a String must be a wrong type")
        }
        #expect(!table.hasReply(a))
        table.storeReply(7, in: a)
        if case .value(let value) = table.takeReply(from: a, as: Int.self) { #expect(value == 7) } else {
            Issue.record("the Int reply must come back")
        }
        if case .none = table.takeReply(from: a, as: Int.self) {} else { Issue.record("a taken reply must be gone") }
        table.storeReply(Counted(), in: b)
        #expect(Counted.live == 1 && table.hasReply(b))
        // Removing the monitor of an answered request releases its boxed reply.
        table.remove(b, watching: &watching, watchedBy: &watchedBy)
        #expect(Counted.live == 0)
        table.destroy()
    }

    /// Opens a monitor and gives it an owner that nothing else holds; returns its slot and a way to see
    /// whether the owner is still alive.
    private static func ownedSlot(_ table: inout MonitorTable, _ watching: inout UInt32, deadline: UInt64)
        -> (slot: Int, owner: () -> RecordingOwner?)
    {
        let ref = table.insert(watcher: pid(1), watching: &watching, awaitingReply: true)
        let slot = table.slot(ref)!
        weak var weakOwner: RecordingOwner?
        do {
            let owner = RecordingOwner()
            weakOwner = owner
            table.setOwner(owner, deadline: TimerRef(rawValue: deadline), in: slot)
        }
        return (slot, { weakOwner })
    }

    @Test("An owner is taken once; a deadline once; removing a monitor releases its owner")
    func owners() {
        var table = MonitorTable()
        var watching = MonitorTable.none, watchedBy = MonitorTable.none
        let (slot, owner) = Self.ownedSlot(&table, &watching, deadline: 5 << 32 | 3)
        #expect(owner() != nil && table[slot].owned)
        #expect(table.takeDeadline(from: slot) == TimerRef(rawValue: 5 << 32 | 3))
        #expect(table.takeDeadline(from: slot) == nil)
        let taken = table.takeOwner(from: slot)
        #expect(taken === owner() && table.takeOwner(from: slot) == nil && !table[slot].owned)
        // An owner still in place when the monitor goes is released with it.
        let (other, otherOwner) = Self.ownedSlot(&table, &watching, deadline: 0)
        #expect(otherOwner() != nil && table.takeDeadline(from: other) == nil)
        table.remove(other, watching: &watching, watchedBy: &watchedBy)
        #expect(otherOwner() == nil)
        table.destroy()
    }

    @Test("Growing past the first 64 slots keeps every reference, reply and list intact")
    func growth() {
        var table = MonitorTable()
        var watching = MonitorTable.none, watchedBy = MonitorTable.none
        var refs: [Ref] = []
        for i in 0..<1_000 {
            let ref = table.insert(watcher: Self.pid(1), watching: &watching, awaitingReply: true)
            table.attach(table.slot(ref)!, to: Self.pid(2), watchedBy: &watchedBy)
            table.storeReply(i, in: table.slot(ref)!)
            refs.append(ref)
        }
        #expect(table.count == 1_000 && table.refs(from: watching, byWatcher: true) == refs)
        #expect(table.refs(from: watchedBy, byWatcher: false) == refs)
        var values: [Int] = []
        for ref in refs {
            if case .value(let value) = table.takeReply(from: table.slot(ref)!, as: Int.self) { values.append(value) }
            table.remove(table.slot(ref)!, watching: &watching, watchedBy: &watchedBy)
        }
        #expect(values == Array(0..<1_000) && table.count == 0)
        #expect(watching == MonitorTable.none && watchedBy == MonitorTable.none)
        table.destroy()
    }
}
