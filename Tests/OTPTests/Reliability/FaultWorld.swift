import Foundation
@testable import OTP

/// A small system under random faults, for `FaultInjectionTests`: a one-for-one supervisor of flaky
/// GenServers (handlers that throw at random, replies delayed by timers so that call timeouts race
/// them), clients that call, cast and blast messages into small mailboxes, sinks that count what they
/// get, and a driver that kills and signals processes at random times and advances the manual clock.
/// Everything that happens to a call or a message is written to a `FaultLedger`, checked at the end.
final class FaultWorld {
    /// The loops: one node, or the loops of `group`.
    let nodes: [Node]
    /// With `loops` above 1: the group, on the manual clock, stepped in an order chosen from the seed.
    let group: NodeGroup?
    /// The supervisor's node (loop 0 of a group).
    var node: Node { nodes[0] }
    let ledger = FaultLedger()
    var rng: SplitMix64
    let workers = ["w0", "w1", "w2", "w3"]
    private(set) var supervisor: ServerRef<Supervisor>!
    private var clients: [PID] = []
    private var sinks: [PID] = []
    private var observer: PID!

    /// `realLoop`: a libuv node on the system clock instead of the manual one. `loops`: a group of that many
    /// loops (manual clock), with the workers, sinks and clients spread over them, so calls, casts, sends,
    /// monitors, links and exit signals cross loops.
    init(seed: UInt64, intensity: RestartIntensity, realLoop: Bool = false, loops: Int = 1) {
        rng = SplitMix64(seed: seed)
        let configuration = NodeConfiguration(clock: realLoop ? .system : .manual, defaultMailboxCapacity: 16,
                                              report: { _ in }, logger: quietLogger)
        if loops > 1 {
            let group = NodeGroup(loops: loops, configuration: configuration, seed: seed)
            self.group = group
            nodes = group.loops
        } else {
            group = nil
            nodes = [Node(configuration: configuration)]
        }
        let node = nodes[0]
        let ledger = self.ledger
        observer = try! node.spawn(of: Never.self) { _ in
            .receive { envelope, _ in
                if case .down(let down) = envelope { ledger.died(down.pid) }
                return .same
            }
        }.pid
        let children = workers.indices.map { index in
            let child = ChildSpec.server(workers[index], Flaky.self,
                                         Flaky.Argument(ledger: ledger, seed: seed &* 31 &+ UInt64(index)),
                                         name: workers[index], shutdown: .timeout(.milliseconds(50)))
            return loops > 1 ? child.onLoop(index % loops) : child
        }
        if let group {
            // A supervisor with children on other loops starts asynchronously: from process code, driven here.
            let started = Log<ServerRef<Supervisor>>()
            try! node.spawn(of: Never.self) { process in
                try process.startServer(Supervisor.self, SupervisorSpec(intensity: intensity, children: children)) { result, _ in
                    started.append(try result.get().server)
                    return .exit(.normal)
                }
            }
            group.runUntilIdle()
            supervisor = started.entries.first!
        } else {
            supervisor = try! node.start(Supervisor.self, SupervisorSpec(intensity: intensity, children: children))
        }
        _ = node.monitor(supervisor.pid!, by: observer)
        for _ in 0..<3 { addSink() }
        for _ in 0..<6 { addClient() }
    }

    private func watch(_ pid: PID) { _ = node.monitor(pid, by: observer) }

    /// The loop `pid` lives on.
    func loop(of pid: PID) -> Node { group?.loop(of: pid) ?? node }

    /// Whether `pid` is alive, on whichever loop it lives.
    func isAlive(_ pid: PID) -> Bool { loop(of: pid).isAlive(pid) }

    /// The loop the next sink or client goes to: in turn.
    private var nextLoop = 0
    private func placeNext() -> Node {
        nextLoop += 1
        return nodes[nextLoop % nodes.count]
    }

    private func addSink() {
        let ledger = self.ledger
        let pid = try! placeNext().spawn(of: Payload.self, options: SpawnOptions(mailboxCapacity: 4)) { process in
            .receive { envelope, process in
                if case .message(let payload) = envelope { ledger.handled(payload.id, by: process.pid, from: payload.sender) }
                return .same
            }
        }.pid
        watch(pid)
        sinks.append(pid)
    }

