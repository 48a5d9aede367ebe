// The multi-core workloads (`make compare`'s "every core" rows): processes of a `NodeGroup` on several
// loops, written as docs/multicore.md teaches, closure processes and `process.call`. Each workload is set up
// on the thread that made the group, before its loops start; `Finish` tells the timing thread when the
// last process is done.
import Foundation
import OTP

/// Counts down from `parts` and wakes the waiting thread when it reaches zero. Thread-safe.
public final class Finish: @unchecked Sendable {
    private let lock = NSLock()
    private let done = DispatchSemaphore(value: 0)
    private var remaining: Int

    public init(parts: Int) { remaining = parts }

    /// One part is done (any thread).
    public func part() {
        let last = lock.withLock { () -> Bool in
            remaining -= 1
            return remaining == 0
        }
        if last { done.signal() }
    }

    /// Waits (at most 10 minutes) until every part is done.
    public func wait() {
        precondition(done.wait(timeout: .now() + 600) == .success, "a group workload did not finish")
    }
}

/// Runs `group`'s loops on their threads until `finish` is complete; returns the nanoseconds that took
/// (from the loops' start), then stops the loops and waits for their threads.
public func runGroup(_ group: NodeGroup, until finish: Finish) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    group.startLoops()
    finish.wait()
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start)
    group.stopLoops()
    group.join()
    return elapsed
}

/// Runs `setUp` on `loop`'s thread, in a process of that loop, once the loop runs (then the process exits):
/// what it spawns is allocated by that thread.
public func onLoop(_ loop: Node, _ setUp: @escaping (Node) throws -> Void) throws {
    try loop.spawn(of: Never.self) { _ in
        try setUp(loop)
        return .exit(.normal)
    }
}

/// A ping-pong pair as the guides write it, `a` on `first` and `b` on `second` (the same loop or two):
/// `roundTrips` round trips, then `finish.part()`.
public func spawnGroupRally(on first: Node, _ second: Node, roundTrips: Int, finish: Finish) throws {
    let b = try second.spawn(of: Rally.self) { _ in
        .receive { envelope, _ in
            guard case .message(.peer(let peer)) = envelope else { return .same }
            return .receive { envelope, process in
                if case .message(.ball(let n)) = envelope { try process.send(.ball(n), to: peer) }
                return .same
            }
        }
    }
    try first.spawn(of: Rally.self) { process in
        try process.send(.peer(process.address), to: b)
        try process.send(.ball(roundTrips), to: b)
        return .receive { envelope, process in
            guard case .message(.ball(let n)) = envelope else { return .same }
            if n == 1 {
                finish.part()
                return .exit(.normal)
            }
            try process.send(.ball(n - 1), to: b)
            return .same
        }
    }
}

/// A caller on `loop` that calls `server` `calls` times in a row with `process.call`, then `finish.part()`.
public func spawnGroupCaller(on loop: Node, _ server: ServerRef<CountServer>, calls: Int, finish: Finish) throws {
    // Each call's continuation captures what `next` captures. `finish` is one object for the callers of
    // every loop: captured strongly, each call would retain and release it — an atomic operation on a cache
    // line every loop's thread writes — which would measure this harness, not the runtime. `runGroup`
    // keeps it alive.
    unowned(unsafe) let finish = finish
    func next(_ process: ProcessContext<Never>, _ remaining: Int) throws -> Step<Never> {
        guard remaining > 0 else {
            finish.part()
            return .exit(.normal)
        }
        return try process.call(server, .get) { result, process in
            _ = try result.get()
            return try next(process, remaining - 1)
        }
    }
    try loop.spawn(of: Never.self) { process in try next(process, calls) }
}

/// What the streaming sender is told: where to send, and how far the counter has got.
public enum StreamNote: Sendable {
    case start(Address<Int>)
    case more
    case acked(Int)
}

