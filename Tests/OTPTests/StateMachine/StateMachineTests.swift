import Testing
@testable import OTP

/// A machine whose handler is a script given at start; it logs every event it gets as `state: event`.
struct Probe: StateMachine {
    typealias State = String
    typealias Call = String
    typealias Reply = String
    typealias Cast = String
    typealias Info = String
    typealias Internal = String
    typealias TimeoutEvent = String
    typealias Script = (StateMachineEvent<Probe>, String, MachineContext<Probe>) throws -> Transition<Probe>
    static var enterCalls: Bool { true }

    let log: Log<String>
    let script: Script

    struct Argument {
        var log: Log<String>
        var first = "idle"
        var actions: [StateMachineAction<Probe>] = []
        var script: Script
    }

    static func initialize(_ argument: Argument, _ machine: MachineContext<Probe>) throws -> MachineStart<Probe> {
        .ok(Probe(log: argument.log, script: argument.script), argument.first, argument.actions)
    }

    mutating func handleEvent(_ event: StateMachineEvent<Probe>, in state: String, _ machine: MachineContext<Probe>)
        throws -> Transition<Probe>
    {
        log.append("\(state): \(Probe.describe(event))")
        return try script(event, state, machine)
    }

    mutating func terminate(_ reason: ExitReason, in state: String, _ machine: MachineContext<Probe>) throws {
        log.append("\(state): terminate \(reason)")
    }

    static func describe(_ event: StateMachineEvent<Probe>) -> String {
        switch event {
        case .call(let request, _): return "call \(request)"
        case .cast(let message): return "cast \(message)"
        case .info(.message(let message)): return "info \(message)"
        case .info(let other): return "info \(other)"
        case .enter(let from): return "enter from \(from)"
        case .eventTimeout(let content): return "event timeout \(content)"
        case .stateTimeout(let content): return "state timeout \(content)"
        case .timeout(let name, let content): return "timeout \(name) \(content)"
        case .internal(let content): return "internal \(content)"
        }
    }
}

/// A machine without state enter calls.
struct Toggle: StateMachine {
    enum State: Equatable { case off, on }
    typealias Cast = Void
    typealias Call = Void
    typealias Reply = State
    let log: Log<String>
    static func initialize(_ log: Log<String>, _ machine: MachineContext<Toggle>) throws -> MachineStart<Toggle> {
        .ok(Toggle(log: log), .off)
    }
    mutating func handleEvent(_ event: StateMachineEvent<Toggle>, in state: State, _ machine: MachineContext<Toggle>)
        throws -> Transition<Toggle>
    {
        switch event {
        case .cast: log.append("\(state): cast")
        case .call: log.append("\(state): call")
        default: log.append("\(state): other")
        }
        switch event {
        case .cast: return .next(state == .off ? .on : .off)
        case .call(_, let caller): return .keep(.reply(caller, state))
        default: return .keep
        }
    }
}

@Suite("StateMachine: gen_statem's documented behaviour")
struct StateMachineTests {
    func start(_ node: Node, first: String = "idle", actions: [StateMachineAction<Probe>] = [],
               _ script: @escaping Probe.Script) throws -> (StateMachineRef<Probe>, Log<String>) {
        let log = Log<String>()
        let ref = try node.startMachine(Probe.self, Probe.Argument(log: log, first: first, actions: actions, script: script))
        return (ref, log)
    }

