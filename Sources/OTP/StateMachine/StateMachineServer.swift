/// The GenServer a `StateMachine` runs as: it keeps the machine's state, its queue of events not yet
/// handled (inserted and retried postponed events, before the mailbox), its postponed events and its
/// timers, and turns each message into the machine's events with `gen_statem`'s rules. Being a GenServer,
/// a machine is started, called, cast to, supervised, registered and inspected (`sys`) as one:
/// `ServerRef<StateMachineServer<M>>` is a machine's reference.
///
/// Order, as Erlang's: after a transition, its state enter call (if the state changed or was repeated)
/// runs first, then the events it inserted, then (if the state changed) the postponed events, then the
/// events queued before; the mailbox is read only when that queue is empty. Timeouts carry a generation:
/// one cancelled or replaced after its message was sent is recognised and dropped.
///
/// Thread: loop thread. Cost: an event is one call of `handleEvent` plus the transition's actions; a timer
/// is a `sendAfter`.
public struct StateMachineServer<M: StateMachine>: GenServer {
    public typealias Argument = M.Argument
    public typealias Call = M.Call
    public typealias Reply = M.Reply
    public typealias Cast = M.Cast
    public typealias Info = MachineInfo<M>
    public typealias Continue = MachineBegin

    /// The machine's data.
    public internal(set) var data: M
    /// The machine's state.
    public internal(set) var state: M.State

    /// An event not yet handled, or a zero-time timeout queued behind them.
    enum Queued {
        case event(StateMachineEvent<M>)
        case timer(MachineTimer, generation: UInt64, M.TimeoutEvent)
    }

    var queue: [Queued] = []
    var head = 0
    var postponed: [StateMachineEvent<M>] = []
    var timers: [MachineTimer: (ref: TimerRef?, generation: UInt64)] = [:]
    var generation: UInt64 = 0
    /// The event timeout the last transition asked for, started when no event follows it.
    var eventTimeout: (Timeout, M.TimeoutEvent)?
    var hibernate = false

    init(data: M, state: M.State) {
        self.data = data
        self.state = state
    }

    // MARK: GenServer

    public static func initialize(_ argument: M.Argument, _ server: ServerContext<Self>) throws
        -> Initialization<Self>
    {
        switch try M.initialize(argument, MachineContext(server)) {
        case .stop(let reason): return .stop(reason)
        case .ignore: return .ignore
        case .ok(let data, let state, let actions):
            var machine = StateMachineServer(data: data, state: state)
            if let reason = try machine.apply(Transition(.keep, actions), to: nil, entering: false, server) {
                return .stop(reason)
            }
            return .ok(machine, .continue(.begin))
        }
    }

    public mutating func handleContinue(_ value: MachineBegin, _ server: ServerContext<Self>) throws
        -> ServerResult<Self>
    {
        if M.enterCalls, let reason = try enter(from: state, server) { return .stop(reason) }
        return try drain(server)
    }

    public mutating func handleCall(_ request: M.Call, from caller: Caller<M.Reply>, _ server: ServerContext<Self>)
        throws -> ServerResult<Self>
    {
        try handle(.call(request, caller), server)
    }

    public mutating func handleCast(_ message: M.Cast, _ server: ServerContext<Self>) throws -> ServerResult<Self> {
        try handle(.cast(message), server)
    }

    public mutating func handleInfo(_ message: InfoMessage<Info>, _ server: ServerContext<Self>) throws
        -> ServerResult<Self>
    {
        switch message {
        case .message(.message(let info)): return try handle(.info(.message(info)), server)
        case .message(._timer(let timer, let generation, let content)):
            guard let event = fired(timer, generation: generation, content) else { return .noReply }
            return try handle(event, server)
        case .down(let down): return try handle(.info(.down(down)), server)
        case .exit(let signal): return try handle(.info(.exit(signal)), server)
        case .reply(let ref): return try handle(.info(.reply(ref)), server)
        case .timeout: return .noReply  // no idle timeout is ever set
        }
    }

