@testable import OTP

/// Runs generated steps against the real runtime on a deterministic node (manual clock): each step is
/// carried out through the public API from outside any process, then the node runs until idle.
final class RuntimeDriver {
    let node: Node
    let recorder = ActorRecorder()
    /// Actor slots: puppets and servers, in creation order.
    private(set) var slots: [PID] = []
    private var servers: [Int] = []
    private var puppets: [Int] = []
    private var monitors: [(ref: Ref, watcher: PID)] = []
    private var timers: [TimerRef] = []
    private var calls = 0
    private var observer: PID!

    init() {
        node = Node.deterministic(report: { _ in }, logger: quietLogger)
        let recorder = self.recorder
        observer = try! node.spawn(of: Never.self) { _ in
            .receive { envelope, _ in
                if case .down(let down) = envelope, let slot = recorder.slots[down.pid] {
                    recorder.observation.exits[slot] = down.reason.description
                }
                return .same
            }
        }.pid
        node.runUntilIdle()
    }

    /// Carries out `steps`, then lets every pending timer and call timeout run out.
    func run(_ steps: [Op]) -> Observation {
        for step in steps {
            perform(step)
            node.runUntilIdle()
        }
        node.advance(by: 10_000)
        return observe()
    }

    func observe() -> Observation {
        var observation = recorder.observation
        for name in node.registered() {
            observation.registry[name] = recorder.slot(node.whereis(name)!)
        }
        observation.alive = Set(slots.indices.filter { node.core(slots[$0]) != nil })
        observation.dropped = node.statistics.droppedToDeadProcesses
        return observation
    }

    private func alive(_ slot: Int) -> Bool { node.core(slots[slot]) != nil }
    private func result(_ text: String) { recorder.observation.results.append(text) }
    private func describe(_ error: ProcessError) -> String { OTPTests.describe(error) { recorder.slot($0) } }

    private func addSlot(_ pid: PID) -> Int {
        let slot = slots.count
        slots.append(pid)
        recorder.slots[pid] = slot
        _ = node.monitor(pid, by: observer)
        return slot
    }

    private func perform(_ step: Op) {
        let (a, b, c) = (step.a, step.b, step.c)
        let any = slots.isEmpty ? nil : a % slots.count
        let other = slots.isEmpty ? nil : b % slots.count
        switch step.kind {
        case .spawn:
            guard slots.count < 6 else { return }
            let slot = slots.count
            let pid = try! node.spawn(Puppet(slot: slot, recorder: recorder), options: SpawnOptions(trapExits: c & 1 == 1)).pid
            puppets.append(addSlot(pid))
        case .startServer:
            guard slots.count < 6 else { return }
            let server = try! node.start(ModelServer.self, ModelServer(slot: slots.count, recorder: recorder))
            servers.append(addSlot(server.pid!))
        case .send:
            guard let any else { return }
            send(.data(tag: b % 3, n: c, from: .outside), to: any)
        case .sendNamed:
            do throws(ProcessError) {
                try node.send(PuppetMessage.data(tag: b % 3, n: c, from: .outside), to: Op.names[a % 3])
                result("sent")
            } catch { result(describe(error)) }
        case .select:
            guard let any else { return }
            send(.select(tag: b % 3), to: any)
        case .relay:
            guard let any, let other else { return }
            send(.relay(to: slots[other], toSlot: other, tag: c % 3, n: c), to: any)
        case .exitWith:
            guard let any else { return }
            send(.exitWith(c), to: any)
        case .exitSignal:
            guard let any else { return }
            let from = b == 7 || other == any ? nil : other.map { slots[$0] }
            node.exit(slots[any], reason: Op.signalReason(c), from: from)
        case .link:
            guard let any, let other, alive(any) else { return }
            node.link(slots[any], slots[other])
        case .unlink:
            guard let any, let other, alive(any) else { return }
            node.unlink(slots[any], slots[other])
        case .monitor:
            guard let any, let other, alive(any) else { return }
            let ref = node.monitor(slots[other], by: slots[any])
            recorder.monitors[ref] = monitors.count
            monitors.append((ref, slots[any]))
        case .demonitor:
            guard !monitors.isEmpty else { return }
            let (ref, watcher) = monitors[(a * 8 + b) % monitors.count]
            result("demonitor \(node.demonitor(ref, by: watcher, flush: c & 1 == 1))")
        case .trapExits:
            guard let any, alive(any) else { return }
            result("trap was \(node.setTrapExits(slots[any], c & 1 == 1))")
        case .register:
            guard let any else { return }
            do throws(ProcessError) {
                try node.register(Op.names[b % 3], slots[any])
                result("registered")
            } catch { result(describe(error)) }
        case .unregister:
            do throws(ProcessError) {
                try node.unregister(Op.names[b % 3])
                result("unregistered")
            } catch { result(describe(error)) }
        case .sendAfter:
            guard !puppets.isEmpty else { return }
            let target = Address<PuppetMessage>(unchecked: slots[puppets[a % puppets.count]])
            let index = timers.count
            timers.append(try! node.sendAfter(.milliseconds(Int64(Op.delays[c])),
                                              .data(tag: b % 3, n: index, from: .timer(index)), to: target))
        case .cancelTimer:
            guard !timers.isEmpty else { return }
            result("cancel \(node.cancelTimer(timers[(a * 8 + b) % timers.count]).map(String.init) ?? "false")")
        case .call:
            guard !servers.isEmpty else { return }
            call(servers[a % servers.count], c == 0 ? .hold : .add(b), timeout: Op.callTimeouts[c])
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
            node.advance(by: Op.advances[a])
        }
    }

