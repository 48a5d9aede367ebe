/// A key of a `Registry` used as a process name (Erlang's `{via, Module, Name}`, Elixir's
/// `{:via, Registry, {registry, key}}`): start a process under it, then reach it by it. Made by
/// `Registry.via(_:value:)`; the value is what a process started under the name registers with (a name
/// used only to reach a process ignores it).
///
/// Thread: a plain value, `Sendable`. Two names are equal when they name one key of one registry.
/// Cost: one allocation to make; resolving it is a registry lookup (the lock and one hash lookup).
public struct ViaName: Hashable, Sendable, CustomStringConvertible {
    let key: RegistryKeyBox

    init(_ key: RegistryKeyBox) { self.key = key }

    /// The process registered under the key now, if any.
    public var pid: PID? { key.whereis() }

    /// `registry["key"]`: the registry's name and the key (escaped where it reaches a log).
    public var description: String { key.description }

    public static func == (lhs: ViaName, rhs: ViaName) -> Bool { lhs.key.names(rhs.key) }
    public func hash(into hasher: inout Hasher) { key.hash(into: &hasher) }
}

/// The registry and key behind a `ViaName`, with its type erased so that `SpawnOptions`, `StartOptions`
/// and `ServerRef` stay non-generic over keys.
class RegistryKeyBox: @unchecked Sendable, CustomStringConvertible {
    func whereis() -> PID? { fatalError("abstract") }
    /// Registers `pid`, about to be spawned, under the key (its exit removes it). Thread: `pid`'s loop.
    func claim(for pid: PID) throws(ProcessError) { fatalError("abstract") }
    /// The registry, for the new process's exit.
    var membership: any RegistryMembership { fatalError("abstract") }
    func names(_ other: RegistryKeyBox) -> Bool { fatalError("abstract") }
    func hash(into hasher: inout Hasher) { fatalError("abstract") }
    var description: String { fatalError("abstract") }
}

final class RegistryKey<Key: Hashable & Sendable, Value: Sendable>: RegistryKeyBox, @unchecked Sendable {
    let registry: Registry<Key, Value>
    let key: Key
    /// What a process started under the name registers with; `nil` for a name only looked up
    /// (`ServerRef.via(_:_:)`), which cannot be started under.
    let value: Value?

    init(_ registry: Registry<Key, Value>, _ key: Key, _ value: Value?) {
        self.registry = registry
        self.key = key
        self.value = value
    }

    override func whereis() -> PID? { registry.whereis(key) }

    override func claim(for pid: PID) throws(ProcessError) {
        guard let value else {
            throw .invalidName(description, reason: "a name to start under carries its entry's value: "
                               + "use Registry.via(_:value:)")
        }
        try registry.insert(key, value: value, pid: pid)
    }

    override var membership: any RegistryMembership { registry }

    override func names(_ other: RegistryKeyBox) -> Bool {
        guard let other = other as? RegistryKey<Key, Value> else { return false }
        return other.registry === registry && other.key == key
    }

    override func hash(into hasher: inout Hasher) {
        hasher.combine(ObjectIdentifier(registry))
        hasher.combine(key)
    }

    override var description: String { registry.describe(key) }
}
