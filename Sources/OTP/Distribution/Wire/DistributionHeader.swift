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
    /// A message being gathered. When its first fragment shows a large binary (the usual big message:
    /// a tuple of a few small terms and one large binary), that binary's contents are gathered straight
    /// into their own array, which becomes the decoded term's: no copy of them when the message completes.
    private struct Partial {
        /// The message's bytes, without the large binary's contents.
        var bytes: [UInt8]
        /// The fragment id the next continuation must carry.
        var next: UInt64
        /// The large binary's contents so far, where they belong in `bytes`, and how many are still due.
        var binary: [UInt8] = []
        var binaryAt = -1
        var binaryDue = 0

        /// What it holds and may still hold: the large binary counts at its announced size from the start
        /// (its array is reserved that large).
        var heldBytes: Int { bytes.count + binary.count + binaryDue }

        /// Appends a slice: to the binary while its contents are due, the rest to `bytes`.
        mutating func append(_ slice: UnsafeRawBufferPointer) {
            let toBinary = min(binaryDue, slice.count)
            if toBinary > 0 {
                binary.append(contentsOf: UnsafeRawBufferPointer(rebasing: slice[..<toBinary]))
                binaryDue -= toBinary
            }
            if toBinary < slice.count { bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: slice[toBinary...])) }
        }
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
            var partial = Partial(bytes: [], next: count - 1)
            // Where a large binary's contents begin, if this fragment shows one: read the control term and
            // the payload until the terms run past it.
            var scan = TermReader(slice)
            scan.findsLargeBinary = DistributionHeader.fragmentSize
            _ = try? scan.readTerm()
            if !scan.isAtEnd, scan.largeBinary == nil { _ = try? scan.readTerm() }
            if let (at, binaryCount) = scan.largeBinary {
                guard heldBytes + at + binaryCount + Self.entryCost <= maximumBytes else {
                    return violation("incomplete fragmented messages exceed \(maximumBytes) bytes")
                }
                partial.bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: slice[..<at]))
                partial.binary.reserveCapacity(binaryCount)
                partial.binaryAt = at
                partial.binaryDue = binaryCount
                partial.append(UnsafeRawBufferPointer(rebasing: slice[at...]))
            } else {
                partial.bytes.append(contentsOf: slice)
            }
            partials[sequence] = partial
            heldBytes += partial.heldBytes + Self.entryCost
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
            heldBytes -= partial.heldBytes + Self.entryCost
            guard id == partial.next else {
                return violation("fragment \(id) of sequence \(sequence) where \(partial.next) was due")
            }
            partial.append(slice)  // at most one fragment more than the bound, checked now
            guard heldBytes + partial.heldBytes + Self.entryCost <= maximumBytes else {
                return violation("incomplete fragmented messages exceed \(maximumBytes) bytes")
            }
            if id == 1 {
                guard partial.binaryDue == 0 else { return violation("a binary of sequence \(sequence) cut short") }
                let external = partial.binaryAt >= 0 ? (at: partial.binaryAt, data: partial.binary) : nil
                partial.binary = []  // the decoded term holds the only reference: no copy on write
                return partial.bytes.withUnsafeBytes {
                    Self.decode($0, external: external, fragmented: true, peer: peer)
                }
            }
            partial.next = id - 1
            heldBytes += partial.heldBytes + Self.entryCost
            partials[sequence] = partial
            return .success(.partial)
        case let other:
            return violation("distribution header \(other), expected 68, 69 or 70")
        }
    }

    /// The control term and optional payload, without version bytes, filling `bytes` exactly.
    /// `external`: a large binary gathered apart, which belongs at offset `at` of `bytes`.
    private static func decode(_ bytes: UnsafeRawBufferPointer, external: (at: Int, data: [UInt8])? = nil,
                               fragmented: Bool, peer: String) -> Result<Outcome, DistributionError> {
        var reader = TermReader(bytes)
        reader.external = external
        do throws(TermFormatError) {
            let control = try reader.readTerm()
            let payload = reader.isAtEnd ? nil : try reader.readTerm()
            guard reader.isAtEnd else { throw TermFormatError.trailingBytes(offset: reader.offset) }
            guard reader.external == nil else {
                return .failure(.protocolViolation(node: peer, reason: "a fragmented message whose terms changed"))
            }
            return .success(.message(control, payload, fragmented: fragmented))
        } catch {
            return .failure(.protocolViolation(node: peer, reason: error.description))
        }
    }
}

