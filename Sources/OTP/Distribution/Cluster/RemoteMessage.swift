/// A mailbox message type that other nodes can send to, when it needs more than the term to be built
/// (a GenServer's call carries a caller to answer). `TermDecodable` message types need nothing more.
protocol RemoteMessage {
    /// Builds the message for process `pid` from a term another node sent. Thread: loop thread.
    init(remote term: Term, to pid: PID, node: Node) throws(TermConversionError)
}

/// A GenServer is reachable from other nodes when its `Call`, `Cast` and `Info` are `TermDecodable` and its
/// `Reply` is `TermEncodable` (`Never` is both): `gen_server:call(Server, Req)` arrives in `handleCall`
/// with a `Caller` whose replies go back over the connection, `gen_server:cast` in `handleCast`, and any
/// other message in `handleInfo`.
extension ServerMessage: RemoteMessage
where S.Call: TermDecodable, S.Reply: TermEncodable, S.Cast: TermDecodable, S.Info: TermDecodable {
    init(remote term: Term, to pid: PID, node: Node) throws(TermConversionError) {
        if case .tuple(let e) = term, e.count == 3, e[0] == .atom("$gen_call"), case .tuple(let from) = e[1],
           from.count == 2, case .pid(let caller) = from[0] {
            let request = try S.Call(term: e[2])
            guard let (ref, callerPID) = node.openRemoteCall(from: caller, tag: from[1], server: pid) else {
                throw .unrepresentable("a call from \(caller), but this node is in no cluster")
            }
            self = .call(request, Caller(pid: callerPID, ref: ref))
        } else if case .tuple(let e) = term, e.count == 2, e[0] == .atom("$gen_cast") {
            self = .cast(try S.Cast(term: e[1]))
        } else {
            self = .info(try S.Info(term: term))
        }
    }
}
