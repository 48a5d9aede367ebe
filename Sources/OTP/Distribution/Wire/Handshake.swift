/// The distribution handshake (protocol version 6, OTP 23 and later), as a state machine over bytes: the
/// connection feeds it what arrives and writes what it returns, so it is tested without sockets.
///
/// Initiator A, acceptor B (every message framed by a 2-byte length; by a 4-byte one over a secure channel,
/// as Erlang's `inet_tls_dist`):
/// 1. A → B `N` flags, creation, name          (send_name)
/// 2. B → A `s` status                         (`ok`; `ok_simultaneous`; `nok`: B keeps its own connection
///                                             to A; `alive`: B has a connection to A up, A answers `strue`
///                                             to go on, as a restarted A does, or `sfalse`)
/// 3. B → A `N` flags, challenge, creation, name (send_challenge)
/// 4. A → B `r` challenge, digest              (challenge reply: A's challenge and md5(cookie ++ B's))
/// 5. B → A `a` digest                         (challenge ack: md5(cookie ++ A's challenge))
/// Either side checks the other's digest against its own cookie; a mismatch ends the connection.
///
/// The acceptor stops after step 1 with `.named`: the connection decides the status (`proceed(with:)`) from
/// the node's other connections, but changes none of them — only a peer that completes step 4 may take the
/// place of an existing connection. Every message is at most `maximumMessageLength` bytes, refused from its
/// length prefix before it is buffered, and a peer's name must pass `NodeName.validate`.
///
/// Thread: loop thread (a plain value owned by one connection).
struct Handshake {
    enum Role { case initiator, acceptor }

    /// What the connection should do next.
    enum Step: Equatable {
        case send([UInt8])
        /// The handshake finished: the peer's name, flags and creation.
        case completed(peer: String, flags: DistributionFlags, creation: UInt32)
        /// The peer answered `nok`: both nodes called each other at once and the peer keeps the connection
        /// it initiated; this one is to be dropped quietly.
        case superseded
        /// The acceptor learnt the (valid) name of the peer that calls: the connection answers with
        /// `proceed(with:)`; nothing more is read until then.
        case named(String)
        /// The peer answered `sfalse` to `alive`: it keeps its connection; this one ends quietly.
        case declined
        /// The acceptor refused the caller (after sending the status that says so): end the connection.
        case refused(DistributionError)
    }

    /// The acceptor's answer to a peer's name (step 2), decided by the connection.
    enum Status: String {
        case ok
        /// Both nodes call each other and the peer's call wins: this node drops its own call once the peer
        /// has proved its cookie.
        case okSimultaneous = "ok_simultaneous"
        /// Both nodes call each other and this node's call wins.
        case nok
        /// A connection to the peer is up: the peer must confirm (`strue`) that it restarted.
        case alive
        /// The name is not allowed here (this node's own name).
        case notAllowed = "not_allowed"
    }

    /// The longest handshake message accepted (the largest legal one, a challenge naming a 255-byte node,
    /// is 274 bytes): a longer length prefix ends the handshake before anything is buffered.
    static let maximumMessageLength = 1024

    let role: Role
    let localName: String
    let localCreation: UInt32
    private let cookie: [UInt8]
    private let ourChallenge: UInt32
    private var state: State
    private var buffer: [UInt8] = []
    private(set) var peerName: String?
    private var peerFlags: DistributionFlags = []
    private var peerCreation: UInt32 = 0
    /// The flags this node announces.
    let localFlags: DistributionFlags
    /// The size of every message's length prefix: 2, or 4 over a secure channel.
    let lengthSize: Int

    private enum State {
        case awaitingName, awaitingDecision, awaitingAliveAnswer, awaitingStatus, awaitingChallenge, awaitingReply
        case awaitingAck, done
    }

    /// The initiator also knows whom it calls (`expectedPeer`); the acceptor learns it from step 1.
    init(role: Role, localName: String, creation: UInt32, cookie: String, challenge: UInt32, expectedPeer: String? = nil,
         flags: DistributionFlags = .ours, lengthSize: Int = 2) {
        precondition(lengthSize == 2 || lengthSize == 4, "a handshake length prefix has 2 or 4 bytes")
        self.role = role
        localFlags = flags
        self.lengthSize = lengthSize
        self.localName = localName
        self.localCreation = creation
        self.cookie = Array(cookie.utf8)
        self.ourChallenge = challenge
        self.peerName = expectedPeer
        state = role == .initiator ? .awaitingStatus : .awaitingName
    }