/// A sender on `first` that streams `count` messages to a counter on `second`, at most 1,000 per turn (it
/// sends itself `.more` to go on, as a process that must not hold its loop does), with at most 64,000
/// unacknowledged (the counter acknowledges every 16,000): flow control, so the sender never outruns the
/// counter by more than a window and both loops stay busy. The counter calls `finish.part()` at the end.
public func spawnGroupStream(from first: Node, to second: Node, count: Int, finish: Finish) throws {
    let window = 64_000, ackEvery = 16_000
    var sink: Address<Int>?
    var sent = 0, acked = 0, waiting = false
    let sender = try first.spawn(of: StreamNote.self) { _ in
        .receive { envelope, process in
            guard case .message(let note) = envelope else { return .same }
            switch note {
            case .start(let target): sink = target
            case .acked(let n):
                acked = n
                guard waiting else { return .same }  // a .more is on its way already
            case .more: break
            }
            let batch = min(1_000, count - sent, acked + window - sent)
            for i in 0..<max(batch, 0) { try process.send(sent + i, to: sink!) }
            sent += max(batch, 0)
            if sent == count { return .exit(.normal) }
            waiting = sent - acked >= window
            if !waiting { try process.send(.more, to: process.address) }
            return .same
        }
    }
    var seen = 0
    let counter = try second.spawn(of: Int.self, options: SpawnOptions(mailboxCapacity: window + 1)) { _ in
        .receive { _, process in
            seen += 1
            if seen == count {
                finish.part()
                return .exit(.normal)
            }
            if seen % ackEvery == 0 { try process.send(.acked(seen), to: sender) }
            return .same
        }
    }
    try first.send(.start(counter), to: sender)
}

/// SkyNet: a process that spawns 10 children, each the root of a tenth of the tree, down to `size` leaves
/// of one process each; each replies to its parent with the sum of its leaves' numbers. The root's children
/// are placed on the group's loops in turn (`ProcessContext.spawn(of:on:)`), every other process on its
/// parent's loop. `finish.part()` runs when the root has the sum (which it checks).
public func spawnSkynet(_ group: NodeGroup, size: Int, finish: Finish) throws {
    let expected = size * (size - 1) / 2
    try group.loop(0).spawn(of: Int.self) { process in
        let part = size / 10
        var sum = 0, answers = 0
        func receiveSums() -> Step<Int> {
            .receive { envelope, _ in
                guard case .message(let n) = envelope else { return .same }
                sum += n
                answers += 1
                guard answers == 10 else { return .same }
                precondition(sum == expected, "skynet: \(sum), expected \(expected)")
                finish.part()
                return .exit(.normal)
            }
        }
        func place(_ child: Int) throws -> Step<Int> {
            guard child < 10 else { return receiveSums() }
            let parent = process.address
            let loop = group.loop(child % group.count)
            return try process.spawn(of: Int.self, on: loop, { process in
                try skynetNode(process, start: child * part, size: part, parent: parent)
            }) { result, _ in
                _ = try result.get()
                return try place(child + 1)
            }
        }
        return try place(0)
    }
}

/// One process of the tree: a leaf replies with its number; an inner process spawns 10 children on its
/// own loop and replies with the sum of theirs.
@Sendable
func skynetNode(_ process: ProcessContext<Int>, start: Int, size: Int, parent: Address<Int>) throws -> Step<Int> {
    if size == 1 {
        try process.send(start, to: parent)
        return .exit(.normal)
    }
    let part = size / 10
    let me = process.address
    for child in 0..<10 {
        try process.currentNode.spawn(of: Int.self) { process in
            try skynetNode(process, start: start + child * part, size: part, parent: me)
        }
    }
    var sum = 0, answers = 0
    return .receive { envelope, process in
        guard case .message(let n) = envelope else { return .same }
        sum += n
        answers += 1
        guard answers == 10 else { return .same }
        try process.send(sum, to: parent)
        return .exit(.normal)
    }
}
