import OTP

/// An independent, deliberately naive model of the runtime's semantics: plain arrays and loops, no timer
/// wheel, no monitor table, no ring buffers. It reads the same steps as `RuntimeDriver` and predicts the
/// same `Observation`. Its rules are Erlang's (and this project's documented choices):
///
/// - a process runs when it has work, from a FIFO run queue, taking the messages its receive accepts in
///   mailbox order (a selective receive leaves the others queued);
/// - exit signals: `kill` from `exit/2` always kills (`killed`); a trapping process gets an `EXIT` message;
///   `normal` is ignored by a non-trapping process; any other reason kills it with that reason;
/// - a dying process releases its name, cancels the timers aimed at it, signals its links (a link set up
///   toward a dead process signals `noproc`), drops the monitors it held, and sends a `DOWN` for each
///   monitor on it, oldest first (a monitor of a dead process gets an immediate `noproc` DOWN);
/// - a call's caller gets the reply, `serverExited` when the server dies first (`noProcess` when it died
///   of `noproc`), or `timeout`; a reply
///   after the timeout is dropped; a call or a cast to a dead server fails with `noProcess`;
/// - a send to a dead pid is dropped and counted; to an unknown name it fails; to a process of another
///   message type it fails.
final class ReferenceModel {
    enum Role { case puppet, server, caller }

    enum Message {
        case data(tag: Int, n: Int, from: Source)
        case select(tag: Int)
        case relay(to: Int, tag: Int, n: Int)
        case exitWith(Int)
        case down(monitor: Int, of: Int, reason: ExitReason)
        case exit(from: Int?, reason: ExitReason)
        case call(caller: Int, request: ModelServer.Call)
        case cast(ModelServer.Cast)
        case reply(Int)
        case requestDown(ExitReason)
    }

    struct Process {
        let role: Role
        let slot: Int?
        var status = Status.alive
        var trap = false
        var links: Set<Int> = []
        var name: String?
        var mailbox: [Message] = []
        var queued = false
        var selecting: Int?          // puppet
        var total = 0                // server
        var held: [Int] = []         // server: callers waiting for `release`
        var call: (index: Int, server: Int, timeout: UInt64)?  // caller
        var request: ModelServer.Call?  // caller
        var waiting = false          // caller: request sent, no outcome yet
        var deadline: UInt64 = 0     // caller

        enum Status { case alive, stopping, dead }
        var isAlive: Bool { status != .dead }
    }

    private var processes: [Process] = []
    private var slots: [Int] = []    // slot -> process
    private var puppets: [Int] = []  // slots
    private var servers: [Int] = []  // slots
    private var monitors: [(watcher: Int, target: Int, active: Bool)] = []
    private var timers: [(deadline: UInt64, target: Int, tag: Int, pending: Bool)] = []
    private var registry: [String: Int] = [:]
    private var runQueue: [Int] = []
    private var dying: [(Int, ExitReason)] = []
    private var drainingExits = false
    private var now: UInt64 = 0
    private var calls = 0
    private var observation = Observation()

    func run(_ steps: [Op]) -> Observation {
        for step in steps {
            perform(step)
            runUntilIdle()
        }
        advance(by: 10_000)
        observation.registry = registry.mapValues { processes[$0].slot! }
        observation.alive = Set(slots.indices.filter { processes[slots[$0]].isAlive })
        return observation
    }

    // MARK: Steps

    private func alive(_ slot: Int) -> Bool { processes[slots[slot]].isAlive }
    private func result(_ text: String) { observation.results.append(text) }

