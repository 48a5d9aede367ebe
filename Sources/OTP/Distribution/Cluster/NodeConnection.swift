/// The connection to one peer node: EPMD lookup (when this node calls), the handshake, then frames.
///
/// After the handshake every frame is a 4-byte big-endian length and a body; an empty frame is a tick.
/// A body is a distribution header (`DistributionHeader`: pass-through, or — with a peer that takes
/// fragments, as every Erlang node does — `131 68`), the control term and, for messages and payload exits,
/// a second term. Frames written before the connection is up wait in `pending` and go out right after the
/// handshake; if it fails, they are dropped and counted (the senders' monitors and links on that node see
/// `noconnection`, as in Erlang).
///
/// A message whose frame would pass `DistributionHeader.fragmentSize` goes out in fragments, one at a time
/// whenever the socket has taken what it was given (`pump`): other processes' messages and ticks go between
/// them, so a big message does not hold up small ones. Frames of a process whose fragmented message is
/// still going out wait behind it in `outgoing` (Erlang's per-pair order: its sender would be suspended).
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
    /// A frame written before the connection is up, in the pass-through layout (the peer's flags are not
    /// known yet); re-laid when it goes out.
    struct QueuedFrame {
        var bytes: [UInt8]
        /// Where the payload's version byte is (`bytes.count` without a payload).
        var payloadAt: Int
        /// The process the frame is from, for ordering behind its fragmented messages.
        var sender: ExternalPID?
    }

    private var pending: [QueuedFrame] = [] {
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
    /// Both nodes announced `fragments`: frames carry distribution headers, big messages go in fragments.
    private(set) var usesHeaders = false
    /// The peer's fragmented messages not complete yet.
    private var assembler = FragmentAssembler()

    /// What waits to go out behind a fragmented message: its remaining fragments, and later frames of
    /// processes with a fragmented message in `outgoing`.
    private enum Outgoing {
        case frame([UInt8], sender: ExternalPID?)
        case fragmented(FragmentedMessage, sender: ExternalPID?)
    }
    private var outgoing: [Outgoing] = []
    private var outgoingHead = 0
    /// How many entries of `outgoing` each sender has.
    private var outgoingSenders: [ExternalPID: Int] = [:]
    /// Bytes in `outgoing`.
    private(set) var outgoingBytes = 0
    private var nextSequence: UInt64 = 0
    /// A fragment goes out while the socket holds less than this (the level below which the stream says it
    /// is writable: two fragments in flight keep the link busy, and a small message waits behind at most
    /// that much).
    static let pumpThreshold = TCPStream.writableThreshold

    /// `DistributionOptions`' bounds checked per frame, copied once: reading one through `distribution.options`
    /// (an unowned reference) copies the whole options value — names, cookie source, security — each time.
    private let maximumFrameSize: Int
    private let maximumHeldBytes: Int
    private let maximumQueuedBytes: Int

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
        (maximumFrameSize, maximumHeldBytes, maximumQueuedBytes) = Self.bounds(distribution.options)
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
        (maximumFrameSize, maximumHeldBytes, maximumQueuedBytes) = Self.bounds(distribution.options)
        isInitiator = false
        setupDeadline = distribution.now &+ distribution.setupMillis
        state = .handshaking
        self.stream = stream
        handshake = Handshake(role: .acceptor, localName: distribution.name, creation: distribution.creation,
                              cookie: distribution.cookie, challenge: distribution.newChallenge(),
                              flags: distribution.options.flags, lengthSize: stream.channel == nil ? 2 : 4)
        stream.delegate = self
        stream.startReading()
    }

    private static func bounds(_ options: DistributionOptions) -> (frame: Int, held: Int, queued: Int) {
        (options.maximumFrameSize, options.maximumHeldBytes, options.maximumQueuedBytes)
    }

    private func connect(host: String, port: UInt16) {
        guard state == .lookingUp else { return }
        state = .connecting
        let stream = TCPStream(loop: distribution.loop, flusher: distribution.flusher)
        self.stream = stream
        stream.delegate = self
        if let security = distribution.options.security {
            do throws(SecureChannelError) {
                stream.secure(with: try security.makeChannel(role: .client, serverName: host))
            } catch {
                return fail(.secureChannel(node: peer ?? "?", reason: error.reason))
            }
        }
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
                                  expectedPeer: peer, flags: distribution.options.flags,
                                  lengthSize: stream.channel == nil ? 2 : 4)
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
        if let failure = stream.securityFailure, !failureLogged {
            distribution.logSecurityFailure(.secureChannel(node: peer ?? "unknown peer", reason: failure.reason),
                                            peerKnown: peer != nil)
        } else if state == .handshaking && !failureLogged && !(handshake?.isAwaitingName ?? false) {
            distribution.log(handshake?.isAwaitingAck == true ? .badCookie(peer ?? "?")
                             : .handshake(peer ?? "?", "connection closed: \(reason)"))
        }
        state = .closed
        self.stream = nil
        let dropped = pending.count + outgoing.count - outgoingHead
        outgoing = []
        outgoingHead = 0
        outgoingBytes = 0
        outgoingSenders = [:]
        distribution.connectionClosed(self, wasUp: wasUp, reason: reason, droppedFrames: dropped)
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
                    usesHeaders = flags.contains(.fragments) && distribution.options.flags.contains(.fragments)
                    state = .up
                    let rest = handshake.takeRemainder()
                    self.handshake = nil
                    distribution.connectionUp(self)
                    let queued = pending
                    pending = []
                    for frame in queued { transmitQueued(frame) }
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
        successor.adopt(pending)
        pending = []
        superseded = true
        close(reason: "simultaneous connect: replaced by the peer's connection")
    }

    /// Takes frames queued before this connection took the peer's place.
    func adopt(_ frames: [QueuedFrame]) {
        pending = frames + pending
        pendingBytes += frames.reduce(0) { $0 + $1.bytes.count }
    }

    /// The peer kept its own connection (or, as acceptor, this node keeps its own call): queued frames wait
    /// for the connection that is kept (`Distribution.parked`). A refusal status goes out before the close.
    private func supersede() {
        superseded = true
        handshake = nil
        stream?.closeAfterWriting(reason: "simultaneous connect: the connection initiated by the smaller name is kept")
    }

    /// Frames not sent yet, taken by whoever carries them on.
    func takePending() -> [QueuedFrame] {
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
    func hold(_ message: Term, for target: PID, label: DeliveryLabel) {
        if held.isEmpty { distribution.holding(self) }
        held.hold(.init(term: message, label: label, size: currentFrameSize), for: target)
        if held.bytes > maximumHeldBytes, !isPaused {
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
        if isPaused, state == .up, held.bytes <= maximumHeldBytes {
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
            guard length <= maximumFrameSize else {
                return fail(.protocolViolation(node: peer ?? "?", reason: "frame of \(length) bytes exceeds the limit"))
            }
            guard input.count - inputStart >= 4 + length else { break }
            let start = inputStart + 4
            inputStart += 4 + length
            framesIn &+= 1
            currentFrameSize = length
            let result = input.withUnsafeBytes { buffer -> Result<FragmentAssembler.Outcome, DistributionError> in
                let body = UnsafeRawBufferPointer(rebasing: buffer[start..<start + length])
                guard usesHeaders else {
                    return Self.parse(body, peer: peer ?? "?").map { .message($0.0, $0.1, fragmented: false) }
                }
                return assembler.take(body, maximumBytes: maximumFrameSize, peer: peer ?? "?")
            }
            switch result {
            case .failure(let error): return fail(error)
            case .success(.partial): continue
            case .success(.message(let control, let payload, let fragmented)):
                if fragmented { distribution.node.counters.fragmentedReceived &+= 1 }
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

    /// The control term and optional payload of one frame body in the pass-through layout.
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

    /// Sends a control message and its payload; queued until the handshake completes. Signals and replies
    /// are never refused (`sendMessage` is for user messages).
    func send(_ control: Term, payload: Term? = nil) {
        _ = transmit(control, payload: payload, refusingBigOver: nil)
    }

    /// Sends a user message unless it is big enough to go in fragments while the fragments already waiting
    /// pass `limit`: then it returns those bytes and sends nothing (the sender is told it is busy).
    func sendMessage(_ control: Term, payload: Term, limit: Int) -> Int? {
        transmit(control, payload: payload, refusingBigOver: limit)
    }

    private func transmit(_ control: Term, payload: Term?, refusingBigOver limit: Int?) -> Int? {
        guard state != .closed else { return nil }
        let headers = usesHeaders && state == .up
        var writer = TermWriter(capacity: 128)
        writer.referencesLargeBinaries = headers
        writer.u32(0)
        if headers {
            writer.u8(ExternalTermFormat.version)
            writer.u8(DistributionHeader.normal)
            writer.u8(0)
        } else {
            writer.u8(DistributionHeader.passThrough)
            writer.u8(ExternalTermFormat.version)
        }
        writer.write(control)
        let payloadAt = writer.bytes.count
        if let payload {
            if !headers { writer.u8(ExternalTermFormat.version) }
            writer.write(payload)
        }
        guard state == .up else {
            pending.append(QueuedFrame(bytes: writer.bytes, payloadAt: payloadAt, sender: Self.orderingKey(control)))
            pendingBytes += writer.bytes.count
            if pendingBytes > maximumQueuedBytes {
                close(reason: "\(pendingBytes) bytes queued before the connection came up (maximumQueuedBytes)")
            }
            return nil
        }
        let referenced = writer.references.reduce(0) { $0 + $1.data.count }
        let isBig = headers && writer.bytes.count - 4 + referenced > DistributionHeader.fragmentSize
        if isBig, let limit, outgoingBytes > limit { return outgoingBytes }
        Self.setLength(of: &writer.bytes)  // the prefix of a frame sent whole: a big one's fragments have theirs
        dispatch(writer.bytes, references: writer.references, controlEnd: payloadAt, isBig: isBig,
                 sender: isBig || outgoingHead < outgoing.count ? Self.orderingKey(control) : nil)
        return nil
    }

    /// Fills in a frame's 4-byte length prefix.
    private static func setLength(of frame: inout [UInt8]) {
        let length = UInt32(frame.count - 4)
        frame[0] = UInt8(length >> 24)
        frame[1] = UInt8(truncatingIfNeeded: length >> 16)
        frame[2] = UInt8(truncatingIfNeeded: length >> 8)
        frame[3] = UInt8(truncatingIfNeeded: length)
    }

    /// Writes a whole frame (header layout when `usesHeaders`, length prefix filled in), or queues it in
    /// fragments or behind its sender's fragmented message.
    private func dispatch(_ frame: [UInt8], references: [(at: Int, data: [UInt8])] = [], controlEnd: Int,
                          isBig: Bool, sender: ExternalPID?) {
        framesOut &+= 1
        lastSent = distribution.now
        if isBig {
            nextSequence &+= 1
            let start = 4 + DistributionHeader.normalLength
            let message = FragmentedMessage(bytes: frame, start: start, references: references,
                                            controlLength: controlEnd - start, sequence: nextSequence)
            enqueue(.fragmented(message, sender: sender), bytes: message.unsentBytes, sender: sender)
            distribution.node.counters.fragmentedSent &+= 1
            pump()
        } else if outgoingHead < outgoing.count, let sender, outgoingSenders[sender] != nil {
            enqueue(.frame(frame, sender: sender), bytes: frame.count, sender: sender)
        } else {
            stream?.write(frame)
        }
        if queuedBytes > maximumQueuedBytes {
            close(reason: "the peer is not reading: \(queuedBytes) bytes unsent (maximumQueuedBytes)")
        }
    }

    /// A frame queued before the connection came up, re-laid with a distribution header if the peer takes
    /// them.
    private func transmitQueued(_ queued: QueuedFrame) {
        guard usesHeaders else {
            var frame = queued.bytes
            Self.setLength(of: &frame)
            return dispatch(frame, controlEnd: queued.payloadAt, isBig: false, sender: queued.sender)
        }
        // pass-through: length(4) 112 131 control [131 payload] → header: length(4) 131 68 0 control [payload]
        var frame = [0, 0, 0, 0, ExternalTermFormat.version, DistributionHeader.normal, 0] as [UInt8]
        frame.reserveCapacity(queued.bytes.count + 1)
        frame += queued.bytes[6..<queued.payloadAt]
        let controlEnd = frame.count
        if queued.payloadAt < queued.bytes.count { frame += queued.bytes[(queued.payloadAt + 1)...] }
        Self.setLength(of: &frame)
        dispatch(frame, controlEnd: controlEnd, isBig: frame.count - 4 > DistributionHeader.fragmentSize,
                 sender: queued.sender)
    }

    private func enqueue(_ item: Outgoing, bytes: Int, sender: ExternalPID?) {
        outgoing.append(item)
        outgoingBytes += bytes
        if let sender { outgoingSenders[sender, default: 0] += 1 }
    }

    /// Moves what waits in `outgoing` to the socket while it holds less than `pumpThreshold`: a fragment at
    /// a time, and the frames queued behind a finished message. Called when something is queued and when
    /// the socket has taken its output (`streamWritable`).
    private func pump() {
        guard state == .up, let stream else { return }
        while outgoingHead < outgoing.count, stream.queuedBytes < Self.pumpThreshold {
            switch outgoing[outgoingHead] {
            case .frame(let frame, let sender):
                stream.write(frame)
                outgoingBytes -= frame.count
                finished(sender)
            case .fragmented(var message, let sender):
                let before = message.unsentBytes
                let (header, slices) = message.nextFragment()
                outgoingBytes -= before - message.unsentBytes
                stream.write(header)
                for slice in slices { stream.write(slice) }
                if message.isDone {
                    finished(sender)
                } else {
                    outgoing[outgoingHead] = .fragmented(message, sender: sender)
                }
            }
        }
        if outgoingHead == outgoing.count {
            outgoing.removeAll()
            outgoingHead = 0
        }
        let waiting = outgoingHead < outgoing.count
        if waiting != stream.wantsWritable {
            // While fragments wait, the kernel too holds only a little unsent: a small message written now
            // goes out after at most that, not after megabytes of socket buffer.
            stream.limitUnsentBytes(to: waiting ? Self.pumpThreshold : nil)
        }
        stream.wantsWritable = waiting
        lastSent = distribution.now
    }

    private func finished(_ sender: ExternalPID?) {
        outgoing[outgoingHead] = .frame([], sender: nil)  // frees the bytes now
        outgoingHead += 1
        guard let sender, let count = outgoingSenders[sender] else { return }
        outgoingSenders[sender] = count > 1 ? count - 1 : nil
    }

    func streamWritable(_ stream: TCPStream) { pump() }

    /// Whom a control message is from, to keep the frames of one process in order behind its fragmented
    /// messages: the first pid among its first two fields (`SEND`'s and `SPAWN_REPLY`'s are the
    /// recipient's, which only orders a little more than needed).
    static func orderingKey(_ control: Term) -> ExternalPID? {
        guard case .tuple(let fields) = control, fields.count > 1 else { return nil }
        if case .pid(let pid) = fields[1] { return pid }
        if fields.count > 2, case .pid(let pid) = fields[2] { return pid }
        return nil
    }

    /// Unsent bytes: queued on the socket, waiting for the handshake, or waiting in `outgoing`.
    var queuedBytes: Int { socketBytes + outgoingBytes }

    /// Unsent bytes ahead of a new small message: on the socket or waiting for the handshake (it overtakes
    /// what waits in `outgoing`). Over `busyLimit`, user sends to the peer are refused (`Distribution.send`).
    var socketBytes: Int { (stream?.queuedBytes ?? 0) + pendingBytes }

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
