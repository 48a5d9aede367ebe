/// A closure process's wait for the response to one request (`ProcessContext.receiveResponse`, and so
/// `call` and `ask` when they wait): the request and the continuation to run with its outcome.
///
/// Why an object: the wait's receive body is a closure that captures this object and nothing else, and
/// Swift uses a closure's only captured object as its context — no context is allocated for it. The
/// object itself is reused: once its response has come, it goes back to its loop (`Node.spareWait`), and
/// the next wait of the same reply and message types takes it from there. A process that makes one call
/// after another — resumed, it calls again — so allocates one closure per wait (its own continuation's
/// context, when that captures anything) instead of two (the receive body's context held the continuation
/// and the request).
///
/// Thread: the loop thread of the waiting process. Cost: a type test and two stores to take the spare,
/// one reference count up and down to hand it back; no allocation in steady state.
@usableFromInline
final class ResponseWait<R, Message> {
    @usableFromInline @exclusivity(unchecked) var id: RequestID<R>
    /// The continuation, until the response has come (then `nil`: what it captured is not kept alive).
    /// Read and written directly (`!`, `= nil`), never through a generic helper such as `take()`, which
    /// would wrap it in a reabstraction thunk: an allocation.
    @usableFromInline @exclusivity(unchecked) var then: ((Result<R, CallError>, ProcessContext<Message>) throws -> Step<Message>)?

    @inlinable
    init(_ id: RequestID<R>, then: @escaping (Result<R, CallError>, ProcessContext<Message>) throws -> Step<Message>) {
        self.id = id
        self.then = then
    }

    /// A wait for `id` then `then`: the loop's spare, when it is one of these, or a new one.
    @inlinable
    static func make(_ id: RequestID<R>, on node: Node,
                     then: @escaping (Result<R, CallError>, ProcessContext<Message>) throws -> Step<Message>) -> ResponseWait {
        if let spare = node.spareWait, ObjectIdentifier(type(of: spare)) == ObjectIdentifier(ResponseWait.self) {
            node.spareWait = nil
            let wait = unsafeDowncast(spare, to: ResponseWait.self)
            wait.id = id
            wait.then = then
            return wait
        }
        return ResponseWait(id, then: then)
    }

    /// The response (or `Receive.timedOut`) has come: the request ends, this object goes back to the loop
    /// for the next wait, and the continuation runs with the outcome.
    @inlinable
    func resume(_ envelope: consuming Envelope<Message>, _ process: ProcessContext<Message>) throws -> Step<Message> {
        let id = self.id
        let outcome = process.withNode { node in
            Receive.isTimedOut(envelope) ? node.endRequest(id, of: process.pid, .timeout)
                : node.response(to: id, of: process.pid, in: envelope)!
        }
        let then = self.then!
        self.then = nil
        process.withNode { $0.spareWait = self }
        return try then(outcome, process)
    }
}