    private func perform(_ step: Op) {
        let (a, b, c) = (step.a, step.b, step.c)
        let any = slots.isEmpty ? nil : a % slots.count
        let other = slots.isEmpty ? nil : b % slots.count
        switch step.kind {
        case .spawn:
            guard slots.count < 6 else { return }
            puppets.append(addActor(.puppet, trap: c & 1 == 1))
        case .startServer:
            guard slots.count < 6 else { return }
            servers.append(addActor(.server, trap: false))
        case .send:
            guard let any else { return }
            send(.data(tag: b % 3, n: c, from: .outside), to: any)
        case .sendNamed:
            let name = Op.names[a % 3]
            guard let holder = registry[name] else { return result("unknownName(\(name))") }
            guard processes[holder].role == .puppet else {
                return result("wrongMessageType(\(processes[holder].slot!))")
            }
            push(.data(tag: b % 3, n: c, from: .outside), to: holder)
            result("sent")
        case .select:
            guard let any else { return }
            send(.select(tag: b % 3), to: any)
        case .relay:
            guard let any, let other else { return }
            send(.relay(to: other, tag: c % 3, n: c), to: any)
        case .exitWith:
            guard let any else { return }
            send(.exitWith(c), to: any)
        case .exitSignal:
            guard let any else { return }
            let from = b == 7 || other == any ? nil : other.map { slots[$0] }
            signal(slots[any], from: from, reason: Op.signalReason(c), viaLink: false)
        case .link:
            guard let any, let other, alive(any) else { return }
            let (p, q) = (slots[any], slots[other])
            guard p != q else { return }
            guard processes[q].isAlive else { return signal(p, from: q, reason: .noproc, viaLink: true) }
            processes[p].links.insert(q)
            processes[q].links.insert(p)
        case .unlink:
            guard let any, let other, alive(any) else { return }
            let (p, q) = (slots[any], slots[other])
            processes[p].links.remove(q)
            processes[q].links.remove(p)
        case .monitor:
            guard let any, let other, alive(any) else { return }
            let (watcher, target) = (slots[any], slots[other])
            let index = monitors.count
            if processes[target].isAlive {
                monitors.append((watcher, target, true))
            } else {
                monitors.append((watcher, target, false))
                push(.down(monitor: index, of: other, reason: .noproc), to: watcher)
            }
        case .demonitor:
            guard !monitors.isEmpty else { return }
            let index = (a * 8 + b) % monitors.count
            let active = monitors[index].active
            monitors[index].active = false
            let watcher = monitors[index].watcher
            if c & 1 == 1, processes[watcher].isAlive {
                processes[watcher].mailbox.removeAll {
                    if case .down(let monitor, _, _) = $0 { return monitor == index }
                    return false
                }
            }
            result("demonitor \(active)")
        case .trapExits:
            guard let any, alive(any) else { return }
            result("trap was \(processes[slots[any]].trap)")
            processes[slots[any]].trap = c & 1 == 1
        case .register:
            guard let any else { return }
            let name = Op.names[b % 3]
            let p = slots[any]
            if let holder = registry[name] { return result("nameTaken(\(name), \(processes[holder].slot!))") }
            guard processes[p].isAlive else { return result("noProcess(\(any))") }
            if let existing = processes[p].name { return result("alreadyRegistered(\(any), \(existing))") }
            registry[name] = p
            processes[p].name = name
            result("registered")
        case .unregister:
            let name = Op.names[b % 3]
            guard let holder = registry.removeValue(forKey: name) else { return result("unknownName(\(name))") }
            processes[holder].name = nil
            result("unregistered")
        case .sendAfter:
            guard !puppets.isEmpty else { return }
            let target = slots[puppets[a % puppets.count]]
            timers.append((now + Op.delays[c], target, b % 3, processes[target].isAlive))
        case .cancelTimer:
            guard !timers.isEmpty else { return }
            let index = (a * 8 + b) % timers.count
            if timers[index].pending {
                timers[index].pending = false
                result("cancel \(timers[index].deadline - now)")
            } else {
                result("cancel false")
            }
        case .call:
            guard !servers.isEmpty else { return }
            let server = slots[servers[a % servers.count]]
            var caller = Process(role: .caller, slot: nil)
            caller.call = (calls, server, Op.callTimeouts[c])
            caller.request = c == 0 ? .hold : .add(b)
            processes.append(caller)
            observation.calls[calls] = []
            calls += 1
            wake(processes.count - 1)
        case .cast:
            guard !servers.isEmpty else { return }
            cast(.add(b), to: servers[a % servers.count])
        case .release:
            guard !servers.isEmpty else { return }
            cast(.release, to: servers[a % servers.count])
        case .stopServer:
            guard !servers.isEmpty else { return }
            cast(.stop(c), to: servers[a % servers.count])
        case .advance:
            advance(by: Op.advances[a])
        }
    }

    private func addActor(_ role: Role, trap: Bool) -> Int {
        let slot = slots.count
        var process = Process(role: role, slot: slot)
        process.trap = trap
        processes.append(process)
        slots.append(processes.count - 1)
        if role == .puppet { wake(processes.count - 1) }  // its start runs (and does nothing)
        return slot
    }

