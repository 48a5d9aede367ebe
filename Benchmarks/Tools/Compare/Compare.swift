// The swift-otp and Swift-actor side of `make compare`: the same workloads as Benchmarks/erlang/otp_bench.erl,
// timed with a monotonic clock in one process. Prints one JSON object per system:
// {"swift-otp": {"workload": {"unit": ..., "value": ...}}, "swift-actors": {...}}.
import Foundation
import OTP
import Workloads

// MARK: Measuring

func nanoseconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start)
}

func nanoseconds(_ body: () async throws -> Void) async rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try await body()
    return Double(DispatchTime.now().uptimeNanoseconds - start)
}

/// Resident memory of this process (bytes).
func resident() -> Double {
    let fields = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8))?.split(separator: " ") ?? []
    return Double(fields.count > 1 ? Int(fields[1]) ?? 0 : 0) * Double(sysconf(Int32(_SC_PAGESIZE)))
}

struct Figure { let unit: String; let value: Double }
nonisolated(unsafe) var results: [String: [String: Figure]] = ["swift-otp": [:], "swift-actors": [:]]  // one task writes it, in order
func record(_ system: String, _ name: String, _ unit: String, _ value: Double) {
    results[system]![name] = Figure(unit: unit, value: value)
}

// MARK: swift-otp workloads



/// Nodes whose memory must not be reused by later workloads (measured by resident-size deltas).
nonisolated(unsafe) var keepAlive: [Node] = []

/// The workloads named after `--only` on the command line (all when absent): for profiling one of them.
let selected: Set<String>? = CommandLine.arguments.firstIndex(of: "--only").map {
    Set(CommandLine.arguments[($0 + 1)...].prefix(1).flatMap { $0.split(separator: ",").map(String.init) })
}
func wanted(_ name: String) -> Bool { selected?.contains(name) ?? true }

func otpWorkloads(scale: Int) throws {
    let system = "swift-otp"
    if wanted("call_round_trip") {  // 1. call round trip from a process
        let node = Node.deterministic()
        let server = try node.start(CountServer())
        let n = 1_000_000 / scale
        try node.spawn(CallLoop(server: server, remaining: 1_000))
        node.runUntilIdle()
        let t = try nanoseconds { try node.spawn(CallLoop(server: server, remaining: n)); node.runUntilIdle() }
        record(system, "call_round_trip", "ns/call", t / Double(n))
        node.close()
    }
    // 1b. call round trips from a process with unrelated messages queued (the receive mark)
    for (name, queued) in [("call_queued_0", 0), ("call_queued_10k", 10_000), ("call_queued_100k", 100_000)]
        where wanted(name)
    {
        let node = Node.deterministic()
        let server = try node.start(CountServer())
        try prepareQueuedCalls(node, server, queued: 0, calls: 1_000)
        node.runUntilIdle()
        let n = 100_000 / scale
        try prepareQueuedCalls(node, server, queued: queued, calls: n)
        let t = nanoseconds { node.runUntilIdle() }
        record(system, name, "ns/call", t / Double(n))
        node.close()
    }
    if wanted("cast") {  // 2. casts then one call
        let node = Node.deterministic(defaultMailboxCapacity: 2_000_000)
        let server = try node.start(CountServer())
        let n = 1_000_000 / scale
        let t = try nanoseconds {
            for _ in 0..<n { node.cast(server, .add(1)) }
            _ = try node.call(server, .get)
        }
        record(system, "cast", "ns/cast", t / Double(n))
        node.close()
    }
    if wanted("ping_pong") {  // 3. ping-pong
        let node = Node.deterministic()
        let a = try node.spawn(Player()), b = try node.spawn(Player())
        try node.send(.peer(b), to: a)
        try node.send(.peer(a), to: b)
        node.runUntilIdle()
        let n = 1_000_000 / scale
        let t = try nanoseconds { try node.send(.ball(2 * n), to: a); node.runUntilIdle() }
        record(system, "ping_pong", "ns/round trip", t / Double(n))
        node.close()
    }
    if wanted("spawn") {  // 4. spawn waiting processes: time and memory (the node stays alive, so memory is not reused)
        let node = Node.deterministic()
        let n = 1_000_000 / scale
        let m0 = resident()
        let t = try nanoseconds { for _ in 0..<n { try node.spawn(Waiter()) }; node.runUntilIdle() }
        record(system, "spawn", "ns/process", t / Double(n))
        record(system, "spawn_memory", "bytes/process", (resident() - m0) / Double(n))
        keepAlive.append(node)
    }
    if wanted("genserver_start") {  // 5. start GenServers one after another from a process (Erlang's gen_server:start): time and memory
        let node = Node.deterministic()
        let n = 100_000 / scale
        let m0 = resident()
        let t = try nanoseconds {
            try node.spawn(of: Never.self) { process in try startServers(process, remaining: n) }
            node.runUntilIdle()
        }
        record(system, "genserver_start", "ns/server", t / Double(n))
        record(system, "genserver_memory", "bytes/server", (resident() - m0) / Double(n))
        keepAlive.append(node)
    }
    if wanted("ring") {  // 6. ring
        let node = Node.deterministic()
        let members = try (0..<10_000).map { _ in try node.spawn(RingMember()) }
        for (i, m) in members.enumerated() { try node.send(.next(members[(i + 1) % members.count]), to: m) }
        node.runUntilIdle()
        let hops = 1_000_000 / scale
        let t = try nanoseconds { try node.send(.token(hops), to: members[0]); node.runUntilIdle() }
        record(system, "ring", "ns/hop", t / Double(hops))
        node.close()
    }
    if wanted("fan_in") {  // 7. fan-in
        let node = Node.deterministic()
        let server = try node.start(CountServer())
        let clients = 1_000, calls = 1_000 / scale
        let t = try nanoseconds {
            for _ in 0..<clients { try node.spawn(CallLoop(server: server, remaining: calls)) }
            node.runUntilIdle()
        }
        record(system, "fan_in", "calls/s", Double(clients * calls) / (t / 1e9))
        node.close()
    }
    if wanted("timeouts") {  // 8. 100k callers with a 1 ms timeout, server never replies (real libuv loop and clock)
        let node = Node()
        let server = try node.start(CountServer())
        let outcomes = Outcomes()
        let n = 100_000 / scale
        let t = try nanoseconds {
            for _ in 0..<n { try node.spawn(TimeoutCaller(server: server, outcomes: outcomes)) }
            node.run(until: .idle)
        }
        precondition(outcomes.timedOut + outcomes.stray == n)
        record(system, "timeouts", "ms until all timed out", t / 1e6)
        record(system, "timeouts_stray", "stray messages", Double(outcomes.stray))
        node.close()
    }
    if wanted("timers") {  // 9. timers armed then cancelled, and fired
        let node = Node.deterministic(defaultMailboxCapacity: 2_000_000)
        let sink = try node.spawn(Waiter())
        let n = 1_000_000 / scale
        var refs: [TimerRef] = []
        refs.reserveCapacity(n)
        let t1 = try nanoseconds {
            for i in 0..<n { refs.append(try node.sendAfter(.seconds(60), i, to: sink)) }
            for r in refs { node.cancelTimer(r) }
        }
        record(system, "timers_arm_cancel", "ns/timer", t1 / Double(n))
        let t2 = try nanoseconds {
            for i in 0..<n { try node.sendAfter(.milliseconds(1), i, to: sink) }
            node.advance(by: 1)
        }
        record(system, "timers_fire", "ns/timer", t2 / Double(n))
        node.close()
    }
}

