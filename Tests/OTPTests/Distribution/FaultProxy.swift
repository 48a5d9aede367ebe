import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A TCP proxy between a swift-otp node and one Erlang peer, with an EPMD of its own, for fault tests: the
/// node is started with `epmdPort: proxy.epmdPort`, so its lookup of the peer gives the proxy's port; every
/// connection it makes then goes through the proxy, which can pass, stall, drop, delay or cut it.
///
/// All on 127.0.0.1, threads of its own (blocking sockets), everything closed by `stop()` (and `deinit`).
final class FaultProxy: @unchecked Sendable {
    enum Mode: Equatable {
        /// Bytes flow both ways.
        case pass
        /// Nothing is read either way; the connection stays open (a partition: ticks do not arrive).
        case stall
        /// Bytes are read and thrown away both ways (a corrupted stream).
        case drop
        /// Each chunk waits this long before it goes on, in order.
        case delay(milliseconds: Int)
        /// This many more bytes from the node go to the peer, then both sockets are closed (a cut in the
        /// middle of a frame); the mode is `pass` again for the next connection.
        case cutAfter(bytes: Int)
    }

    let epmdPort: UInt16
    let port: UInt16
    private let peerAlive: String
    private let peerPort: UInt16
    private let epmdListener: Int32
    private let listener: Int32
    private let lock = NSLock()
    private var mode = Mode.pass
    private var links: [Link] = []
    private var stopped = false
    private var registrations: [Int32] = []
    private var acceptedCount = 0
    /// Connections accepted so far (the node's calls to the peer).
    var accepted: Int { lock.withLock { acceptedCount } }

    /// Proxies to the peer `peerName` (`alive@host`), once the real EPMD on 4369 knows it (10 s at most).
    init(peerName: String) throws {
        peerAlive = String(peerName.prefix { $0 != "@" })
        var found: UInt16?
        for _ in 0..<200 {
            found = Self.lookUp(peerAlive)
            if found != nil { break }
            usleep(50_000)
        }
        guard let port = found else { throw ProxyError("EPMD does not know \(peerName)") }
        peerPort = port
        (epmdListener, epmdPort) = try Self.listen()
        (listener, self.port) = try Self.listen()
        Thread.detachNewThread { [self] in serveEPMD() }
        Thread.detachNewThread { [self] in serveProxy() }
    }

    deinit { stop() }

    struct ProxyError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    func set(_ mode: Mode) { lock.withLock { self.mode = mode } }

    /// Closes every connection now (a cut between frames, or wherever they are).
    func cut() {
        let current = lock.withLock { links }
        for link in current { link.close() }
    }

    /// Closes everything; the listeners' threads end and close their sockets. Once only: a descriptor
    /// number is never touched after it may have been reused.
    func stop() {
        lock.lock()
        guard !stopped else { return lock.unlock() }
        stopped = true
        let (current, registered) = (links, registrations)
        lock.unlock()
        for link in current { link.close() }
        for fd in registered {
            Glibc.shutdown(fd, Int32(SHUT_RDWR))
            Glibc.close(fd)
        }
        Glibc.shutdown(epmdListener, Int32(SHUT_RDWR))
        Glibc.shutdown(listener, Int32(SHUT_RDWR))
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    // MARK: EPMD

    /// Answers `ALIVE2_REQ` (keeping the registration's socket open) and `PORT_PLEASE2_REQ` (the proxy's
    /// port for the peer's name; "not found" for any other).
    private func serveEPMD() {
        defer { Glibc.close(epmdListener) }  // only once stopped: `stop` never touches a closed descriptor
        while true {
            let client = accept(epmdListener, nil, nil)
            guard client >= 0 else {
                if isStopped { return }
                usleep(1_000)  // EINTR, ECONNABORTED: go on listening
                continue
            }
            guard let request = Self.readRequest(client), let tag = request.first else {
                Glibc.close(client)
                continue
            }
            switch tag {
            case 120:  // ALIVE2_REQ → ALIVE2_X_RESP, result 0, creation 1
                Self.write(client, [118, 0, 0, 0, 0, 1])
                lock.withLock { registrations.append(client) }
            case 122:  // PORT_PLEASE2_REQ
                let name = String(decoding: request.dropFirst(), as: UTF8.self)
                if name == peerAlive {
                    let alive = Array(name.utf8)
                    Self.write(client, [119, 0, UInt8(port >> 8), UInt8(port & 0xFF), 77, 0, 0, 6, 0, 5,
                                        UInt8(alive.count >> 8), UInt8(alive.count & 0xFF)] + alive + [0, 0])
                } else {
                    Self.write(client, [119, 1])
                }
                Glibc.close(client)
            default:
                Glibc.close(client)
            }
        }
    }

    // MARK: Proxy

    private func serveProxy() {
        defer { Glibc.close(listener) }
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else {
                if isStopped { return }
                usleep(1_000)
                continue
            }
            let upstream = Self.connect(peerPort)
            guard upstream >= 0 else {
                Glibc.close(client)
                continue
            }
            let link = Link(node: client, peer: upstream)
            lock.withLock {
                links.append(link)
                acceptedCount += 1
            }
            Thread.detachNewThread { [self] in pump(link, from: client, to: upstream, fromNode: true) }
            Thread.detachNewThread { [self] in pump(link, from: upstream, to: client, fromNode: false) }
        }
    }

