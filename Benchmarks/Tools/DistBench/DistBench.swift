import Foundation
import OTP
import OTPTLS

// The swift-otp side of `make compare`'s distribution workloads (Benchmarks/erlang/dist_bench.erl is the
// Erlang side; both speak to either):
//   DistBench serve NAME COOKIE                      `bench_echo`, `bench_sink`, `dist_bench:spawned/0` and
//                                                    pg's `bench_group` on node NAME until killed
//   DistBench client NAME COOKIE PEER CALLS MESSAGES  calls, rpc calls (`dist_bench:ping/0`), sends, 10 MB
//                                                    calls among small ones, remote spawns and pg broadcasts,
//                                                    to PEER; prints JSON
// The node busy-waits 50 µs before sleeping (`NodeConfiguration.busyWait`, as Erlang's schedulers do by
// default); DIST_BENCH_BUSY_WAIT_US=0 turns that off. DIST_BENCH_FRAGMENTS=0 makes the node announce no
// fragments (`DistributionOptions.fragments`): every message then travels whole. DIST_BENCH_TLS=DIR runs the
// distribution over TLS (OTPTLS) with DIR/node.pem, DIR/node.key and DIR/ca.pem, as Erlang's inet_tls_dist.

/// Answers `ping` with `pong`, counts every other message, answers `count` with the count since the last one.
struct BenchEcho: GenServer {
    typealias Call = Term
    typealias Reply = Term
    typealias Cast = Term
    typealias Info = Term

    var count = 0

    mutating func handleCall(_ request: Term, from caller: Caller<Term>, _ server: ServerContext<Self>) throws
        -> ServerResult<Self>
    {
        if request == .atom("count") {
            defer { count = 0 }
            return .reply(.integer(count))
        }
        return .reply(.atom("pong"))
    }

    mutating func handleCast(_ message: Term, _ server: ServerContext<Self>) throws -> ServerResult<Self> {
        count += 1
        return .noReply
    }

    mutating func handleInfo(_ message: InfoMessage<Term>, _ server: ServerContext<Self>) throws -> ServerResult<Self> {
        count += 1
        return .noReply
    }
}

/// How many processes `bench_group` has on a server node.
let groupMembers = 100

func fail(_ text: String) -> Never {
    FileHandle.standardError.write(Data("DistBench: \(text)\n".utf8))
    exit(1)
}

/// Joins the cluster on the calling thread's loop (blocking until EPMD registered the name).
func startNode(_ name: String, cookie: String) -> Node {
    let busyWait = ProcessInfo.processInfo.environment["DIST_BENCH_BUSY_WAIT_US"].flatMap { Int($0) } ?? 50
    let node = Node(configuration: NodeConfiguration(busyWait: .microseconds(busyWait)))
    var started: Result<Void, DistributionError>?
    var options = DistributionOptions(name: name, cookie: .value(cookie))
    options.fragments = ProcessInfo.processInfo.environment["DIST_BENCH_FRAGMENTS"] != "0"
    if let directory = ProcessInfo.processInfo.environment["DIST_BENCH_TLS"] {
        do {
            options.security = try TLSDistribution(TLSConfiguration(
                certificateFile: directory + "/node.pem", privateKeyFile: directory + "/node.key",
                trustedCAFile: directory + "/ca.pem"))
        } catch {
            fail("\(error)")
        }
    }
    do {
        try node.startDistribution(options) { started = $0 }
    } catch {
        fail("\(error)")
    }
    while started == nil { _ = node.runOnce(blocking: true) }
    if case .failure(let error) = started { fail("\(error)") }
    return node
}

