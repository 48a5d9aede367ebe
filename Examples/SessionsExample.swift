import OTP

/// One process per user session, the shape of a session store behind an HTTP API: each session is a
/// GenServer registered under its user id in a `Registry`, started on demand under a dynamic supervisor,
/// and stopped by its own idle timeout (which frees the key).
public struct Session: GenServer {
    public enum Call: Sendable {
        case put(String, String)
        case get(String)
    }
    public typealias Reply = String?

    public struct Argument: Sendable {
        public var user: String
        public var idleTimeout: Timeout
    }

    public var user: String
    public var data: [String: String] = [:]
    public var idleTimeout: Timeout

    public static func initialize(_ argument: Argument, _ server: ServerContext<Session>) throws
        -> Initialization<Session>
    {
        .ok(Session(user: argument.user, idleTimeout: argument.idleTimeout), .timeout(argument.idleTimeout))
    }

    public mutating func handleCall(_ request: Call, from caller: Caller<String?>, _ server: ServerContext<Session>)
        throws -> ServerResult<Session>
    {
        switch request {
        case .put(let key, let value):
            let old = data.updateValue(value, forKey: key)
            return .reply(old, .timeout(idleTimeout))
        case .get(let key):
            return .reply(data[key], .timeout(idleTimeout))
        }
    }

    public mutating func handleInfo(_ message: InfoMessage<Never>, _ server: ServerContext<Session>) throws
        -> ServerResult<Session>
    {
        if case .timeout = message { return .stop(.normal) }  // idle: the session ends, its key is free
        return .noReply(.timeout(idleTimeout))
    }
}

/// The client side: the registry, the supervisor, and get-or-start by user id.
public struct SessionStore: Sendable {
    public let registry = Registry<String, Void>(keys: .unique, name: "sessions")
    public let supervisor: ServerRef<DynamicSupervisor>
    public let idleTimeout: Timeout

    public init(on node: Node, idleTimeout: Timeout) throws {
        supervisor = try node.start(DynamicSupervisor.self, DynamicSupervisorSpec())
        self.idleTimeout = idleTimeout
    }

    /// The session of `user`, started if it has none (one call, race-free).
    public func session(of user: String, on node: Node) throws -> ServerRef<Session> {
        let spec = ChildSpec.server("session", Session.self, Session.Argument(user: user, idleTimeout: idleTimeout),
                                    via: registry.via(user), restart: .temporary)
        return try node.findOrStartChild(supervisor, spec, as: Session.self)
    }
}

enum SessionsExample {
    static func run(_ node: Node, _ print: (String) -> Void) throws {
        let store = try SessionStore(on: node, idleTimeout: .milliseconds(200))
        let alice = try store.session(of: "alice", on: node)
        try node.call(alice, .put("cart", "2 books"))
        let again = try store.session(of: "alice", on: node)
        print("alice's session found again: \(again == alice), cart: \(try node.call(again, .get("cart")) ?? "empty")")
        _ = try store.session(of: "bob", on: node)
        print("sessions: \(store.registry.allKeys().sorted())")
        // Anyone can reach a session by key, without holding its pid.
        let byKey = ServerRef<Session>.via(store.registry, "alice")
        print("by key: \(try node.call(byKey, .get("cart")) ?? "empty")")
        // Idle for longer than the timeout: both sessions end and their keys are free.
        if node.configuration.clock == .manual { node.advance(by: .milliseconds(300)) } else { node.run(for: .milliseconds(300)) }
        let left = store.registry.count
        let fresh = try store.session(of: "alice", on: node)  // a new session: the old one's data went with it
        print("after idling: \(left) sessions, alice's cart: \(try node.call(fresh, .get("cart")) ?? "empty")")
        try node.stop(store.supervisor)
    }
}