    private func send(_ message: PuppetMessage, to slot: Int) {
        do throws(ProcessError) {
            try node.send(message, to: slots[slot])
            result("sent")
        } catch { result(describe(error)) }
    }

    private func cast(_ message: ModelServer.Cast, to slot: Int) {
        switch node.cast(ServerRef<ModelServer>(pid: slots[slot]), message) {
        case .delivered: result("cast delivered")
        case let outcome: result("cast \(outcome)".replacingOccurrences(of: "\(slots[slot])", with: "\(slot)"))
        }
    }

    /// A call from a process of its own, which records the outcome and exits.
    private func call(_ slot: Int, _ request: ModelServer.Call, timeout: UInt64) {
        let index = calls
        calls += 1
        let server = ServerRef<ModelServer>(pid: slots[slot])
        let recorder = self.recorder
        recorder.observation.calls[index] = []  // registered when it starts: a call that never ends is seen
        let caller = try! node.spawn(of: Never.self) { process in
            try process.call(server, request, timeout: .milliseconds(Int64(timeout))) { result, _ in
                let outcome: String
                switch result {
                case .success(let value): outcome = "ok(\(value))"
                case .failure(.noProcess): outcome = "noProcess(\(slot))"
                case .failure(.timeout): outcome = "timeout(\(slot))"
                case .failure(.serverExited(_, let reason)): outcome = "serverExited(\(slot), \(reason))"
                case .failure(let error): outcome = "\(error)"
                }
                recorder.observation.calls[index]!.append(outcome)
                return .exit(.normal)
            }
        }
        recorder.callers[caller.pid] = index
    }
}

/// What the runtime's test processes saw, written on the loop thread (the deterministic node's only thread).
final class ActorRecorder: @unchecked Sendable {
    var observation = Observation()
    var slots: [PID: Int] = [:]
    var monitors: [Ref: Int] = [:]
    var callers: [PID: Int] = [:]

    func slot(_ pid: PID) -> Int { slots[pid] ?? -1 }
    func record(_ entry: Entry, by slot: Int) { observation.record(entry, by: slot) }

    /// The entry for a DOWN or EXIT envelope.
    func entry(down: Down) -> Entry {
        .down(monitor: monitors[down.monitor] ?? -1, of: slot(down.pid), reason: down.reason.description)
    }

    func entry(exit: ExitSignal) -> Entry {
        .exit(from: exit.from.map(slot), reason: exit.reason.description)
    }
}

