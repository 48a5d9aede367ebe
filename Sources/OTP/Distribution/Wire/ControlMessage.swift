/// The control messages of the distribution protocol that a swift-otp node sends and acts on, decoded from
/// and encoded to their tuples (erts/doc erl_dist_protocol, "Protocol between connected nodes").
///
/// `from`/`to` of name-addressed messages are `Term`s because a monitor target can be a pid or an atom.
/// Trace-token variants (`*_TT`) are read as their plain forms (the token is dropped). The payload of
/// `send`, `regSend`, `aliasSend` and of the `PAYLOAD_*` exits travels as a second term after the control
/// term. Thread: a plain value.
enum ControlMessage: Equatable {
    case link(from: ExternalPID, to: ExternalPID)
    case send(to: ExternalPID)
    case sendSender(from: ExternalPID, to: ExternalPID)
    case regSend(from: ExternalPID, to: String)
    case aliasSend(from: ExternalPID, alias: ExternalReference)
    /// A linked process exited (`EXIT`, or `PAYLOAD_EXIT` with the reason as payload).
    case exit(from: ExternalPID, to: ExternalPID, reason: Term)
    /// `exit/2` from a remote process (`EXIT2` / `PAYLOAD_EXIT2`).
    case exit2(from: ExternalPID, to: ExternalPID, reason: Term)
    case monitor(from: ExternalPID, target: Term, ref: ExternalReference)
    case demonitor(from: ExternalPID, target: Term, ref: ExternalReference)
    /// A monitored process (pid or name `target`) went down.
    case monitorExit(target: Term, to: ExternalPID, ref: ExternalReference, reason: Term)
    case unlinkID(id: UInt64, from: ExternalPID, to: ExternalPID)
    case unlinkIDAck(id: UInt64, from: ExternalPID, to: ExternalPID)
    /// `SPAWN_REQUEST` (`erlang:spawn_request/5`, erpc): spawn `module:function/arity` with the argument list
    /// that follows as payload, for `from`; `options` as Erlang sends them (`monitor`, `link`, ...).
    case spawnRequest(id: ExternalReference, from: ExternalPID, groupLeader: Term, module: String, function: String, arity: Int,
                      options: [Term], arguments: Term)
    /// `SPAWN_REPLY`: the outcome of spawn request `id` of `to` — the new pid, or an error atom; `flags` 1:
    /// linked, 2: monitored (with `id` as the monitor's reference).
    case spawnReply(id: ExternalReference, to: ExternalPID, flags: Int, result: Term)
    /// `GROUP_LEADER` and the like: recognised, not acted on (answered where needed).
    case unsupported(tag: Int, Term)

    /// Decodes the control tuple; `payload` is the term that followed it, for the tags that carry one.
    /// The process of the sending node the message comes from, for the messages that name one: it must be
    /// a process of the peer (a node sends only for its own processes).
    var sender: ExternalPID? {
        switch self {
        case .link(let from, _), .sendSender(let from, _), .regSend(let from, _), .aliasSend(let from, _),
             .exit(let from, _, _), .exit2(let from, _, _), .monitor(let from, _, _), .demonitor(let from, _, _),
             .unlinkID(_, let from, _), .unlinkIDAck(_, let from, _), .spawnRequest(_, let from, _, _, _, _, _, _):
            return from
        case .send, .monitorExit, .spawnReply, .unsupported:
            return nil
        }
    }

