// otp-demo: a tour of what swift-otp does so far, on a real libuv loop. Run with `make demo`.
//   otp-demo --view [--view-socket PATH] [--view-seconds N] [--view-sessions N]: then keep a small shop
//   running (with N idle sessions under a dynamic supervisor) and serve its live view for `otp-top`
//   (`make view`).
//   otp-demo --node NAME [--cookie COOKIE] [--node-seconds N]: then join an Erlang cluster as NAME with a
//   `counter` GenServer that Erlang and Elixir nodes call (docs/distribution.md).
#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Logging
import OTP
import OTPExamples

/// A tiny counter written as a `ProcessBehavior` struct: state in the value, one message at a time.
struct Counter: ProcessBehavior {
    enum Message: Sendable {
        case add(Int)
        case report(to: Address<String>)
    }
    var total = 0

    mutating func receive(_ envelope: consuming Envelope<Message>, _ process: ProcessContext<Message>) throws -> Next {
        switch envelope {
        case .message(.add(let n)):
            total += n
        case .message(.report(let to)):
            try process.send("counter total: \(total)", to: to)
        case .down, .exit, .reply:
            break
        }
        return .receive
    }
}

func section(_ title: String) { print("\n== \(title)") }

/// A bank account that can be told to crash: its balance is lost unless something restarts it, and then
/// it starts from its initial balance again ("state lost unless supervised").
struct Account: GenServer, Sendable {
    enum Call: Sendable { case balance }
    enum Cast: Sendable { case deposit(Int), crash }
    typealias Reply = Int
    var balance: Int

    mutating func handleCall(_ request: Call, from caller: Caller<Int>, _ server: ServerContext<Account>) throws
        -> ServerResult<Account> { .reply(balance) }

    mutating func handleCast(_ message: Cast, _ server: ServerContext<Account>) throws -> ServerResult<Account> {
        switch message {
        case .deposit(let amount): balance += amount
        case .crash: throw DemoFailure.corruptLedger
        }
        return .noReply
    }
}

enum DemoFailure: Error { case corruptLedger }

let node = Node()

// A printer process: prints every string it receives.
let printer = try node.spawn(of: String.self, options: SpawnOptions(name: "printer")) { _ in
    .receive { envelope, _ in
        if let line = envelope.message { print("  printer got: \(line)") }
        return .same
    }
}

section("spawn, send, receive, names")
let counter = try node.spawn(Counter(), options: SpawnOptions(name: "tally"))
for n in [1, 2, 3, 4] { try node.send(.add(n), to: counter) }
try node.send(Counter.Message.report(to: printer), to: "tally")
node.run(until: .idle)
print("  registered names: \(node.registered())")

section("selective receive keeps other messages in order")
let picky = try node.spawn(of: String.self) { _ in
    .receive(matching: { $0.message == "urgent" }) { envelope, _ in
        print("  picky took first: \(envelope.message!)")
        return .receive { envelope, _ in
            print("  then, in order: \(envelope.message!)")
            return .same
        }
    }
}
for word in ["low", "normal", "urgent", "later"] { try node.send(word, to: picky) }
node.run(until: .idle)

section("receive timeout and timers on the libuv loop")
let start = node.now
try node.spawn(of: String.self) { _ in
    .receive(timeout: .milliseconds(20), after: { process in
        print("  no message within 20 ms: timeout after \(process.currentNode.now - start) ms")
        try process.sendAfter(.milliseconds(10), "timer message")
        return .receive { envelope, process in
            print("  sendAfter delivered '\(envelope.message!)' at +\(process.currentNode.now - start) ms")
            return .exit(.normal)
        }
    }) { _, _ in .same }
}
node.run(until: .idle)

section("links, trap exits and monitors")
let supervisorLike = try node.spawn(of: Never.self, options: SpawnOptions(trapExits: true)) { process in
    let worker = try process.spawnLink(Counter())
    let ref = process.monitor(worker.pid)
    print("  trapping process \(process.pid) linked to and monitoring worker \(worker.pid) (\(ref))")
    process.exit(worker.pid, reason: .custom("worker failure"))
    return .receive { envelope, _ in
        switch envelope {
        case .exit(let signal): print("  got \(signal)")
        case .down(let down): print("  got \(down)")
        case .message, .reply: break
        }
        return .same
    }
}
node.run(until: .idle)
print("  trapping process still alive: \(node.isAlive(supervisorLike.pid))")

section("exit signals: kill cannot be trapped")
node.exit(supervisorLike.pid, reason: .kill)
node.run(until: .idle)
print("  after exit(kill): alive = \(node.isAlive(supervisorLike.pid))")

