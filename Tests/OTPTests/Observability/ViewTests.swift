import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import OTP

@Suite("Live view")
struct ViewTests {
    @Test func snapshotShowsKindsNamesMailboxesAndTheTree() throws {
        let node = Node.deterministic(logger: quietLogger)
        let sup = try node.start(Supervisor.self, SupervisorSpec(children: [worker("a", Stage(), name: "worker-a")]),
                                 options: StartOptions(name: "top"))
        let idler = try spawnIdler(node, options: SpawnOptions(name: "idler"))
        try node.send(Command.value(1), to: idler)
        try node.send(Command.value(2), to: idler)
        let snapshot = node.snapshot()
        let rows = Dictionary(uniqueKeysWithValues: snapshot.processes.map { ($0.name ?? "-", $0) })
        #expect(rows["top"]?.kind == .supervisor && rows["top"]?.typeName == "Supervisor")
        #expect(rows["top"]?.supervisor == nil)
        #expect(rows["worker-a"]?.kind == .server && rows["worker-a"]?.typeName == "Worker")
        #expect(rows["worker-a"]?.supervisor == sup.pid)
        #expect(rows["idler"]?.kind == .process && rows["idler"]?.typeName == "Command")
        #expect(rows["idler"]?.mailboxLength == 2)
        #expect(rows["idler"]?.handlerTime == 0)  // metrics off: not measured
        #expect(snapshot.statistics == node.statistics && !snapshot.metricsEnabled && snapshot.omitted == 0)
    }

    @Test func aLimitKeepsTheStructureAndTheBusiest() throws {
        let node = Node.deterministic(logger: quietLogger)
        let named = try spawnIdler(node, options: SpawnOptions(name: "named"))
        let quiet = try (0..<5).map { _ in try spawnIdler(node) }
        try node.send(Command.value(1), to: quiet[3])
        let snapshot = node.snapshot(limit: 2)
        #expect(snapshot.processes.map(\.pid) == [named.pid, quiet[3].pid])
        #expect(snapshot.omitted == 4)
    }

    @Test("a snapshot says how long the node has existed, and labels the runtime's own processes system")
    func uptimeAndSystemProcesses() throws {
        let node = Node.deterministic(logger: quietLogger)
        let idler = try spawnIdler(node)
        node.advance(by: 1_500)
        let server = try node.start(Counter.self, 0)  // through a helper the runtime spawns, marks and ends
        node.markSystem(idler.pid)  // as the runtime marks its helpers
        let snapshot = node.snapshot()
        #expect(snapshot.uptime == 1_500)
        #expect(snapshot.processes.count == 2)  // the start's helper is gone
        let rows = Dictionary(uniqueKeysWithValues: snapshot.processes.map { ($0.pid, $0) })
        #expect(rows[idler.pid]?.kind == .system)
        #expect(rows[server.pid!]?.kind == .server)
        #expect(try NodeSnapshot(decoding: snapshot.encoded()) == snapshot)  // the kind and uptime travel
    }

    @Test("the async facade's stand-in caller is a system process")
    func standInIsSystem() async throws {
        let node = startedNode()
        defer { node.finish() }
        let holder = try await node.start(Holder())
        #expect(try await node.call(holder, .get) == 0)
        let kinds = try await node.inspect { node in node.snapshot().processes.map(\.kind) }
        #expect(kinds.filter { $0 == .system }.count == 1)  // the stand-in; the start's helper has exited
    }

    @Test func theWireFormatRoundTrips() throws {
        let node = Node.deterministic(logger: quietLogger)
        _ = try node.start(Supervisor.self, SupervisorSpec(children: [worker("a", Stage(), name: "spaced name")]))
        try spawnIdler(node)
        let snapshot = node.snapshot()
        // Names hold no tab or newline (register refuses them), so every field survives the tab-separated wire.
        #expect(try NodeSnapshot(decoding: snapshot.encoded()) == snapshot)
    }

    static let nodeLine = "node\t1\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\n"

    @Test(arguments: ["", "otp-view 1\n", "otp-view 3\nnode\t1\nend\n", "otp-view 3\nnode\nend\n",
                      "otp-view 3\n\(nodeLine)p\t1\nend\n",
                      "otp-view 3\nnode\t1\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\tx\nend\n",
                      "otp-view 3\n\(nodeLine)",
                      // loop lines: too short, a rate that is not a number, not finite, after a process line
                      "otp-view 3\n\(nodeLine)l\t0\t1\t0\t0\t0\nend\n",
                      "otp-view 3\n\(nodeLine)l\t0\t1\t0\t0\tfast\t1\t0\t0\nend\n",
                      "otp-view 3\n\(nodeLine)l\t0\t1\t0\t0\tinf\t1\t0\t0\nend\n",
                      "otp-view 3\n\(nodeLine)p\t0.1\t-\tprocess\twaiting\t0\t0\t0\t0\t0\t0\t-\tT\nl\t0\t1\t0\t0\t0\t1\t0\t0\nend\n",
                      // a process line of the previous version (no loop field)
                      "otp-view 3\n\(nodeLine)p\t0.1\t-\tprocess\twaiting\t0\t0\t0\t0\t0\t-\tT\nend\n",
                      // a whole, valid answer of the previous version: refused by its header
                      "otp-view 2\n\(nodeLine)end\n"])
    func malformedAnswersAreTypedErrors(_ text: String) {
        #expect(throws: ViewProtocolError.self) { try NodeSnapshot(decoding: text) }
    }

