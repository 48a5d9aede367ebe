/// One item travelling from a loop of a `NodeGroup` to another through a `LoopChannel`: a message, a
/// reply, or a signal (link, unlink, exit, monitor, demonitor, `DOWN`, a refusal, a name, a spawn) between
/// two processes.
///
/// A value of any type travels in `payload`, 64 bytes stored inline: a message of at most that size and
/// alignment (a GenServer's request is 56 bytes) is moved in and out with no allocation; a larger one is
/// boxed (one allocation). `handle` knows the payload's type: it moves the value out and carries the item
/// out on the destination loop, or destroys the payload when it is given no node (the destination closed).
/// It is a closure made where the item is made — in a message's case inside the sender's specialised send,
/// so it captures nothing (no allocation) and runs specialised code on arrival, with no generic metadata
/// lookups.
///
/// Thread: made on the source loop, consumed exactly once on the destination loop (`arrive`) or, when the
/// destination closed first, destroyed (`discard`). Cost: 120 bytes.
@usableFromInline
struct Transit {
    @usableFromInline
    enum Kind: UInt8 {
        /// A message for `target`'s mailbox.
        case message
        /// A call's request for `target`'s mailbox from `from`, whose call monitors `target` with `ref`. On
        /// arrival the server is marked with the caller's loop (`ProcessExtras.requestSources`), or the
        /// caller gets its `DOWN` (`noproc`) when the server is gone, before the request is delivered (one
        /// item, not a monitor and then the request). From a loop numbered 64 or more, the monitor is set up
        /// there instead, as for `monitor`.
        case request
        /// The reply to request `ref` of `target`.
        case reply
        /// The reply to request `ref` of `target`, from the process the request monitors: its loop dropped
        /// that monitor as it replied, so the caller's loop need not send a demonitor.
        case releasedReply
        /// `from` linked itself to `target`.
        case link
        /// `from` removed its link to `target`.
        case unlink
        /// An exit signal from `from` (`exit/2`); the payload is the reason.
        case exit
        /// An exit signal along the link between `from` and `target`; the payload is the reason.
        case linkExit
        /// `from` monitors `target` with monitor `ref`.
        case monitor
        /// `from` removed monitor `ref` on `target`.
        case demonitor
        /// `from`, which `target` monitored with `ref`, exited; the payload is the reason.
        case down
        /// `from`, a server that calls from the destination loop reached, exited; the payload is the reason.
        /// `ref` holds how many items its loop had taken from the destination's channel by then: the calls
        /// whose requests came earlier end with that `DOWN` (`SiblingRequests`). `target` names the loop only.
        case requestsEnded
        /// A message from `target` to `from` was refused: `from`'s mailbox was full (`ref` holds its capacity).
        case refused
        /// Register `target` under the name in the payload (registered group-wide by the sender's loop).
        case named
        /// `target` no longer holds the name in the payload (unregistered by the sender's loop).
        case unnamed
        /// Spawn a process on the target's loop (`target` names the loop only) for `from`, whose request
        /// `ref` gets the new pid or the error; the payload is a `SpawnOrder`.
        case spawn
    }

