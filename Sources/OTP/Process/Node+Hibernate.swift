/// Hibernation: giving back memory a waiting process does not need.
extension Node {
    /// Frees the mailbox buffer of `pid` if no message is queued; the next message allocates a small one
    /// again. Used by `Action.hibernate`. Thread: loop thread only.
    public func hibernate(_ pid: PID) {
        preconditionInLoop()
        core(pid)?.compactMailbox()
    }
}