    /// The first message, for the initiator.
    func start() -> [UInt8] { nameMessage(challenge: nil) }

    /// `N`, our flags, [challenge,] creation and name: the initiator's send_name, or (with a challenge) the
    /// acceptor's send_challenge.
    private func nameMessage(challenge: UInt32?) -> [UInt8] {
        var body = TermWriter()
        body.u8(UInt8(ascii: "N"))
        body.u64(localFlags.rawValue)
        if let challenge { body.u32(challenge) }
        body.u32(localCreation)
        body.u16(UInt16(localName.utf8.count))
        body.bytes += localName.utf8
        return frame(body.bytes)
    }

    /// Bytes left over after the handshake: the first distribution frames, sent right after the ack.
    mutating func takeRemainder() -> [UInt8] {
        defer { buffer = [] }
        return buffer
    }

    /// This node sent its digest and waits for the peer's: a peer that closes now refused our cookie
    /// (Erlang closes without a word on a digest mismatch).
    var isAwaitingAck: Bool { state == .awaitingAck }

    /// The acceptor has not heard the caller's name yet (a silent or closed socket is not worth a warning).
    var isAwaitingName: Bool { state == .awaitingName }

    /// Feeds received bytes; returns the steps they complete, in order.
    mutating func receive(_ bytes: UnsafeRawBufferPointer) throws(DistributionError) -> [Step] {
        buffer.append(contentsOf: bytes)
        return try drain()
    }

    /// The acceptor's status for the peer named in `.named`: sends it, and the challenge when the handshake
    /// goes on; then handles what the peer sent meanwhile.
    mutating func proceed(with status: Status) throws(DistributionError) -> [Step] {
        precondition(state == .awaitingDecision, "proceed(with:) answers .named only")
        let who = peerName ?? "unknown peer"
        var steps: [Step] = [.send(frame(Array(("s" + status.rawValue).utf8)))]
        switch status {
        case .ok, .okSimultaneous:
            state = .awaitingReply
            steps.append(.send(nameMessage(challenge: ourChallenge)))
        case .alive:
            state = .awaitingAliveAnswer
        case .nok:
            state = .done
            return steps + [.superseded]
        case .notAllowed:
            state = .done
            return steps + [.refused(.handshake(who, "a caller may not use this node's own name"))]
        }
        return try steps + drain()
    }

    private mutating func drain() throws(DistributionError) -> [Step] {
        var steps: [Step] = []
        while state != .done, state != .awaitingDecision, buffer.count >= lengthSize {
            let length = buffer.prefix(lengthSize).reduce(0) { $0 << 8 | Int($1) }
            guard length <= Self.maximumMessageLength else {
                throw .handshake(peerName ?? "unknown peer", "handshake message of \(length) bytes exceeds \(Self.maximumMessageLength)")
            }
            guard buffer.count >= lengthSize + length else { break }
            let message = Array(buffer[lengthSize..<lengthSize + length])
            buffer.removeFirst(lengthSize + length)
            steps += try handle(message)
        }
        return steps
    }

