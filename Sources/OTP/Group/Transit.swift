/// One item travelling from a loop of a `NodeGroup` to another through a `LoopChannel`: a message, a
/// reply, or a signal (link, unlink, exit, monitor, demonitor, `DOWN`, a refusal) between two processes.
///
/// A value of any type travels in `payload`, 64 bytes stored inline: a message of at most that size and
/// alignment (a GenServer's request is 56 bytes) is moved in and out with no allocation; a larger one is
/// boxed (one allocation). `handler` is the payload type's `TransitHandler`, which knows how to take the
/// value out and what to do with it on arrival; a signal's payload is its `ExitReason`, when it has one.
///
/// Thread: made on the source loop, consumed exactly once on the destination loop (`arrive`) or, when the
/// destination closed first, destroyed (`discard`). Cost: 128 bytes.
struct Transit {
    enum Kind: UInt8 {
        /// A message for `target`'s mailbox.
        case message
        /// The reply to request `ref` of `target`.
        case reply
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

    typealias Payload = (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

    var kind: Kind
    var target: PID
    var from: PID
    var ref: Ref
    /// Takes the payload out on arrival; `nil` for an item without one.
    var handler: (any TransitHandler.Type)?
    var payload: Payload = (0, 0, 0, 0, 0, 0, 0, 0)

    init(_ kind: Kind, to target: PID, from: PID, ref: Ref = Ref(rawValue: 0)) {
        self.kind = kind
        self.target = target
        self.from = from
        self.ref = ref
    }

    /// An item carrying `value`, moved in (inline when it fits, boxed otherwise).
    init<V>(_ kind: Kind, to target: PID, from: PID, ref: Ref = Ref(rawValue: 0), carrying value: consuming V) {
        self.init(kind, to: target, from: from, ref: ref)
        handler = store(value) ? InlineTransit<V>.self : BoxedTransit<V>.self
    }

    /// The reply to request `ref` of `caller`.
    init<R: Sendable>(replyTo caller: PID, from: PID, ref: Ref, _ value: consuming R) {
        self.init(.reply, to: caller, from: from, ref: ref)
        handler = store(value) ? InlineReply<R>.self : BoxedReply<R>.self
    }

    /// Moves `value` into the payload, or a box holding it; returns whether it is inline.
    private mutating func store<V>(_ value: consuming V) -> Bool {
        if MemoryLayout<V>.size <= MemoryLayout<Payload>.size && MemoryLayout<V>.alignment <= 8 {
            var parcel: V? = consume value  // a closure cannot consume what it captures, but it can take it out
            withUnsafeMutableBytes(of: &payload) { $0.baseAddress!.initializeMemory(as: V.self, to: parcel.take()!) }
            return true
        }
        let box = Unmanaged.passRetained(TransitBox(value)).toOpaque()
        withUnsafeMutableBytes(of: &payload) { $0.storeBytes(of: box, as: UnsafeMutableRawPointer.self) }
        return false
    }

    /// Carries the item out on `node`, the destination loop (its payload is moved out exactly once).
    consuming func arrive(on node: Node) {
        if let handler { handler.arrive(&self, on: node) } else { node.arrived(self, reason: nil) }
    }

    /// Destroys the payload without acting on it (the destination closed).
    consuming func discard() {
        handler?.discard(&payload)
    }
}

/// What `Transit` knows about its payload's type. Thread: destination loop.
protocol TransitHandler {
    static func arrive(_ transit: inout Transit, on node: Node)
    static func discard(_ payload: inout Transit.Payload)
}

/// A payload stored in the item itself.
enum InlineTransit<V>: TransitHandler {
    static func take(_ payload: inout Transit.Payload) -> V {
        withUnsafeMutableBytes(of: &payload) { $0.baseAddress!.assumingMemoryBound(to: V.self).move() }
    }

    static func arrive(_ transit: inout Transit, on node: Node) {
        let value = take(&transit.payload)
        node.arrived(value, in: transit)
    }

    static func discard(_ payload: inout Transit.Payload) { _ = take(&payload) }
}

/// A payload too large to store inline: the item holds a retained box.
enum BoxedTransit<V>: TransitHandler {
    static func take(_ payload: inout Transit.Payload) -> V {
        let raw = withUnsafeBytes(of: &payload) { $0.load(as: UnsafeMutableRawPointer.self) }
        return Unmanaged<TransitBox<V>>.fromOpaque(raw).takeRetainedValue().value
    }

    static func arrive(_ transit: inout Transit, on node: Node) {
        let value = take(&transit.payload)
        node.arrived(value, in: transit)
    }

    static func discard(_ payload: inout Transit.Payload) { _ = take(&payload) }
}

/// A reply stored in the item itself.
enum InlineReply<R: Sendable>: TransitHandler {
    static func arrive(_ transit: inout Transit, on node: Node) {
        _ = node.deliverReply(transit.ref, to: transit.target, InlineTransit<R>.take(&transit.payload))  // late: counted
    }

    static func discard(_ payload: inout Transit.Payload) { InlineTransit<R>.discard(&payload) }
}

/// A boxed reply.
enum BoxedReply<R: Sendable>: TransitHandler {
    static func arrive(_ transit: inout Transit, on node: Node) {
        _ = node.deliverReply(transit.ref, to: transit.target, BoxedTransit<R>.take(&transit.payload))  // late: counted
    }

    static func discard(_ payload: inout Transit.Payload) { BoxedTransit<R>.discard(&payload) }
}

final class TransitBox<V> {
    let value: V
    init(_ value: consuming V) { self.value = value }
}
