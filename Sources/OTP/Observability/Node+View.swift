#if canImport(Glibc)
import Glibc
#endif
import CLibUV

/// The live view: a node serves snapshots on a Unix socket that `otp-top` reads.
extension Node {
    /// Serves this node's view (`ViewProtocol`) on a Unix socket at `path`, for `otp-top`. Without a path
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