    @Test("State enter calls: the first state (from itself), each change and repeatState; not a keep")
    func enterCalls() throws {
        let node = makeNode()
        let (machine, log) = try start(node) { event, state, _ in
            switch event {
            case .cast("go"): return .next("busy")
            case .cast("stay"): return .keep
            case .cast("again"): return .repeatState
            case .cast("same"): return .next(state)
            default: return .keep
            }
        }
        for message in ["go", "stay", "again", "same"] { node.cast(machine, message) }
        node.runUntilIdle()
        #expect(log.entries == [
            "idle: enter from idle", "idle: cast go", "busy: enter from idle", "busy: cast stay",
            "busy: cast again", "busy: enter from busy", "busy: cast same",
        ])
        // Without enterCalls no enter event arrives.
        let toggleLog = Log<String>()
        let toggle = try node.startMachine(Toggle.self, toggleLog)
        node.cast(toggle, ())
        #expect(try node.call(toggle, ()) == .on)
        #expect(toggleLog.entries == ["off: cast", "on: call"])
    }

    @Test("A state enter call may not change the state, postpone or insert: the machine exits with the error")
    func enterRules() throws {
        let node = makeNode()
        for (label, bad) in [("next", Transition<Probe>.next("elsewhere")), ("postpone", .keep(.postpone)),
                             ("insert", .keep(.nextEvent(.internal("x"))))] {
            let (machine, _) = try start(node) { event, state, _ in
                if case .cast = event { return .next("second") }
                if case .enter = event, state == "second" { return bad }
                return .keep
            }
            let exits = try watchExit(node, machine.pid!)
            node.cast(machine, "go")
            node.runUntilIdle()
            let expected: StateMachineError = switch label {
            case "next": .stateChangedOnEnter(state: "second", to: "elsewhere")
            case "postpone": .notOnEnter(state: "second", action: "postpone")
            default: .notOnEnter(state: "second", action: "nextEvent")
            }
            #expect(exits.entries == [.error(expected)], "\(label)")
        }
    }

    @Test("Postponed events are retried after a state change, in order, before newer events; not after a keep")
    func postpone() throws {
        let node = makeNode()
        let (machine, log) = try start(node) { event, state, _ in
            switch (state, event) {
            case ("idle", .cast("open")): return .next("ready")
            case ("idle", .cast("noop")): return .keep
            case ("idle", .cast): return .keep(.postpone)
            default: return .keep
            }
        }
        for message in ["a", "b", "noop", "open", "c"] { node.cast(machine, message) }
        node.runUntilIdle()
        #expect(log.entries == [
            "idle: enter from idle", "idle: cast a", "idle: cast b", "idle: cast noop", "idle: cast open",
            "ready: enter from idle", "ready: cast a", "ready: cast b", "ready: cast c",
        ])
    }

    @Test("A postponed call is answered later, from another event's transition")
    func postponedCall() throws {
        let node = makeNode()
        let (machine, _) = try start(node) { event, state, _ in
            switch (state, event) {
            case ("idle", .call): return .keep(.postpone)
            case ("idle", .cast("ready")): return .next("ready")
            case ("ready", .call(let request, let caller)): return .keep(.reply(caller, "done \(request)"))
            default: return .keep
            }
        }
        let replies = Log<String>()
        try node.spawn(of: Never.self) { process in
            try process.call(machine, "job") { result, _ in
                replies.append("\(result)")
                return .exit(.normal)
            }
        }
        node.runUntilIdle()
        #expect(replies.entries.isEmpty)
        node.cast(machine, "ready")
        node.runUntilIdle()
        #expect(replies.entries == ["success(\"done job\")"])
    }

    @Test("Inserted events come first, in order, then postponed ones, then the mailbox; the enter call before all")
    func insertedEvents() throws {
        let node = makeNode()
        let (machine, log) = try start(node) { event, state, _ in
            switch (state, event) {
            case ("idle", .cast("p")): return .keep(.postpone)
            case ("idle", .cast("go")): return .next("next", .nextEvent(.internal("i1")), .nextEvent(.internal("i2")))
            default: return .keep
            }
        }
        for message in ["p", "go", "later"] { node.cast(machine, message) }
        node.runUntilIdle()
        #expect(log.entries == [
            "idle: enter from idle", "idle: cast p", "idle: cast go", "next: enter from idle",
            "next: internal i1", "next: internal i2", "next: cast p", "next: cast later",
        ])
    }

    @Test("Event timeout: fires when no event comes; any event cancels it; zero fires only with nothing waiting")
    func eventTimeout() throws {
        let node = makeNode()
        let (machine, log) = try start(node) { event, _, _ in
            switch event {
            case .cast("arm"): return .keep(.eventTimeout(.milliseconds(100), "quiet"))
            case .cast("zero"): return .keep(.eventTimeout(.zero, "now"))
            case .cast("arm, then insert"):  // the inserted event is an event: it cancels the timeout
                return .keep(.eventTimeout(.milliseconds(100), "never"), .nextEvent(.internal("i")))
            default: return .keep
            }
        }
        node.cast(machine, "arm")
        node.advance(by: 50)
        node.cast(machine, "poke")  // cancels it
        node.advance(by: 200)
        node.cast(machine, "arm")
        node.advance(by: 100)  // fires
        node.cast(machine, "zero")
        node.runUntilIdle()  // nothing waiting: fires at once
        node.cast(machine, "zero")
        node.cast(machine, "poke")  // waiting already: the zero timeout is dropped
        node.runUntilIdle()
        node.cast(machine, "arm, then insert")
        node.advance(by: 200)
        #expect(log.entries == [
            "idle: enter from idle", "idle: cast arm", "idle: cast poke", "idle: cast arm",
            "idle: event timeout quiet", "idle: cast zero", "idle: event timeout now", "idle: cast zero",
            "idle: cast poke", "idle: cast arm, then insert", "idle: internal i",
        ])
    }

    @Test("State timeout: fires in its state, restarts when set again, is cancelled by a state change or infinity")
    func stateTimeout() throws {
        let node = makeNode()
        let (machine, log) = try start(node) { event, state, _ in
            switch (state, event) {
            case (_, .cast("arm")): return .keep(.stateTimeout(.milliseconds(100), "late"))
            case (_, .cast("move")): return .next(state == "idle" ? "other" : "idle")
            case (_, .cast("stop timer")): return .keep(.stateTimeout(.infinity, "x"))
            case (_, .cast("move and arm")): return .next("third", .stateTimeout(.milliseconds(100), "new"))
            default: return .keep
            }
        }
        node.cast(machine, "arm")
        node.advance(by: 60)
        node.cast(machine, "arm")  // restarts: fires 100 ms from now, not 40
        node.advance(by: 60)
        node.advance(by: 40)  // fires
        node.cast(machine, "arm")
        node.cast(machine, "move")  // cancelled by the change
        node.advance(by: 200)
        node.cast(machine, "arm")
        node.cast(machine, "stop timer")
        node.advance(by: 200)
        node.cast(machine, "move and arm")  // set in the transition that changes state: applies to the new state
        node.advance(by: 100)
        #expect(log.entries == [
            "idle: enter from idle", "idle: cast arm", "idle: cast arm", "idle: state timeout late",
            "idle: cast arm", "idle: cast move", "other: enter from idle", "other: cast arm",
            "other: cast stop timer", "other: cast move and arm", "third: enter from other",
            "third: state timeout new",
        ])
    }

    @Test("Generic timeouts: named, independent of events and states; set again restarts; cancel cancels")
    func namedTimeouts() throws {
        let node = makeNode()
        let (machine, log) = try start(node) { event, state, _ in
            switch event {
            case .cast("arm a"): return .keep(.timeout("a", .milliseconds(100), "A"))
            case .cast("arm b"): return .keep(.timeout("b", .milliseconds(150), "B"))
            case .cast("move"): return .next("moved")
            case .cast("cancel b"): return .keep(.cancelTimeout("b"))
            default: return .keep
            }
        }
        node.cast(machine, "arm a")
        node.cast(machine, "arm b")
        node.advance(by: 50)
        node.cast(machine, "move")  // neither is cancelled by a state change
        node.advance(by: 50)  // a fires at 100
        node.cast(machine, "arm b")  // restarts b: now at 250
        node.advance(by: 100)
        node.cast(machine, "arm a")
        node.cast(machine, "cancel b")
        node.advance(by: 300)
        #expect(log.entries == [
            "idle: enter from idle", "idle: cast arm a", "idle: cast arm b", "idle: cast move",
            "moved: enter from idle", "moved: timeout a A", "moved: cast arm b", "moved: cast arm a",
            "moved: cast cancel b", "moved: timeout a A",
        ])
    }

    @Test("Zero-time state and named timeouts from initialize run after its inserted events, before the mailbox")
    func zeroTimeoutsFromInitialize() throws {
        let node = makeNode()
        let (machine, log) = try start(node, actions: [.timeout("t", .zero, "T"), .nextEvent(.internal("first"))]) { _, _, _ in
            .keep
        }
        node.cast(machine, "mail")
        node.runUntilIdle()
        #expect(log.entries == ["idle: enter from idle", "idle: internal first", "idle: timeout t T", "idle: cast mail"])
    }

    @Test("Stop runs terminate in the current state, after a reply made from the handler")
    func stopAndReplies() throws {
        let node = makeNode()
        let (machine, log) = try start(node) { event, state, machine in
            switch (state, event) {
            case (_, .call("halt", let caller)):
                machine.reply(to: caller, "halting")
                return .stop(.custom("halted"))
            default: return .keep
            }
        }
        #expect(try node.call(machine, "halt") == "halting")
        node.runUntilIdle()
        #expect(log.entries.suffix(2) == ["idle: call halt", "idle: terminate halted"])
        #expect(!node.isAlive(machine.pid!))
    }

    @Test("Supervised and named like a GenServer: restarted after a crash, reachable by a registry key, sys")
    func supervised() throws {
        let node = supervisionNode()
        let machines = Registry<String, Void>(keys: .unique, name: "machines")
        let toggleLog = Log<String>()
        let sup = try node.start(Supervisor.self, SupervisorSpec(children: [
            .stateMachine("toggle", Toggle.self, toggleLog, via: machines.via("t"))]))
        let byKey = StateMachineRef<Toggle>.via(machines, "t")
        node.cast(byKey, ())
        #expect(try node.call(byKey, ()) == .on)
        #expect(try node.getState(byKey).state == .on)
        let first = try #require(machines.whereis("t"))
        node.crash(first)
        #expect(try node.call(byKey, ()) == .off)  // restarted in its first state
        #expect(try node.childPIDs(sup) == [machines.whereis("t")])
    }
}
