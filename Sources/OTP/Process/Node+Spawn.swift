/// Spawning processes.
extension Node {
    /// Spawns a process running `behavior` (Erlang's `spawn`). It runs `start` on its first turn.
    ///
    /// Thread: loop thread only. Cost: one allocation (the process object; the mailbox buffer comes with the
    /// first message). Errors: `invalidCapacity` for a capacity below 1; with `options.name`, `nameTaken` or
    /// `invalidName` (nothing is spawned then); `nodeStopped` on a closed node.
    @inlinable
    @discardableResult
    public func spawn<B: ProcessBehavior>(_ behavior: consuming B, options: SpawnOptions = .init()) throws(ProcessError)
        -> Address<B.Message>
    {
        try spawn(behavior, options: options, linkedTo: nil, monitoredBy: nil).address
    }

    /// Spawns a process whose code is a closure returning its first `Step` (see `Receive`).
    @inlinable
    @discardableResult
    public func spawn<Message>(
        of type: Message.Type = Message.self,
        options: SpawnOptions = .init(),
        _ body: @escaping (ProcessContext<Message>) throws -> Step<Message>
    ) throws(ProcessError) -> Address<Message> {
        try spawn(ClosureBehavior(body), options: options)
    }

    /// Spawns a process running `behavior`, moved into the process object, not copied (a copy of a
    /// generic behaviour goes through its value witnesses): the builder takes it out of the optional.
    @inlinable
    func spawn<B: ProcessBehavior>(
        _ behavior: consuming B, options: SpawnOptions, linkedTo parent: PID? = nil, monitoredBy watcher: PID? = nil
    ) throws(ProcessError) -> (address: Address<B.Message>, monitor: Ref?) {
        var parcel: B? = consume behavior
        return try spawn(options: options, linkedTo: parent, monitoredBy: watcher) { pid, capacity in
            BehaviorProcess(pid: pid, behavior: parcel.take()!, capacity: capacity)
        }
    }

    /// The one spawn path: checks, table slot, optional name, link and monitor, then the run queue.
    /// `make` builds the process object with its behaviour in place (a subclass of `BehaviorProcess` for a
    /// process that is more than its behaviour, like a GenServer's), once the checks have passed.
    @inlinable
    func spawn<B: ProcessBehavior>(
        options: SpawnOptions, linkedTo parent: PID? = nil, monitoredBy watcher: PID? = nil,
        make: (PID, Int) -> BehaviorProcess<B>
    ) throws(ProcessError) -> (address: Address<B.Message>, monitor: Ref?) {
        preconditionInLoop("spawn")
        guard phase != .closed else { throw .nodeStopped }
        let capacity = options.mailboxCapacity ?? configuration.defaultMailboxCapacity
        guard capacity > 0 else { throw .invalidCapacity(capacity) }
        if let naming = options.naming {
            if let name = naming.name { try checkNameFree(name, via: naming.via) }
            if let via = naming.via, naming.name == nil { try claim(via) }
        }
        let pid = table.insert { pid in make(pid, capacity) }
        return didSpawn(pid, options: options, linkedTo: parent, monitoredBy: watcher)
    }

    /// The type-independent rest of a spawn.
    @usableFromInline
    func didSpawn<Message>(_ pid: PID, options: SpawnOptions, linkedTo parent: PID?, monitoredBy watcher: PID?)
        -> (address: Address<Message>, monitor: Ref?)
    {
        counters.spawned &+= 1
        // Borrowed, not retained (`core(_:)` returns a strong reference: an atomic retain and release per spawn).
        withProcess(pid) { process in
            process.trapExits = options.trapExits
            process.tracesMessages = traces
            if let name = options.naming?.name {
                group?.names.bind(name, to: pid)  // it held a placeholder since `checkNameFree`
                registry[name] = pid
                process.relations.name = name
                instrumentName(name, of: process)
            }
        }
        if let via = options.naming?.via { joinRegistry(via.key.membership, pid: pid) }
        if let parent { link(parent, pid) }
        var ref: Ref?
        if let watcher { ref = monitor(pid, by: watcher) }
        schedule(pid)
        return (Address(unchecked: pid), ref)
    }

    @usableFromInline
    func checkNameFree(_ name: String, via: ViaName? = nil) throws(ProcessError) {
        if let problem = Node.problem(withName: name) { throw .invalidName(name, reason: problem) }
        if let via {
            throw .invalidName(name, reason: "a process takes one name: this one or \(via), not both")
        }
        if let group {
            // Held for the process about to be spawned (nothing between this and `didSpawn` can fail).
            let placeholder = PID(node: number, index: GroupNames.placeholder, serial: 0)
            if let holder = group.names.claim(name, for: placeholder) { throw .nameTaken(name, by: holder) }
            return
        }
        if let holder = registry[name] { throw .nameTaken(name, by: holder) }
    }

    /// The process object of a live pid (not retained beyond the caller's use).
    @usableFromInline
    func core(_ pid: PID) -> ProcessCore? {
        table.withProcess(pid) { $0 }
    }

    /// Runs `body` with the live process `pid`, borrowed (no reference counting); `nil` when it is not alive.
    @inlinable @inline(__always)
    func withProcess<R>(_ pid: PID, _ body: (ProcessCore) throws -> R) rethrows -> R? {
        try table.withProcess(pid, body)
    }
}