    private func addClient() {
        let pid = Client.spawn(placeNext(), ledger: ledger, sinks: sinks, workers: workers, seed: rng.next())
        watch(pid)
        clients.append(pid)
    }

    /// One random event (`inject`), then, on the manual clock, the node runs until idle.
    func step() {
        if let group {
            if let pause = inject() { group.advance(by: pause) }
            group.runUntilIdle()
            return
        }
        if let pause = inject() { node.advance(by: pause) }
        node.runUntilIdle()
    }

    /// Lets `milliseconds` pass, then runs until idle (every loop of a group).
    func settle(_ milliseconds: UInt64) {
        if let group { group.advance(by: milliseconds) } else { node.advance(by: milliseconds) }
    }

    /// Closes the node or every loop; returns what `Node.close()` returns (0 when every handle closed).
    func close() -> Int32 {
        guard let group else { return node.close() }
        group.close()
        return 0
    }

    /// The statistics of every loop, added up.
    var statistics: NodeStatistics {
        var total = NodeStatistics()
        for node in nodes {
            let s = node.statistics
            total.live += s.live
            total.pendingTimers += s.pendingTimers
            total.monitors += s.monitors
            total.registeredNames += s.registeredNames
            total.runQueueLength += s.runQueueLength
            total.refusedMailboxFull += s.refusedMailboxFull
        }
        return total
    }

    /// Every live process, on every loop.
    func processes() -> [PID] { nodes.flatMap { $0.processes() } }

    /// One random event: client work (most often), a kill, an exit signal, a respawn, or a pause (returned:
    /// how long time should pass). Loop thread only.
    func inject() -> UInt64? {
        let roll = Int.random(in: 0..<100, using: &rng)
        switch roll {
        case 0..<55:
            let client = clients.randomElement(using: &rng)!
            try? loop(of: client).send(Client.Message.go(Int.random(in: 1...4, using: &rng)), to: client)
        case 55..<65:
            victimWorker().map { node.exit($0, reason: .kill) }
        case 65..<70:
            victimWorker().map { node.exit($0, reason: .custom("injected")) }
        case 70..<75:
            let victim = (clients + sinks).randomElement(using: &rng)!
            node.exit(victim, reason: Bool.random(using: &rng) ? .kill : .custom("injected"))
        case 75..<95:
            return UInt64.random(in: 1...60, using: &rng)
        default:
            clients.removeAll { !isAlive($0) }
            sinks.removeAll { !isAlive($0) }
            if sinks.count < 3 { addSink() }
            if clients.count < 6 { addClient() }
        }
        return nil
    }

    private func victimWorker() -> PID? {
        node.whereis(workers.randomElement(using: &rng)!)
    }