/// A process driven by messages from the test: it logs what it takes, relays, exits on request, and
/// enters a selective receive (only `data` with one tag) until such a message arrives.
struct Puppet: ProcessBehavior {
    typealias Message = PuppetMessage
    let slot: Int
    let recorder: ActorRecorder
    var selecting: Int?

    init(slot: Int, recorder: ActorRecorder) {
        self.slot = slot
        self.recorder = recorder
    }

    func accepts(_ envelope: borrowing Envelope<PuppetMessage>) -> Bool {
        guard let selecting else { return true }
        if case .message(.data(let tag, _, _)) = copy envelope { return tag == selecting }
        return false
    }

    mutating func receive(_ envelope: consuming Envelope<PuppetMessage>, _ process: ProcessContext<PuppetMessage>)
        throws -> Next
    {
        switch envelope {
        case .message(.data(let tag, let n, let from)):
            recorder.record(.data(tag: tag, n: n, from: from), by: slot)
            if selecting == tag { selecting = nil }
        case .message(.select(let tag)):
            recorder.record(.select(tag: tag), by: slot)
            selecting = tag
        case .message(.relay(let to, let toSlot, let tag, let n)):
            recorder.record(.relay(to: toSlot, tag: tag), by: slot)
            do throws(ProcessError) {
                try process.send(PuppetMessage.data(tag: tag, n: n, from: .process(slot)), to: to)
            } catch {
                recorder.record(.relayRefused(to: toSlot), by: slot)
            }
        case .message(.exitWith(let code)):
            recorder.record(.exitWith(code), by: slot)
            let reason = Op.ownReason(code)
            if case .error(let error) = reason { throw error }
            return .exit(reason)
        case .down(let down):
            recorder.record(recorder.entry(down: down), by: slot)
        case .exit(let signal):
            recorder.record(recorder.entry(exit: signal), by: slot)
        case .reply:
            break
        }
        return .receive
    }
}

/// A counter server: `add` calls and casts, `hold` calls answered on `release` (a delayed reply), `stop`.
/// It logs what it handles.
struct ModelServer: GenServer {
    enum Call: Sendable { case add(Int), hold }
    enum Cast: Sendable { case add(Int), release, stop(Int) }
    typealias Reply = Int

    let slot: Int
    let recorder: ActorRecorder
    var total = 0
    var held: [Caller<Int>] = []

    init(slot: Int, recorder: ActorRecorder) {
        self.slot = slot
        self.recorder = recorder
    }

    mutating func handleCall(_ request: Call, from caller: Caller<Int>, _ server: ServerContext<ModelServer>)
        throws -> ServerResult<ModelServer>
    {
        let index = recorder.callers[caller.pid] ?? -1
        switch request {
        case .add(let n):
            recorder.record(.call(index, request: "add(\(n))"), by: slot)
            total += n
            return .reply(total)
        case .hold:
            recorder.record(.call(index, request: "hold"), by: slot)
            held.append(caller)
            return .noReply
        }
    }

    mutating func handleCast(_ message: Cast, _ server: ServerContext<ModelServer>) throws
        -> ServerResult<ModelServer>
    {
        switch message {
        case .add(let n):
            recorder.record(.cast("add(\(n))"), by: slot)
            total += n
        case .release:
            recorder.record(.cast("release"), by: slot)
            for caller in held { _ = server.reply(to: caller, total) }
            held = []
        case .stop(let code):
            recorder.record(.cast("stop(\(code))"), by: slot)
            return .stop(Op.ownReason(code))
        }
        return .noReply
    }

    mutating func handleInfo(_ message: InfoMessage<Never>, _ server: ServerContext<ModelServer>) throws
        -> ServerResult<ModelServer>
    {
        switch message {
        case .down(let down): recorder.record(recorder.entry(down: down), by: slot)
        case .exit(let signal): recorder.record(recorder.entry(exit: signal), by: slot)
        default: break
        }
        return .noReply
    }

    func terminate(_ reason: ExitReason, _ server: ServerContext<ModelServer>) throws {
        recorder.record(.terminate(reason.description), by: slot)
    }
}
