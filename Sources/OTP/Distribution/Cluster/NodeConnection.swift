/// The connection to one peer node: EPMD lookup (when this node calls), the handshake, then frames.
///
/// After the handshake every frame is a 4-byte big-endian length and a body; an empty frame is a tick.
/// A body is `112` (pass-through: no atom cache, since neither side announced one), the control term and,
/// for messages and payload exits, a second term. Frames written before the connection is up wait in
/// `pending` and go out right after the handshake; if it fails, they are dropped and counted (the senders'
/// monitors and links on that node see `noconnection`, as in Erlang).
///
/// Thread: loop thread only.
final class NodeConnection: TCPStreamDelegate {
    enum State { case lookingUp, connecting, handshaking, up, closed }

    unowned let distribution: Distribution
    /// The peer's node name: known from the start when this node initiates, learnt in the handshake otherwise.
    private(set) var peer: String?
    private(set) var state: State
    private(set) var stream: TCPStream?
    private var lookup: EPMDExchange?
    private var handshake: Handshake?
    private var pending: [[UInt8]] = []
    private var input: [UInt8] = []
    private var inputStart = 0
    private(set) var peerFlags: DistributionFlags = []
    private(set) var peerCreation: UInt32 = 0
    /// Loop time (ms) of the last bytes received and sent, for ticks.
    var lastReceived: UInt64 = 0
    var lastSent: UInt64 = 0
    private(set) var framesIn: UInt64 = 0
    private(set) var framesOut: UInt64 = 0
    private var failureLogged = false
    /// A message whose target's mailbox was full: reading is paused until it is delivered.
    private var stalled: (message: Term, target: PID, label: String)?
    /// Replaced by the connection the peer initiated (simultaneous connect): closes without a node-down.
    private(set) var superseded = false

    /// Whether this node called the peer (rather than accepting its call).
    let isInitiator: Bool

    /// Calls `peer`: looks its port up with EPMD on its host, connects and starts the handshake.
    init(calling peer: String, distribution: Distribution) {
        self.distribution = distribution
        isInitiator = true
        self.peer = peer
        state = .lookingUp
        let (alive, host) = Distribution.split(peer)
        let stream = TCPStream(loop: distribution.loop, flusher: distribution.flusher)
        lookup = EPMDExchange(stream: stream, host: host, request: EPMD.portRequest(name: alive), parse: { [unowned self] bytes throws(DistributionError) -> Bool in
            guard let port = try EPMD.portResponse(bytes, node: peer) else { return false }
            self.lookup?.close()
            self.lookup = nil
            self.connect(host: host, port: port)
            return true
        }, onFailure: { [unowned self] error in
            self.fail(error)
        })
    }

    /// Answers a peer that connected to this node's listener.
    init(accepted stream: TCPStream, distribution: Distribution) {
        self.distribution = distribution
        isInitiator = false
        state = .handshaking
        self.stream = stream
        handshake = Handshake(role: .acceptor, localName: distribution.name, creation: distribution.creation,
                              cookie: distribution.cookie, challenge: distribution.newChallenge())
        stream.delegate = self
        stream.startReading()
    }

    private func connect(host: String, port: UInt16) {
        guard state == .lookingUp else { return }
        state = .connecting
        let stream = TCPStream(loop: distribution.loop, flusher: distribution.flusher)
        self.stream = stream
        stream.delegate = self
        stream.connect(host: host, port: port)
    }

    // MARK: Stream events

    func streamConnected(_ stream: TCPStream, error: String?) {
        if let error {
            return fail(.unreachable(node: peer ?? "?", reason: error))
        }
        state = .handshaking
        let handshake = Handshake(role: .initiator, localName: distribution.name, creation: distribution.creation,
                                  cookie: distribution.cookie, challenge: distribution.newChallenge(),
                                  expectedPeer: peer)
        self.handshake = handshake
        stream.write(handshake.start())
    }

