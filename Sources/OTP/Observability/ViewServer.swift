#if canImport(Glibc)
import Glibc
#endif
import CLibUV

/// Why a node's view socket could not be served (`Node.startView(at:)`). Each case names the path.
public enum ViewError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The view is served by the libuv loop: a node on the manual clock has none.
    case needsSystemClock
    /// This node already serves its view at this path.
    case alreadyServing(String)
    /// The socket's directory is not private to this user (missing, not a directory, someone else's, or
    /// open to the group or others): anyone who can enter it could read the node's processes.
    case insecureDirectory(String, reason: String)
    /// The socket could not be created at this path.
    case socket(String, reason: String)

    public var description: String {
        switch self {
        case .needsSystemClock: return "the view needs a node on the system clock (a libuv loop)"
        case .alreadyServing(let path): return "the node already serves its view at \(path)"
        case .insecureDirectory(let path, let reason): return "directory \(path) is not private: \(reason)"
        case .socket(let path, let reason): return "cannot serve the view at \(path): \(reason)"
        }
    }
}

/// A node's read-only view socket: a Unix socket (libuv pipe) on the node's own loop that answers
/// `ViewProtocol` requests with snapshots. Only the node's own user can connect: the socket is mode 0600
/// in a directory of mode 0700 owned by that user, and each connection's peer user id (SO_PEERCRED) is
/// checked as well. Nothing a client sends can change the node.
///
/// Bounded against a client that misbehaves (`ViewProtocol`): at most `maximumClients` at once, each closed
/// when it is idle for `idleTimeout` or leaves `maximumUnreadOutput` bytes of answers unread.
///
/// Thread: loop thread only. Memory: one pipe handle and a timer, plus one handle and a 512-byte read
/// buffer per connection; handles are freed in their close callbacks.
final class ViewServer {
    let path: String
    unowned let node: Node
    private let listener: UnsafeMutablePointer<uv_pipe_t>
    private var connections: [UnsafeMutableRawPointer: ViewConnection] = [:]
    /// Handles whose close callback has not run yet, or that are open (the listener and connections).
    private(set) var openHandles = 0
    private var closed = false
    /// Closes idle clients.
    private let idleTimer: UnsafeMutablePointer<uv_timer_t>
    let idleMillis: UInt64

    init(node: Node, path: String, loop: UnsafeMutablePointer<uv_loop_t>, idleTimeout: Duration) throws(ViewError) {
        self.node = node
        self.path = path
        idleMillis = max(idleTimeout.wholeMilliseconds, 10)
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        try Self.checkPrivate(directory: directory.isEmpty ? "/" : directory)
        try Self.removeStale(path)
        idleTimer = .allocate(capacity: 1)
        uv_timer_init(loop, idleTimer)
        listener = .allocate(capacity: 1)
        uv_pipe_init(loop, listener, 0)
        openHandles = 1
        listener.pointee.data = Unmanaged.passRetained(self).toOpaque()  // released in the close callback
        idleTimer.pointee.data = listener.pointee.data
        openHandles += 1
        let check = max(idleMillis / 4, 5)
        uv_timer_start(idleTimer, { timer in
            Unmanaged<ViewServer>.fromOpaque(timer!.pointee.data).takeUnretainedValue().closeIdle()
        }, check, check)
        uv_unref(otp_uv_handle(idleTimer))
        var status = uv_pipe_bind(listener, path)
        if status == 0 && chmod(path, 0o600) != 0 { status = -errno }
        if status == 0 {
            status = uv_listen(otp_uv_stream(listener), SOMAXCONN) { stream, status in
                guard status == 0, let stream else { return }
                Unmanaged<ViewServer>.fromOpaque(stream.pointee.data).takeUnretainedValue().accept()
            }
        }
        if status != 0 {
            let reason = String(cString: uv_strerror(status))
            close()
            throw .socket(path, reason: reason)
        }
    }

