/// The async facade's state on the loop: its stand-in requester and the list of the operations it waits
/// for, so that closing the node fails each of them (`CallError.nodeStopped`) instead of leaving a task
/// suspended for ever.
///
/// A call enters the list when its request is opened (with the `ExternalCall` as the request's owner,
/// `Node.deliverOutcome`) and leaves it when the request ends, is withdrawn (cancellation) or fails at
/// close. The list runs through the operations themselves (`ExternalWaiter.next`/`previous`).
/// Thread: loop thread only. Cost: a few stores per add and per removal; nothing to hash or allocate.
@usableFromInline
struct ExternalCalls {
    /// The stand-in requester of every external call (`ExternalCaller`), spawned on first use.
    var caller: PID?
    /// The newest operation in flight; it holds the next older one, and so on.
    @usableFromInline var head: ExternalWaiter?
    /// Operations in flight.
    @usableFromInline private(set) var count = 0

    init() {}

    @inlinable
    mutating func add(_ waiter: ExternalWaiter) {
        precondition(!waiter.listed, "an external operation was added to the list twice")
        waiter.listed = true
        waiter.next = head
        head?.previous = waiter
        head = waiter
        count += 1
    }

    /// Removes `waiter`; returns whether it was in the list.
    @inlinable @discardableResult
    mutating func remove(_ waiter: ExternalWaiter) -> Bool {
        guard waiter.listed else { return false }
        waiter.listed = false
        let next = waiter.next.take()
        let previous = waiter.previous
        waiter.previous = nil
        next?.previous = previous
        if let previous { previous.next = next } else { head = next }
        count -= 1
        return true
    }

    /// Empties the list, returning what it held.
    mutating func removeAll() -> [ExternalWaiter] {
        var all: [ExternalWaiter] = []
        all.reserveCapacity(count)
        while let waiter = head {
            remove(waiter)
            all.append(waiter)
        }
        return all
    }
}

/// An operation of the async facade that the loop holds on to until it ends (`ExternalCall` is the one
/// kind), linked into the loop's `ExternalCalls` while it does.
/// Thread: the links are the loop thread's (hence `@exclusivity(unchecked)`: one thread, one access at a time).
@usableFromInline
class ExternalWaiter {
    @usableFromInline @exclusivity(unchecked) final var next: ExternalWaiter?
    @usableFromInline @exclusivity(unchecked) final unowned(unsafe) var previous: ExternalWaiter?
    @usableFromInline @exclusivity(unchecked) final var listed = false

    @inlinable
    init() {}

    /// Ends the operation with `error` (unless it has ended already). Overridden.
    func fail(_ error: any Error) {
        preconditionFailure("ExternalWaiter.fail is overridden by each kind of operation")
    }
}
