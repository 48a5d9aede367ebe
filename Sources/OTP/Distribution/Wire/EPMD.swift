#if canImport(Glibc)
import Glibc
#endif

/// The Erlang Port Mapper Daemon's protocol (erts/doc erl_dist_protocol, "EPMD Protocol"): a node registers
/// its name and distribution port (`ALIVE2_REQ`, kept open for as long as the node is alive) and looks up
/// the port of another node (`PORT_PLEASE2_REQ`). EPMD listens on port 4369 unless `ERL_EPMD_PORT` says
/// otherwise (`DistributionOptions.epmdPort`).
///
/// Thread: loop thread (each exchange is one `TCPStream`).
enum EPMD {
    /// EPMD's port as Erlang finds it: `ERL_EPMD_PORT` when it is a port number (1-65535), else 4369.
    static var defaultPort: UInt16 {
        if let text = getenv("ERL_EPMD_PORT").map({ String(cString: $0) }), let port = UInt16(text), port != 0 {
            return port
        }
        return 4369
    }

    /// `ALIVE2_REQ`: a normal node (77), TCP (0), protocol version 6 only.
    static func aliveRequest(name: String, port: UInt16) -> [UInt8] {
        var body = TermWriter()
        body.u8(120)
        body.u16(port)
        body.bytes += [77, 0]
        body.u16(6)
        body.u16(6)
        body.u16(UInt16(name.utf8.count))
        body.bytes += name.utf8
        body.u16(0)
        return Handshake.frame(body.bytes)
    }

    /// The creation from `ALIVE2_X_RESP` (118) or `ALIVE2_RESP` (121); `nil` until the answer is complete.
    static func aliveResponse(_ bytes: [UInt8]) throws(DistributionError) -> UInt32? {
        guard let tag = bytes.first else { return nil }
        switch tag {
        case 118:
            guard bytes.count >= 6 else { return nil }
            guard bytes[1] == 0 else { throw .epmd("registration refused (result \(bytes[1])): is the name already in use?") }
            return bytes.uint32(at: 2)
        case 121:
            guard bytes.count >= 4 else { return nil }
            guard bytes[1] == 0 else { throw .epmd("registration refused (result \(bytes[1])): is the name already in use?") }
            return UInt32(bytes.uint16(at: 2))
        default:
            throw .epmd("unexpected answer \(tag) to the registration")
        }
    }

    /// `PORT_PLEASE2_REQ` for the name part of a node name.
    static func portRequest(name: String) -> [UInt8] { Handshake.frame([122] + Array(name.utf8)) }

    /// The port from `PORT2_RESP` (119); `nil` until complete. A node EPMD does not know is `unreachable`.
    static func portResponse(_ bytes: [UInt8], node: String) throws(DistributionError) -> UInt16? {
        guard bytes.count >= 2 else { return nil }
        guard bytes[0] == 119 else { throw .unreachable(node: node, reason: "unexpected epmd answer \(bytes[0])") }
        guard bytes[1] == 0 else { throw .unreachable(node: node, reason: "not registered with epmd") }
        guard bytes.count >= 12 else { return nil }
        let highest = bytes.uint16(at: 6), lowest = bytes.uint16(at: 8)
        guard lowest <= 6 && highest >= 6 else {
            throw .unreachable(node: node, reason: "speaks distribution versions \(lowest)...\(highest), not 6")
        }
        return bytes.uint16(at: 2)
    }
}

/// One exchange with EPMD over a `TCPStream`: sends a request and hands every byte received to `onData`
/// until it returns a result. Registration keeps the connection open afterwards (EPMD forgets the node
/// when it closes). Thread: loop thread only.
final class EPMDExchange: TCPStreamDelegate {
    private let stream: TCPStream
    private let port: UInt16
    private let request: [UInt8]
    private var received: [UInt8] = []
    private var parse: (([UInt8]) throws(DistributionError) -> Bool)?
    private var onClose: ((String) -> Void)?
    private let onFailure: (DistributionError) -> Void

    /// `parse` returns true once it has what it needs; it throws to fail the exchange.
    init(stream: TCPStream, host: String, port: UInt16, request: [UInt8],
         parse: @escaping ([UInt8]) throws(DistributionError) -> Bool,
         onFailure: @escaping (DistributionError) -> Void, onClose: ((String) -> Void)? = nil) {
        self.stream = stream
        self.port = port
        self.request = request
        self.parse = parse
        self.onFailure = onFailure
        self.onClose = onClose
        stream.delegate = self
        stream.connect(host: host, port: port)
    }

    /// Whether the exchange is still waiting for its answer.
    var isPending: Bool { parse != nil }

    func streamConnected(_ stream: TCPStream, error: String?) {
        if let error {
            fail(.epmd("cannot reach epmd on port \(port): \(error) (start it with `epmd -daemon`)"))
        } else {
            stream.write(request)
        }
    }

    func streamReceived(_ stream: TCPStream, _ bytes: UnsafeRawBufferPointer) {
        guard let parse else { return }
        received.append(contentsOf: bytes)
        do throws(DistributionError) {
            if try parse(received) { self.parse = nil }
        } catch {
            fail(error)
        }
    }

    func streamClosed(_ stream: TCPStream, reason: String) {
        if parse != nil { fail(.epmd("epmd closed the connection: \(reason)")) }
        onClose?(reason)
        onClose = nil
    }

    /// Fails the exchange with `error` and closes it, unless it has ended already (also from outside: its
    /// deadline passed).
    func fail(_ error: DistributionError) {
        guard parse != nil else { return }
        parse = nil
        onClose = nil
        onFailure(error)
        stream.close(reason: "epmd exchange failed")
    }

    /// Ends the exchange (unregisters, for a registration).
    func close() {
        parse = nil
        onClose = nil
        stream.close(reason: "closed")
    }
}
