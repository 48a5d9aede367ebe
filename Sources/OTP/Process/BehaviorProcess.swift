/// A process running a `ProcessBehavior`: the mailbox plus the continuation, and the scheduler turn that
/// joins them.
///
/// A turn: run `start` if the process is new; then repeatedly find the first queued message the behaviour
/// `accepts` (resuming a selective scan where the last one stopped), hand it to `receive`, and apply the
/// returned `Next`. The turn ends when no queued message matches (the process waits, arming its receive
/// timer if it asked for one), when the budget is used (it yields), or when it exits.
///
/// The turn is `@inlinable` and reached through `ProcessCore.operate`, a closure created by `make` where the
/// behaviour type is known, so it runs specialised for the behaviour even when that lives in another module.
///
/// Thread: loop thread only. Cost per message: a scan step, a ring-buffer move, the behaviour call; no
/// allocation, no reference counting.
@usableFromInline
final class BehaviorProcess<B: ProcessBehavior>: MailboxProcess<B.Message> {
    @usableFromInline @exclusivity(unchecked) var behavior: B
    /// The current wait's time limit in milliseconds; `UInt64.max` for none.
    @usableFromInline @exclusivity(unchecked) var waitLimit: UInt64 = .max

    @usableFromInline
    init(pid: PID, behavior: B, capacity: Int, operate: @escaping ProcessFunction) {
        self.behavior = behavior
        super.init(pid: pid, capacity: capacity, operate: operate)
    }

    /// Creates the process object with its specialised turn.
    @inlinable
    static func make(pid: PID, behavior: B, capacity: Int) -> BehaviorProcess<B> {
        BehaviorProcess(pid: pid, behavior: behavior, capacity: capacity) { process, node, operation, handled in
            let process = unsafeDowncast(process, to: BehaviorProcess<B>.self)
            switch operation {
            case .turn(let budget):
                return process.runTurn(node: node, budget: budget, handled: &handled)
            case .pushReply(let ref):
                process.pushReply(ref, node: node)
                return .waiting
            }
        }
    }

    @inlinable
    func runTurn(node: Node, budget: Int, handled: inout Int) -> TurnOutcome {
        let context = ProcessContext<B.Message>(node: node, pid: pid)
        var next: Next
        if status == .initializing {
            status = .processing
            do { next = try behavior.start(context) } catch { return .crashed(error) }
            if let outcome = apply(next) { return outcome }
        }
        status = .processing
        while true {
            if let extras, let pending = extras.pendingExit { return .exited(pending) }
            let count = mailbox.count
            var index = scanned
            while index < count && !behavior.accepts(UnsafePointer(mailbox.slot(index)).pointee) {
                index &+= 1
            }
            if index < count {
                if handled >= budget {
                    scanned = index
                    status = .running
                    return .yielded
                }
                scanned = 0
                if waitTimer != 0 || timedOut { endWait(node) }
                received &+= 1
                handled &+= 1
                // Moved straight from the ring buffer into the callback: a generic envelope is never copied.
                do {
                    next = try behavior.receive(index == 0 ? mailbox.removeFirst() : mailbox.remove(at: index),
                                                context)
                } catch { return .crashed(error) }
            } else {
                scanned = count
                if timedOut || waitLimit == 0 {
                    if handled >= budget {
                        status = .running
                        return .yielded
                    }
                    endWait(node)
                    handled &+= 1
                    scanned = 0  // the next receive is a new pattern: it looks at every queued message again
                    do { next = try behavior.timeout(context) } catch { return .crashed(error) }
                } else {
                    if waitLimit != .max && waitTimer == 0 {
                        waitTimer = node.armReceiveTimeout(after: waitLimit, for: pid)
                    }
                    status = .waiting
                    return .waiting
                }
            }
            if let outcome = apply(next) { return outcome }
        }
    }

    override var kind: (ProcessKind, String) {
        guard let server = B.self as? any ServerBehavior.Type else { return (.process, messageTypeName) }
        return (isSupervisor ? .supervisor : .server, server.serverTypeName)
    }

    override var isSupervisor: Bool { (B.self as? any SystemStoppable.Type)?.stopsInSteps ?? false }

    override func requestSystemStop(_ reason: ExitReason, caller: PID, ref: Ref, node: Node) -> Bool {
        guard let stoppable = B.self as? any SystemStoppable.Type,
              let message = stoppable.stopRequest(reason, caller: caller, ref: ref) as? B.Message
        else { return false }
        mailbox.forcePush(.message(message))
        wake(node)
        return true
    }

    /// Records the wait the behaviour asked for; returns an outcome when the process exits instead.
    @inlinable @inline(__always)
    func apply(_ next: Next) -> TurnOutcome? {
        switch next {
        case .receive:
            waitLimit = .max
            return nil
        case .receiveWithin(let timeout):
            do {
                waitLimit = try timeout.validated() ?? .max
            } catch {
                return .crashed(error)
            }
            return nil
        case .exit(let reason):
            return .exited(reason)
        }
    }

    /// The current wait is over: its timer, if any, is cancelled.
    @inlinable
    func endWait(_ node: Node) {
        if waitTimer != 0 {
            node.cancelReceiveTimeout(waitTimer)
            waitTimer = 0
        }
        timedOut = false
    }
}