    public mutating func terminate(_ reason: ExitReason, _ server: ServerContext<Self>) throws {
        try data.terminate(reason, in: state, MachineContext(server))
    }

    public func formatStatus() -> String { data.formatStatus(in: state) }

    // MARK: Events

    /// Handles `event`, then every queued event; then the mailbox is read again.
    mutating func handle(_ event: StateMachineEvent<M>, _ server: ServerContext<Self>) throws -> ServerResult<Self> {
        if let reason = try dispatch(event, server) { return .stop(reason) }
        return try drain(server)
    }

    /// Handles the queued events in order, then starts the event timeout the last transition set (a zero
    /// one fires at once if the mailbox is empty, and is dropped otherwise: an event is waiting).
    mutating func drain(_ server: ServerContext<Self>) throws -> ServerResult<Self> {
        while true {
            while head < queue.count {
                let next = queue[head]
                head += 1
                let event: StateMachineEvent<M>
                switch next {
                case .event(let queued): event = queued
                case .timer(let timer, let generation, let content):
                    guard let timeout = fired(timer, generation: generation, content) else { continue }
                    event = timeout
                }
                if let reason = try dispatch(event, server) { return .stop(reason) }
            }
            queue.removeAll(keepingCapacity: true)
            head = 0
            guard let (time, content) = eventTimeout else { break }
            eventTimeout = nil
            if time.milliseconds == 0 {
                if server.node.core(server.pid)?.mailboxCount ?? 0 > 0 { break }
                if let reason = try dispatch(.eventTimeout(content), server) { return .stop(reason) }
                continue
            }
            arm(.event, time, content, server)
            break
        }
        let hibernating = hibernate
        hibernate = false
        return .noReply(hibernating ? .hibernate : .none)
    }

    /// One event: any event cancels the event timeout; then the machine's handler and its transition.
    mutating func dispatch(_ event: StateMachineEvent<M>, _ server: ServerContext<Self>) throws -> ExitReason? {
        eventTimeout = nil
        cancel(.event, server)
        let transition = try data.handleEvent(event, in: state, MachineContext(server))
        return try apply(transition, to: event, entering: false, server)
    }

    /// The state enter call after a change of state (or `repeatState`).
    mutating func enter(from old: M.State, _ server: ServerContext<Self>) throws -> ExitReason? {
        let transition = try data.handleEvent(.enter(from: old), in: state, MachineContext(server))
        return try apply(transition, to: nil, entering: true, server)
    }

    /// Carries out `transition` of `event` (`nil` for `initialize` and state enter calls); returns the
    /// reason when it stops the machine.
    mutating func apply(_ transition: Transition<M>, to event: StateMachineEvent<M>?, entering: Bool,
                        _ server: ServerContext<Self>) throws -> ExitReason? {
        let old = state
        var next = state, repeated = false
        switch transition.kind {
        case .stop(let reason): return reason
        case .next(let state): next = state
        case .keep: break
        case .repeat: repeated = true
        }
        if entering && next != old { throw StateMachineError.stateChangedOnEnter(state: "\(old)", to: "\(next)") }
        let changed = next != old
        if changed { cancel(.state, server) }
        var inserted: [Queued] = []
        for action in transition.actions {
            switch action {
            case .postpone:
                if entering { throw StateMachineError.notOnEnter(state: "\(old)", action: "postpone") }
                guard let event else { throw StateMachineError.postponeInInitialize }
                postponed.append(event)
            case .nextEvent(let inserting):
                if entering { throw StateMachineError.notOnEnter(state: "\(old)", action: "nextEvent") }
                inserted.append(.event(inserting))
            case .reply(let caller, let value):
                server.reply(to: caller, value)
            case .eventTimeout(let time, let content):
                eventTimeout = time.isInfinite ? nil : (time, content)
            case .stateTimeout(let time, let content):
                set(.state, time, content, server)
            case .cancelStateTimeout:
                cancel(.state, server)
            case .timeout(let name, let time, let content):
                set(.named(name), time, content, server)
            case .cancelTimeout(let name):
                cancel(.named(name), server)
            case .hibernate:
                hibernate = true
            }
        }
        state = next
        var front = inserted
        if changed && !postponed.isEmpty {
            front += postponed.map { .event($0) }
            postponed.removeAll()
        }
        if !front.isEmpty { queue.insert(contentsOf: front, at: head) }
        if M.enterCalls && (changed || repeated) { return try enter(from: old, server) }
        return nil
    }