    private mutating func handle(_ message: [UInt8]) throws(DistributionError) -> [Step] {
        let who = peerName ?? "unknown peer"
        guard let tag = message.first else { throw .handshake(who, "empty message") }
        switch (state, tag) {
        case (.awaitingName, UInt8(ascii: "N")):
            // send_name: flags(8) creation(4) nlen(2) name
            guard message.count >= 15 else { throw .handshake(who, "short name message") }
            peerFlags = DistributionFlags(rawValue: message.uint64(at: 1))
            peerCreation = message.uint32(at: 9)
            let length = Int(message.uint16(at: 13))
            guard message.count >= 15 + length else { throw .handshake(who, "short name message") }
            let name = try NodeName.validate(message[15..<15 + length])
            peerName = name
            try checkFlags(name)
            state = .awaitingDecision
            return [.named(name)]
        case (.awaitingAliveAnswer, UInt8(ascii: "s")):
            switch message.dropFirst().elementsEqual("true".utf8) {
            case true:
                state = .awaitingReply
                return [.send(nameMessage(challenge: ourChallenge))]
            case false:
                state = .done
                return [.declined]
            }
        case (.awaitingName, UInt8(ascii: "n")):
            throw .handshake(who, "peer uses the version 5 handshake; OTP 23 or later is required")
        case (.awaitingStatus, UInt8(ascii: "s")):
            let status = String(decoding: message.dropFirst(), as: UTF8.self)
            switch status {
            case "nok": return [.superseded]
            case "ok", "ok_simultaneous":
                state = .awaitingChallenge
                return []
            case "alive":
                // The peer has a connection to this node's name up; this node has none (it calls): it is the
                // restarted side, and says so.
                state = .awaitingChallenge
                return [.send(frame(Array("strue".utf8)))]
            default:
                throw .handshake(who, "peer refused the connection: \(status)")
            }
        case (.awaitingChallenge, UInt8(ascii: "N")):
            // challenge: flags(8) challenge(4) creation(4) nlen(2) name
            guard message.count >= 19 else { throw .handshake(who, "short challenge") }
            peerFlags = DistributionFlags(rawValue: message.uint64(at: 1))
            let challenge = message.uint32(at: 9)
            peerCreation = message.uint32(at: 13)
            let length = Int(message.uint16(at: 17))
            guard message.count >= 19 + length else { throw .handshake(who, "short challenge") }
            let name = try NodeName.validate(message[19..<19 + length])
            guard peerName == nil || peerName == name else {
                throw .handshake(who, "answered as \(name)")
            }
            peerName = name
            try checkFlags(name)
            var reply = TermWriter()
            reply.u8(UInt8(ascii: "r"))
            reply.u32(ourChallenge)
            reply.bytes += digest(challenge)
            state = .awaitingAck
            return [.send(frame(reply.bytes))]
        case (.awaitingReply, UInt8(ascii: "r")):
            guard message.count == 21 else { throw .handshake(who, "malformed challenge reply") }
            let theirChallenge = message.uint32(at: 1)
            guard Array(message[5..<21]) == digest(ourChallenge) else { throw .badCookie(who) }
            var ack: [UInt8] = [UInt8(ascii: "a")]
            ack += digest(theirChallenge)
            state = .done
            return [.send(frame(ack)), .completed(peer: who, flags: peerFlags, creation: peerCreation)]
        case (.awaitingAck, UInt8(ascii: "a")):
            guard message.count == 17 else { throw .handshake(who, "malformed challenge ack") }
            guard Array(message[1..<17]) == digest(ourChallenge) else { throw .badCookie(who) }
            state = .done
            return [.completed(peer: who, flags: peerFlags, creation: peerCreation)]
        default:
            throw .handshake(who, "unexpected message '\(String(decoding: [tag], as: UTF8.self))' during the handshake")
        }
    }

    private func checkFlags(_ name: String) throws(DistributionError) {
        let missing = peerFlags.missingRequired
        guard missing.isEmpty else { throw .missingFlags(name, missing) }
    }

    /// `md5(Cookie ++ integer_to_list(Challenge))`.
    func digest(_ challenge: UInt32) -> [UInt8] { MD5.digest(cookie + Array(String(challenge).utf8)) }

    /// A handshake message: its length in `lengthSize` bytes, then `body`.
    func frame(_ body: [UInt8]) -> [UInt8] {
        guard lengthSize == 4 else { return Self.frame(body) }
        var out = TermWriter(capacity: body.count + 4)
        out.u32(UInt32(body.count))
        out.bytes += body
        return out.bytes
    }

    /// A handshake (or EPMD) message: its 2-byte length, then `body`.
    static func frame(_ body: [UInt8]) -> [UInt8] {
        var out = TermWriter(capacity: body.count + 2)
        out.u16(UInt16(body.count))
        out.bytes += body
        return out.bytes
    }
}
