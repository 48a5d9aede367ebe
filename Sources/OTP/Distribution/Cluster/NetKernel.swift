import Logging

/// The system services an Erlang node expects on every node it connects to, as far as this node runs them:
/// `net_kernel` (for `net_adm:ping/1`) and `rex` (rpc, `RexServer.swift`). Thread: loop thread only.
extension Distribution {
    /// Handles a message to one of the system names an Erlang node greets a new node with, when no local
    /// process took that name. Returns whether it was one.
    func answerSystemService(_ name: String, _ message: Term, from: ExternalPID, on connection: NodeConnection) -> Bool {
        switch name {
        case "net_kernel":
            netKernel(message, from: from, on: connection)
            return true
        case "rex":
            rex(message, from: from, on: connection)
            return true
        case "global_name_server":
            // `global` greets every new node; this node takes no part in global name registration.
            node.configuration.logger.debug("global name server message ignored", metadata: ["node": "\(self.name)"])
            return true
        default:
            return false
        }
    }

    /// The part of `net_kernel` that `net_adm:ping/1` needs: `{is_auth, Node}` is answered `yes`.
    func netKernel(_ message: Term, from: ExternalPID, on connection: NodeConnection) {
        guard case .tuple(let elements) = message, elements.count == 3, elements[0] == .atom("$gen_call"),
              case .tuple(let fromTag) = elements[1], fromTag.count == 2 else { return }
        let reply: Term = elements[2].tupleElements?.first == .atom("is_auth") ? .atom("yes") : .atom("error")
        guard case .pid(let caller) = fromTag[0] else { return }
        sendReply(reply, tag: fromTag[1], to: caller, from: nodePID, on: connection)
    }
}
