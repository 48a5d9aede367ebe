/// What a running process sees of itself and its node: `self`, sending, spawning, links, monitors, exit
/// signals, names and timers, all acting on behalf of this process.
///
/// A `ProcessContext` is handed to every `ProcessBehavior` callback. It is a plain value (a node pointer and
/// a pid) and is valid only during the callback: do not store it, and do not use it from another thread.
///
/// Thread: loop thread only (not `Sendable`). Errors: as documented on each `Node` method it forwards to.
public struct ProcessContext<Message> {
    @usableFromInline
    unowned(unsafe) let node: Node
    /// This process.
    public let pid: PID

    @inlinable
    init(node: Node, pid: PID) {
        self.node = node
        self.pid = pid
    }

    /// This process's typed address (Erlang's `self()`).
    @inlinable
    public var address: Address<Message> { Address(unchecked: pid) }

    /// The node this process runs on. Valid for loop-thread use only.
    @inlinable
    public var currentNode: Node { node }

    /// Runs `body` with the node borrowed, without reference counting. `node` is an `unowned(unsafe)`
    /// reference (a context never outlives its node's loop); reading it as a strong reference costs a
    /// retain/release pair — two atomic operations — at every use, so the message and call paths come here.
    @inlinable @inline(__always)
    func withNode<R, E: Error>(_ body: (Node) throws(E) -> R) throws(E) -> R {
        do {
            return try Unmanaged.passUnretained(node)._withUnsafeGuaranteedRef { try body($0) }
        } catch {
            throw error as! E  // `_withUnsafeGuaranteedRef` rethrows untyped: the error is boxed, on failures only
        }
    }

    // MARK: Sending

    /// Sends `message` to a typed address. A dead target drops the message silently (counted), as in Erlang.
    /// Thread: the process's own turn (on the loop thread by construction: no thread check here).
    /// - Throws: `ProcessError.mailboxFull` when the target's mailbox is at capacity.
    @inlinable @inline(__always)
    public func send<M>(_ message: M, to address: Address<M>) throws(ProcessError) {
        try withNode { node throws(ProcessError) in try node.deliver(message, to: address) }
    }

    /// Sends `message` to the process registered as `name`.
    /// - Throws: `unknownName`, `wrongMessageType`, `mailboxFull`.
    @inlinable
    public func send<M>(_ message: M, to name: String) throws(ProcessError) {
        try withNode { node throws(ProcessError) in try node.send(message, to: name) }
    }

    /// Sends `message` to an untyped pid, checking the message type at run time.
    /// - Throws: `wrongMessageType`, `mailboxFull`. A dead pid drops the message (counted).
    @inlinable
    public func send<M>(_ message: M, to pid: PID) throws(ProcessError) {
        try withNode { node throws(ProcessError) in try node.send(message, to: pid) }
    }

    // MARK: Spawning

    /// Spawns a process (Erlang's `spawn`).
    public func spawn<B: ProcessBehavior>(_ behavior: B, options: SpawnOptions = .init()) throws(ProcessError)
        -> Address<B.Message>
    {
        try node.spawn(behavior, options: options)
    }

    /// Spawns a process linked to this one, atomically (Erlang's `spawn_link`).
    public func spawnLink<B: ProcessBehavior>(_ behavior: B, options: SpawnOptions = .init()) throws(ProcessError)
        -> Address<B.Message>
    {
        try node.spawn(behavior, options: options, linkedTo: pid).address
    }

    /// Spawns a process and monitors it, atomically (Erlang's `spawn_monitor`).
    public func spawnMonitor<B: ProcessBehavior>(_ behavior: B, options: SpawnOptions = .init()) throws(ProcessError)
        -> (address: Address<B.Message>, monitor: Ref)
    {
        let spawned = try node.spawn(behavior, options: options, monitoredBy: pid)
        return (spawned.address, spawned.monitor!)
    }

    // MARK: Links, exits, monitors

    /// Links this process with `other` (Erlang's `link/1`). Linking to a process that does not exist sends
    /// this process an exit signal with reason `noproc`.
    public func link(_ other: PID) { node.link(pid, other) }

    /// Removes the link with `other`, in both directions. No-op when there is none.
    public func unlink(_ other: PID) { node.unlink(pid, other) }

    /// Whether exit signals arrive as `Envelope.exit` messages instead of killing this process.
    /// Returns the previous value (Erlang's `process_flag(trap_exit, _)`).
    @discardableResult
    public func trapExits(_ enabled: Bool) -> Bool { node.setTrapExits(pid, enabled) }

    /// Sends an exit signal to `target` from this process (Erlang's `exit/2`).
    public func exit(_ target: PID, reason: ExitReason) { node.exit(target, reason: reason, from: pid) }

    /// Monitors `target`: a `DOWN` arrives when it exits (at once with `noproc` when it is not alive).
    public func monitor(_ target: PID) -> Ref { node.monitor(target, by: pid) }

    /// Removes a monitor this process holds; with `flush`, also removes its queued `DOWN`.
    /// Returns whether the monitor was still active.
    @discardableResult
    public func demonitor(_ monitor: Ref, flush: Bool = false) -> Bool {
        node.demonitor(monitor, by: pid, flush: flush)
    }

    // MARK: Names

    /// Registers this process as `name`. Throws `nameTaken` or `alreadyRegistered`.
    public func register(_ name: String) throws(ProcessError) { try node.register(name, pid) }

    /// Removes this process's registered name, if any.
    public func unregister() {
        if let name = node.registeredName(of: pid) { try? node.unregister(name) }
    }

    // MARK: Timers

    /// Delivers `message` to `address` after `timeout` (Erlang's `send_after`).
    /// Throws `invalidTimeout` for a negative or infinite timeout.
    @discardableResult
    public func sendAfter<M>(_ timeout: Timeout, _ message: M, to address: Address<M>) throws(ProcessError)
        -> TimerRef
    {
        try node.sendAfter(timeout, message, to: address)
    }

    /// Delivers `message` to this process after `timeout`.
    @discardableResult
    public func sendAfter(_ timeout: Timeout, _ message: Message) throws(ProcessError) -> TimerRef {
        try node.sendAfter(timeout, message, to: address)
    }
}

// MARK: Timeouts as a Swift `Duration` (rounded up to whole milliseconds; disfavoured, so a literal
// such as `.seconds(2)` stays a `Timeout`)

extension ProcessContext {
    /// `sendAfter(_:_:to:)` after `duration`.
    @discardableResult @_disfavoredOverload
    public func sendAfter<M>(_ duration: Duration, _ message: M, to address: Address<M>) throws(ProcessError)
        -> TimerRef
    {
        try sendAfter(Timeout(duration), message, to: address)
    }

    /// `sendAfter(_:_:)` to this process after `duration`.
    @discardableResult @_disfavoredOverload
    public func sendAfter(_ duration: Duration, _ message: Message) throws(ProcessError) -> TimerRef {
        try sendAfter(Timeout(duration), message)
    }
}