    /// References that outlived their process: links, monitors, names or pending requests naming a dead
    /// process. Empty when the runtime cleaned up after every exit.
    func danglingReferences() -> [String] {
        var problems: [String] = []
        let live = Set(processes())
        for node in nodes {
            for pid in node.processes() {
                guard let extras = node.core(pid)?.extras else { continue }
                for linked in extras.links where !live.contains(linked) {
                    problems.append("\(pid) is still linked to dead \(linked)")
                }
            }
            let table = node.monitors
            // Each call listed under a server of another loop is a live monitor flagged so, and the reverse;
            // a parked one (kept for its caller's next call) is listed but no call's.
            let flagged = (0..<table.highWater).filter {
                table.entries[$0].inUse && table.entries[$0].siblingRequest && !table.entries[$0].parked
            }
            if flagged.count != node.siblingRequestCount {
                problems.append("\(flagged.count) calls flagged as listed, \(node.siblingRequestCount) listed")
            }
            // Each parked entry is its holder's one kept monitor, and each process keeps only such an entry.
            for slot in 0..<table.highWater where table.entries[slot].inUse && table.entries[slot].parked {
                let holder = table.entries[slot].watcher
                if node.core(holder) == nil || node.table.parkedCall(of: holder) != UInt32(slot) {
                    problems.append("parked slot \(slot) is not kept by its holder \(holder)")
                }
                if !table.entries[slot].siblingRequest {
                    problems.append("parked slot \(slot) is not listed under its server")
                }
            }
            for pid in node.processes() {
                let kept = node.table.parkedCall(of: pid)
                guard kept != MonitorTable.none else { continue }
                let entry = table.entries[Int(kept)]
                if !entry.inUse || !entry.parked || entry.watcher != pid {
                    problems.append("\(pid) keeps slot \(kept), which is not its parked monitor")
                }
            }
            for slot in 0..<table.highWater where table.entries[slot].inUse {
                let entry = table.entries[slot]
                if !live.contains(entry.watcher) {
                    problems.append("monitor/request slot \(slot) of dead watcher \(entry.watcher)")
                }
                // A monitor on a process of another loop is attached to nothing here: its target's loop holds it.
                if (entry.attached || node.isSibling(entry.target)) && !live.contains(entry.target) {
                    problems.append("monitor/request slot \(slot) on dead target \(entry.target)")
                }
            }
            // The monitors processes of other loops hold on this loop's processes.
            for (target, watch) in node.transit.watchers.all
            where !live.contains(target) || !live.contains(watch.watcher) {
                problems.append("watch of \(watch.watcher) on \(target) outlived one of them")
            }
        }
        for name in node.registered() where !live.contains(node.whereis(name)!) {
            problems.append("name \(name) held by a dead process")
        }
        return problems
    }
}

/// A message with an identity, so that its fate can be traced.
struct Payload: Sendable {
    let id: Int
    let sender: PID
}

/// Every call, message and death of a fault run, in order.
final class FaultLedger: @unchecked Sendable {
    /// What the sender knows of a message when its send returns: for a sink of its own loop, whether it was
    /// delivered, dropped at a dead pid or refused; for one of another loop, only that it left (`shipped`):
    /// that loop delivers it, drops it or reports a refusal when it arrives.
    enum Claim: Equatable { case delivered(PID), dropped, refused, inconsistent, shipped(PID) }

    private(set) var calls: [Int: (caller: PID, outcomes: [String])] = [:]
    private(set) var sends: [Int: Claim] = [:]
    private(set) var handled: [Int: [PID]] = [:]
    /// Message ids each sink handled from each sender, in the order it handled them.
    private(set) var handledInOrder: [Pair: [Int]] = [:]
    struct Pair: Hashable { let sender: PID, sink: PID }
    private(set) var deaths: Set<PID> = []
    private(set) var castsRefused = 0
    private(set) var crashes = 0
    /// Calls whose caller died waiting (killed, or shut down with the node).
    private(set) var abandoned = 0
    private var nextID = 0

    func newID() -> Int {
        nextID += 1
        return nextID
    }

    func callStarted(_ id: Int, by caller: PID) { calls[id] = (caller, []) }
    func callEnded(_ id: Int, _ outcome: String) { calls[id]?.outcomes.append(outcome) }
    func sent(_ id: Int, _ claim: Claim) {
        sends[id] = claim
    }
    func handled(_ id: Int, by pid: PID, from sender: PID) {
        handled[id, default: []].append(pid)
        handledInOrder[Pair(sender: sender, sink: pid), default: []].append(id)
    }
    func died(_ pid: PID) { deaths.insert(pid) }
    func castRefused() {
        castsRefused += 1
        refusedAtOnce()
    }
    /// Refusals the sender was told of when it sent (counted by its loop as it refused).
    private(set) var refusalsAtOnce = 0
    func refusedAtOnce() { refusalsAtOnce += 1 }
    func crashed() { crashes += 1 }