    func streamReceived(_ stream: TCPStream, _ bytes: UnsafeRawBufferPointer) {
        lastReceived = distribution.now
        if state == .handshaking {
            receiveHandshake(bytes)
        } else if state == .up {
            input.append(contentsOf: bytes)
            readFrames()
        }
    }

    func streamClosed(_ stream: TCPStream, reason: String) {
        guard state != .closed else { return }
        let wasUp = state == .up
        if superseded {
            state = .closed
            self.stream = nil
            return distribution.connectionSuperseded(self)
        }
        if state == .handshaking && !failureLogged {
            distribution.log(handshake?.isAwaitingAck == true ? .badCookie(peer ?? "?")
                             : .handshake(peer ?? "?", "connection closed: \(reason)"))
        }
        state = .closed
        self.stream = nil
        distribution.connectionClosed(self, wasUp: wasUp, reason: reason, droppedFrames: pending.count)
        pending = []
    }

    // MARK: Handshake

    private func receiveHandshake(_ bytes: UnsafeRawBufferPointer) {
        guard var handshake else { return }
        do throws(DistributionError) {
            let steps = try handshake.receive(bytes)
            if peer == nil, let name = handshake.peerName {
                peer = name
                // The acceptor learns who calls: this connection takes the peer's place, unless this node's
                // own call to the peer wins a simultaneous connect (then the peer is told `nok`).
                if !distribution.claim(self, peer: name) {
                    self.handshake = nil
                    superseded = true
                    stream?.write(Handshake.frame(Array("snok".utf8)))
                    stream?.closeAfterWriting(reason: "simultaneous connect: \(distribution.name)'s own connection kept")
                    return
                }
            }
            self.handshake = handshake
            for step in steps {
                switch step {
                case .superseded:
                    return supersede()
                case .send(let bytes): stream?.write(bytes)
                case .completed(let name, let flags, let creation):
                    peer = name
                    peerFlags = flags
                    peerCreation = creation
                    state = .up
                    let rest = handshake.takeRemainder()
                    self.handshake = nil
                    distribution.connectionUp(self)
                    for frame in pending { stream?.write(frame) }
                    framesOut &+= UInt64(pending.count)
                    pending = []
                    if !rest.isEmpty {
                        input = rest
                        readFrames()
                    }
                }
            }
        } catch {
            fail(error)
        }
    }

    /// Gives this connection's queued frames to `successor` (the peer's own connection, which replaces it)
    /// and closes it quietly.
    func handOver(to successor: NodeConnection) {
        successor.pending = pending + successor.pending
        pending = []
        superseded = true
        close(reason: "simultaneous connect: replaced by the peer's connection")
    }

    /// Takes frames queued before this connection took the peer's place.
    func adopt(_ frames: [[UInt8]]) { pending = frames + pending }

    /// The peer kept its own connection: queued frames wait for it (`Distribution.parked`).
    private func supersede() {
        superseded = true
        handshake = nil
        close(reason: "simultaneous connect: the peer keeps its own connection")
    }

    /// Frames not sent yet, taken by whoever carries them on.
    func takePending() -> [[UInt8]] {
        defer { pending = [] }
        return pending
    }

    /// Closes the connection for `error`, logged without secrets.
    func fail(_ error: DistributionError) {
        guard state != .closed else { return }
        distribution.log(error)
        failureLogged = true  // the close that follows is not a second failure
        close(reason: error.description)
    }

    // MARK: Frames

    /// Keeps a message for a full mailbox and stops reading from the peer until it fits.
    func stall(_ message: Term, to target: PID, label: String) {
        stalled = (message, target, label)
        stream?.stopReading()
        distribution.stalled(self)
    }

