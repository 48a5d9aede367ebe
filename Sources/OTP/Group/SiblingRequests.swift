/// The calls this loop's processes have open to servers of other loops, listed by server, so that a
/// server's exit can end them all here (`Transit.Kind.requestsEnded`) while the server's loop keeps
/// nothing per call.
///
/// Why: the server's loop used to record a monitor for every call that arrived from another loop and drop
/// it as the server replied (`SiblingWatches`, about 520 instructions a call on the server's loop, the
/// busier one in a fan-in). Now it only marks the server with the caller's loop
/// (`ProcessExtras.requestSources`), and when the server exits it sends that loop one notice with the
/// number of items it had taken from that loop's channel by then. The caller's loop fires every request
/// monitor listed under the server whose request came earlier in that channel; a request still on its way
/// finds the server gone when it arrives and gets its `noproc` then, as before. The outcome is the one a
/// per-call monitor gives, exactly.
///
/// A call that ends with its reply leaves its entry listed, parked for its caller's next call to the same
/// server (`MonitorTable.Entry.parked`); `count` includes parked entries, `Node.siblingRequestCount` does not.
///
/// Each monitor entry of such a call (`MonitorTable.Entry.siblingRequest`) is linked, through its target
/// links (unused by a monitor whose target lives elsewhere), into the chain of its server; an
/// open-addressing table (linear probing, at most half full, deletion by shifting back) finds a server's
/// chain head. Adding or removing a call is a hash, a probe or two and a relink (tens of instructions).
///
/// Thread: the loop thread of the loop that owns it (`TransitState`). A struct over a raw buffer (no
/// reference counting on the call path, no copy-on-write or bounds checks); `destroy` frees it.
struct SiblingRequests {
    private struct Head {
        var server: PID
        var first: UInt32
    }

    private static let empty = MonitorTable.none
    private var table: UnsafeMutablePointer<Head>
    private var size = 0
    /// The server found last and its slot, while it stays there (a fan-in lists every call under one
    /// server: no hash then); slot -1 for none.
    private var recentServer = PID(node: 0, index: 0, serial: 0)
    private var recent = -1
    /// Servers with a chain.
    private(set) var servers = 0
    /// Calls listed.
    private(set) var count = 0

    init() {
        table = .allocate(capacity: 0)
    }

    /// Frees the table (plain data). The loop's last use.
    func destroy() {
        table.deallocate()
    }

    /// Lists request monitor `slot` (on a server of another loop, its target) in `monitors`.
    mutating func add(_ slot: Int, in monitors: MonitorTable) {
        let server = monitors.entries[slot].target
        if 2 * (servers + 1) > size { grow() }
        let (index, found) = find(server)
        let next = found ? table[index].first : MonitorTable.none
        monitors.entries[slot].targetPrev = MonitorTable.none
        monitors.entries[slot].targetNext = next
        monitors.entries[slot].siblingRequest = true
        if next != MonitorTable.none { monitors.entries[Int(next)].targetPrev = UInt32(slot) }
        if found {
            table[index].first = UInt32(slot)
        } else {
            table[index] = Head(server: server, first: UInt32(slot))
            servers += 1
        }
        count += 1
    }

    /// Takes request monitor `slot` off its server's chain. Removing it tells no other loop.
    mutating func remove(_ slot: Int, in monitors: MonitorTable) {
        let entry = monitors.entries + slot
        let previous = entry.pointee.targetPrev, next = entry.pointee.targetNext
        if next != MonitorTable.none { monitors.entries[Int(next)].targetPrev = previous }
        if previous != MonitorTable.none {
            monitors.entries[Int(previous)].targetNext = next
        } else {
            let (index, found) = find(entry.pointee.target)
            precondition(found, "a listed request's server has a chain")
            if next != MonitorTable.none { table[index].first = next } else { removeHead(at: index) }
        }
        entry.pointee.siblingRequest = false
        entry.pointee.releasedElsewhere = true
        count -= 1
    }

    /// The request monitors listed under `server`, newest first.
    mutating func slots(of server: PID, in monitors: MonitorTable) -> [Int] {
        guard servers > 0 else { return [] }
        let (index, found) = find(server)
        guard found else { return [] }
        var result: [Int] = []
        var slot = table[index].first
        while slot != MonitorTable.none {
            result.append(Int(slot))
            slot = monitors.entries[Int(slot)].targetNext
        }
        return result
    }

    // MARK: The table

    /// The slot holding `server`'s head (`found`), or the empty slot where it would go. The table has slots.
    @inline(__always)
    private mutating func find(_ server: PID) -> (index: Int, found: Bool) {
        if recent >= 0 && recentServer == server { return (recent, true) }
        return probe(server)
    }

    private mutating func probe(_ server: PID) -> (index: Int, found: Bool) {
        let mask = size - 1
        var index = Int(truncatingIfNeeded: Mixed.hash(server)) & mask
        while table[index].first != Self.empty {
            if table[index].server == server {
                recent = index
                recentServer = server
                return (index, true)
            }
            index = (index + 1) & mask
        }
        return (index, false)
    }

    /// Empties slot `index`, moving back each following head that its home slot allows.
    private mutating func removeHead(at index: Int) {
        recent = -1
        let mask = size - 1
        var hole = index
        var next = (index + 1) & mask
        while table[next].first != Self.empty {
            let home = Int(truncatingIfNeeded: Mixed.hash(table[next].server)) & mask
            let stays = hole <= next ? (home > hole && home <= next) : (home > hole || home <= next)
            if !stays {
                table[hole] = table[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        table[hole].first = Self.empty
        servers -= 1
    }

    private mutating func grow() {
        recent = -1
        let old = table, oldSize = size
        size = max(16, 2 * size)
        table = .allocate(capacity: size)
        table.initialize(repeating: Head(server: PID(node: 0, index: 0, serial: 0), first: Self.empty), count: size)
        for i in 0..<oldSize where old[i].first != Self.empty {
            let (index, _) = find(old[i].server)
            table[index] = old[i]
        }
        old.deallocate()
    }
}