    /// Broken promises: calls without exactly one outcome (unless their caller died waiting), messages
    /// handled twice or without a delivery, delivered messages lost by a process that is still alive,
    /// messages from one sender handled out of send order; and, for messages to another loop, more of them
    /// unhandled by live sinks than refusals were reported (`crossRefusals`: the refusals the sending loops
    /// counted beyond those the senders were told of at once, which also covers casts refused on arrival).
    /// `alive`: the processes still alive (none once the node is closed).
    func violations(alive: (PID) -> Bool, crossRefusals: Int = 0) -> [String] {
        var problems: [String] = []
        for (id, call) in calls {
            if call.outcomes.count > 1 { problems.append("call \(id) ended \(call.outcomes.count) times: \(call.outcomes)") }
            if call.outcomes.isEmpty && alive(call.caller) {
                problems.append("call \(id) never ended and its caller \(call.caller) is alive")
            }
            if call.outcomes.isEmpty && !alive(call.caller) { abandoned += 1 }
        }
        for (id, receivers) in handled {
            if receivers.count > 1 { problems.append("message \(id) handled \(receivers.count) times") }
            if case .delivered(let target) = sends[id], receivers == [target] { continue }
            if case .shipped(let target) = sends[id], receivers == [target] { continue }
            problems.append("message \(id) handled by \(receivers) but claimed \(String(describing: sends[id]))")
        }
        var unhandledAcross = 0
        for (id, claim) in sends {
            if claim == .inconsistent { problems.append("message \(id): the node's counters did not move by exactly one") }
            if case .delivered(let target) = claim, handled[id] == nil, alive(target) {
                problems.append("message \(id) delivered to \(target), which is alive and never handled it")
            }
            if case .shipped(let target) = claim, handled[id] == nil, alive(target) { unhandledAcross += 1 }
        }
        if unhandledAcross > crossRefusals {
            problems.append("\(unhandledAcross) messages to live sinks of other loops never handled, \(crossRefusals) refusals reported")
        }
        for (pair, ids) in handledInOrder where ids != ids.sorted() {
            problems.append("\(pair.sink) handled \(pair.sender)'s messages out of order: \(ids)")
        }
        return problems
    }
}

/// A worker whose handlers throw at random and whose replies come later, from a timer.
struct Flaky: GenServer {
    struct Argument: Sendable {
        let ledger: FaultLedger
        let seed: UInt64
    }
    enum Call: Sendable { case work(delay: Int) }
    enum Cast: Sendable { case note }
    enum Info: Sendable { case answer(Int) }
    typealias Reply = Int

    let ledger: FaultLedger
    var rng: SplitMix64
    var waiting: [Int: Caller<Int>] = [:]
    var next = 0

    static func initialize(_ argument: Argument, _ server: ServerContext<Flaky>) throws -> Initialization<Flaky> {
        .ok(Flaky(ledger: argument.ledger, rng: SplitMix64(seed: argument.seed)))
    }

    mutating func maybeThrow() throws {
        if Int.random(in: 0..<20, using: &rng) == 0 {
            ledger.crashed()
            throw Boom()
        }
    }

    mutating func handleCall(_ request: Call, from caller: Caller<Int>, _ server: ServerContext<Flaky>) throws
        -> ServerResult<Flaky>
    {
        try maybeThrow()
        guard case .work(let delay) = request, delay > 0 else { return .reply(0) }
        next += 1
        waiting[next] = caller
        try server.sendAfter(.milliseconds(Int64(delay)), .answer(next))
        return .noReply
    }

    mutating func handleCast(_ message: Cast, _ server: ServerContext<Flaky>) throws -> ServerResult<Flaky> {
        try maybeThrow()
        return .noReply
    }

    mutating func handleInfo(_ message: InfoMessage<Info>, _ server: ServerContext<Flaky>) throws
        -> ServerResult<Flaky>
    {
        if case .message(.answer(let id)) = message, let caller = waiting.removeValue(forKey: id) {
            try maybeThrow()
            _ = server.reply(to: caller, id)
        }
        return .noReply
    }
}

/// A client: on `go(n)` it does n random things — call a worker by name (waiting for the outcome, with a
/// timeout that may race the delayed reply; other `go`s stay queued meanwhile), cast to one, or send a
/// burst of messages to a sink with a small mailbox.
enum Client {
    enum Message: Sendable { case go(Int) }

    /// The random source a client's steps share.
    final class Dice {
        var rng: SplitMix64
        init(seed: UInt64) { rng = SplitMix64(seed: seed) }
    }

