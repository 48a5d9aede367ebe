/// The node's side of `Registry`: a process remembers the registries it registered in, and a spawn under a
/// `ViaName` registers the new process before it exists anywhere else.
extension Node {
    /// Registers the process about to be spawned (the pid the next table insert gives) under `via`; nothing
    /// between this and the insert can fail. Thread: loop thread only.
    /// - Throws: `nameTaken` naming the key and its holder.
    @usableFromInline
    func claim(_ via: ViaName) throws(ProcessError) {
        try via.key.claim(for: table.nextPID())
    }

    /// Records that `pid` has entries in `registry`, which removes them when it exits. Thread: `pid`'s loop.
    func joinRegistry(_ registry: any RegistryMembership, pid: PID) {
        guard let process = core(pid) else { return registry.processExited(pid) }  // gone already
        let extras = process.relations
        if !extras.registries.contains(where: { $0 === registry }) { extras.registries.append(registry) }
    }
}
