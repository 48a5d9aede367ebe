/// How a frame body after the handshake begins (erts/doc erl_ext_dist, "Distribution Header" and
/// "Distribution Header for Fragmented Messages").
///
/// Two layouts, chosen per connection by whether both nodes announced `DistributionFlags.fragments`:
/// - **pass-through** (`112`): the control term and the payload, each with its own version byte;
/// - **headers** (every Erlang node since OTP 22): `131 68` and an atom-cache count, then the two terms
///   without version bytes — or, for a message bigger than one fragment, `131 69` with a sequence id and
///   the fragment count, then `131 70` continuations counting down to 1, each carrying the next slice of
///   the same bytes. Fragments of different messages interleave; those of one message arrive in order.
///
/// A swift-otp node announces no atom cache, so the count it sends is 0 and a peer that sends atom-cache
/// references breaks the protocol. Thread: a plain value.
enum DistributionHeader {
    static let passThrough: UInt8 = 112
    static let normal: UInt8 = 68
    static let fragmentStart: UInt8 = 69
    static let fragmentContinuation: UInt8 = 70
    /// The largest slice of a message in one frame: Erlang's `ERTS_DIST_FRAGMENT_SIZE`.
    static let fragmentSize = 64 * 1024
    /// Bytes before the terms: `131 68 0`.
    static let normalLength = 3
    /// Bytes before the slice: `131 69` sequence(8) count(8) atoms(1).
    static let startLength = 19
    /// Bytes before the slice: `131 70` sequence(8) fragment(8).
    static let continuationLength = 18
}

/// Reassembles the fragmented messages of one connection.
///
/// Bounded, since the peer fills it: one message (whole or in fragments) holds at most `maximumBytes`, and
/// so do all the messages still incomplete together (each counted with 64 bytes for its entry). A
/// continuation of a sequence never started, a fragment out of order, a restarted sequence, or a count of 0
/// is a protocol violation and closes the connection. Thread: the connection's loop thread.
struct FragmentAssembler {
    private struct Partial {
        var bytes: [UInt8]
        /// The fragment id the next continuation must carry.
        var next: UInt64
    }

    private var partials: [UInt64: Partial] = [:]
    /// The bytes held in `partials`, entries included.
    private(set) var heldBytes = 0
    private static let entryCost = 64

    /// Messages begun and not complete.
    var incomplete: Int { partials.count }

    /// What one frame body in the header layout comes to.
    enum Outcome {
        /// A whole message: its control term and payload, decoded; `fragmented` when it came in pieces.
        case message(Term, Term?, fragmented: Bool)
        /// A fragment taken; the message is not complete yet.
        case partial
    }

    /// Takes one frame body (without its length) that begins with a distribution header.
    mutating func take(_ body: UnsafeRawBufferPointer, maximumBytes: Int, peer: String)
        -> Result<Outcome, DistributionError> {
        func violation(_ reason: String) -> Result<Outcome, DistributionError> {
            .failure(.protocolViolation(node: peer, reason: reason))
        }
        guard body.count >= DistributionHeader.normalLength, body[0] == ExternalTermFormat.version else {
            return violation("frame without a distribution header")
        }
        switch body[1] {
        case DistributionHeader.normal:
            guard body[2] == 0 else { return violation("atom cache references, which were not agreed") }
            return Self.decode(UnsafeRawBufferPointer(rebasing: body[DistributionHeader.normalLength...]),
                               fragmented: false, peer: peer)
        case DistributionHeader.fragmentStart:
            guard body.count >= DistributionHeader.startLength else { return violation("truncated fragment header") }
            let sequence = body.uint64(at: 2), count = body.uint64(at: 10)
            guard body[18] == 0 else { return violation("atom cache references, which were not agreed") }
            guard count > 0 else { return violation("a fragmented message of 0 fragments") }
            let slice = UnsafeRawBufferPointer(rebasing: body[DistributionHeader.startLength...])
            if count == 1 { return Self.decode(slice, fragmented: false, peer: peer) }
            guard partials[sequence] == nil else { return violation("fragment sequence \(sequence) started twice") }
            guard heldBytes + slice.count + Self.entryCost <= maximumBytes else {
                return violation("incomplete fragmented messages exceed \(maximumBytes) bytes")
            }
            partials[sequence] = Partial(bytes: Array(slice), next: count - 1)
            heldBytes += slice.count + Self.entryCost
            return .success(.partial)
        case DistributionHeader.fragmentContinuation:
            guard body.count >= DistributionHeader.continuationLength else {
                return violation("truncated fragment header")
            }
            let sequence = body.uint64(at: 2), id = body.uint64(at: 10)
            guard var partial = partials.removeValue(forKey: sequence) else {
                return violation("a fragment of sequence \(sequence), which was never started")
            }
            let slice = UnsafeRawBufferPointer(rebasing: body[DistributionHeader.continuationLength...])
            heldBytes -= partial.bytes.count + Self.entryCost
            guard id == partial.next else {
                return violation("fragment \(id) of sequence \(sequence) where \(partial.next) was due")
            }
            guard heldBytes + partial.bytes.count + slice.count + Self.entryCost <= maximumBytes else {
                return violation("incomplete fragmented messages exceed \(maximumBytes) bytes")
            }
            partial.bytes.append(contentsOf: slice)
            if id == 1 {
                return partial.bytes.withUnsafeBytes { Self.decode($0, fragmented: true, peer: peer) }
            }
            partial.next = id - 1
            heldBytes += partial.bytes.count + Self.entryCost
            partials[sequence] = partial
            return .success(.partial)
        case let other:
            return violation("distribution header \(other), expected 68, 69 or 70")
        }
    }