func serve(name: String, cookie: String) {
    let node = startNode(name, cookie: cookie)
    do {
        _ = try node.start(BenchEcho.self, BenchEcho(), options: StartOptions(name: "bench_echo"))
        _ = try node.start(BenchEcho.self, BenchEcho(), options: StartOptions(name: "bench_sink"))
        // What remote spawns run (`dist_bench:spawned/0`): a process that ends at once.
        try node.exportSpawn("dist_bench", "spawned", SpawnFactory(arity: 0) { _, node in
            try node.spawn(of: Term.self) { _ in .exit(.normal) }.pid
        })
        // pg's default scope with the members of `bench_group`: each answers {bcast, From, Round} with {ack, Round}.
        let groups = try node.startProcessGroups(scope: "pg")
        for _ in 0..<groupMembers {
            let member = try node.spawn(of: Term.self) { _ in
                .receive { envelope, process in
                    if case .message(.tuple(let e)) = envelope, e.count == 3, case .pid(let from) = e[1] {
                        try process.send(Term.tuple([.atom("ack"), e[2]]), to: process.currentNode.pid(for: from))
                    }
                    return .same
                }
            }
            try groups.join("bench_group", member.pid)
        }
        try node.export("dist_bench", "ping", .typed { Term.atom("pong") })
    } catch {
        fail("\(error)")
    }
    node.run()
}

/// Sequential calls: each waits for its reply, then the next goes out.
func calls(_ remaining: Int, _ server: PID, _ process: ProcessContext<Term>,
           then: @escaping (ProcessContext<Term>) throws -> Step<Term>) throws -> Step<Term> {
    guard remaining > 0 else { return try then(process) }
    return try process.call(remote: server, Term.atom("ping"), as: Term.self, timeout: .seconds(10)) { result, process in
        guard case .success(.atom("pong")) = result else { fail("call: \(result)") }
        return try calls(remaining - 1, server, process, then: then)
    }
}

/// Sequential rpc calls to `dist_bench:ping/0` on `peer`.
func rpcs(_ remaining: Int, _ peer: String, _ process: ProcessContext<Term>,
          then: @escaping (ProcessContext<Term>) throws -> Step<Term>) throws -> Step<Term> {
    guard remaining > 0 else { return try then(process) }
    return try process.rpc(peer, "dist_bench", "ping", [], as: Term.self, timeout: .seconds(10)) { result, process in
        guard case .success(.atom("pong")) = result else { fail("rpc: \(result)") }
        return try rpcs(remaining - 1, peer, process, then: then)
    }
}

/// Sends in batches of 1,000 per turn, so the output is flushed as it goes (as a BEAM process is
/// descheduled by its reduction budget); a send refused because the connection is busy is retried.
func sends(_ remaining: Int, _ server: PID, _ process: ProcessContext<Term>,
           then: @escaping (ProcessContext<Term>) throws -> Step<Term>) throws -> Step<Term> {
    guard remaining > 0 else { return try then(process) }
    let batch = min(remaining, 1_000)
    var sent = 0
    do throws(ProcessError) {
        while sent < batch {
            try process.send(Term.tuple([.atom("message"), .integer(remaining - sent)]), to: server)
            sent += 1
        }
    } catch {
        guard case .busy = error else { throw error }
        // The connection is past its busy limit (the peer has not read yet): try again in a millisecond, as
        // Erlang would suspend the sender until its distribution port is no longer busy.
        return .receive(timeout: .milliseconds(1), after: { process in
            try sends(remaining - sent, server, process, then: then)
        }) { _, _ in .same }
    }
    try process.send(Term.atom("more"), to: process.pid)
    return .receive { _, process in try sends(remaining - batch, server, process, then: then) }
}

/// Round trips of one kind of call, in nanoseconds.
final class Samples {
    var ns: [Double] = []
    /// Set when the big calls are over: the small caller beside them stops.
    var done = false

    var median: Double { ns.sorted()[ns.count / 2] }
    var p99: Double { ns.sorted()[Int(Double(ns.count - 1) * 0.99)] }
}

let clock = ContinuousClock()

func nanoseconds(_ duration: Duration) -> Double {
    Double(duration.components.attoseconds) / 1e9 + Double(duration.components.seconds) * 1e9
}