    /// A send by pid from outside: dropped and counted for a dead pid, refused for a server.
    private func send(_ message: Message, to slot: Int) {
        let p = slots[slot]
        guard processes[p].isAlive else {
            observation.dropped += 1
            return result("sent")
        }
        guard processes[p].role == .puppet else { return result("wrongMessageType(\(slot))") }
        push(message, to: p)
        result("sent")
    }

    private func cast(_ message: ModelServer.Cast, to slot: Int) {
        let p = slots[slot]
        guard processes[p].isAlive else {
            observation.dropped += 1
            return result("cast noProcess(\(slot))")
        }
        push(.cast(message), to: p)
        result("cast delivered")
    }

    // MARK: Scheduling

    private func push(_ message: Message, to p: Int) {
        guard processes[p].status == .alive else { return }
        processes[p].mailbox.append(message)
        wake(p)
    }

    private func wake(_ p: Int) {
        guard !processes[p].queued else { return }
        processes[p].queued = true
        runQueue.append(p)
    }

    private func runUntilIdle() {
        while !runQueue.isEmpty {
            let p = runQueue.removeFirst()
            processes[p].queued = false
            guard processes[p].status == .alive else { continue }
            turn(p)
        }
    }

    /// One turn: the process takes each message its receive accepts, in mailbox order, until none is left
    /// or it exits.
    private func turn(_ p: Int) {
        if processes[p].request != nil {  // a caller's first turn sends its request
            startCall(p)
            if processes[p].status != .alive { return }
        }
        while processes[p].status == .alive, let index = processes[p].mailbox.firstIndex(where: { accepts(p, $0) }) {
            let message = processes[p].mailbox.remove(at: index)
            if let reason = handle(message, by: p) {
                terminate(p, reason: reason)
                return
            }
        }
    }

    private func accepts(_ p: Int, _ message: Message) -> Bool {
        switch processes[p].role {
        case .puppet:
            guard let selecting = processes[p].selecting else { return true }
            if case .data(let tag, _, _) = message { return tag == selecting }
            return false
        case .server:
            return true
        case .caller:
            switch message {
            case .reply, .requestDown: return true
            default: return false
            }
        }
    }

    /// Handles one message; returns an exit reason when the process exits.
    private func handle(_ message: Message, by p: Int) -> ExitReason? {
        let slot = processes[p].slot
        switch message {
        case .data(let tag, let n, let from):
            observation.record(.data(tag: tag, n: n, from: from), by: slot!)
            if processes[p].selecting == tag { processes[p].selecting = nil }
        case .select(let tag):
            observation.record(.select(tag: tag), by: slot!)
            processes[p].selecting = tag
        case .relay(let to, let tag, let n):
            observation.record(.relay(to: to, tag: tag), by: slot!)
            let q = slots[to]
            if !processes[q].isAlive {
                observation.dropped += 1
            } else if processes[q].role != .puppet {
                observation.record(.relayRefused(to: to), by: slot!)
            } else {
                push(.data(tag: tag, n: n, from: .process(slot!)), to: q)
            }
        case .exitWith(let code):
            observation.record(.exitWith(code), by: slot!)
            return Op.ownReason(code)
        case .down(let monitor, let of, let reason):
            observation.record(.down(monitor: monitor, of: of, reason: reason.description), by: slot!)
        case .exit(let from, let reason):
            observation.record(.exit(from: from.flatMap { processes[$0].slot }, reason: reason.description), by: slot!)
        case .call(let caller, let request):
            let index = processes[caller].call!.index
            switch request {
            case .add(let n):
                observation.record(.call(index, request: "add(\(n))"), by: slot!)
                processes[p].total += n
                reply(processes[p].total, to: caller)
            case .hold:
                observation.record(.call(index, request: "hold"), by: slot!)
                processes[p].held.append(caller)
            }
        case .cast(.add(let n)):
            observation.record(.cast("add(\(n))"), by: slot!)
            processes[p].total += n
        case .cast(.release):
            observation.record(.cast("release"), by: slot!)
            for caller in processes[p].held { reply(processes[p].total, to: caller) }
            processes[p].held = []
        case .cast(.stop(let code)):
            observation.record(.cast("stop(\(code))"), by: slot!)
            let reason = Op.ownReason(code)
            observation.record(.terminate(reason.description), by: slot!)
            return reason
        case .reply(let value):
            return finishCall(p, "ok(\(value))")
        case .requestDown(let reason):
            // A server that died of `noproc` reads as a server that was not there (the DOWN can't tell).
            let server = processes[processes[p].call!.server].slot!
            return finishCall(p, reason == .noproc ? "noProcess(\(server))" : "serverExited(\(server), \(reason))")
        }
        return nil
    }

