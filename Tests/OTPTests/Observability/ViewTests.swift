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

    @Test func theWireFormatRoundTrips() throws {
        let node = Node.deterministic(logger: quietLogger)
        _ = try node.start(Supervisor.self, SupervisorSpec(children: [worker("a", Stage(), name: "tab\there")]))
        try spawnIdler(node)
        let snapshot = node.snapshot()
        var expected = snapshot
        expected.processes = expected.processes.map { var row = $0; row.name = row.name?.replacingOccurrences(of: "\t", with: " "); return row }
        #expect(try NodeSnapshot(decoding: snapshot.encoded()) == expected)
    }

    @Test(arguments: ["", "otp-view 1\n", "otp-view 1\nnode\t1\nend\n", "otp-view 2\nnode\nend\n",
                      "otp-view 1\nnode\t1\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\np\t1\nend\n",
                      "otp-view 1\nnode\t1\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\tx\nend\n",
                      "otp-view 1\nnode\t1\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\n"])
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
}