/// Calls `request` while `more()` holds, one at a time, timing each into `samples`; a call refused because
/// the connection is busy (a big message without fragments fills it) is retried a millisecond later and
/// timed from its first try, as Erlang suspends a sender until its distribution port is no longer busy.
func timedCalls(_ server: PID, _ request: Term, into samples: Samples, _ process: ProcessContext<Term>,
                since firstTry: ContinuousClock.Instant? = nil, while more: @escaping () -> Bool,
                then: @escaping (ProcessContext<Term>) throws -> Step<Term>) throws -> Step<Term> {
    guard firstTry != nil || more() else { return try then(process) }
    let start = firstTry ?? clock.now
    return try process.call(remote: server, request, as: Term.self, timeout: .seconds(60)) { result, process in
        switch result {
        case .success(.atom("pong")): samples.ns.append(nanoseconds(clock.now - start))
        case .failure(.busy):
            return .receive(timeout: .milliseconds(1), after: { process in
                try timedCalls(server, request, into: samples, process, since: start, while: more, then: then)
            }) { _, _ in .same }
        default: fail("call: \(result)")
        }
        return try timedCalls(server, request, into: samples, process, while: more, then: then)
    }
}

/// Small calls to `server` alone, then `rounds` calls carrying 10 MB to `sink` while another process keeps
/// making small calls to `server` on the same connection: the big calls' median and the small calls' p99
/// alone and beside them.
func bigCalls(_ server: PID, _ sink: PID, rounds: Int, _ process: ProcessContext<Term>,
              then: @escaping (_ bigMs: Double, _ smallP99Us: Double, _ idleP99Us: Double) throws -> Step<Term>) throws -> Step<Term> {
    let idle = Samples(), during = Samples(), big = Samples()
    let payload = Term.tuple([.atom("big"), .binary([UInt8](repeating: 1, count: 10 << 20))])
    return try timedCalls(server, .atom("ping"), into: idle, process, while: { idle.ns.count < 2_000 }) { process in
        let main = process.address
        _ = try process.currentNode.spawn(of: Term.self) { small in
            try timedCalls(server, .atom("ping"), into: during, small, while: { !big.done }) { small in
                try small.send(Term.atom("small_done"), to: main)  // after its last call came back
                return .exit(.normal)
            }
        }
        return try timedCalls(sink, payload, into: big, process, while: { big.ns.count < rounds }) { _ in
            big.done = true
            return .receive { _, _ in try then(big.median / 1e6, during.p99 / 1e3, idle.p99 / 1e3) }
        }
    }
}

/// Sequential remote spawns of `dist_bench:spawned/0` on `peer`, each monitored until it ends.
func spawns(_ remaining: Int, on peer: String, _ process: ProcessContext<Term>,
            then: @escaping (ProcessContext<Term>) throws -> Step<Term>) throws -> Step<Term> {
    guard remaining > 0 else { return try then(process) }
    return try process.spawn(on: peer, "dist_bench", "spawned", [], options: .monitor) { outcome, process in
        guard case .success(let spawned) = outcome, let monitor = spawned.monitor else { fail("spawn: \(outcome)") }
        return .receive(matching: { if case .down(let down) = $0 { return down.monitor == monitor } else { return false } }) { envelope, process in
            guard case .down(let down) = envelope, down.reason == .normal else { fail("spawned process: \(envelope)") }
            return try spawns(remaining - 1, on: peer, process, then: then)
        }
    }
}

/// Waits until pg's scope knows all of `bench_group`'s members on the server (10 s at most).
func members(of groups: ProcessGroups, _ process: ProcessContext<Term>, tries: Int = 200,
             then: @escaping ([PID], ProcessContext<Term>) throws -> Step<Term>) throws -> Step<Term> {
    let found = groups.members("bench_group")
    if found.count == groupMembers { return try then(found, process) }
    guard tries > 0 else { fail("pg found \(found.count) of \(groupMembers) members") }
    return .receive(timeout: .milliseconds(50), after: { process in
        try members(of: groups, process, tries: tries - 1, then: then)
    }) { _, _ in .same }
}

