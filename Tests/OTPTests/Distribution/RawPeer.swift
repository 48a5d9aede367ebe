import Foundation
@testable import OTP

/// A hand-written distribution peer for boundary tests: a blocking TCP socket to a node's distribution
/// port on 127.0.0.1 that sends whatever bytes a test gives it and reads what comes back, each read with a
/// deadline.
final class RawPeer {
    let fd: Int32

    init(port: UInt16) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else {
            close(fd)
            throw TestFailure(text: "connect to 127.0.0.1:\(port) failed: errno \(errno)")
        }
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return }
            offset += n
        }
    }

    /// `send_name` as an OTP 25 node sends it, claiming `name`.
    func sendName(_ name: String, flags: DistributionFlags = .ours) {
        var body = TermWriter()
        body.u8(UInt8(ascii: "N"))
        body.u64(flags.rawValue)
        body.u32(1)
        body.u16(UInt16(truncatingIfNeeded: name.utf8.count))
        body.bytes += Array(name.utf8)
        send(Handshake.frame(body.bytes))
    }

    /// Reads until `count` bytes arrived, the peer closed, or `timeout` passed; returns what arrived.
    func read(_ count: Int, timeout: Duration = .seconds(5)) -> [UInt8] {
        var out: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        while out.count < count {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { break }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ms = Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000) + 1
            guard poll(&poller, 1, ms) > 0 else { break }
            var buffer = [UInt8](repeating: 0, count: count - out.count)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { break }
            out += buffer.prefix(n)
        }
        return out
    }

    /// One handshake message (2-byte length, body), or `nil` if none arrived in time.
    func readMessage(timeout: Duration = .seconds(5)) -> [UInt8]? {
        let header = read(2, timeout: timeout)
        guard header.count == 2 else { return nil }
        let body = read(Int(header[0]) << 8 | Int(header[1]), timeout: timeout)
        return body
    }

    /// Whether the node closed the connection within `timeout` (end of file, or reset).
    func isClosed(within timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 20) > 0 else { continue }
            var byte: UInt8 = 0
            let n = recv(fd, &byte, 1, 0)
            if n <= 0 { return true }
        }
        return false
    }
}
