// `make soak`: long runs that a unit test cannot afford, each with a pass/fail condition, printed as a
// Markdown table for docs/reliability.md. Release build. Environment:
//   OTP_SOAK_CYCLES      spawn/exit cycles (default 10,000,000)
//   OTP_SOAK_SERVERS     live GenServers at once (default 1,000,000)
//   OTP_SOAK_TIMERS      pending timers (default 1,000,000)
//   OTP_SOAK_SECONDS     facade traffic duration (default 180)
//   OTP_SOAK_THREADS     facade threads (default 8)
import Foundation
import OTP
import Workloads

func setting(_ name: String, _ fallback: Int) -> Int {
    ProcessInfo.processInfo.environment[name].flatMap(Int.init) ?? fallback
}

/// Resident memory of this process (bytes).
func resident() -> Int {
    let fields = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8))?.split(separator: " ") ?? []
    return (fields.count > 1 ? Int(fields[1]) ?? 0 : 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// A line on standard error, at once (standard output is buffered when piped).
func progress(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }

func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

nonisolated(unsafe) var rows: [(String, String, Bool)] = []  // written by the main task only, in order
func report(_ what: String, _ figure: String, passed: Bool) {
    rows.append((what, figure, passed))
    progress("\(passed ? "ok  " : "FAIL") \(what): \(figure)")
}

// MARK: 1. Spawn/exit cycles: resident memory flat after warm-up

func spawnExitCycles(_ total: Int) throws {
    let node = Node.deterministic()
    let batch = 10_000
    let samples = 10
    var marks: [Int] = []
    let time = try seconds {
        for sample in 0..<samples {
            for _ in 0..<(total / samples / batch) {
                for _ in 0..<batch { try node.spawn(Ephemeral()) }
                node.runUntilIdle()
            }
            marks.append(resident())
            progress("  \(((sample + 1) * total / samples).formatted()) cycles: RSS \(mib(marks.last!))")
        }
    }
    // Warm-up: the first fifth (allocator pools and the process table reach their working size).
    let warm = marks[1], peak = marks[1...].max()!, last = marks.last!
    let growth = Double(peak - warm) / Double(warm) * 100
    let stats = node.statistics
    report("\(total.formatted()) spawn/exit cycles",
           String(format: "%.1f s (%.0f ns/cycle); RSS after warm-up (2/10): %@, peak after %@, end %@ (%+.2f%%); live %d",
                  time, time * 1e9 / Double(total), mib(warm), mib(peak), mib(last), growth, stats.live),
           passed: growth < 5 && stats.live == 0 && stats.exited == UInt64(total))
    node.close()
}

// MARK: 2. Many live GenServers

func liveServers(_ count: Int) throws {
    let node = Node.deterministic()
    let before = resident()
    var sampled: [ServerRef<CountServer>] = []
    sampled.reserveCapacity(1_000)
    /// Starts `remaining` servers one after another from a process, keeping every thousandth reference.
    func start(_ process: ProcessContext<Never>, remaining: Int) throws -> Step<Never> {
        guard remaining > 0 else { return .exit(.normal) }
        return try process.startServer(CountServer.self, CountServer()) { result, process in
            let started = try result.get()
            if remaining % (count / 1_000) == 0 { sampled.append(started.server) }
            return try start(process, remaining: remaining - 1)
        }
    }
    let time = try seconds {
        try node.spawn(of: Never.self) { process in try start(process, remaining: count) }
        node.runUntilIdle()
    }
    let bytes = resident() - before
    let live = node.statistics.live
    // A sample of them, spread over the whole range, answer a call.
    var answered = 0
    for server in sampled where (try? node.call(server, .get, timeout: .seconds(1))) != nil { answered += 1 }
    report("\(count.formatted()) live GenServers",
           String(format: "started in %.2f s; %@ resident (%d B/server); %d of %d sampled answer",
                  time, mib(bytes), bytes / count, answered, sampled.count),
           passed: live == count && answered == sampled.count && sampled.count >= 1_000)
    node.close()
}

// MARK: 3. Pending timers

func pendingTimers(_ count: Int) throws {
    let node = Node.deterministic()
    let sink = try node.spawn(Sink())
    var refs: [TimerRef] = []
    refs.reserveCapacity(count)
    let before = resident()
    let arm = try seconds {
        for i in 0..<count { refs.append(try node.sendAfter(.milliseconds(Int64(1 + i % 600_000)), i, to: sink)) }
    }
    let bytes = resident() - before
    let pending = node.statistics.pendingTimers
    var cancelled = 0
    let cancel = seconds {
        for ref in refs.prefix(count / 2) where node.cancelTimer(ref) != nil { cancelled += 1 }
    }
    let fire = seconds { node.advance(by: 600_001) }
    let stats = node.statistics
    report("\(count.formatted()) pending timers",
           String(format: "armed in %.2f s, %@ resident (%d B/timer); half cancelled in %.2f s; the rest fired in %.2f s; delivered %d",
                  arm, mib(bytes), bytes / count, cancel, fire, stats.delivered),
           passed: pending == count && cancelled == count / 2 && stats.delivered == UInt64(count - count / 2)
               && stats.pendingTimers == 0)
    node.close()
}

// MARK: 4. Facade traffic from many threads

/// A counter of answered calls, shared by the threads.
final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private var values = (calls: 0, casts: 0, failures: 0)
    func add(calls: Int = 0, casts: Int = 0, failures: Int = 0) {
        lock.withLock { values.calls += calls; values.casts += casts; values.failures += failures }
    }
    var snapshot: (calls: Int, casts: Int, failures: Int) { lock.withLock { values } }
}

