/// A process with a mailbox of `Envelope<Message>`: what a typed `Address<Message>` delivers into.
///
/// Thread: loop thread only. Cost of `deliver`: one ring-buffer push; when the process was waiting, one
/// run-queue push (the empty-to-non-empty edge). No allocation in steady state, no reference counting.
@usableFromInline
class MailboxProcess<Message>: ProcessCore {
    /// The mailbox: a bounded ring buffer, allocated on the first message.
    @usableFromInline @exclusivity(unchecked) final var mailbox: RingBuffer<Envelope<Message>>

    @usableFromInline
    init(pid: PID, capacity: Int, operate: @escaping ProcessFunction) {
        mailbox = RingBuffer(limit: capacity)
        super.init(pid: pid, messageType: ObjectIdentifier(Message.self), operate: operate)
    }

    /// Queues a user message; `false` when the mailbox is full (the caller reports it to the sender).
    @inlinable @inline(__always)
    final func deliver(_ message: consuming Message, node: Node) -> Bool {
        guard mailbox.push(.message(message)) else { return false }
        if _slowPath(tracesMessages) { node.traceQueued(self) }
        wake(node)
        return true
    }

    /// `deliver` for a plain send (`Node.deliver`, a process's `send`): the same, with the scheduling of a
    /// waiting receiver inlined (`Node.scheduleInline`). A ping-pong wakes its peer on every message, and the
    /// call of `schedule` from a closure body compiled in the user's module cost 23 instructions a message;
    /// the moving send of a GenServer message keeps the call, since inlining it there made that send too
    /// large to inline into a caster's loop (cast 14 -> 20 ns).
    @inlinable @inline(__always)
    final func deliverScheduling(_ message: consuming Message, node: Node) -> Bool {
        guard mailbox.push(.message(message)) else { return false }
        if _slowPath(tracesMessages) { node.traceQueued(self) }
        if status == .waiting {
            status = .running
            node.scheduleInline(pid)
        }
        return true
    }

    /// Schedules the process if it was waiting: the edge on which it gets work.
    @inlinable @inline(__always)
    final func wake(_ node: Node) {
        if status == .waiting {
            status = .running
            node.schedule(pid)
        }
    }

    /// Queues an envelope past the mailbox bound — a reply, a signal, a system request: the process asked
    /// for it, or it must get through to a flooded process — and wakes the process. It carries no trace
    /// context (`tracesMessages`: none is recorded beside it).
    @inlinable @inline(__always)
    final func forceDeliver(_ envelope: consuming Envelope<Message>, node: Node) {
        mailbox.forcePush(envelope)
        if _slowPath(tracesMessages) { recordTrace(nil) }
        wake(node)
    }

    /// Takes the envelope at `index` out of the mailbox, and its trace context when the process traces.
    @inlinable @inline(__always)
    final func take(at index: Int) -> Envelope<Message> {
        if _slowPath(tracesMessages) { _ = takeTrace(at: index) }
        return index == 0 ? mailbox.removeFirst() : mailbox.remove(at: index)
    }

    override final func pushSystem(_ message: SystemMessage, node: Node) {
        switch message {
        case .down(let down): forceDeliver(.down(down), node: node)
        case .exit(let signal): forceDeliver(.exit(signal), node: node)
        }
    }

    /// Queues a reply; reached through `ProcessCore.operate`, specialised where the process was spawned.
    @inlinable
    final func pushReply(_ ref: Ref, node: Node) {
        forceDeliver(.reply(ref), node: node)
    }

    override final func flush(_ ref: Ref, replies: Bool) -> Bool {
        var removed = 0
        if _slowPath(tracesMessages) {
            // Index for index with the trace contexts: one at a time, from the newest.
            var index = mailbox.count
            while index > 0 {
                index -= 1
                let matches: Bool
                switch UnsafePointer(mailbox.slot(index)).pointee {
                case .down(let down): matches = down.monitor == ref
                case .reply(let r): matches = replies && r == ref
                default: matches = false
                }
                if matches {
                    _ = take(at: index)
                    removed += 1
                }
            }
        } else {
            removed = mailbox.removeAll { envelope in
                switch envelope {
                case .down(let down): return down.monitor == ref
                case .reply(let r): return replies && r == ref
                default: return false
                }
            }
        }
        if removed > 0 {
            scanned = 0
            flushed &+= UInt32(truncatingIfNeeded: removed)
        }
        return removed > 0
    }

    /// A `Term` mailbox takes the term as it is; a `TermDecodable` message type decodes it; a GenServer's
    /// `ServerMessage` turns `'$gen_call'` and `'$gen_cast'` into calls and casts (`RemoteMessage`).
    override final func deliverTerm(_ term: Term, node: Node) -> TermDelivery {
        // Checked first: decoding a call opens its remote request, which a refusal would leave behind.
        guard mailbox.count < mailbox.limit else { return .mailboxFull }
        let message: Message
        do throws(TermConversionError) {
            if let decodable = Message.self as? any TermDecodable.Type {
                message = try Self.decode(decodable, term)
            } else if let remote = Message.self as? any RemoteMessage.Type {
                message = try Self.decode(remote, term, to: pid, node: node)
            } else {
                return .notAccepted(messageTypeName)
            }
        } catch {
            return .undecodable(error)
        }
        return deliver(message, node: node) ? .delivered : .mailboxFull
    }

    /// `T` is `Message` itself (its metatype, opened from the conformance found above): the value is one,
    /// handed over as is — `as! Message` would cost a dynamic cast per message.
    private static func decode<T: TermDecodable>(_ type: T.Type, _ term: Term) throws(TermConversionError) -> Message {
        unsafeBitCast(try T(term: term), to: Message.self)
    }

    private static func decode<T: RemoteMessage>(_ type: T.Type, _ term: Term, to pid: PID, node: Node) throws(TermConversionError)
        -> Message
    {
        unsafeBitCast(try T(remote: term, to: pid, node: node), to: Message.self)
    }

    override final func compactMailbox() {
        if mailbox.isEmpty {
            mailbox.releaseStorage()
            extras?.traceQueue.releaseStorage()
        }
    }

    override final var mailboxCount: Int { mailbox.count }
    override final var mailboxCapacity: Int { mailbox.limit }
    override final var mailboxBytes: Int { mailbox.allocatedBytes }
    override final var messageTypeName: String { String(describing: Message.self) }

    override final func releaseMailbox() {
        mailbox.releaseStorage()
        extras?.traceQueue.releaseStorage()
    }
}