    // MARK: Calls

    private func startCall(_ p: Int) {
        let (index, server, timeout) = processes[p].call!
        guard processes[server].isAlive else {
            processes[p].request = nil
            observation.calls[index]!.append("noProcess(\(processes[server].slot!))")
            terminate(p, reason: .normal)
            return
        }
        processes[p].waiting = true
        processes[p].deadline = now + timeout
        push(.call(caller: p, request: processes[p].request!), to: server)
        processes[p].request = nil
    }

    private func reply(_ value: Int, to caller: Int) {
        guard processes[caller].status == .alive, processes[caller].waiting else { return }  // dropped
        processes[caller].waiting = false
        push(.reply(value), to: caller)
    }

    private func finishCall(_ p: Int, _ outcome: String) -> ExitReason {
        observation.calls[processes[p].call!.index]!.append(outcome)
        processes[p].waiting = false
        return .normal
    }

    // MARK: Time

    private func advance(by ms: UInt64) {
        let end = now + ms
        while true {
            let timerDeadlines = timers.filter(\.pending).map(\.deadline)
            let callDeadlines = processes.filter { $0.status == .alive && $0.waiting }.map(\.deadline)
            guard let next = (timerDeadlines + callDeadlines).min(), next <= end else { break }
            now = next
            for i in timers.indices where timers[i].pending && timers[i].deadline == next {
                timers[i].pending = false
                push(.data(tag: timers[i].tag, n: i, from: .timer(i)), to: timers[i].target)
            }
            for p in processes.indices where processes[p].status == .alive && processes[p].waiting
                && processes[p].deadline == next
            {
                processes[p].waiting = false
                _ = finishCall(p, "timeout(\(processes[processes[p].call!.server].slot!))")
                terminate(p, reason: .normal)
            }
            runUntilIdle()
        }
        now = end
    }

    // MARK: Exits

    private func signal(_ target: Int, from: Int?, reason: ExitReason, viaLink: Bool) {
        guard processes[target].status == .alive else { return }
        if !viaLink, case .kill = reason {
            terminate(target, reason: .killed)
        } else if processes[target].trap {
            push(.exit(from: from, reason: reason), to: target)
        } else if reason.isNormal {
            if !viaLink && from == target { terminate(target, reason: .normal) }
        } else {
            terminate(target, reason: reason)
        }
    }

    private func terminate(_ p: Int, reason: ExitReason) {
        guard processes[p].status == .alive else { return }
        processes[p].status = .stopping
        dying.append((p, reason))
        guard !drainingExits else { return }
        drainingExits = true
        var i = 0
        while i < dying.count {
            finishExit(dying[i].0, reason: dying[i].1)
            i += 1
        }
        dying.removeAll()
        drainingExits = false
    }

    private func finishExit(_ p: Int, reason: ExitReason) {
        processes[p].status = .dead
        processes[p].mailbox = []
        if let slot = processes[p].slot { observation.exits[slot] = reason.description }
        if let name = processes[p].name { registry[name] = nil }
        for i in timers.indices where timers[i].target == p { timers[i].pending = false }
        for q in processes[p].links.sorted() {
            processes[q].links.remove(p)
            signal(q, from: p, reason: reason, viaLink: true)
        }
        processes[p].links = []
        for i in monitors.indices where monitors[i].watcher == p { monitors[i].active = false }
        for i in monitors.indices where monitors[i].target == p && monitors[i].active {
            monitors[i].active = false
            push(.down(monitor: i, of: processes[p].slot!, reason: reason), to: monitors[i].watcher)
        }
        if processes[p].role == .server {
            for q in processes.indices where processes[q].role == .caller && processes[q].waiting
                && processes[q].call!.server == p
            {
                push(.requestDown(reason), to: q)
            }
        }
    }
}