func facadeTraffic(seconds duration: Int, threads: Int) async throws {
    let node = Node()
    node.startLoop()
    var servers: [ServerRef<CountServer>] = []
    for _ in 0..<4 { servers.append(try await node.start(CountServer())) }
    let tally = Tally()
    let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(duration) * 1_000_000_000
    let start = resident()
    var marks: [Int] = []
    let done = DispatchGroup()
    let chosen = servers
    for t in 0..<threads {
        done.enter()
        let thread = Thread {
            // Each thread runs its own calls one after another, waiting on a semaphore: a plain OS thread
            // driving the async facade.
            let server = chosen[t % chosen.count]
            while DispatchTime.now().uptimeNanoseconds < deadline {
                let finished = DispatchSemaphore(value: 0)
                Task {
                    do {
                        _ = try await node.call(server, .get)
                        _ = try await node.cast(server, .add(1))
                        tally.add(calls: 1, casts: 1)
                    } catch {
                        tally.add(failures: 1)
                    }
                    finished.signal()
                }
                finished.wait()
            }
            done.leave()
        }
        thread.start()
    }
    while DispatchTime.now().uptimeNanoseconds < deadline {
        try await Task.sleep(for: .seconds(max(1, duration / 10)))
        marks.append(resident())
    }
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async { done.wait(); continuation.resume() }
    }
    var total = 0
    for server in servers { total += try await node.call(server, .get) }
    let counts = tally.snapshot
    try await node.shutdown()
    node.stopLoop()
    node.join()
    let peak = marks.max() ?? start
    let growth = marks.count > 1 ? Double((marks.last ?? 0) - marks[1]) / Double(marks[1]) * 100 : 0
    report("facade traffic, \(threads) threads, \(duration) s",
           String(format: "%d calls + %d casts (%.0f calls/s), %d failures; casts counted by the servers: %d; RSS %@ → peak %@ (%+.2f%% after warm-up)",
                  counts.calls, counts.casts, Double(counts.calls) / Double(duration), counts.failures, total,
                  mib(start), mib(peak), growth),
           passed: counts.failures == 0 && total == counts.casts && growth < 5)
}

/// Each part runs in a process of its own (this program, started again with the part's name), so that
/// one part's freed memory does not distort the next one's resident-size figures.
@main
struct Soak {
    static let parts = ["cycles", "servers", "timers", "facade"]

    static func main() async throws {
        let arguments = CommandLine.arguments
        if arguments.count > 1 {
            switch arguments[1] {
            case "cycles": try spawnExitCycles(setting("OTP_SOAK_CYCLES", 10_000_000))
            case "servers": try liveServers(setting("OTP_SOAK_SERVERS", 1_000_000))
            case "timers": try pendingTimers(setting("OTP_SOAK_TIMERS", 1_000_000))
            case "facade":
                try await facadeTraffic(seconds: setting("OTP_SOAK_SECONDS", 180), threads: setting("OTP_SOAK_THREADS", 8))
            default: fatalError("unknown part \(arguments[1]); parts: \(parts)")
            }
            for (what, figure, passed) in rows { print("\(what)\t\(figure)\t\(passed)") }
            return
        }
        print("swift-otp soak (release build), \(ProcessInfo.processInfo.activeProcessorCount) cores\n")
        print("| soak | result | passed |\n|---|---|---|")
        var failed = false
        for part in parts {
            let child = Process()
            child.executableURL = URL(fileURLWithPath: arguments[0])
            child.arguments = [part]
            let output = Pipe()
            child.standardOutput = output
            try child.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            child.waitUntilExit()
            let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
            if child.terminationStatus != 0 || lines.isEmpty {
                print("| \(part) | exited with status \(child.terminationStatus) | **no** |")
                failed = true
            }
            for line in lines {
                let fields = line.split(separator: "\t").map(String.init)
                guard fields.count == 3 else { continue }
                print("| \(fields[0]) | \(fields[1]) | \(fields[2] == "true" ? "yes" : "**no**") |")
                if fields[2] != "true" { failed = true }
            }
        }
        if failed { exit(1) }
    }
}
