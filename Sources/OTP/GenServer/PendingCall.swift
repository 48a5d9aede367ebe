/// A call a GenServer handler (or `initialize`) made and waits for: the request and what to do with its
/// ending. Built by `ServerContext.call` / `receiveResponse`; returned as `ServerResult.await` or
/// `Initialization.await`. While it waits, the server handles nothing else (Erlang's semantics for a call
/// made inside a callback); the first of the reply, the server's death and the timeout resumes it
/// (`RequestEnding`), and the continuation ends the request (`Node.endRequest`).
///
/// A class, not a struct: a server keeps one only while it waits, and as a 96-byte optional value it was
/// part of every server process (and every `ServerResult`); as a reference it is 8 bytes there, for one
/// allocation per wait. Thread: loop thread only.
public final class PendingCall<S: GenServer> {
    /// The request's (or monitor's) reference, or `nil` when the call failed before it was sent.
    @usableFromInline let ref: Ref?
    @usableFromInline let timeout: Timeout
    /// The outcome when it is known at once (unknown name, calling self, full mailbox).
    @usableFromInline let immediate: CallError?
    /// Continues with the request's ending.
    @usableFromInline let resume: (_ ending: RequestEnding, _ state: inout S?, _ server: ServerContext<S>) throws
        -> AwaitOutcome<S>

    @usableFromInline
    init(ref: Ref?, timeout: Timeout, immediate: CallError?,
         resume: @escaping (RequestEnding, inout S?, ServerContext<S>) throws -> AwaitOutcome<S>) {
        self.ref = ref
        self.timeout = timeout
        self.immediate = immediate
        self.resume = resume
    }
}

/// What the continuation of a pending call produced.
@usableFromInline
enum AwaitOutcome<S: GenServer> {
    case result(ServerResult<S>)
    case initialization(Initialization<S>)
}