    @usableFromInline typealias Payload = (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
    /// Moves the payload out and acts on it on the node given, or destroys it when given none.
    @usableFromInline typealias Handle = (inout Transit, Node?) -> Void

    @usableFromInline var kind: Kind
    @usableFromInline var target: PID
    @usableFromInline var from: PID
    @usableFromInline var ref: Ref
    /// Takes the payload out; `nil` for an item without one.
    @usableFromInline var handle: Handle?
    @usableFromInline var payload: Payload = (0, 0, 0, 0, 0, 0, 0, 0)

    @inlinable
    init(_ kind: Kind, to target: PID, from: PID, ref: Ref = Ref(rawValue: 0)) {
        self.kind = kind
        self.target = target
        self.from = from
        self.ref = ref
    }

    /// Makes, in `slot` itself (a channel's), a message for `target`'s mailbox. Inlinable, so the sender's
    /// module specialises it for `M` and the arrival runs `Node.arrivedMessage` specialised too. Made in
    /// place: built as a value and moved in, the 120-byte item was copied and the temporary destroyed
    /// (about 100 instructions an item).
    @inlinable @inline(__always)
    static func initialize<M>(_ slot: UnsafeMutablePointer<Transit>, message: consuming M, to target: PID, from: PID) {
        slot.initialize(to: Transit(.message, to: target, from: from))
        slot.pointee.handle = messageHandle(inline: slot.pointee.store(message), M.self)
    }

    /// Makes, in `slot`, a call's request for `target` from `caller`, whose request (and monitor) is `ref`.
    @inlinable @inline(__always)
    static func initialize<M>(_ slot: UnsafeMutablePointer<Transit>, request: consuming M, to target: PID,
                              from caller: PID, ref: Ref) {
        slot.initialize(to: Transit(.request, to: target, from: caller, ref: ref))
        slot.pointee.handle = requestHandle(inline: slot.pointee.store(request), M.self)
    }

    /// Takes a message of type `M` out (stored inline or boxed) and delivers it on arrival. The payload is
    /// taken before `node?.`: with no node (the destination closed) it is destroyed, not left.
    @inlinable @inline(__always)
    static func messageHandle<M>(inline: Bool, _: M.Type) -> Handle {
        inline
            ? { item, node in
                let message = InlineTransit<M>.take(&item.payload)
                node?.arrivedMessage(message, to: item.target, from: item.from)
            }
            : { item, node in
                let message = BoxedTransit<M>.take(&item.payload)
                node?.arrivedMessage(message, to: item.target, from: item.from)
            }
    }

    /// Takes a request of type `M` out (stored inline or boxed) and delivers it on arrival.
    @inlinable @inline(__always)
    static func requestHandle<M>(inline: Bool, _: M.Type) -> Handle {
        inline
            ? { item, node in
                let request = InlineTransit<M>.take(&item.payload)
                node?.arrivedRequest(request, to: item.target, from: item.from, ref: item.ref)
            }
            : { item, node in
                let request = BoxedTransit<M>.take(&item.payload)
                node?.arrivedRequest(request, to: item.target, from: item.from, ref: item.ref)
            }
    }

    /// Makes, in `slot`, the reply to request `ref` of `caller`; `released` when the replier's loop dropped
    /// the request's monitor (`releasedReply`). Inlinable for the same reason as a message.
    @inlinable @inline(__always)
    static func initialize<R: Sendable>(_ slot: UnsafeMutablePointer<Transit>, replyTo caller: PID, from: PID,
                                        ref: Ref, _ value: consuming R, released: Bool) {
        slot.initialize(to: Transit(released ? .releasedReply : .reply, to: caller, from: from, ref: ref))
        slot.pointee.handle = replyHandle(inline: slot.pointee.store(value), R.self)
    }

    /// Takes a reply of type `R` out (stored inline or boxed) and delivers it on arrival.
    @inlinable @inline(__always)
    static func replyHandle<R: Sendable>(inline: Bool, _: R.Type) -> Handle {
        inline
            ? { item, node in
                let reply = InlineTransit<R>.take(&item.payload)
                if item.kind == .releasedReply { node?.watchReleased(item.ref, of: item.target, by: item.from) }
                _ = node?.deliverReply(item.ref, to: item.target, reply)  // a late one is counted there
            }
            : { item, node in
                let reply = BoxedTransit<R>.take(&item.payload)
                if item.kind == .releasedReply { node?.watchReleased(item.ref, of: item.target, by: item.from) }
                _ = node?.deliverReply(item.ref, to: item.target, reply)
            }
    }

    /// A signal, name or spawn order carrying `value` (an `ExitReason`, a `String`, a `SpawnOrder`).
    init<V>(_ kind: Kind, to target: PID, from: PID, ref: Ref = Ref(rawValue: 0), carrying value: consuming V) {
        self.init(kind, to: target, from: from, ref: ref)
        if store(value) {
            handle = { item, node in
                let value = InlineTransit<V>.take(&item.payload)
                node?.arrived(value, in: item)
            }
        } else {
            handle = { item, node in
                let value = BoxedTransit<V>.take(&item.payload)
                node?.arrived(value, in: item)
            }
        }
    }

    /// Moves `value` into the payload, or a box holding it; returns whether it is inline.
    @inlinable
    mutating func store<V>(_ value: consuming V) -> Bool {
        if MemoryLayout<V>.size <= MemoryLayout<Payload>.size && MemoryLayout<V>.alignment <= 8 {
            var parcel: V? = consume value  // a closure cannot consume what it captures, but it can take it out
            _ = withUnsafeMutablePointer(to: &payload) {
                UnsafeMutableRawPointer($0).initializeMemory(as: V.self, to: parcel.take()!)
            }
            return true
        }
        let box = Unmanaged.passRetained(TransitBox(value)).toOpaque()
        withUnsafeMutablePointer(to: &payload) { UnsafeMutableRawPointer($0).storeBytes(of: box, as: UnsafeMutableRawPointer.self) }
        return false
    }

    /// Carries the item in `slot` out on `node`, the destination loop, in place (its payload is moved out
    /// exactly once), and leaves the slot uninitialised.
    static func arrive(at slot: UnsafeMutablePointer<Transit>, on node: Node) {
        if let handle = slot.pointee.handle { handle(&slot.pointee, node) } else { node.arrived(slot.pointee, reason: nil) }
        slot.deinitialize(count: 1)  // the payload is out: what is left is plain data and the handle
    }

    /// The item in `slot` was sent to a loop that closed: `node`, the sender's loop, answers it for the dead
    /// target (`Node.answerForDeadTarget`). Its payload is destroyed — but a name's arrives on `node`, which
    /// finds no such process and releases it (`arrivedName`).
    static func answerForDeadTarget(at slot: UnsafeMutablePointer<Transit>, on node: Node) {
        node.answerForDeadTarget(slot.pointee)
        if let handle = slot.pointee.handle { handle(&slot.pointee, slot.pointee.kind == .named ? node : nil) }
        slot.deinitialize(count: 1)
    }

    /// Destroys the payload without acting on it (the destination closed).
    consuming func discard() {
        handle?(&self, nil)
    }
}

/// A payload stored in the item itself.
@usableFromInline
enum InlineTransit<V> {
    @inlinable
    static func take(_ payload: inout Transit.Payload) -> V {
        withUnsafeMutablePointer(to: &payload) { UnsafeMutableRawPointer($0).assumingMemoryBound(to: V.self).move() }
    }
}

/// A payload too large to store inline: the item holds a retained box.
@usableFromInline
enum BoxedTransit<V> {
    @inlinable
    static func take(_ payload: inout Transit.Payload) -> V {
        let raw = withUnsafeMutablePointer(to: &payload) { UnsafeMutableRawPointer($0).load(as: UnsafeMutableRawPointer.self) }
        return Unmanaged<TransitBox<V>>.fromOpaque(raw).takeRetainedValue().value
    }
}

@usableFromInline
final class TransitBox<V> {
    @usableFromInline let value: V
    @inlinable init(_ value: consuming V) { self.value = value }
}
