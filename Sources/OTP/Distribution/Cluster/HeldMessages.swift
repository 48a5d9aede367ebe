/// Messages from one peer whose local targets' mailboxes were full, kept per target in arrival order.
///
/// A full mailbox holds back only its own messages: the connection goes on reading, so ticks are heard and
/// other processes get what the same peer sends them (Erlang never stops reading a connection). Once a
/// target has messages held, every later message to it is held behind them, so the order between each
/// pair of processes is kept. The bytes held (measured as the frames that carried them) are bounded by
/// `DistributionOptions.maximumHeldBytes`; past that the connection stops reading (TCP pushes back on the
/// peer) until delivery brings it under the bound again.
///
/// Thread: loop thread (a plain value owned by one connection).
struct HeldMessages {
    struct Message {
        let term: Term
        let label: DeliveryLabel
        let size: Int
    }

    /// Targets in the order they were first held, and each one's queue.
    private var order: [PID] = []
    private var queues: [PID: [Message]] = [:]
    private(set) var bytes = 0
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    /// Whether messages to `target` are waiting (then a new one must wait behind them).
    func isHolding(_ target: PID) -> Bool { queues[target] != nil }

    mutating func hold(_ message: Message, for target: PID) {
        if queues[target] == nil { order.append(target) }
        queues[target, default: []].append(message)
        bytes += message.size
        count += 1
    }

    /// Offers each target its held messages in order; `deliver` answers `false` when the mailbox is still
    /// full (that target keeps the rest). Every other outcome (delivered, dropped) takes the message out.
    mutating func retry(_ deliver: (PID, Message) -> Bool) {
        var kept: [PID] = []
        for target in order {
            guard var queue = queues.removeValue(forKey: target) else { continue }
            var delivered = 0
            for message in queue {
                guard deliver(target, message) else { break }
                delivered += 1
                bytes -= message.size
                count -= 1
            }
            if delivered < queue.count {
                queue.removeFirst(delivered)
                queues[target] = queue
                kept.append(target)
            }
        }
        order = kept
    }
}