/// A message too big for one frame, going out fragment by fragment (Erlang's `DIST_FRAG_HEADER` and
/// `DIST_FRAG_CONT`), so that other messages and ticks on the connection go between its fragments.
///
/// It keeps what it was encoded into: the frame's bytes from `start` (the control term and the payload
/// without version bytes) with the large binaries the encoder kept by reference (`TermWriter.references`)
/// in their places; each fragment is a run of slices of those. Thread: the connection's loop thread.
struct FragmentedMessage {
    /// The message's bytes in order: runs of the encoded frame and the referenced binaries between them.
    private let pieces: [ArraySlice<UInt8>]
    private var piece = 0
    private var pieceOffset = 0
    private let sequence: UInt64
    /// Fragments still to send; the next one carries this id.
    private var remaining: UInt64
    private let count: UInt64
    /// The first fragment's length: a whole fragment, or the control term if that is longer.
    private let firstLength: Int
    /// Bytes not sent yet.
    private(set) var unsentBytes: Int

    /// Cuts `bytes[start...]`, with `references` in their places, into fragments of
    /// `DistributionHeader.fragmentSize`, the first at least `controlLength` long (the control term must be
    /// whole in the first fragment).
    init(bytes: [UInt8], start: Int, references: [(at: Int, data: [UInt8])] = [], controlLength: Int,
         sequence: UInt64) {
        var pieces: [ArraySlice<UInt8>] = []
        var from = start
        for reference in references {
            if reference.at > from { pieces.append(bytes[from..<reference.at]) }
            pieces.append(reference.data[...])
            from = reference.at
        }
        if bytes.count > from { pieces.append(bytes[from...]) }
        self.pieces = pieces
        self.sequence = sequence
        let total = pieces.reduce(0) { $0 + $1.count }
        unsentBytes = total
        firstLength = max(DistributionHeader.fragmentSize, controlLength)
        let rest = max(0, total - firstLength)
        count = 1 + UInt64((rest + DistributionHeader.fragmentSize - 1) / DistributionHeader.fragmentSize)
        remaining = count
    }

    var isDone: Bool { remaining == 0 }

    /// The next fragment: its frame's length prefix and header, and the slices of the message that follow
    /// it (written as they are, without another copy).
    mutating func nextFragment() -> (header: [UInt8], slices: [ArraySlice<UInt8>]) {
        let isFirst = remaining == count
        let length = remaining == 1 ? unsentBytes : min(unsentBytes, isFirst ? firstLength : DistributionHeader.fragmentSize)
        let headerLength = isFirst ? DistributionHeader.startLength : DistributionHeader.continuationLength
        var header = TermWriter(capacity: 4 + headerLength)
        header.u32(UInt32(headerLength + length))
        header.u8(ExternalTermFormat.version)
        header.u8(isFirst ? DistributionHeader.fragmentStart : DistributionHeader.fragmentContinuation)
        header.u64(sequence)
        header.u64(remaining)
        if isFirst { header.u8(0) }
        var slices: [ArraySlice<UInt8>] = []
        var needed = length
        while needed > 0 {
            let current = pieces[piece]
            let take = min(needed, current.count - pieceOffset)
            let from = current.startIndex + pieceOffset
            slices.append(current[from..<from + take])
            needed -= take
            pieceOffset += take
            if pieceOffset == current.count {
                piece += 1
                pieceOffset = 0
            }
        }
        unsentBytes -= length
        remaining -= 1
        return (header.bytes, slices)
    }
}
