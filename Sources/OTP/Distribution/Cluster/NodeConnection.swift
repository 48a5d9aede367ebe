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
    private var pending: [[UInt8]] = [] {
        didSet { if pending.isEmpty { pendingBytes = 0 } }
    }
    /// The bytes in `pending`.
    private var pendingBytes = 0
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
    /// Messages whose targets' mailboxes were full, waiting per target (`HeldMessages`).
    private var held = HeldMessages()
    /// Reading is paused because `held` is over `maximumHeldBytes`; the tick timeout is suspended meanwhile
    /// (this node stopped listening, the peer did not go quiet).
    private(set) var isPaused = false
    /// The size of the frame being delivered (what a held message counts against the bound).
    private var currentFrameSize = 0
    /// Replaced by the connection the peer initiated (simultaneous connect): closes without a node-down.
    private(set) var superseded = false

    /// Whether this node called the peer (rather than accepting its call).
    let isInitiator: Bool
    /// Loop time (ms) by which the connection must be up (`DistributionOptions.setupTime`), as Erlang's
    /// `net_setuptime`: lookup, connect and handshake all count.
    let setupDeadline: UInt64
    /// The acceptor's answer to the caller's name (`nil` before it named itself, and for the initiator).
    private(set) var answered: Handshake.Status?

    /// Calls `peer`: looks its port up with EPMD on its host, connects and starts the handshake.
    init(calling peer: String, distribution: Distribution) {
        self.distribution = distribution
        isInitiator = true
        setupDeadline = distribution.now &+ distribution.setupMillis
        self.peer = peer
        state = .lookingUp
        let (alive, host) = Distribution.split(peer)
        let stream = TCPStream(loop: distribution.loop, flusher: distribution.flusher)
        lookup = EPMDExchange(stream: stream, host: host, port: distribution.options.epmdPort,
                              request: EPMD.portRequest(name: alive), parse: { [unowned self] bytes throws(DistributionError) -> Bool in
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
        setupDeadline = distribution.now &+ distribution.setupMillis
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
        if state == .handshaking && !failureLogged && !(handshake?.isAwaitingName ?? false) {
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
            var steps = try handshake.receive(bytes)[...]
            while let step = steps.popFirst() {
                switch step {
                case .named(let name):
                    // The acceptor learnt who calls. The answer depends on the node's other connections but
                    // changes none of them: only a peer that proves the cookie may replace one (`claim`).
                    peer = name
                    let status = distribution.status(forCaller: name, on: self)
                    answered = status
                    steps += try handshake.proceed(with: status)
                case .superseded:
                    self.handshake = nil
                    return supersede()
                case .refused(let error):
                    self.handshake = nil
                    distribution.log(error)
                    failureLogged = true
                    stream?.closeAfterWriting(reason: error.description)
                    return
                case .declined:
                    self.handshake = nil
                    superseded = true
                    return close(reason: "\(peer ?? "?") keeps its connection to this node")
                case .send(let bytes): stream?.write(bytes)
                case .completed(let name, let flags, let creation):
                    if !isInitiator { distribution.claim(self, peer: name) }
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
                    return
                }
            }
            self.handshake = handshake
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
    func adopt(_ frames: [[UInt8]]) {
        pending = frames + pending
        pendingBytes += frames.reduce(0) { $0 + $1.count }
    }

    /// The peer kept its own connection (or, as acceptor, this node keeps its own call): queued frames wait
    /// for the connection that is kept (`Distribution.parked`). A refusal status goes out before the close.
    private func supersede() {
        superseded = true
        handshake = nil
        stream?.closeAfterWriting(reason: "simultaneous connect: the connection initiated by the smaller name is kept")
    }

    /// Frames not sent yet, taken by whoever carries them on.
    func takePending() -> [[UInt8]] {
        defer { pending = [] }
        return pending
    }

    /// Closes the connection for `error`, logged without secrets (`quietly`: at debug level, for a caller
    /// that never said who it is — a port scan or a silent socket is not worth a warning each).
    func fail(_ error: DistributionError, quietly: Bool = false) {
        guard state != .closed else { return }
        distribution.log(error, level: quietly ? .debug : .warning)
        failureLogged = true  // the close that follows is not a second failure
        close(reason: error.description)
    }

    // MARK: Frames

    /// Whether messages to `target` are held (a new one must wait behind them).
    func isHolding(_ target: PID) -> Bool { !held.isEmpty && held.isHolding(target) }

    /// Keeps a message for a full mailbox; reading goes on unless the held bytes pass the bound.
    func hold(_ message: Term, for target: PID, label: String) {
        if held.isEmpty { distribution.holding(self) }
        held.hold(.init(term: message, label: label, size: currentFrameSize), for: target)
        if held.bytes > distribution.options.maximumHeldBytes, !isPaused {
            isPaused = true
            stream?.stopReading()
        }
    }

    /// Offers the held messages again (each loop iteration while some are held). Returns whether none are
    /// left. Reading resumes, with the frames already received, once the held bytes are under the bound.
    /// Messages that arrived before the connection closed are still delivered (they were received, as
    /// Erlang's would be in the mailbox already).
    func retryHeld() -> Bool {
        held.retry { target, message in distribution.redeliver(message.term, to: target, label: message.label) }
        if isPaused, state == .up, held.bytes <= distribution.options.maximumHeldBytes {
            isPaused = false
            lastReceived = distribution.now  // silence while paused was ours, not the peer's
            stream?.startReading()
            readFrames()
        }
        return held.isEmpty
    }

    private func readFrames() {
        while !isPaused && input.count - inputStart >= 4 {
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
            currentFrameSize = length
            let result = input.withUnsafeBytes { buffer -> Result<(Term, Term?), DistributionError> in
                Self.parse(UnsafeRawBufferPointer(rebasing: buffer[start..<start + length]), peer: peer ?? "?")
            }
            switch result {
            case .failure(let error): return fail(error)
            case .success(let (control, payload)):
                distribution.received(control: control, payload: payload, from: self)
                guard state == .up else { return }
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
            if let queued = stream?.queuedBytes, queued > distribution.options.maximumQueuedBytes {
                close(reason: "the peer is not reading: \(queued) bytes unsent (maximumQueuedBytes)")
            }
        } else {
            pending.append(writer.bytes)
            pendingBytes += writer.bytes.count
            if pendingBytes > distribution.options.maximumQueuedBytes {
                close(reason: "\(pendingBytes) bytes queued before the connection came up (maximumQueuedBytes)")
            }
        }
    }

    /// Unsent bytes: queued on the socket, or waiting for the handshake.
    var queuedBytes: Int { (stream?.queuedBytes ?? 0) + pendingBytes }

    /// Over the busy limit: user sends to the peer are refused (`Distribution.send`).
    var isBusy: Bool { queuedBytes > distribution.options.busyLimit }

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
