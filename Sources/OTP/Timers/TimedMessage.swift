/// A timed message waiting in the timer wheel (`sendAfter`), type-erased so the wheel stays plain data.
@usableFromInline
class TimedPayload {
    /// When set, the target is resolved by name when the timer fires (Erlang's `send_after` to an atom).
    let name: String?
    init(name: String?) { self.name = name }
    /// Delivers into `process`, which must accept the payload's type; `false` on a full mailbox.
    func deliver(to process: ProcessCore, node: Node) -> Bool { fatalError("abstract") }
    var messageType: ObjectIdentifier { fatalError("abstract") }
}

@usableFromInline
final class TimedMessage<Message>: TimedPayload {
    let message: Message
    @usableFromInline
    init(_ message: Message, name: String?) {
        self.message = message
        super.init(name: name)
    }
    override func deliver(to process: ProcessCore, node: Node) -> Bool {
        unsafeDowncast(process, to: MailboxProcess<Message>.self).deliver(message, node: node)
    }
    override var messageType: ObjectIdentifier { ObjectIdentifier(Message.self) }
}
