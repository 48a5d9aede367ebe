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

/// A node as users run it: the real libuv loop and clock, driven by `run(until: .idle)` on this thread.
func loopNode(mailboxCapacity: Int = 100_000) -> Node {
    Node(configuration: NodeConfiguration(defaultMailboxCapacity: mailboxCapacity))
}

/// Every workload runs on the real libuv loop. Where a workload has a `_struct` twin, the plain name is the
/// form the guides teach (closure processes, `process.call`) and the twin is a `ProcessBehavior` struct.
func otpWorkloads(scale: Int) throws {
    let system = "swift-otp"
    for (name, guide) in [("call_round_trip", true), ("call_round_trip_struct", false)] where wanted(name) {
        // 1. call round trip from a process (5 s timeout), one after another
        let node = loopNode()
        let server = try node.start(CountServer())
        try spawnCallers(node, server, calls: 1_000, closures: guide)
        node.run(until: .idle)
        let n = 500_000 / scale
        let t = try nanoseconds { try spawnCallers(node, server, calls: n, closures: guide); node.run(until: .idle) }
        record(system, name, "ns/call", t / Double(n))
        node.close()
    }
    if wanted("call_round_trip_typed") {
        // 1a. the same with a request that names its own reply type (`process.ask(server, { .count($0) })`)
        let node = loopNode()
        let server = try node.start(TypedCountServer())
        try spawnTypedCaller(node, server, calls: 1_000)
        node.run(until: .idle)
        let n = 500_000 / scale
        let t = try nanoseconds { try spawnTypedCaller(node, server, calls: n); node.run(until: .idle) }
        record(system, "call_round_trip_typed", "ns/call", t / Double(n))
        node.close()
    }
    // 1b. call round trips from a process with unrelated messages queued (the receive mark)
    for (name, queued) in [("call_queued_0", 0), ("call_queued_10k", 10_000), ("call_queued_100k", 100_000)]
        where wanted(name)
    {
        let node = loopNode()
        let server = try node.start(CountServer())
        try spawnCaller(node, server, calls: 1_000)
        node.run(until: .idle)
        let n = 100_000 / scale
        try spawnCaller(node, server, calls: n, queued: queued)
        let t = nanoseconds { node.run(until: .idle) }
        record(system, name, "ns/call", t / Double(n))
        node.close()
    }
    if wanted("selective_receive") {  // 1c. a selective receive passing over 10,000 queued messages
        let node = loopNode()
        let queued = 10_000, rounds = 1_000 / scale
        try spawnSelectiveReceiver(node, queued: queued, rounds: 10)  // warm-up
        node.run(until: .idle)
        let t = try nanoseconds { try spawnSelectiveReceiver(node, queued: queued, rounds: rounds); node.run(until: .idle) }
        record(system, "selective_receive", "ns/skipped message", t / Double(queued * rounds))
        node.close()
    }
    if wanted("cast") {  // 2. a process casts, then makes one call to sync
        let n = 1_000_000 / scale
        let node = loopNode(mailboxCapacity: n + 1_000)
        let server = try node.start(CountServer())
        let t = try nanoseconds { try spawnCaster(node, server, count: n); node.run(until: .idle) }
        record(system, "cast", "ns/cast", t / Double(n))
        node.close()
    }
    for (name, guide) in [("ping_pong", true), ("ping_pong_struct", false)] where wanted(name) {  // 3. ping-pong
        let node = loopNode()
        let n = 1_000_000 / scale
        let serve = try spawnRally(node, closures: guide)
        node.run(until: .idle)
        let t = try nanoseconds { try serve(n); node.run(until: .idle) }
        record(system, name, "ns/round trip", t / Double(n))
        node.close()
    }
    for (name, guide) in [("spawn", true), ("spawn_struct", false)] where wanted(name) {
        // 4. spawn processes that wait in receive: time and memory (the node stays alive, so memory is not reused)
        let node = loopNode()
        let n = 1_000_000 / scale
        let m0 = resident()
        let t = try nanoseconds {
            if guide {
                for _ in 0..<n { try node.spawn(of: Int.self) { _ in .receive { _, _ in .same } } }
            } else {
                for _ in 0..<n { try node.spawn(Waiter()) }
            }
            node.run(until: .idle)
        }
        record(system, name, "ns/process", t / Double(n))
        record(system, guide ? "spawn_memory" : "spawn_struct_memory", "bytes/process", (resident() - m0) / Double(n))
        keepAlive.append(node)
    }
    if wanted("genserver_start") {  // 5. start GenServers one after another from a process (Erlang's gen_server:start): time and memory
        let node = loopNode()
        let n = 100_000 / scale
        let m0 = resident()
        let t = try nanoseconds {
            try node.spawn(of: Never.self) { process in try startServers(process, remaining: n) }
            node.run(until: .idle)
        }
        record(system, "genserver_start", "ns/server", t / Double(n))
        record(system, "genserver_memory", "bytes/server", (resident() - m0) / Double(n))
        keepAlive.append(node)
    }
    if wanted("ring") {  // 6. ring (struct members)
        let node = loopNode()
        let members = try (0..<10_000).map { _ in try node.spawn(RingMember()) }
        for (i, m) in members.enumerated() { try node.send(.next(members[(i + 1) % members.count]), to: m) }
        node.run(until: .idle)
        let hops = 1_000_000 / scale
        let t = try nanoseconds { try node.send(.token(hops), to: members[0]); node.run(until: .idle) }
        record(system, "ring", "ns/hop", t / Double(hops))
        node.close()
    }
    for (name, guide) in [("fan_in", true), ("fan_in_struct", false)] where wanted(name) {  // 7. fan-in
        let node = loopNode()
        let server = try node.start(CountServer())
        let clients = 1_000, calls = 1_000 / scale
        let t = try nanoseconds {
            try spawnCallers(node, server, count: clients, calls: calls, closures: guide)
            node.run(until: .idle)
        }
        record(system, name, "calls/s", Double(clients * calls) / (t / 1e9))
        node.close()
    }
    if wanted("timeouts") {  // 8. 100k callers with a 1 ms timeout, server never replies
        let node = loopNode()
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
        let n = 1_000_000 / scale
        let node = loopNode(mailboxCapacity: n + 1_000)
        let sink = try node.spawn(Waiter())
        var refs: [TimerRef] = []
        refs.reserveCapacity(n)
        let t1 = try nanoseconds {
            for i in 0..<n { refs.append(try node.sendAfter(.seconds(60), i, to: sink)) }
            for r in refs { node.cancelTimer(r) }
        }
        record(system, "timers_arm_cancel", "ns/timer", t1 / Double(n))
        let t2 = try nanoseconds {
            for i in 0..<n { try node.sendAfter(.milliseconds(1), i, to: sink) }
            node.run(until: .idle)
        }
        record(system, "timers_fire", "ns/timer", t2 / Double(n))
        node.close()
    }
}