/// Rounds of one message to every member, each round ending when every member has answered.
func broadcasts(_ remaining: Int, to members: [PID], _ process: ProcessContext<Term>,
                then: @escaping (ProcessContext<Term>) throws -> Step<Term>) throws -> Step<Term> {
    guard remaining > 0 else { return try then(process) }
    let me = Term.pid(process.currentNode.externalPID(for: process.pid)!)
    for member in members { try process.send(Term.tuple([.atom("bcast"), me, .integer(remaining)]), to: member) }
    return acks(members.count, round: remaining) { process in
        try broadcasts(remaining - 1, to: members, process, then: then)
    }
}

func acks(_ missing: Int, round: Int, then: @escaping (ProcessContext<Term>) throws -> Step<Term>) -> Step<Term> {
    .receive { envelope, process in
        guard case .message(.tuple(let e)) = envelope, e.count == 2, e[1] == .integer(round) else { return .same }
        return missing == 1 ? try then(process) : acks(missing - 1, round: round, then: then)
    }
}

func client(name: String, cookie: String, peer: String, callCount: Int, messages: Int) {
    let node = startNode(name, cookie: cookie)
    let server = node.remote("bench_echo", on: peer)
    guard let groups = try? node.startProcessGroups(scope: "pg") else { fail("pg scope") }
    var output = ""
    _ = try? node.spawn(of: Term.self) { process in
        try calls(1_000, server, process) { process in  // warm up (and wait for the connection)
            let callStart = clock.now
            return try calls(callCount, server, process) { process in
                let callTime = clock.now - callStart
                return try rpcs(100, peer, process) { process in  // warm up
                let rpcStart = clock.now
                return try rpcs(callCount, peer, process) { process in
                let rpcTime = clock.now - rpcStart
                return try process.call(remote: server, Term.atom("count"), as: Term.self) { _, process in
                    let sendStart = clock.now
                    return try sends(messages, server, process) { process in
                        try process.call(remote: server, Term.atom("count"), as: Term.self, timeout: .seconds(60)) { result, _ in
                            guard case .success(.integer(let received)) = result, received == messages else {
                                fail("count: \(result)")
                            }
                            let sendS = nanoseconds(clock.now - sendStart) / 1e9
                            return try bigCalls(server, node.remote("bench_sink", on: peer), rounds: callCount >= 10_000 ? 10 : 3, process) { bigMs, smallP99, idleP99 in
                                let spawnCount = max(callCount / 10, 10), broadcastCount = max(callCount / 100, 10)
                                return try spawns(10, on: peer, process) { process in  // warm up
                                let spawnStart = clock.now
                                return try spawns(spawnCount, on: peer, process) { process in
                                let spawnNs = nanoseconds(clock.now - spawnStart) / Double(spawnCount)
                                return try members(of: groups, process) { members, process in
                                let broadcastStart = clock.now
                                return try broadcasts(broadcastCount, to: members, process) { _ in
                                let broadcastNs = nanoseconds(clock.now - broadcastStart) / Double(broadcastCount)
                                output = String(format: "{\"call_ns\": %.3f, \"rpc_ns\": %.3f, \"messages_per_s\": %.3f, "
                                                + "\"big_ms\": %.3f, \"small_p99_us\": %.3f, \"idle_p99_us\": %.3f, "
                                                + "\"spawn_ns\": %.3f, \"pg_broadcast_ns\": %.3f}",
                                                nanoseconds(callTime) / Double(callCount), nanoseconds(rpcTime) / Double(callCount),
                                                Double(messages) / sendS, bigMs, smallP99, idleP99, spawnNs, broadcastNs)
                                node.stopLoop()
                                return .exit(.normal)
                                }
                                }
                                }
                                }
                            }
                        }
                    }
                }
                }
                }
            }
        }
    }
    node.run()
    print(output)
}

let arguments = CommandLine.arguments
switch arguments.dropFirst().first {
case "serve" where arguments.count == 4: serve(name: arguments[2], cookie: arguments[3])
case "client" where arguments.count == 7:
    client(name: arguments[2], cookie: arguments[3], peer: arguments[4], callCount: Int(arguments[5]) ?? 10_000,
           messages: Int(arguments[6]) ?? 100_000)
default: fail("usage: DistBench serve NAME COOKIE | client NAME COOKIE PEER CALLS MESSAGES")
}