    /// The two sockets of one proxied connection; closed once, each descriptor released by the last of
    /// its two pumps.
    final class Link: @unchecked Sendable {
        let node: Int32, peer: Int32
        private let lock = NSLock()
        private var closed = false
        private var running = 2

        init(node: Int32, peer: Int32) { self.node = node; self.peer = peer }

        var isClosed: Bool { lock.withLock { closed } }

        func close() {
            lock.withLock {
                guard !closed else { return }
                closed = true
                Glibc.shutdown(node, Int32(SHUT_RDWR))
                Glibc.shutdown(peer, Int32(SHUT_RDWR))
            }
        }

        func pumpEnded() {
            let last = lock.withLock { running -= 1; return running == 0 }
            if last {
                Glibc.close(node)
                Glibc.close(peer)
            }
        }
    }

    private func pump(_ link: Link, from: Int32, to: Int32, fromNode: Bool) {
        defer { link.pumpEnded() }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while !link.isClosed {
            if lock.withLock({ mode }) == .stall {
                usleep(5_000)
                continue
            }
            // Waits for bytes a little at a time, so a change to `stall` takes effect before the next read.
            var poller = pollfd(fd: from, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 20) >= 0 else { break }
            if poller.revents == 0 { continue }
            if lock.withLock({ mode }) == .stall { continue }
            let count = read(from, &buffer, buffer.count)
            guard count > 0 else { break }
            switch lock.withLock({ mode }) {
            case .pass, .stall:
                guard Self.write(to, Array(buffer[..<count])) else { return link.close() }
            case .drop:
                continue
            case .delay(let milliseconds):
                usleep(UInt32(milliseconds) * 1_000)
                guard Self.write(to, Array(buffer[..<count])) else { return link.close() }
            case .cutAfter(let bytes):
                guard fromNode else {
                    guard Self.write(to, Array(buffer[..<count])) else { return link.close() }
                    continue
                }
                let forwarded = min(bytes, count)
                _ = Self.write(to, Array(buffer[..<forwarded]))
                if forwarded < count || forwarded == bytes {
                    lock.withLock { mode = .pass }
                    return link.close()
                }
                lock.withLock { mode = .cutAfter(bytes: bytes - forwarded) }
            }
        }
        link.close()
    }

    // MARK: Sockets

    private static func listen() throws -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, 16) == 0 else {
            Glibc.close(fd)
            throw ProxyError("cannot listen on 127.0.0.1")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    private static func connect(_ port: UInt16) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if status != 0 {
            Glibc.close(fd)
            return -1
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return fd
    }

    @discardableResult
    private static func write(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }

    private static func readExactly(_ fd: Int32, _ count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let got = bytes[offset...].withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard got > 0 else { return nil }
            offset += got
        }
        return bytes
    }

    /// One EPMD request: a 2-byte length and the body.
    private static func readRequest(_ fd: Int32) -> [UInt8]? {
        guard let header = readExactly(fd, 2) else { return nil }
        return readExactly(fd, Int(header[0]) << 8 | Int(header[1]))
    }

    /// The port the real EPMD (127.0.0.1:4369) gives for `alive`.
    static func lookUp(_ alive: String) -> UInt16? {
        let fd = connect(4369)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        let name = Array(alive.utf8)
        guard write(fd, [UInt8(0), UInt8(name.count + 1), 122] + name), let answer = readExactly(fd, 4),
              answer[0] == 119, answer[1] == 0 else { return nil }
        return UInt16(answer[2]) << 8 | UInt16(answer[3])
    }
}