// MARK: Every core: a NodeGroup's loops on their threads

/// The multi-core workloads (GroupForms.swift): across two loops, and the same work on one loop and on
/// every core's loop (`NodeGroup.defaultLoopCount`), for the scaling rows.
func groupWorkloads(scale: Int) throws {
    let system = "swift-otp"
    let cores = OTP.NodeGroup.defaultLoopCount
    func NodeGroup(loops: Int) -> OTP.NodeGroup {
        OTP.NodeGroup(loops: loops, configuration: NodeConfiguration(busyWait: .microseconds(50)))
    }
    if wanted("cross_ping_pong") {  // a ping-pong between processes of two loops
        let group = NodeGroup(loops: 2), finish = Finish(parts: 1), n = 200_000 / scale
        try spawnGroupRally(on: group.loop(0), group.loop(1), roundTrips: n, finish: finish)
        record(system, "cross_ping_pong", "ns/round trip", runGroup(group, until: finish) / Double(n))
    }
    if wanted("cross_call") {  // process.call from a process of loop 0 to a server of loop 1, in a row
        let group = NodeGroup(loops: 2), finish = Finish(parts: 1), n = 200_000 / scale
        let server = try group.loop(1).start(CountServer())
        try spawnGroupCaller(on: group.loop(0), server, calls: n, finish: finish)
        record(system, "cross_call", "ns/call", runGroup(group, until: finish) / Double(n))
    }
    if wanted("cross_send") {  // a stream of messages from loop 0 to loop 1, both loops busy
        let group = NodeGroup(loops: 2), finish = Finish(parts: 1), n = 2_000_000 / scale
        try spawnGroupStream(from: group.loop(0), to: group.loop(1), count: n, finish: finish)
        record(system, "cross_send", "ns/message", runGroup(group, until: finish) / Double(n))
    }
    // Each scaling workload, on one loop and on every core's loop: figures of one workload in one form.
    func scalePairs(_ loops: Int) throws -> Double {  // 16 independent ping-pong pairs, each within one loop
        let group = NodeGroup(loops: loops), pairs = 16, n = 300_000 / scale
        let finish = Finish(parts: pairs)
        // Each loop's pairs are spawned by a process of that loop, as a service's processes are: made by
        // this thread for both loops, side by side in one malloc arena, they shared cache lines across
        // the loops (docs/architecture.md, "Where a loop's processes are made").
        for index in 0..<loops {
            try onLoop(group.loop(index)) { loop in
                for _ in 0..<pairs / loops { try spawnGroupRally(on: loop, loop, roundTrips: n, finish: finish) }
            }
        }
        return Double(pairs * n) / (runGroup(group, until: finish) / 1e9)
    }
    func scaleServers(_ loops: Int) throws -> Double {  // 16 servers, each with its own caller on its loop
        let group = NodeGroup(loops: loops), servers = 16, n = 150_000 / scale
        let finish = Finish(parts: servers)
        for index in 0..<loops {  // each loop's servers and callers made on that loop, as the pairs
            try onLoop(group.loop(index)) { loop in
                for _ in stride(from: index, to: servers, by: loops) {
                    try spawnGroupCaller(on: loop, loop.spawnServer(CountServer()), calls: n, finish: finish)
                }
            }
        }
        return Double(servers * n) / (runGroup(group, until: finish) / 1e9)
    }
    // 64 keys, a server per key on the key's loop (`loop(forKey:)`: integer keys take the loops in turn).
    // Partitioned: each key's caller on the key's loop too, all work for a key on one loop, as
    // docs/multicore.md builds a service; each loop makes its own keys' processes. Routed: the callers in
    // blocks of keys / loops over the loops, so with N loops (N-1)/N of the calls cross loops, as a
    // router's do when requests arrive anywhere; the servers are started first, a loop's in one block.
    func scaleKeys(_ loops: Int, routed: Bool) throws -> Double {
        let group = NodeGroup(loops: loops), keys = 64, n = 60_000 / scale
        let finish = Finish(parts: keys)
        var servers: [ServerRef<CountServer>?] = Array(repeating: nil, count: keys)
        if routed {
            for index in 0..<loops {
                for key in 0..<keys where group.loop(forKey: key) === group.loop(index) {
                    servers[key] = try group.loop(index).start(CountServer())
                }
            }
        }
        let started = servers
        for index in 0..<loops {
            try onLoop(group.loop(index)) { loop in
                for key in 0..<keys {
                    if routed, key * loops / keys == index {
                        try spawnGroupCaller(on: loop, started[key]!, calls: n, finish: finish)
                    } else if !routed, group.loop(forKey: key) === loop {
                        try spawnGroupCaller(on: loop, loop.spawnServer(CountServer()), calls: n, finish: finish)
                    }
                }
            }
        }
        return Double(keys * n) / (runGroup(group, until: finish) / 1e9)
    }
    // A scaling row is a ratio of two figures, so they are measured side by side: `scalingRuns` pairs of
    // one run on one loop and one on every core's loop (in turns: 1, N, then N, 1, ...). Each form's figure
    // is the median of its runs, and the ratio (`_scaling`) the median of the pairs' own ratios. This VM's
    // speed moves by tens of percent between runs a second apart (one loop read 7.7M to 11.4M calls/s in
    // turns on either vCPU), so two forms measured seconds apart — as they were, one after the other —
    // compared two phases: one `make compare` run read 1.71x for 16 servers where side-by-side rounds of
    // the same build read 1.85x to 2.2x.
    let scalingRuns = 5
    for (stem, unit, measure) in [("scale_pairs", "round trips/s", { try scalePairs($0) }),
                                  ("scale_servers", "calls/s", { try scaleServers($0) }),
                                  ("scale_partitioned", "calls/s", { try scaleKeys($0, routed: false) }),
                                  ("scale_routed", "calls/s", { try scaleKeys($0, routed: true) })]
        as [(String, String, (Int) throws -> Double)]
    {
        let one = wanted(stem + "_1loop"), many = wanted(stem + "_nloops")
        guard one || many else { continue }
        var ones: [Double] = [], manys: [Double] = [], ratios: [Double] = []
        for run in 0..<scalingRuns {
            var first = 0.0, every = 0.0
            for onEvery in run % 2 == 0 ? [false, true] : [true, false] {
                if !onEvery, one { first = try measure(1); ones.append(first) }
                if onEvery, many { every = try measure(cores); manys.append(every) }
            }
            if one && many { ratios.append(every / first) }
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        if one { record(system, stem + "_1loop", unit, median(ones)) }
        if many { record(system, stem + "_nloops", unit, median(manys)) }
        if one && many { record(system, stem + "_scaling", "x (\(cores) loops / 1)", median(ratios)) }
    }
    if wanted("machine_scaling") {
        // The machine's own ceiling for the scaling rows: `cores` threads of independent integer arithmetic
        // (no memory shared, no allocation) against one, in side-by-side pairs as above. On this VM it is
        // not 2x: two vCPUs can share one physical core's resources on the host.
        var ratios: [Double] = []
        for _ in 0..<scalingRuns {
            let iterations = UInt64(150_000_000 / scale)
            let one = arithmeticSeconds(threads: 1, iterations: iterations)
            let every = arithmeticSeconds(threads: cores, iterations: iterations)
            ratios.append(Double(cores) * one / every)
        }
        record(system, "machine_scaling", "x (\(cores) threads / 1)", ratios.sorted()[ratios.count / 2])
    }
    for (suffix, loops) in [("_1loop", 1), ("_nloops", cores)] where wanted("skynet" + suffix) {
        // SkyNet: 1M processes in a 10-ary tree, each replying with its sum
        let group = NodeGroup(loops: loops), finish = Finish(parts: 1)
        try spawnSkynet(group, size: 1_000_000 / scale, finish: finish)
        record(system, "skynet" + suffix, "ms", runGroup(group, until: finish) / 1e6)
    }
    if wanted("fan_in_group") {  // 1,000 callers spread over every loop, one server on loop 0
        let group = NodeGroup(loops: cores), clients = 1_000, n = 1_000 / scale
        let finish = Finish(parts: clients)
        let server = try group.loop(0).start(CountServer())
        for index in 0..<cores {  // each loop's callers made on that loop
            try onLoop(group.loop(index)) { loop in
                for _ in stride(from: index, to: clients, by: cores) {
                    try spawnGroupCaller(on: loop, server, calls: n, finish: finish)
                }
            }
        }
        let t = runGroup(group, until: finish)
        record(system, "fan_in_group", "calls/s", Double(clients * n) / (t / 1e9))
    }
}

/// Seconds `threads` threads take, started together, to run `iterations` rounds of integer arithmetic each
/// (six chains feeding each other, so each thread keeps a core's ALUs busy; nothing shared but the start).
func arithmeticSeconds(threads: Int, iterations: UInt64) -> Double {
    final class Run: @unchecked Sendable {
        let done = DispatchGroup()
        /// Each thread's result, a cache line apart (raw memory: no array shared between the threads).
        let sink: UnsafeMutablePointer<UInt64>
        init(threads: Int) { sink = .allocate(capacity: threads * 8) }
        deinit { sink.deallocate() }
    }
    let run = Run(threads: threads), seed = UInt64(CommandLine.arguments.count)
    let start = DispatchTime.now().uptimeNanoseconds
    for index in 0..<threads {
        run.done.enter()
        Thread.detachNewThread {
            var a = seed, b = seed &+ 1, c = seed &+ 2, d = seed &+ 3, e = seed &+ 4, f = seed &+ 5
            for i in 0..<iterations {
                a &+= b ^ i; b &+= c ^ i; c &+= d ^ i; d &+= e ^ i; e &+= f ^ i; f &+= a ^ i
            }
            run.sink[index * 8] = a &+ b &+ c &+ d &+ e &+ f  // one line per thread: nothing shared
            run.done.leave()
        }
    }
    run.done.wait()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
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
        try groupWorkloads(scale: scale)
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