section("bounded mailboxes refuse, never drop silently")
let slow = try node.spawn(of: Int.self, options: SpawnOptions(mailboxCapacity: 2)) { _ in
    .receive(matching: { _ in false }) { _, _ in .same }
}
for i in 1...3 {
    do throws(ProcessError) {
        try node.send(i, to: slow)
        print("  message \(i) delivered")
    } catch {
        print("  message \(i) refused: \(error)")
    }
}
do throws(ProcessError) {
    try node.send(1, to: "nobody-home")
} catch {
    print("  send by name: \(error)")
}

section("introspection")
node.run(until: .idle)
if let info = node.processInfo(slow.pid) {
    print("  \(info.pid): status \(info.status), mailbox \(info.mailboxLength)/\(info.mailboxCapacity), "
        + "memory \(info.memory) bytes")
}
print("  processes: \(node.processes().map(\.description).joined(separator: " "))")
let stats = node.statistics
print("  node: \(stats.live) live, \(stats.spawned) spawned, \(stats.delivered) delivered, "
    + "\(stats.refusedMailboxFull) refused, \(stats.pendingTimers) pending timers")

section("GenServer: every example of the seed documents")
for example in Examples.all {
    print("  -- \(example.name)")
    try example.run(node) { print("     \($0)") }
}

section("supervision: let it crash, the supervisor restarts (reports through swift-log)")
let supervised = Node(configuration: NodeConfiguration(
    logger: Logger(label: "otp-demo") { label in StreamLogHandler.standardOutput(label: label) }))
let bank = try supervised.start(Supervisor.self, SupervisorSpec(
    strategy: .oneForOne, intensity: RestartIntensity(maxRestarts: 2, period: .seconds(5)),
    children: [.server("account", Account(balance: 100), name: "account"),
               .server("audit", Account(balance: 0), name: "audit")]))
let account = ServerRef<Account>.named("account")
supervised.cast(account, .deposit(50))
print("  balance: \(try supervised.call(account, .balance)), account is \(supervised.whereis("account")!)")
supervised.cast(account, .crash)
supervised.run(until: .idle)
print("  after the crash: balance \(try supervised.call(account, .balance)) (restarted from its spec), "
    + "account is \(supervised.whereis("account")!)")
print("  children: \(try supervised.whichChildren(bank).map(\.description).joined(separator: ", "))")
for _ in 0..<2 {
    supervised.cast(account, .crash)
    supervised.run(until: .idle)
}
print("  three crashes within 5 s: supervisor alive = \(supervised.isAlive(bank.pid!)), "
    + "processes left: \(supervised.processes().count)")
_ = supervised.close()

section("closing the node")
let status = node.close()
print("  uv_loop_close returned \(status)")

section("a node on a dedicated thread, fed from other threads")
let threaded = Node()
let sum = try threaded.spawn(Counter())
let done = DispatchSemaphore(value: 0)
let reporter = try threaded.spawn(of: String.self) { _ in
    .receive { envelope, _ in
        print("  \(envelope.message!) (1 + 2 + ... + 100, posted from the main thread)")
        done.signal()
        return .exit(.normal)
    }
}
threaded.startLoop()
for n in 1...100 { threaded.post(.add(n), to: sum) }
threaded.post(.report(to: reporter), to: sum)
done.wait()
threaded.stopLoop()
threaded.join()
print("  dedicated thread stopped; node closed")

func option(_ name: String) -> String? {
    CommandLine.arguments.firstIndex(of: name).flatMap { $0 + 1 < CommandLine.arguments.count ? CommandLine.arguments[$0 + 1] : nil }
}

/// A configuration error (a bad node name, a cookie file others can read, no EPMD, a view directory that is
/// not private) ends the demo with one line on standard error and status 1, never a backtrace.
func orExit(_ body: () throws -> Void) {
    do {
        try body()
    } catch {
        fflush(nil)
        var line = Array("otp-demo: \(LogText(String(describing: error), limit: 1000))\n".utf8)
        _ = line.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
        exit(1)
    }
}

if let name = option("--node") {
    section("distribution: a node in an Erlang cluster")
    orExit { try ClusterNode.run(name: name, cookie: option("--cookie"), seconds: option("--node-seconds").flatMap { Int64($0) }) }
}

if CommandLine.arguments.contains("--view") {
    section("live view: a shop that keeps running (watch it with otp-top)")
    orExit {
        try LiveView.run(socket: option("--view-socket"), seconds: option("--view-seconds").flatMap { Int64($0) },
                         sessions: option("--view-sessions").flatMap { Int($0) }.map { min(max($0, 0), 1_000_000) } ?? 0)
    }
}