    /// The control term and optional payload, without version bytes, filling `bytes` exactly.
    private static func decode(_ bytes: UnsafeRawBufferPointer, fragmented: Bool, peer: String)
        -> Result<Outcome, DistributionError> {
        var reader = TermReader(bytes)
        do throws(TermFormatError) {
            let control = try reader.readTerm()
            let payload = reader.isAtEnd ? nil : try reader.readTerm()
            guard reader.isAtEnd else { throw TermFormatError.trailingBytes(offset: reader.offset) }
            return .success(.message(control, payload, fragmented: fragmented))
        } catch {
            return .failure(.protocolViolation(node: peer, reason: error.description))
        }
    }
}

/// A message too big for one frame, going out fragment by fragment (Erlang's `DIST_FRAG_HEADER` and
/// `DIST_FRAG_CONT`), so that other messages and ticks on the connection go between its fragments.
///
/// It keeps the encoded frame it was cut from: `bytes[start...]` is the control term and the payload
/// without version bytes. Thread: the connection's loop thread.
struct FragmentedMessage {
    private let bytes: [UInt8]
    private var offset: Int
    private let sequence: UInt64
    /// Fragments still to send; the next one carries this id.
    private var remaining: UInt64
    private let count: UInt64
    /// The first fragment's slice: a whole fragment, or the control term if that is longer.
    private let firstLength: Int

    /// Cuts `bytes[start...]` into fragments of `DistributionHeader.fragmentSize`, the first at least
    /// `controlLength` long (the control term must be whole in the first fragment).
    init(bytes: [UInt8], start: Int, controlLength: Int, sequence: UInt64) {
        self.bytes = bytes
        offset = start
        self.sequence = sequence
        firstLength = max(DistributionHeader.fragmentSize, controlLength)
        let rest = max(0, bytes.count - start - firstLength)
        count = 1 + UInt64((rest + DistributionHeader.fragmentSize - 1) / DistributionHeader.fragmentSize)
        remaining = count
    }

    var isDone: Bool { remaining == 0 }

    /// Bytes not sent yet.
    var unsentBytes: Int { bytes.count - offset }

    /// The next fragment as a whole frame, length prefix included.
    mutating func nextFrame() -> [UInt8] {
        let isFirst = remaining == count
        let sliceLength = remaining == 1 ? bytes.count - offset
            : (isFirst ? firstLength : DistributionHeader.fragmentSize)
        let header = isFirst ? DistributionHeader.startLength : DistributionHeader.continuationLength
        var frame = TermWriter(capacity: 4 + header + sliceLength)
        frame.u32(UInt32(header + sliceLength))
        frame.u8(ExternalTermFormat.version)
        frame.u8(isFirst ? DistributionHeader.fragmentStart : DistributionHeader.fragmentContinuation)
        frame.u64(sequence)
        frame.u64(remaining)
        if isFirst { frame.u8(0) }
        frame.bytes.append(contentsOf: bytes[offset..<offset + sliceLength])
        offset += sliceLength
        remaining -= 1
        return frame.bytes
    }
}