    static func spawn(_ node: Node, ledger: FaultLedger, sinks: [PID], workers: [String], seed: UInt64) -> PID {
        let dice = Dice(seed: seed)
        return try! node.spawn(of: Message.self) { _ in
            idle(ledger: ledger, sinks: sinks, workers: workers, dice: dice)
        }.pid
    }

    static func idle(ledger: FaultLedger, sinks: [PID], workers: [String], dice: Dice) -> Step<Message> {
        .receive { envelope, process in
            guard case .message(.go(let count)) = envelope else { return .same }
            return try act(count, process, ledger: ledger, sinks: sinks, workers: workers, dice: dice)
        }
    }

    private static func act(_ count: Int, _ process: ProcessContext<Message>, ledger: FaultLedger, sinks: [PID],
                            workers: [String], dice: Dice) throws -> Step<Message> {
        var remaining = count
        while remaining > 0 {
            remaining -= 1
            let worker = ServerRef<Flaky>.named(workers.randomElement(using: &dice.rng)!)
            switch Int.random(in: 0..<3, using: &dice.rng) {
            case 0:
                let id = ledger.newID()
                ledger.callStarted(id, by: process.pid)
                let delay = Int.random(in: 0...40, using: &dice.rng)
                let timeout = Int64.random(in: 5...40, using: &dice.rng)
                let rest = remaining
                return try process.call(worker, .work(delay: delay), timeout: .milliseconds(timeout)) { result, process in
                    ledger.callEnded(id, outcome(result))
                    guard rest > 0 else { return idle(ledger: ledger, sinks: sinks, workers: workers, dice: dice) }
                    return try act(rest, process, ledger: ledger, sinks: sinks, workers: workers, dice: dice)
                }
            case 1:
                for _ in 0..<Int.random(in: 1...24, using: &dice.rng) {
                    if case .mailboxFull = process.cast(worker, .note) { ledger.castRefused() }
                }
            default:
                guard let sink = sinks.randomElement(using: &dice.rng) else { continue }
                for _ in 0..<Int.random(in: 1...8, using: &dice.rng) { send(to: sink, process, ledger: ledger) }
            }
        }
        return idle(ledger: ledger, sinks: sinks, workers: workers, dice: dice)
    }

    static func outcome(_ result: Result<Int, CallError>) -> String {
        switch result {
        case .success: return "reply"
        case .failure(.timeout): return "timeout"
        case .failure(.serverExited): return "serverExited"
        case .failure(.noProcess): return "noProcess"
        case .failure(.unknownName): return "unknownName"
        case .failure(.mailboxFull): return "mailboxFull"
        case .failure(let error): return "\(error)"
        }
    }

    /// Sends one payload and records what the node says happened to it: delivered (the delivered count
    /// rose), dropped at a dead pid (the dropped count rose) or refused (an error, which is the report).
    private static func send(to sink: PID, _ process: ProcessContext<Message>, ledger: FaultLedger) {
        let node = process.currentNode
        let id = ledger.newID()
        if node.isSibling(sink) {
            // To another loop: it leaves now; that loop delivers, drops or reports it as it arrives.
            do throws(ProcessError) {
                try process.send(Payload(id: id, sender: process.pid), to: sink)
                ledger.sent(id, .shipped(sink))
            } catch {
                ledger.sent(id, .refused)
                ledger.refusedAtOnce()
            }
            return
        }
        let before = node.statistics
        do throws(ProcessError) {
            try process.send(Payload(id: id, sender: process.pid), to: sink)
            let after = node.statistics
            let delivered = after.delivered - before.delivered
            let dropped = after.droppedToDeadProcesses - before.droppedToDeadProcesses
            ledger.sent(id, delivered == 1 && dropped == 0 ? .delivered(sink)
                            : dropped == 1 && delivered == 0 ? .dropped : .inconsistent)
        } catch {
            let refused = node.statistics.refusedMailboxFull - before.refusedMailboxFull
            ledger.sent(id, refused == 1 ? .refused : .inconsistent)
            ledger.refusedAtOnce()
        }
    }
}