    /// Makes `directory` if it is missing (mode 0700) and checks that it is this user's alone.
    static func checkPrivate(directory: String) throws(ViewError) {
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw .insecureDirectory(directory, reason: String(cString: strerror(errno)))
        }
        var info = stat()
        guard lstat(directory, &info) == 0 else {
            throw .insecureDirectory(directory, reason: String(cString: strerror(errno)))
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw .insecureDirectory(directory, reason: "not a directory") }
        guard info.st_uid == geteuid() else {
            throw .insecureDirectory(directory, reason: "owned by uid \(info.st_uid), not \(geteuid())")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw .insecureDirectory(directory, reason: "mode \(String(info.st_mode & 0o777, radix: 8)), expected 700")
        }
    }

    /// A socket left by an earlier run is removed; any other file is left alone and refused.
    private static func removeStale(_ path: String) throws(ViewError) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else { throw .socket(path, reason: "a file that is not a socket is there") }
        unlink(path)
    }

    private func accept() {
        let client = UnsafeMutablePointer<uv_pipe_t>.allocate(capacity: 1)
        uv_pipe_init(listener.pointee.loop, client, 0)
        openHandles += 1
        let connection = ViewConnection(handle: client, server: self)
        client.pointee.data = Unmanaged.passRetained(connection).toOpaque()  // released in the close callback
        guard uv_accept(otp_uv_stream(listener), otp_uv_stream(client)) == 0 else { return connection.close() }
        var fd: uv_os_fd_t = -1
        uv_fileno(otp_uv_handle(client), &fd)
        let uid = otp_peer_uid(fd)
        guard uid == Int64(geteuid()) else {
            node.configuration.logger.warning("view connection refused: another user",
                                              metadata: ["socket": "\(path)", "peer_uid": "\(uid)"])
            return connection.close()
        }
        guard connections.count < ViewProtocol.maximumClients else { return connection.close() }
        connections[UnsafeMutableRawPointer(client)] = connection
        connection.start()
    }

    /// Answers one request line: at once, or — for the view of a group, whose other loops take their parts on
    /// their own threads — once every loop has answered. `respond` runs once, on the loop thread.
    func answer(_ request: Substring, _ respond: @escaping (String) -> Void) {
        let words = request.split(separator: " ")
        guard words.first == "snapshot", words.count <= 2 else { return respond("error unknown request\n") }
        let limit = words.count == 2 ? Int(words[1]) : 10_000
        guard let limit, limit >= 0 else { return respond("error bad limit\n") }
        node.viewSnapshot(limit: limit) { respond($0.encoded()) }
    }

    var now: UInt64 { uv_now(listener.pointee.loop) }

    /// Closes every client that sent no request for `idleMillis`.
    private func closeIdle() {
        let current = now
        for connection in connections.values where current &- connection.lastRequest >= idleMillis { connection.close() }
    }

    /// Clients connected now.
    var clientCount: Int { connections.count }

    func closed(_ connection: ViewConnection) {
        connections[UnsafeMutableRawPointer(connection.handle)] = nil
        openHandles -= 1
    }

    /// Stops listening, closes every connection and removes the socket file. The handles are freed in
    /// their close callbacks, during the loop's next iteration.
    func close() {
        guard !closed else { return }
        closed = true
        for connection in connections.values { connection.close() }
        uv_timer_stop(idleTimer)
        uv_close(otp_uv_handle(idleTimer)) { handle in
            Unmanaged<ViewServer>.fromOpaque(handle!.pointee.data).takeUnretainedValue().openHandles -= 1
            UnsafeMutableRawPointer(handle)?.deallocate()
        }
        uv_close(otp_uv_handle(listener)) { handle in
            let server = Unmanaged<ViewServer>.fromOpaque(handle!.pointee.data)
            server.takeUnretainedValue().openHandles -= 1
            server.release()
            UnsafeMutableRawPointer(handle)?.deallocate()
        }
        unlink(path)
    }
}

/// One client of a view socket: reads request lines, writes answers. Thread: loop thread only.
final class ViewConnection {
    let handle: UnsafeMutablePointer<uv_pipe_t>
    let server: ViewServer
    private let readBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: 512)
    private var pending: [UInt8] = []
    private var closing = false
    /// A request is being answered (a group's view gathers its loops' parts first): the next line waits, so
    /// answers go out in the order of the requests, one gathering per client at a time.
    private var answering = false
    /// Loop time (ms) of the last request, or of the connection.
    private(set) var lastRequest: UInt64

    init(handle: UnsafeMutablePointer<uv_pipe_t>, server: ViewServer) {
        self.handle = handle
        self.server = server
        lastRequest = server.now
    }

    deinit { readBuffer.deallocate() }

    private static func from(_ handle: UnsafeMutableRawPointer?) -> ViewConnection {
        Unmanaged<ViewConnection>.fromOpaque(handle!.assumingMemoryBound(to: uv_handle_t.self).pointee.data)
            .takeUnretainedValue()
    }

    func start() {
        uv_read_start(otp_uv_stream(handle), { handle, _, buffer in
            let connection = ViewConnection.from(UnsafeMutableRawPointer(handle))
            buffer!.pointee = uv_buf_init(connection.readBuffer, 512)
        }, { stream, count, _ in
            let connection = ViewConnection.from(UnsafeMutableRawPointer(stream))
            guard count >= 0 else { return connection.close() }  // end of stream or error
            connection.received(count)
        })
    }

    private func received(_ count: Int) {
        pending.append(contentsOf: UnsafeRawBufferPointer(start: readBuffer, count: count))
        answerNext()
        // Unanswered bytes are bounded too: a client that pipelines requests while one is being gathered
        // may queue at most `maximumRequest` bytes of them.
        if pending.count > ViewProtocol.maximumRequest { close() }
    }

    /// Answers the queued request lines in order, one at a time.
    private func answerNext() {
        while !answering, !closing, let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
            let line = String(decoding: pending[..<newline], as: UTF8.self)
            pending.removeSubrange(...newline)
            lastRequest = server.now
            // A client that does not read its answers is closed before it costs more than the bound.
            guard uv_stream_get_write_queue_size(otp_uv_stream(handle)) <= ViewProtocol.maximumUnreadOutput else {
                return close()
            }
            answering = true
            server.answer(line[...]) { [self] text in
                answering = false
                write(text)
                answerNext()
            }
        }
    }

    private func write(_ text: String) {
        guard !closing else { return }
        let bytes = Array(text.utf8)
        if bytes.withUnsafeBytes({ writeCopy($0, to: otp_uv_stream(handle)) }) != 0 { close() }
    }

    func close() {
        guard !closing else { return }
        closing = true
        uv_close(otp_uv_handle(handle)) { handle in
            let connection = Unmanaged<ViewConnection>.fromOpaque(handle!.pointee.data)
            connection.takeUnretainedValue().server.closed(connection.takeUnretainedValue())
            connection.release()
            UnsafeMutableRawPointer(handle)?.deallocate()
        }
    }
}
