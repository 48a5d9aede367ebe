/// A call a GenServer handler (or `initialize`) made and waits for: the request and what to do with its
/// outcome. Built by `ServerContext.call` / `receiveResponse`; returned as `ServerResult.await` or
/// `Initialization.await`. While it waits, the server handles nothing else (Erlang's semantics for a call
/// made inside a callback); the reply, the server's death or the timeout resumes it.
public struct PendingCall<S: GenServer> {
    /// The request's reference, or `nil` when the call failed before it was sent.
    @usableFromInline let ref: Ref?
    @usableFromInline let server: PID?
    @usableFromInline let timeout: Timeout
    /// The outcome when it is known at once (unknown name, calling self, full mailbox).
    @usableFromInline let immediate: CallError?
    /// Continues with the envelope that answered the request, or `nil` on timeout / immediate failure.
    @usableFromInline let resume: (_ response: Envelope<ServerMessage<S>>?, _ failure: CallError?, _ state: inout S?,
                 _ server: ServerContext<S>) throws -> AwaitOutcome<S>

    @usableFromInline
    init(ref: Ref?, server: PID?, timeout: Timeout, immediate: CallError?,
         resume: @escaping (Envelope<ServerMessage<S>>?, CallError?, inout S?, ServerContext<S>) throws
            -> AwaitOutcome<S>) {
        self.ref = ref
        self.server = server
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
