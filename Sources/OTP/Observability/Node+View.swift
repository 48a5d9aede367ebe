#if canImport(Glibc)
import Glibc
#endif
import CLibUV

/// The live view: a node serves snapshots on a Unix socket that `otp-top` reads.
extension Node {
    /// Serves this node's view (`ViewProtocol`) on a Unix socket at `path`, for `otp-top`. On a loop of a
    /// `NodeGroup` the view is the whole group's (every loop's processes and load; `NodeGroup.startView`).
    /// Turns on `measuresBusyTime` (on every loop of a group), so the view shows each loop's utilization. Without a path
    /// the socket goes to `$XDG_RUNTIME_DIR/swift-otp/<os pid>.sock`, else `/tmp/swift-otp-<uid>/<os pid>.sock`.
    /// The directory must be private to this user (it is created with mode 0700 when missing); the socket
    /// is mode 0600. Returns the socket's path. The view is read-only and costs nothing until a client asks.
    ///
    /// Bounds (`ViewProtocol`): at most `maximumClients` clients, each closed after `idleTimeout` without a
    /// request or when it leaves more than `maximumUnreadOutput` bytes of answers unread.
    ///
    /// Thread: loop thread only. - Throws: `ViewError` naming the path.
    @discardableResult
    public func startView(at path: String? = nil, idleTimeout: Duration = ViewProtocol.defaultIdleTimeout)
        throws(ViewError) -> String
    {
        preconditionInLoop()
        guard let uv else { throw .needsSystemClock }
        if let server = view.server { throw .alreadyServing(server.path) }
        let path = path ?? "\(ViewProtocol.defaultDirectory)/\(getpid()).sock"
        view.server = try ViewServer(node: self, path: path, loop: uv.loop, idleTimeout: idleTimeout)
        // The view shows each loop's busy time: measure it (on every loop of a group).
        meter.measuring = true
        if let group {
            for index in 0..<group.count where index != loopIndex { group.node(index).execute { $0.meter.measuring = true } }
        }
        return path
    }

    /// The path of the socket the view is served on, if it is.
    public var viewPath: String? {
        preconditionInLoop()
        return view.server?.path
    }

    /// Stops serving the view: closes its connections and removes the socket. Thread: loop thread only.
    public func stopView() {
        preconditionInLoop()
        guard let server = view.server else { return }
        view.server = nil
        server.close()
        view.closing = server
    }

    /// While the loop is not running (`close()`): runs it until the view's handles are freed.
    func finishClosingView() {
        guard let uv, let closing = view.closing else { return }
        while closing.openHandles > 0 { uv_run(uv.loop, UV_RUN_NOWAIT) }
        view.closing = nil
    }
}

// MARK: The view of a group

extension Node {
    /// The snapshot the view answers with: this node's, or for a loop of a group the whole group's — each
    /// other loop takes its part on its own thread (a job) and hands it back here. `answer` runs on this
    /// loop's thread, once; a loop that is closed has no part. A loop whose handler holds its thread delays
    /// the answer until it lets go (`otp-top` then says the node is not answering).
    ///
    /// Thread: loop thread only.
    func viewSnapshot(limit: Int, _ answer: @escaping (NodeSnapshot) -> Void) {
        guard let group, group.count > 1 else { return answer(snapshot(limit: limit)) }
        let gathering = SnapshotGathering(expected: group.count, limit: limit, answer)
        gathering.add(snapshot(limit: limit), of: loopIndex)
        let home = Unmanaged.passUnretained(self)
        for index in 0..<group.count where index != loopIndex {
            let posted = group.node(index).execute { node in
                let part = node.snapshot(limit: limit)
                // This loop outlives the job: the group keeps its loops until every thread has ended.
                _ = home.takeUnretainedValue().execute { _ in gathering.add(part, of: index) }
            }
            if !posted { gathering.add(nil, of: index) }
        }
    }
}

/// The parts of a group's snapshot as they come back to the loop that asked (`Node.viewSnapshot`).
///
/// Thread: only the asking loop's (its jobs carry the parts there), hence unchecked `Sendable`.
final class SnapshotGathering: @unchecked Sendable {
    private var parts: [(loop: Int, snapshot: NodeSnapshot)] = []
    private var remaining: Int
    private let limit: Int
    private let answer: (NodeSnapshot) -> Void

    init(expected: Int, limit: Int, _ answer: @escaping (NodeSnapshot) -> Void) {
        remaining = expected
        self.limit = limit
        self.answer = answer
    }

    /// Loop `loop`'s part, or nil when that loop is closed.
    func add(_ part: NodeSnapshot?, of loop: Int) {
        if let part { parts.append((loop, part)) }
        remaining -= 1
        if remaining == 0 { answer(NodeSnapshot.merging(parts, limit: limit)) }
    }
}
