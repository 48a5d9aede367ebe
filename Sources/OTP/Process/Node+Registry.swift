/// Registered names. As in Erlang, a process holds at most one name, a name names at most one process, and
/// a name is released when its process exits.
extension Node {
    /// The longest name that can be registered (Erlang's atom limit).
    public static let maximumNameLength = 255

    /// Why `name` cannot be registered, or `nil`: a name is 1 to 255 characters, none of them a control or
    /// invisible character (names reach logs, crash reports and otp-top; Erlang's are atoms, as bounded).
    static func problem(withName name: String) -> String? {
        guard !name.isEmpty else { return "a name is not empty" }
        var count = 0
        for scalar in name.unicodeScalars {
            count += 1
            guard count <= maximumNameLength else { return "longer than \(maximumNameLength) characters" }
            guard LogText.isPlain(scalar) || scalar == "\\" else { return "holds a control or invisible character" }
        }
        return nil
    }

    /// Registers `pid` as `name`. Thread: loop thread only.
    /// - Throws: `invalidName` (empty, over 255 characters, control characters), `nameTaken` (naming the
    ///   holder), `noProcess` for a dead pid, `alreadyRegistered` when `pid` has a name already.
    public func register(_ name: String, _ pid: PID) throws(ProcessError) {
        preconditionInLoop()
        if let problem = Node.problem(withName: name) { throw .invalidName(name, reason: problem) }
        if let group, isSibling(pid) {
            // The process lives on another loop: the name is taken here and recorded there (or released
            // there, when the process is gone or has a name already).
            if let holder = group.names.claim(name, for: pid) { throw .nameTaken(name, by: holder) }
            return nameSibling(pid, name, register: true)
        }
        if group == nil, let holder = registry[name] { throw .nameTaken(name, by: holder) }
        guard let process = core(pid), process.status != .stopping else { throw .noProcess(pid) }
        if let existing = process.extras?.name { throw .alreadyRegistered(pid, as: existing) }
        if let holder = group?.names.claim(name, for: pid) { throw .nameTaken(name, by: holder) }
        registry[name] = pid
        process.relations.name = name
        instrumentName(name, of: process)
    }

    /// Removes `name`. Throws `unknownName` when it is not registered. Thread: loop thread only.
    public func unregister(_ name: String) throws(ProcessError) {
        preconditionInLoop()
        if let group {
            guard let pid = group.names.remove(name) else { throw .unknownName(name) }
            if isSibling(pid) { return nameSibling(pid, name, register: false) }
            registry[name] = nil
            core(pid)?.extras?.name = nil
            core(pid)?.extras?.instruments = nil
            return
        }
        guard let pid = registry.removeValue(forKey: name) else { throw .unknownName(name) }
        core(pid)?.extras?.name = nil
        core(pid)?.extras?.instruments = nil
    }

    @usableFromInline
    func registeredPID(_ name: String) -> PID? { group.map { $0.names[name] } ?? registry[name] }

    /// The pid registered as `name`, if any. Thread: loop thread only.
    public func whereis(_ name: String) -> PID? {
        preconditionInLoop()
        return registeredPID(name)
    }

    /// The typed address registered as `name`, if any.
    /// - Throws: `wrongMessageType` when that process accepts another message type.
    public func whereis<M>(_ name: String, as type: M.Type) throws(ProcessError) -> Address<M>? {
        guard let pid = whereis(name) else { return nil }
        return try typedAddress(pid, as: type)
    }

    /// Every registered name, sorted. Thread: loop thread only.
    public func registered() -> [String] {
        preconditionInLoop()
        return group?.names.all() ?? registry.keys.sorted()
    }

    /// The name `pid` is registered under, if any.
    public func registeredName(of pid: PID) -> String? {
        preconditionInLoop()
        return core(pid)?.extras?.name
    }
}