    @Test func theViewNeedsALoopAndAPrivateDirectory() throws {
        let manual = Node.deterministic(logger: quietLogger)
        #expect(throws: ViewError.needsSystemClock) { try manual.startView(at: "/tmp/x.sock") }

        let node = Node(configuration: NodeConfiguration(logger: quietLogger))
        var template = Array("/tmp/otp-view-test-XXXXXX".utf8CString)
        let directory = String(cString: mkdtemp(&template)!)
        defer { rmdir(directory) }
        chmod(directory, 0o755)
        #expect(throws: ViewError.insecureDirectory(directory, reason: "mode 755, expected 700")) {
            try node.startView(at: directory + "/node.sock")
        }
        chmod(directory, 0o700)
        let path = try node.startView(at: directory + "/node.sock")
        var info = stat()
        #expect(stat(path, &info) == 0 && info.st_mode & 0o777 == 0o600)
        #expect(throws: ViewError.alreadyServing(path)) { try node.startView(at: directory + "/other.sock") }
        #expect(node.viewPath == path)
        #expect(node.close() == 0)  // the view's handles are closed with the node
        #expect(stat(path, &info) != 0)  // and its socket removed
    }

    /// A Unix-socket client of a view, for the bounds tests and the group's view.
    final class Client {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        init(_ path: String) throws {
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, byte) in path.utf8.enumerated() where i < raw.count - 1 { raw[i] = byte }
            }
            let status = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard status == 0 else { throw TestFailure(text: "connect \(path): errno \(errno)") }
        }
        deinit { close(fd) }
        @discardableResult
        func send(_ text: String) -> Bool {
            Array(text.utf8).withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } > 0
        }
        /// The first line the view answers, within `timeout`.
        func firstLine(within timeout: Duration) -> String? {
            let deadline = ContinuousClock.now + timeout
            var bytes: [UInt8] = []
            while ContinuousClock.now < deadline {
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 20) > 0 else { continue }
                var byte: UInt8 = 0
                guard recv(fd, &byte, 1, 0) == 1 else { return nil }
                if byte == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
                bytes.append(byte)
            }
            return nil
        }
        /// A whole answer (through its `end` line), within `timeout`.
        func answer(within timeout: Duration) -> String? {
            var text = ""
            while let line = firstLine(within: timeout) {
                text += line + "\n"
                if line == "end" || line.hasPrefix("error") { return text }
            }
            return nil
        }
        /// Reads and drops what arrives until end of file (true) or `timeout` (false).
        func closedByServer(within timeout: Duration) -> Bool {
            let deadline = ContinuousClock.now + timeout
            var buffer = [UInt8](repeating: 0, count: 65536)
            while ContinuousClock.now < deadline {
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 20) > 0 else { continue }
                if buffer.withUnsafeMutableBytes({ recv(fd, $0.baseAddress, $0.count, 0) }) <= 0 { return true }
            }
            return false
        }
    }

    private func viewNode(idleTimeout: Duration) throws -> (Node, String, String) {
        var template = Array("/tmp/otp-view-bounds-XXXXXX".utf8CString)
        let directory = String(cString: mkdtemp(&template)!)
        let node = Node(configuration: NodeConfiguration(logger: quietLogger))
        let path = try node.startView(at: directory + "/node.sock", idleTimeout: idleTimeout)
        node.startLoop()
        return (node, path, directory)
    }

    @Test("The view closes idle clients, clients beyond its limit, and clients that leave answers unread")
    func viewBounds() async throws {
        // Idle: a client that sends nothing is closed after the timeout; the view still answers others.
        let (quick, quickPath, quickDirectory) = try viewNode(idleTimeout: .seconds(1))
        defer { quick.stopLoop(); quick.join(); rmdir(quickDirectory) }
        let idle = try Client(quickPath)
        #expect(idle.closedByServer(within: .seconds(10)))
        let fresh = try Client(quickPath)
        #expect(fresh.send("snapshot 1\n"))
        #expect(fresh.firstLine(within: .seconds(10)) == ViewProtocol.header)

        let (node, path, directory) = try viewNode(idleTimeout: .seconds(600))
        defer { node.stopLoop(); node.join(); rmdir(directory) }
        // Beyond maximumClients: closed at once.
        var clients: [Client] = []
        for _ in 0..<ViewProtocol.maximumClients { clients.append(try Client(path)) }
        try await eventually("all clients accepted") {
            (try? await node.perform { $0.view.server?.clientCount }) == ViewProtocol.maximumClients
        }
        let extra = try Client(path)
        #expect(extra.closedByServer(within: .seconds(5)))
        clients = []
        try await eventually("the clients gone") { (try? await node.perform { $0.view.server?.clientCount }) == 0 }
        // A client that pipelines requests and reads nothing: closed once its unread answers pass the bound.
        let greedy = try Client(path)
        var sent = 0
        while sent < 400_000, greedy.send(String(repeating: "snapshot\n", count: 100)) { sent += 100 }
        try await eventually("the greedy client closed") {
            (try? await node.perform { $0.view.server?.clientCount }) == 0
        }
        #expect(sent < 400_000)
    }
}
