import OTP

/// A value in the key-value store.
public enum StoreValue: Sendable, Equatable, CustomStringConvertible {
    case text(String)
    case number(Int)

    public var description: String {
        switch self {
        case .text(let text): return "\"\(text)\""
        case .number(let number): return "\(number)"
        }
    }
}

/// The tutorial's complete example: a key-value store with a client API that hides the messages.
public struct KeyValueStore: GenServer {
    public enum Call: Sendable {
        case get(String)
        case set(String, StoreValue)
        case getAll
    }
    public enum Cast: Sendable {
        case delete(String)
        case clear
    }
    public enum Reply: Sendable {
        case value(StoreValue?)
        case all([String: StoreValue])
    }

    public var data: [String: StoreValue] = [:]

    public init() {}

    public mutating func handleCall(_ request: Call, from caller: Caller<Reply>, _ server: ServerContext<Self>)
        throws -> ServerResult<Self>
    {
        switch request {
        case .get(let key):
            return .reply(.value(data[key]))
        case .set(let key, let value):
            let old = data[key]
            data[key] = value
            return .reply(.value(old))
        case .getAll:
            return .reply(.all(data))
        }
    }

    public mutating func handleCast(_ message: Cast, _ server: ServerContext<Self>) throws -> ServerResult<Self> {
        switch message {
        case .delete(let key): data[key] = nil
        case .clear: data = [:]
        }
        return .noReply
    }

    // MARK: Client API

    public static let defaultName = "kv_store"

    /// Starts the store under `name`.
    @discardableResult
    public static func start(on node: Node, name: String = defaultName) throws -> ServerRef<KeyValueStore> {
        try node.start(KeyValueStore(), options: StartOptions(name: name))
    }

    public static func get(_ key: String, on node: Node, server: String = defaultName) throws -> StoreValue? {
        guard case .value(let value) = try node.call(ServerRef<KeyValueStore>.named(server), .get(key)) else { return nil }
        return value
    }

    /// Sets `key`; returns the previous value.
    @discardableResult
    public static func set(_ key: String, _ value: StoreValue, on node: Node, server: String = defaultName) throws
        -> StoreValue?
    {
        guard case .value(let old) = try node.call(ServerRef<KeyValueStore>.named(server), .set(key, value)) else { return nil }
        return old
    }

    public static func delete(_ key: String, on node: Node, server: String = defaultName) {
        node.cast(ServerRef<KeyValueStore>.named(server), .delete(key))
    }

    public static func getAll(on node: Node, server: String = defaultName) throws -> [String: StoreValue] {
        guard case .all(let data) = try node.call(ServerRef<KeyValueStore>.named(server), .getAll) else { return [:] }
        return data
    }

    /// A dictionary printed as a Swift literal with sorted keys, so the output is the same on every run.
    public static func format(_ data: [String: StoreValue]) -> String {
        "[" + data.keys.sorted().map { "\"\($0)\": \(data[$0]!)" }.joined(separator: ", ") + "]"
    }
}

enum KeyValueStoreExample {
    static func run(_ node: Node, _ print: (String) -> Void) throws {
        let store = try KeyValueStore.start(on: node)
        try KeyValueStore.set("name", .text("Alice"), on: node)
        try KeyValueStore.set("age", .number(30), on: node)
        let name = try KeyValueStore.get("name", on: node)
        print("Name: \(name.map { if case .text(let t) = $0 { return t } else { return "\($0)" } } ?? "nil")")
        print("All data: \(KeyValueStore.format(try KeyValueStore.getAll(on: node)))")
        KeyValueStore.delete("age", on: node)
        print("After delete: \(KeyValueStore.format(try KeyValueStore.getAll(on: node)))")
        try node.stop(store)
    }
}
