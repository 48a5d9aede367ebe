#if canImport(Glibc)
import Glibc
#endif

/// A key-to-process registry, with the semantics of Elixir's `Registry`: processes register themselves
/// under keys of any `Hashable & Sendable` type, with a value of their own per entry; an entry goes away
/// when its process exits. Keys are `unique` (one process per key: the per-user, per-session, per-device
/// process) or `duplicate` (any number of processes per key: local pub/sub, dispatch).
///
/// A registry names processes everywhere a registered name does, through a `ViaName` (`via(_:value:)`):
/// start a server under a key (`StartOptions.via`, `ChildSpec.server(…, via:)`), then call, cast, send to,
/// monitor and stop it by that key (`ServerRef.via(_:_:)`); a key held already fails the start with
/// `StartError.alreadyStarted(holder)`, which makes get-or-start one race-free call
/// (`Node.findOrStartChild`).
///
/// One registry serves every loop of a `NodeGroup` (and any node of the OS process): a process registers
/// from its own loop, and any thread may look keys up. Entries of a process are removed on its loop when it
/// exits, before its links and monitors fire, so a `DOWN` handler that looks the key up finds it free.
///
/// Thread: any. Every operation takes one `pthread_mutex_t` for its table work (never while user code runs).
/// Cost: a lookup or registration is the lock and one hash lookup (an uncontended lock is two atomic
/// operations, ~20 ns; a lookup from another loop of a group costs the same, plus the cache misses of a
/// table another core wrote last). Queries that scan (`select`, `count()`) are O(entries).
/// Errors: `ProcessError.nameTaken` (naming the key and its holder) for a unique key held by another
/// process.
public final class Registry<Key: Hashable & Sendable, Value: Sendable>: @unchecked Sendable,
    CustomStringConvertible
{
    /// Whether a key names at most one process, or any number.
    public enum Keys: Sendable, Equatable {
        /// One process per key (Elixir's `keys: :unique`): registration fails while another holds it.
        case unique
        /// Any number of processes per key, a process even several times (`keys: :duplicate`).
        case duplicate
    }

    /// One registration: the process and the value it registered with.
    public struct Entry: Sendable {
        public let pid: PID
        public let value: Value
    }

    /// Unique or duplicate keys.
    public let keys: Keys
    /// Names the registry in errors, logs and `ViaName`s (`sessions["alice"]`).
    public let name: String

    private var mutex = pthread_mutex_t()
    private var unique: [Key: Entry] = [:]
    private var duplicate: [Key: [Entry]] = [:]
    /// The keys each process registered under (a key once per registration): for its exit and `keys(of:)`.
    private var byProcess: [PID: [Key]] = [:]
    private var entryCount = 0

    /// An empty registry. `name` shows in errors and logs (escaped there).
    public init(keys: Keys, name: String = "registry") {
        self.keys = keys
        self.name = name
        pthread_mutex_init(&mutex, nil)
    }

    deinit { pthread_mutex_destroy(&mutex) }

    public var description: String { "Registry(\(LogText(name)), \(keys))" }

    private func locked<R>(_ body: () throws(ProcessError) -> R) throws(ProcessError) -> R {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }

    private func locked<R>(_ body: () -> R) -> R {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }

    // MARK: Registering (the calling process)

    /// Registers the calling process under `key` with `value` (Elixir's `Registry.register/3`). In a
    /// duplicate registry a process may register one key several times; each is an entry.
    ///
    /// Thread: the process's own turn. Cost: the lock and two hash insertions.
    /// - Throws: `ProcessError.nameTaken(key, by: holder)` when another process (or this one) holds a unique
    ///   key.
    public func register<M>(_ key: Key, value: Value, for process: ProcessContext<M>) throws(ProcessError) {
        try insert(key, value: value, pid: process.pid)
        process.withNode { $0.joinRegistry(self, pid: process.pid) }
    }

    /// `register(_:value:for:)` from a GenServer handler.
    public func register<S>(_ key: Key, value: Value, for server: ServerContext<S>) throws(ProcessError) {
        try register(key, value: value, for: server.process)
    }

    /// Removes every entry of the calling process under `key` (Elixir's `Registry.unregister/2`). Returns
    /// how many there were. Thread: the process's own turn.
    @discardableResult
    public func unregister<M>(_ key: Key, for process: ProcessContext<M>) -> Int {
        remove(key, pid: process.pid)
    }

    /// `unregister(_:for:)` from a GenServer handler.
    @discardableResult
    public func unregister<S>(_ key: Key, for server: ServerContext<S>) -> Int { unregister(key, for: server.process) }

    /// Replaces the value of the calling process's entries under `key` with `update(old)` (Elixir's
    /// `Registry.update_value/3`, here for either kind of keys). Returns the new value of the last entry
    /// updated, `nil` when the process holds no entry under `key`. `update` runs under the registry's lock:
    /// it must not use the registry. Thread: the process's own turn.
    @discardableResult
    public func updateValue<M>(_ key: Key, for process: ProcessContext<M>, _ update: (Value) -> Value) -> Value? {
        let pid = process.pid
        return locked {
            switch keys {
            case .unique:
                guard let entry = unique[key], entry.pid == pid else { return nil }
                let new = update(entry.value)
                unique[key] = Entry(pid: pid, value: new)
                return new
            case .duplicate:
                guard var list = duplicate[key] else { return nil }
                var last: Value?
                for i in list.indices where list[i].pid == pid {
                    list[i] = Entry(pid: pid, value: update(list[i].value))
                    last = list[i].value
                }
                duplicate[key] = list
                return last
            }
        }
    }

    // MARK: Looking up (any thread)

    /// The entries under `key` (Elixir's `Registry.lookup/2`): at most one for unique keys; in registration
    /// order for duplicate keys. Cost: the lock, one hash lookup, a copy of the entries.
    public func lookup(_ key: Key) -> [Entry] {
        locked {
            switch keys {
            case .unique: return unique[key].map { [$0] } ?? []
            case .duplicate: return duplicate[key] ?? []
            }
        }
    }

    /// The process under `key`, or `nil` (for duplicate keys, the earliest registered). Cost: the lock and
    /// one hash lookup; no allocation.
    public func whereis(_ key: Key) -> PID? {
        locked {
            switch keys {
            case .unique: return unique[key]?.pid
            case .duplicate: return duplicate[key]?.first?.pid
            }
        }
    }

    /// The value `pid` registered under `key`, or `nil` (the first of its entries there, for duplicate keys).
    public func value(forKey key: Key, of pid: PID) -> Value? {
        locked {
            switch keys {
            case .unique: return unique[key].flatMap { $0.pid == pid ? $0.value : nil }
            case .duplicate: return duplicate[key]?.first(where: { $0.pid == pid })?.value
            }
        }
    }

    /// The keys `pid` is registered under, in registration order (Elixir's `Registry.keys/2`); a key
    /// registered twice shows twice.
    public func keys(of pid: PID) -> [Key] { locked { byProcess[pid] ?? [] } }

    /// How many entries the registry holds (Elixir's `Registry.count/1`). Cost: O(1).
    public var count: Int { locked { entryCount } }

    /// How many entries are under `key`. Cost: the lock and one hash lookup.
    public func count(_ key: Key) -> Int {
        locked {
            switch keys {
            case .unique: return unique[key] == nil ? 0 : 1
            case .duplicate: return duplicate[key]?.count ?? 0
            }
        }
    }

    /// The entries under `key` whose value satisfies `predicate` (Elixir's `Registry.match/3`), in
    /// registration order. `predicate` runs after the lock is released: it may use the registry.
    public func match(_ key: Key, where predicate: (Value) throws -> Bool) rethrows -> [Entry] {
        try lookup(key).filter { try predicate($0.value) }
    }

    /// Every entry, with its key, that satisfies `predicate` (Elixir's `Registry.select/2`). Cost: a copy of
    /// the whole table, O(entries), then `predicate` on each outside the lock.
    public func select(where predicate: (Key, Entry) throws -> Bool) rethrows -> [(key: Key, entry: Entry)] {
        let all: [(key: Key, entry: Entry)] = locked {
            var all: [(key: Key, entry: Entry)] = []
            all.reserveCapacity(entryCount)
            switch keys {
            case .unique: for (key, entry) in unique { all.append((key, entry)) }
            case .duplicate: for (key, list) in duplicate { for entry in list { all.append((key, entry)) } }
            }
            return all
        }
        return try all.filter { try predicate($0.key, $0.entry) }
    }

    /// Every key with at least one entry. Cost: O(keys).
    public func allKeys() -> [Key] {
        locked {
            switch keys {
            case .unique: return Array(unique.keys)
            case .duplicate: return Array(duplicate.keys)
            }
        }
    }

    /// Runs `body` with the entries under `key` when there are any (Elixir's `Registry.dispatch/3`),
    /// after the lock is released. Returns how many entries `body` was given.
    @discardableResult
    public func dispatch(_ key: Key, _ body: ([Entry]) throws -> Void) rethrows -> Int {
        let entries = lookup(key)
        if !entries.isEmpty { try body(entries) }
        return entries.count
    }

    // MARK: Local pub/sub

    /// Sends `message` to every process registered under `key` (Phoenix.PubSub's local broadcast over a
    /// duplicate registry), in registration order, from `sender`. A process registered twice gets it twice,
    /// as in Elixir. Nothing is dropped silently: each refusal (a process that accepts another message type,
    /// a full mailbox) is in the outcome.
    ///
    /// Thread: `sender`'s turn. Cost: one lookup, then one send per entry.
    @discardableResult
    public func publish<Message, M>(_ message: Message, to key: Key, from sender: ProcessContext<M>) -> Publication {
        var publication = Publication()
        for entry in lookup(key) {
            do {
                try sender.send(message, to: entry.pid)
                publication.delivered += 1
            } catch {
                publication.refused.append((entry.pid, error))
            }
        }
        return publication
    }

    /// `publish(_:to:from:)` from a GenServer handler.
    @discardableResult
    public func publish<Message, S>(_ message: Message, to key: Key, from server: ServerContext<S>) -> Publication {
        publish(message, to: key, from: server.process)
    }

    // MARK: Names

    /// The name of `key` in this registry, to start a process under (`StartOptions.via`,
    /// `SpawnOptions.via`, `ChildSpec.server(…, via:)`) with `value` as its entry's value, and to reach it
    /// by (`ServerRef.via`). Cost: one allocation.
    public func via(_ key: Key, value: Value) -> ViaName { ViaName(RegistryKey(self, key, value)) }

    // MARK: The runtime's side

    /// Adds an entry for `pid`. Thread: any (the process's loop).
    func insert(_ key: Key, value: Value, pid: PID) throws(ProcessError) {
        try locked { () throws(ProcessError) in
            switch keys {
            case .unique:
                if let holder = unique[key] { throw .nameTaken(describe(key), by: holder.pid) }
                unique[key] = Entry(pid: pid, value: value)
            case .duplicate:
                duplicate[key, default: []].append(Entry(pid: pid, value: value))
            }
            byProcess[pid, default: []].append(key)
            entryCount += 1
        }
    }

    /// Removes the entries of `pid` under `key`; returns how many.
    func remove(_ key: Key, pid: PID) -> Int {
        locked {
            guard var held = byProcess[pid] else { return 0 }
            held.removeAll { $0 == key }
            byProcess[pid] = held.isEmpty ? nil : held
            return removeEntries(key, of: pid)
        }
    }

    /// Removes every entry of `pid`, which exited. Thread: its loop, in its exit.
    func processExited(_ pid: PID) {
        locked {
            guard let held = byProcess.removeValue(forKey: pid) else { return }
            for key in held { _ = removeEntries(key, of: pid) }
        }
    }

    /// Under the lock: the table part of a removal.
    private func removeEntries(_ key: Key, of pid: PID) -> Int {
        switch keys {
        case .unique:
            guard unique[key]?.pid == pid else { return 0 }
            unique[key] = nil
            entryCount -= 1
            return 1
        case .duplicate:
            guard var list = duplicate[key] else { return 0 }
            let before = list.count
            list.removeAll { $0.pid == pid }
            let removed = before - list.count
            duplicate[key] = list.isEmpty ? nil : list
            entryCount -= removed
            return removed
        }
    }

    /// How `key` shows in errors and `ViaName`s: `sessions["alice"]`.
    func describe(_ key: Key) -> String { "\(name)[\(String(reflecting: key))]" }
}

extension Registry where Value == Void {
    /// Registers the calling process under `key`, with no value.
    public func register<M>(_ key: Key, for process: ProcessContext<M>) throws(ProcessError) {
        try register(key, value: (), for: process)
    }

    /// Registers the calling server under `key`, with no value.
    public func register<S>(_ key: Key, for server: ServerContext<S>) throws(ProcessError) {
        try register(key, value: (), for: server.process)
    }

    /// The name of `key` in this registry (`via(_:value:)` with no value).
    public func via(_ key: Key) -> ViaName { via(key, value: ()) }
}

/// What `Registry.publish` did: how many processes got the message, and who refused it and why.
public struct Publication: Sendable {
    public var delivered = 0
    public var refused: [(pid: PID, error: ProcessError)] = []
}

/// A registry's side of a process's exit: the process keeps the registries it registered in, and each
/// removes its entries when it exits.
protocol RegistryMembership: AnyObject, Sendable {
    func processExited(_ pid: PID)
}

extension Registry: RegistryMembership {}
