// The same workloads written the way docs/processes.md and docs/genserver.md teach them: closure processes,
// state in captures, `.same` in the steady state, `process.call` with a continuation. `make compare` and
// `make bench` run each of them beside its struct form (Behaviours.swift), so the two cannot drift apart.
import OTP

/// Calls `server` `remaining` times in a row with `process.call`, as the guides write it, then exits.
/// Whatever else is queued in the caller's mailbox stays there: each call's wait skips it (receive mark).
public func callInARow(_ process: ProcessContext<Int>, _ server: ServerRef<CountServer>, remaining: Int) throws
    -> Step<Int>
{
    guard remaining > 0 else { return .exit(.normal) }
    return try process.call(server, .get) { result, process in
        _ = try result.get()
        return try callInARow(process, server, remaining: remaining - 1)
    }
}

/// `callInARow` with a request that names its own reply type (`process.ask(server, { .count($0) })`): the
/// reply arrives as an `Int`, with no reply enum to unpack.
public func callTypedInARow(_ process: ProcessContext<Int>, _ server: ServerRef<TypedCountServer>, remaining: Int) throws
    -> Step<Int>
{
    guard remaining > 0 else { return .exit(.normal) }
    return try process.ask(server, { .count($0) }) { result, process in
        _ = try result.get()
        return try callTypedInARow(process, server, remaining: remaining - 1)
    }
}

/// Spawns a closure process that calls `server` `calls` times in a row (`callInARow`), with `queued`
/// unrelated messages put in its mailbox before its first turn. The calls run the next time the node runs.
@discardableResult
public func spawnCaller(_ node: Node, _ server: ServerRef<CountServer>, calls: Int, queued: Int = 0) throws
    -> Address<Int>
{
    let caller = try node.spawn(of: Int.self, options: SpawnOptions(mailboxCapacity: queued + 1)) { process in
        try callInARow(process, server, remaining: calls)
    }
    for i in 0..<queued { try node.send(i, to: caller) }
    return caller
}

/// Spawns `count` processes that each call `server` `calls` times in a row — closure processes with
/// `process.call` as the guides write them (`spawnCaller`), or `CallLoop` structs. They run the next time
/// the node runs.
public func spawnCallers(_ node: Node, _ server: ServerRef<CountServer>, count: Int = 1, calls: Int, closures: Bool)
    throws
{
    for _ in 0..<count {
        if closures { try spawnCaller(node, server, calls: calls) } else { try node.spawn(CallLoop(server: server, remaining: calls)) }
    }
}

/// Spawns a closure process that calls `server` `calls` times in a row with typed requests (`callTypedInARow`).
public func spawnTypedCaller(_ node: Node, _ server: ServerRef<TypedCountServer>, calls: Int) throws {
    try node.spawn(of: Int.self) { process in try callTypedInARow(process, server, remaining: calls) }
}

/// The messages of the closure-style ping-pong.
public enum Rally: Sendable {
    case peer(Address<Rally>)
    case ball(Int)
}

/// Spawns one side of a ping-pong as the guides write it: the first message names the peer, and the receive
/// that follows (capturing it) returns the ball until the count reaches zero, returning `.same` each time.
public func spawnClosurePlayer(_ node: Node) throws -> Address<Rally> {
    try node.spawn(of: Rally.self) { _ in
        .receive { envelope, _ in
            guard case .message(.peer(let peer)) = envelope else { return .same }
            return .receive { envelope, process in
                if case .message(.ball(let n)) = envelope, n > 0 { try process.send(.ball(n - 1), to: peer) }
                return .same
            }
        }
    }
}

/// Spawns the two players of a ping-pong and introduces them — closure processes as the guides write them
/// (`spawnClosurePlayer`) or `Player` structs with `timeout` on each wait for the ball — and returns what
/// serves the ball for a number of round trips. The node must then run.
public func spawnRally(_ node: Node, closures: Bool, timeout: Timeout = .infinity) throws
    -> (_ roundTrips: Int) throws -> Void
{
    if closures {
        let a = try spawnClosurePlayer(node), b = try spawnClosurePlayer(node)
        try node.send(.peer(b), to: a)
        try node.send(.peer(a), to: b)
        return { try node.send(.ball(2 * $0), to: a) }
    }
    let a = try node.spawn(Player(timeout: timeout)), b = try node.spawn(Player(timeout: timeout))
    try node.send(.peer(b), to: a)
    try node.send(.peer(a), to: b)
    return { try node.send(.ball(2 * $0), to: a) }
}

/// Starts `remaining` servers one after another, each after the previous one's init finished.
public func startServers(_ process: ProcessContext<Never>, remaining: Int) throws -> Step<Never> {
    guard remaining > 0 else { return .exit(.normal) }
    return try process.startServer(CountServer.self, CountServer()) { result, process in
        _ = try result.get()
        return try startServers(process, remaining: remaining - 1)
    }
}

/// A caster as the guides write it: a process that casts `count` times to `server` in one turn, then makes
/// one call to wait until the server has handled them all.
@discardableResult
public func spawnCaster(_ node: Node, _ server: ServerRef<CountServer>, count: Int) throws -> Address<Never> {
    try node.spawn(of: Never.self) { process in
        for _ in 0..<count { process.cast(server, .add(1)) }
        return try process.call(server, .get) { result, _ in
            _ = try result.get()
            return .exit(.normal)
        }
    }
}

/// The messages of the selective-receive workload.
public enum Probe: Sendable {
    case unrelated(Int)
    case match(Int)
}

/// Spawns a closure process that queues `queued` unrelated messages to itself, then `rounds` times sends
/// itself a `match` and takes it with a selective receive, which passes over every unrelated message first:
/// `rounds × queued` messages skipped in all.
@discardableResult
public func spawnSelectiveReceiver(_ node: Node, queued: Int, rounds: Int) throws -> Address<Probe> {
    func round(_ process: ProcessContext<Probe>, _ remaining: Int) throws -> Step<Probe> {
        guard remaining > 0 else { return .exit(.normal) }
        try process.send(.match(remaining), to: process.address)
        return .receive(matching: { envelope in
            if case .message(.match) = envelope { return true }
            return false
        }) { _, process in try round(process, remaining - 1) }
    }
    return try node.spawn(of: Probe.self, options: SpawnOptions(mailboxCapacity: queued + 1)) { process in
        for i in 0..<queued { try process.send(.unrelated(i), to: process.address) }
        return try round(process, rounds)
    }
}
