#if canImport(Glibc)
import Glibc
#endif
import OTP

/// A connection to a node's view socket (`Node.startView`): sends `ViewProtocol` requests and reads the
/// snapshots. Blocking I/O on the calling thread (otp-top has nothing else to do).
final class ViewClient {
    let path: String
    private let fd: Int32
    private var buffer: [UInt8] = []
    /// A request was sent and its answer is not complete yet (the node did not answer in time).
    private var outstanding = false

    /// Connects to the socket at `path`. - Throws: `ClientError` with the system's reason.
    init(path: String) throws(ClientError) {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClientError(path: path, reason: String(cString: strerror(errno))) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw ClientError(path: path, reason: "path too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard status == 0 else {
            let code = errno
            close(fd)
            throw ClientError(path: path, reason: String(cString: strerror(code)), notAnswering: false,
                              refused: code == ECONNREFUSED)
        }
        // A node whose loop is held by a long handler answers late: wait at most this long per read.
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// The longest answer read: a snapshot of 10,000 processes is about 1 MiB.
    static let maximumAnswer = 64 << 20

    /// Asks for a snapshot of at most `limit` processes and waits for it (at most 2 s; then the request
    /// stays outstanding and the next call goes on waiting for its answer).
    /// - Throws: `ClientError` when the node closed the connection, answered something else, or (with
    ///   `notAnswering` set) did not answer in time.
    func snapshot(limit: Int) throws(ClientError) -> NodeSnapshot {
        if !outstanding {
            let request = Array(ViewProtocol.request(limit: limit).utf8)
            guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count
            else { throw ClientError(path: path, reason: "the node closed the connection") }
            outstanding = true
        }
        let end = Array("\nend\n".utf8)
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while !(buffer.count >= end.count && buffer.suffix(end.count).elementsEqual(end)) {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                throw ClientError(path: path, reason: "the node is not answering (a handler holds its loop)",
                                  notAnswering: true)
            }
            guard count > 0 else { throw ClientError(path: path, reason: "the node closed the connection") }
            buffer.append(contentsOf: chunk[..<count])
            guard buffer.count <= Self.maximumAnswer else {  // a node's answer is about 100 bytes a process
                throw ClientError(path: path, reason: "the answer is over \(Self.maximumAnswer >> 20) MiB")
            }
            if buffer.starts(with: Array("error".utf8)), buffer.last == UInt8(ascii: "\n") {
                throw ClientError(path: path, reason: String(decoding: buffer, as: UTF8.self))
            }
        }
        let text = String(decoding: buffer, as: UTF8.self)
        buffer.removeAll(keepingCapacity: true)
        outstanding = false
        do {
            return try NodeSnapshot(decoding: text)
        } catch {
            throw ClientError(path: path, reason: error.description)
        }
    }
}

struct ClientError: Error, CustomStringConvertible {
    let path: String
    let reason: String
    var notAnswering = false
    /// Nobody listens on the socket (`ECONNREFUSED`): its node is gone and the socket is stale.
    var refused = false
    var description: String { "cannot read the view at \(path): \(reason)" }
}
