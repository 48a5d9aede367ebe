import PropertyBased
@testable import OTP

/// The vocabulary of the model-based tests: generated steps, what the test processes exchange, and what
/// each of them is seen to receive. Both the runtime driver (`RuntimeDriver`) and the reference model
/// (`ReferenceModel`) read the same steps and produce the same `Observation` when the runtime is right.

/// One generated operation (a step of a scenario). Its fields are small integers, so shrinking moves a failing sequence toward fewer
/// and simpler steps; `a`, `b` and `c` pick the actors, tags, reasons and delays of the step's kind.
struct Op: Sendable, Equatable, CustomStringConvertible {
    enum Kind: Int, CaseIterable, Sendable {
        case spawn, startServer, send, sendNamed, select, relay, exitWith, exitSignal, link, unlink,
             monitor, demonitor, trapExits, register, unregister, sendAfter, cancelTimer, call, cast,
             release, stopServer, advance
    }

    var kind: Kind
    var a: Int
    var b: Int
    var c: Int

    var description: String { "\(kind)(\(a),\(b),\(c))" }

    /// Steps with their arguments; `spawn` and `advance` are twice as likely as the others, so that
    /// scenarios have actors and time passes.
    static let generator = zip(
        Gen.int(in: 0...(Kind.allCases.count + 1)), Gen.int(in: 0...7), Gen.int(in: 0...7), Gen.int(in: 0...3)
    ).map { kind, a, b, c in
        Op(kind: Kind(rawValue: kind) ?? (kind == Kind.allCases.count ? .spawn : .advance), a: a, b: b, c: c)
    }

    /// A scenario: up to `steps` steps.
    static func scenario(steps: ClosedRange<Int> = 1...40) -> Generator<[Op], some SendableSequenceType> {
        generator.array(of: steps)
    }

    // The choices each argument stands for, shared by the driver and the model.
    static let names = ["alpha", "beta", "gamma"]
    static let delays: [UInt64] = [5, 50, 500, 2_000]
    static let callTimeouts: [UInt64] = [100, 1_000, 5_000, 5_000]
    static let advances: [UInt64] = [1, 10, 100, 1_000, 2_500, 6_000, 6_000, 6_000]

    /// A process's own exit reason (`exitWith`, `stopServer`).
    static func ownReason(_ code: Int) -> ExitReason {
        switch code % 4 {
        case 0: return .normal
        case 1: return .shutdown
        case 2: return .custom("boom")
        default: return .error(Boom())
        }
    }

    /// The reason of an exit signal sent from outside (`exitSignal`).
    static func signalReason(_ code: Int) -> ExitReason {
        switch code % 4 {
        case 0: return .normal
        case 1: return .shutdown
        case 2: return .custom("boom")
        default: return .kill
        }
    }
}

/// The error a test process throws to exit with `.error(_:)`.
struct Boom: Error, Equatable, CustomStringConvertible {
    var description: String { "boom" }
}

/// Where a logged entry came from: Erlang orders messages per sender only, so observations are compared
/// per (receiver, sender) pair.
enum Source: Hashable, Sendable {
    case outside           // the test itself (node-level API)
    case process(Int)      // the actor in this slot
    case timer(Int)        // the n-th sendAfter timer
    case call(Int)         // the n-th call's caller
}

/// What an actor received (puppets) or handled (servers), in a form both sides can produce.
enum Entry: Hashable, Sendable, CustomStringConvertible {
    case data(tag: Int, n: Int, from: Source)
    case select(tag: Int)
    case relay(to: Int, tag: Int)
    case relayRefused(to: Int)
    case exitWith(Int)
    case down(monitor: Int, of: Int, reason: String)
    case exit(from: Int?, reason: String)
    case call(Int, request: String)
    case cast(String)
    case terminate(String)

    var source: Source {
        switch self {
        case .data(_, _, let from): return from
        case .down(_, let of, _): return .process(of)
        case .exit(let from, _): return from.map(Source.process) ?? .outside
        case .call(let index, _): return .call(index)
        case .select, .relay, .relayRefused, .exitWith, .cast, .terminate: return .outside
        }
    }

    var description: String {
        switch self {
        case .data(let tag, let n, let from): return "data(\(tag),\(n)) from \(from)"
        case .select(let tag): return "select(\(tag))"
        case .relay(let to, let tag): return "relay(to: \(to), tag: \(tag))"
        case .relayRefused(let to): return "relay refused by \(to)"
        case .exitWith(let code): return "exitWith(\(Op.ownReason(code)))"
        case .down(let monitor, let of, let reason): return "DOWN(m\(monitor), \(of), \(reason))"
        case .exit(let from, let reason): return "EXIT(\(from.map(String.init) ?? "outside"), \(reason))"
        case .call(let index, let request): return "call#\(index) \(request)"
        case .cast(let text): return "cast \(text)"
        case .terminate(let reason): return "terminate(\(reason))"
        }
    }
}

/// What a puppet process is sent.
enum PuppetMessage: Sendable {
    case data(tag: Int, n: Int, from: Source)
    /// Enter a selective receive that takes only `data` with this tag.
    case select(tag: Int)
    /// Send `data(tag, n)` to `to`, from this process.
    case relay(to: PID, toSlot: Int, tag: Int, n: Int)
    case exitWith(Int)
}

/// Everything a scenario makes observable. Two runs agree when these are equal.
struct Observation: Equatable, CustomStringConvertible {
    /// Per actor slot, per source, what it received or handled, in order.
    var logs: [Int: [Source: [Entry]]] = [:]
    /// Exit reasons of the actors that exited, by slot.
    var exits: [Int: String] = [:]
    /// Each call's outcomes, by call index (exactly one each once the scenario has ended).
    var calls: [Int: [String]] = [:]
    /// The result of each step that returns one, in step order.
    var results: [String] = []
    /// Registered names and their slots.
    var registry: [String: Int] = [:]
    /// Slots of the actors alive at the end.
    var alive: Set<Int> = []
    /// User messages sent to a pid that was no longer alive.
    var dropped: UInt64 = 0

    mutating func record(_ entry: Entry, by slot: Int) {
        logs[slot, default: [:]][entry.source, default: []].append(entry)
    }

    var description: String {
        var lines: [String] = []
        for slot in logs.keys.sorted() {
            for (source, entries) in logs[slot]!.sorted(by: { "\($0.key)" < "\($1.key)" }) {
                lines.append("  \(slot) <- \(source): \(entries.map(\.description).joined(separator: ", "))")
            }
        }
        return """
            logs:
            \(lines.joined(separator: "\n"))
            exits: \(exits.sorted { $0.key < $1.key })
            calls: \(calls.sorted { $0.key < $1.key })
            results: \(results)
            registry: \(registry.sorted { $0.key < $1.key })
            alive: \(alive.sorted()), dropped: \(dropped)
            """
    }
}

/// Op results in words both sides can write.
func describe(_ error: ProcessError, slot: (PID) -> Int) -> String {
    switch error {
    case .unknownName(let name): return "unknownName(\(name))"
    case .noProcess(let pid): return "noProcess(\(slot(pid)))"
    case .nameTaken(let name, let pid): return "nameTaken(\(name), \(slot(pid)))"
    case .alreadyRegistered(let pid, let name): return "alreadyRegistered(\(slot(pid)), \(name))"
    case .wrongMessageType(let pid, _, _): return "wrongMessageType(\(slot(pid)))"
    default: return "\(error)"
    }
}
