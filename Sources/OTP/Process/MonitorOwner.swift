/// An object told what becomes of a monitor in place of its watcher's mailbox.
///
/// Most monitors end as a `DOWN` message (and a request's reply as a `.reply` envelope) in the watcher's
/// mailbox, for a process waiting in a receive. A requester that is not such a process — code outside
/// the loop waiting for a Swift task, anything that completes a callback — opens the monitor as usual and
/// then gives it an owner (`Node.deliverOutcome(of:to:deadline:)`): from then on the monitor's events go to
/// the owner, and only the first of them does. The owner ends the request from inside `monitorEnded` (with
/// `Node.endRequest`), which removes the monitor, so whatever comes second finds nothing.
///
/// Thread: `monitorEnded` runs on the loop thread, inside the event (a reply being delivered, a process
/// exiting, a timer firing). It must not run process code or re-enter the scheduler.
@usableFromInline
protocol MonitorOwner: AnyObject {
    /// The first event of monitor `ref`. The monitor still exists (with its reply, for `.replied`) until
    /// the owner removes it.
    func monitorEnded(_ ref: Ref, _ event: MonitorEvent, on node: Node)
}

/// What happened to an owned monitor (`MonitorOwner`).
@usableFromInline
enum MonitorEvent {
    /// Its request was answered: the reply waits in the monitor's slot.
    case replied
    /// Its target exited with this reason (`noconnection` when the target's node became unreachable).
    case down(ExitReason)
    /// Its deadline passed.
    case deadline
    /// The watcher, the process the monitor belongs to, exited with this reason (the node is closing, or
    /// someone killed it): nothing will ever answer.
    case watcherExited(ExitReason)
}