    init(control: Term, payload: Term?) throws(TermConversionError) {
        guard case .tuple(let e) = control, let tag = e.first?.intValue else {
            throw .mismatch(expected: "a control tuple", got: control)
        }
        func pid(_ i: Int) throws(TermConversionError) -> ExternalPID {
            guard i < e.count, case .pid(let p) = e[i] else { throw .mismatch(expected: "a pid at \(i)", got: control) }
            return p
        }
        func ref(_ i: Int) throws(TermConversionError) -> ExternalReference {
            guard i < e.count, case .reference(let r) = e[i] else {
                throw .mismatch(expected: "a reference at \(i)", got: control)
            }
            return r
        }
        func term(_ i: Int) throws(TermConversionError) -> Term {
            guard i < e.count else { throw .mismatch(expected: "element \(i)", got: control) }
            return e[i]
        }
        func reasonPayload() throws(TermConversionError) -> Term {
            guard let payload else { throw .mismatch(expected: "an exit reason payload", got: control) }
            return payload
        }
        switch tag {
        case 1: self = .link(from: try pid(1), to: try pid(2))
        case 2, 12: self = .send(to: try pid(2))
        case 22, 23: self = .sendSender(from: try pid(1), to: try pid(2))
        case 6, 16:
            guard case .atom(let name) = try term(3) else { throw .mismatch(expected: "a registered name", got: control) }
            self = .regSend(from: try pid(1), to: name)
        case 33, 34: self = .aliasSend(from: try pid(1), alias: try ref(2))
        case 3, 13: self = .exit(from: try pid(1), to: try pid(2), reason: try term(tag == 3 ? 3 : 4))
        case 24, 25: self = .exit(from: try pid(1), to: try pid(2), reason: try reasonPayload())
        case 8, 18: self = .exit2(from: try pid(1), to: try pid(2), reason: try term(tag == 8 ? 3 : 4))
        case 26, 27: self = .exit2(from: try pid(1), to: try pid(2), reason: try reasonPayload())
        case 19: self = .monitor(from: try pid(1), target: try term(2), ref: try ref(3))
        case 20: self = .demonitor(from: try pid(1), target: try term(2), ref: try ref(3))
        case 21: self = .monitorExit(target: try term(1), to: try pid(2), ref: try ref(3), reason: try term(4))
        case 28: self = .monitorExit(target: try term(1), to: try pid(2), ref: try ref(3), reason: try reasonPayload())
        case 35, 36:
            guard let value = try term(1).unsignedValue else { throw .mismatch(expected: "an unlink id", got: control) }
            self = tag == 35 ? .unlinkID(id: value, from: try pid(2), to: try pid(3))
                : .unlinkIDAck(id: value, from: try pid(2), to: try pid(3))
        case 29, 30:
            guard case .tuple(let mfa) = try term(4), mfa.count == 3, let module = mfa[0].atomValue,
                  let function = mfa[1].atomValue, let arity = mfa[2].intValue, case .list(let options) = try term(5) else {
                throw .mismatch(expected: "{Module, Function, Arity} and an option list", got: control)
            }
            self = .spawnRequest(id: try ref(1), from: try pid(2), groupLeader: try term(3), module: module, function: function, arity: arity,
                                 options: options, arguments: payload ?? .list([]))
        case 31, 32:
            guard let flags = try term(3).intValue else { throw .mismatch(expected: "spawn reply flags", got: control) }
            self = .spawnReply(id: try ref(1), to: try pid(2), flags: flags, result: try term(4))
        default: self = .unsupported(tag: tag, control)
        }
    }

    /// The control tuple to send (the payload, when there is one, is encoded after it by the sender).
    var control: Term {
        switch self {
        case .link(let from, let to): return .tuple([.integer(1), .pid(from), .pid(to)])
        case .send(let to): return .tuple([.integer(2), .atom(""), .pid(to)])
        case .sendSender(let from, let to): return .tuple([.integer(22), .pid(from), .pid(to)])
        case .regSend(let from, let name): return .tuple([.integer(6), .pid(from), .atom(""), .atom(name)])
        case .aliasSend(let from, let alias): return .tuple([.integer(33), .pid(from), .reference(alias)])
        case .exit(let from, let to, _): return .tuple([.integer(24), .pid(from), .pid(to)])
        case .exit2(let from, let to, _): return .tuple([.integer(26), .pid(from), .pid(to)])
        case .monitor(let from, let target, let ref): return .tuple([.integer(19), .pid(from), target, .reference(ref)])
        case .demonitor(let from, let target, let ref): return .tuple([.integer(20), .pid(from), target, .reference(ref)])
        case .monitorExit(let target, let to, let ref, _): return .tuple([.integer(28), target, .pid(to), .reference(ref)])
        case .unlinkID(let id, let from, let to): return .tuple([.integer(35), Term(integer: id), .pid(from), .pid(to)])
        case .unlinkIDAck(let id, let from, let to): return .tuple([.integer(36), Term(integer: id), .pid(from), .pid(to)])
        case .spawnRequest(let id, let from, let groupLeader, let module, let function, let arity, let options, _):
            return .tuple([.integer(29), .reference(id), .pid(from), groupLeader,
                           .tuple([.atom(module), .atom(function), .integer(arity)]), .list(options)])
        case .spawnReply(let id, let to, let flags, let result):
            return .tuple([.integer(31), .reference(id), .pid(to), .integer(flags), result])
        case .unsupported(_, let term): return term
        }
    }

    /// The exit reason sent as payload (`PAYLOAD_EXIT`, `PAYLOAD_EXIT2`, `PAYLOAD_MONITOR_P_EXIT`).
    var reasonPayload: Term? {
        switch self {
        case .exit(_, _, let reason), .exit2(_, _, let reason), .monitorExit(_, _, _, let reason): return reason
        default: return nil
        }
    }
}
