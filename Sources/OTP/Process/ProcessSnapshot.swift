/// A snapshot of one process (Erlang's `process_info/1`).
public struct ProcessSnapshot: Sendable, Equatable {
    public let pid: PID
    public let registeredName: String?
    public let status: ProcessStatus
    /// Messages queued now (including DOWN and EXIT messages).
    public let mailboxLength: Int
    public let mailboxCapacity: Int
    public let links: [PID]
    /// Monitors this process holds.
    public let monitors: [Ref]
    /// Monitors others hold on this process.
    public let monitoredBy: [Ref]
    public let trapExits: Bool
    public let messagesReceived: UInt64
    public let messagesSent: UInt64
    /// The message type the process accepts.
    public let messageType: String
    /// Bytes of the process object plus its mailbox buffer and relations record.
    public let memory: Int
}

/// Introspection.
extension Node {
    /// Whether `pid` is alive (an exiting process counts as alive until its exit completes).
    /// Thread: loop thread only.
    public func isAlive(_ pid: PID) -> Bool {
        preconditionInLoop()
        return core(pid) != nil
    }

    /// Every live process, in table order. Thread: loop thread only.
    public func processes() -> [PID] {
        preconditionInLoop()
        return table.pids()
    }

    /// A snapshot of `pid`, or `nil` when it is not alive. Thread: loop thread only.
    public func processInfo(_ pid: PID) -> ProcessSnapshot? {
        preconditionInLoop()
        guard let process = core(pid) else { return nil }
        let extras = process.extras
        return ProcessSnapshot(
            pid: pid,
            registeredName: extras?.name,
            status: process.status,
            mailboxLength: process.mailboxCount,
            mailboxCapacity: process.mailboxCapacity,
            links: extras?.links.sorted() ?? [],
            monitors: monitors.refs(from: process.watchingHead, byWatcher: true).filter { !monitors.isParked($0) },
            monitoredBy: monitors.refs(from: process.watchedByHead, byWatcher: false),
            trapExits: process.trapExits,
            messagesReceived: process.received,
            messagesSent: process.sent,
            messageType: process.messageTypeName,
            memory: memoryEstimate(process)
        )
    }
}