// MARK: Swift native actors

actor CounterActor {
    var count = 0
    func get() -> Int { count }
    func add(_ n: Int) { count &+= n }
}

actor Hop {
    var seen = 0
    func touch() { seen &+= 1 }
}

func actorWorkloads(scale: Int) async {
    let system = "swift-actors"
    do {  // call round trip: an actor method call from a Task
        let counter = CounterActor()
        let n = 1_000_000 / scale
        let t = await nanoseconds { for _ in 0..<n { _ = await counter.get() } }
        record(system, "call_round_trip", "ns/call", t / Double(n))
    }
    do {  // spawn: create actors, time and memory
        let n = 1_000_000 / scale
        let m0 = resident()
        var actors: [CounterActor] = []
        actors.reserveCapacity(n)
        let t = nanoseconds { for _ in 0..<n { actors.append(CounterActor()) } }
        record(system, "spawn", "ns/process", t / Double(n))
        record(system, "spawn_memory", "bytes/process", (resident() - m0) / Double(n))
        _ = actors.count
    }
    do {  // ring: one task visits 10,000 actors in turn
        let ring = (0..<10_000).map { _ in Hop() }
        let hops = 1_000_000 / scale
        let t = await nanoseconds { for i in 0..<hops { await ring[i % ring.count].touch() } }
        record(system, "ring", "ns/hop", t / Double(hops))
    }
    do {  // fan-in: 1,000 tasks each calling one actor
        let counter = CounterActor()
        let clients = 1_000, calls = 1_000 / scale
        let t = await nanoseconds {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<clients { group.addTask { for _ in 0..<calls { _ = await counter.get() } } }
            }
        }
        record(system, "fan_in", "calls/s", Double(clients * calls) / (t / 1e9))
    }
}

// MARK: Main

@main
struct Compare {
    static func main() async throws {
        let quick = CommandLine.arguments.contains("--quick")
        let scale = quick ? 10 : 1
        try otpWorkloads(scale: scale)
        if selected == nil { await actorWorkloads(scale: scale) }
        var systems: [String] = []
        for (system, figures) in results.sorted(by: { $0.key < $1.key }) {
            let items = figures.sorted { $0.key < $1.key }.map {
                "\"\($0.key)\": {\"unit\": \"\($0.value.unit)\", \"value\": \(String(format: "%.3f", $0.value.value))}"
            }
            systems.append("\"\(system)\": {\(items.joined(separator: ", "))}")
        }
        print("{\(systems.joined(separator: ", "))}")
    }
}