    /// Tries the kept message again (each loop iteration while stalled); on success reading resumes,
    /// starting with the frames already received. Returns whether it is unstalled (those frames may have
    /// stalled it again).
    func retryStalled() -> Bool {
        guard let (message, target, label) = stalled else { return true }
        guard state == .up else {
            stalled = nil
            return true
        }
        guard distribution.redeliver(message, to: target, label: label) else { return false }
        stalled = nil
        stream?.startReading()
        readFrames()
        return stalled == nil
    }

    private func readFrames() {
        while stalled == nil && input.count - inputStart >= 4 {
            let length = Int(input.uint32(at: inputStart))
            if length == 0 {  // a tick
                inputStart += 4
                continue
            }
            guard length <= distribution.options.maximumFrameSize else {
                return fail(.protocolViolation(node: peer ?? "?", reason: "frame of \(length) bytes exceeds the limit"))
            }
            guard input.count - inputStart >= 4 + length else { break }
            let start = inputStart + 4
            inputStart += 4 + length
            framesIn &+= 1
            let result = input.withUnsafeBytes { buffer -> Result<(Term, Term?), DistributionError> in
                Self.parse(UnsafeRawBufferPointer(rebasing: buffer[start..<start + length]), peer: peer ?? "?")
            }
            switch result {
            case .failure(let error): return fail(error)
            case .success(let (control, payload)):
                distribution.received(control: control, payload: payload, from: self)
                guard state == .up else { return }
                if stalled != nil { break }
            }
        }
        if inputStart == input.count {
            input.removeAll(keepingCapacity: input.capacity <= 1 << 20)
            inputStart = 0
        } else if inputStart > 1 << 16 {
            input.removeFirst(inputStart)
            inputStart = 0
        }
    }

    /// The control term and optional payload of one frame body.
    static func parse(_ body: UnsafeRawBufferPointer, peer: String) -> Result<(Term, Term?), DistributionError> {
        var reader = TermReader(body)
        do throws(TermFormatError) {
            let tag = try reader.u8()
            guard tag == 112 else {
                return .failure(.protocolViolation(node: peer, reason: "frame starts with \(tag), expected 112 (pass-through)"))
            }
            let control = try reader.readVersionedTerm()
            let payload = reader.isAtEnd ? nil : try reader.readVersionedTerm()
            guard reader.isAtEnd else { throw TermFormatError.trailingBytes(offset: reader.offset) }
            return .success((control, payload))
        } catch {
            return .failure(.protocolViolation(node: peer, reason: error.description))
        }
    }

    /// Sends a control message and its payload; queued until the handshake completes.
    func send(_ control: Term, payload: Term? = nil) {
        guard state != .closed else { return }
        var writer = TermWriter(capacity: 128)
        writer.u32(0)
        writer.u8(112)
        writer.u8(ExternalTermFormat.version)
        writer.write(control)
        if let payload {
            writer.u8(ExternalTermFormat.version)
            writer.write(payload)
        }
        let length = UInt32(writer.bytes.count - 4)
        writer.bytes[0] = UInt8(length >> 24)
        writer.bytes[1] = UInt8(truncatingIfNeeded: length >> 16)
        writer.bytes[2] = UInt8(truncatingIfNeeded: length >> 8)
        writer.bytes[3] = UInt8(truncatingIfNeeded: length)
        if state == .up {
            stream?.write(writer.bytes)
            framesOut &+= 1
            lastSent = distribution.now
        } else {
            pending.append(writer.bytes)
        }
    }

    /// Sends an empty frame if nothing went out during the last tick interval.
    func tick(now: UInt64, interval: UInt64) {
        guard state == .up, now &- lastSent >= interval else { return }
        stream?.write([0, 0, 0, 0])
        lastSent = now
    }

    /// Ends the connection (this node is leaving the cluster, or the peer was silent too long).
    func close(reason: String) {
        lookup?.close()
        lookup = nil
        if let stream {
            stream.close(reason: reason)
        } else if state != .closed {
            state = .closed
            distribution.connectionClosed(self, wasUp: false, reason: reason, droppedFrames: pending.count)
            pending = []
        }
    }
}