    // MARK: Timers

    /// Sets the timer `timer` (replacing a running one): `.infinity` only cancels; zero queues its event
    /// behind the queued events.
    mutating func set(_ timer: MachineTimer, _ time: Timeout, _ content: M.TimeoutEvent, _ server: ServerContext<Self>) {
        cancel(timer, server)
        guard !time.isInfinite else { return }
        if time.milliseconds == 0 {
            generation &+= 1
            timers[timer] = (nil, generation)
            queue.append(.timer(timer, generation: generation, content))
            return
        }
        arm(timer, time, content, server)
    }

    /// Starts `timer` for `time` (finite, positive).
    mutating func arm(_ timer: MachineTimer, _ time: Timeout, _ content: M.TimeoutEvent, _ server: ServerContext<Self>) {
        generation &+= 1
        let ref = try? server.sendAfter(time, ._timer(timer, generation, content))
        timers[timer] = (ref, generation)
    }

    /// Cancels `timer` if it runs: a message it sent already is dropped when it arrives.
    mutating func cancel(_ timer: MachineTimer, _ server: ServerContext<Self>) {
        guard let running = timers.removeValue(forKey: timer) else { return }
        if let ref = running.ref { _ = server.node.cancelTimer(ref) }
    }

    /// The event of a timer that fired, or `nil` when it was cancelled or replaced since.
    mutating func fired(_ timer: MachineTimer, generation: UInt64, _ content: M.TimeoutEvent) -> StateMachineEvent<M>? {
        guard timers[timer]?.generation == generation else { return nil }
        timers[timer] = nil
        switch timer {
        case .event: return .eventTimeout(content)
        case .state: return .stateTimeout(content)
        case .named(let name): return .timeout(name: name, content)
        }
    }
}

/// The `Info` of a `StateMachineServer`: the machine's own messages, and its timers' (the runtime's own).
public enum MachineInfo<M: StateMachine> {
    /// A plain message for the machine (it arrives as `.info(.message(_))`): send it with
    /// `node.send(.message(x), to: machine)`.
    case message(M.Info)
    /// A timer of the machine fired (handled by the runtime; never sent by users).
    case _timer(MachineTimer, UInt64, M.TimeoutEvent)
}

extension MachineInfo: Sendable where M.Info: Sendable, M.TimeoutEvent: Sendable {}

/// Which timer of a machine: the event timeout, the state timeout, or a generic one by name.
public enum MachineTimer: Hashable, Sendable {
    case event
    case state
    case named(String)
}

/// The first step of a machine after `initialize`: its first state enter call and inserted events.
public enum MachineBegin: Sendable { case begin }

/// A state enter call that broke `gen_statem`'s rules; the machine exits with it.
public enum StateMachineError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The enter call of `state` returned a transition to another state (Erlang's `bad_state_enter_return`).
    case stateChangedOnEnter(state: String, to: String)
    /// The enter call of `state` used an action only events may use (Erlang's `bad_state_enter_action`).
    case notOnEnter(state: String, action: String)
    /// `initialize` asked to postpone: there is no event to postpone yet.
    case postponeInInitialize

    public var description: String {
        switch self {
        case .stateChangedOnEnter(let state, let to):
            return "the state enter call of \(LogText(state)) changed the state to \(LogText(to)): not allowed"
        case .notOnEnter(let state, let action):
            return "the state enter call of \(LogText(state)) used \(action): not allowed in a state enter call"
        case .postponeInInitialize: return "initialize used postpone: there is no event to postpone"
        }
    }
}
