/// The async facade's state on the loop: its stand-in requester and the table of the operations it waits
/// for, so that closing the node fails each of them (`CallError.nodeStopped`) instead of leaving a task
/// suspended for ever.
///
/// A call enters the table when its request is opened (with the `ExternalCall` as the request's owner,
/// `Node.deliverOutcome`) and leaves it when the request ends, is withdrawn (cancellation) or fails at
/// close. Thread: loop thread only. Cost: one hash insert and one removal per call.
@usableFromInline
struct ExternalCalls {
    /// The stand-in requester of every external call (`ExternalCaller`), spawned on first use.
    var caller: PID?
    @usableFromInline var waiting: [ObjectIdentifier: any ExternalWaiter] = [:]

    init() {}

    /// Operations in flight.
    var count: Int { waiting.count }

    @inlinable
    mutating func add(_ waiter: any ExternalWaiter) {
        waiting[ObjectIdentifier(waiter)] = waiter
    }

    /// Removes `waiter`; returns whether it was in the table.
    @inlinable @discardableResult
    mutating func remove(_ waiter: any ExternalWaiter) -> Bool {
        waiting.removeValue(forKey: ObjectIdentifier(waiter)) != nil
    }

    /// Empties the table, returning what it held.
    mutating func removeAll() -> [any ExternalWaiter] {
        defer { waiting.removeAll() }
        return Array(waiting.values)
    }
}

/// An operation of the async facade that the loop holds on to until it ends.
@usableFromInline
protocol ExternalWaiter: AnyObject {
    /// Ends the operation with `error` (unless it has ended already).
    func fail(_ error: any Error)
}
