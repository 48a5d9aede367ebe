/// Encryption and authentication of distribution connections (Erlang's `inet_tls_dist`): set
/// `DistributionOptions.security` and every connection of the node, called or accepted, runs through a
/// `SecureChannel` made here. The core names no TLS library; `OTPTLS.TLSDistribution` is the implementation
/// (OpenSSL).
///
/// With security set, the distribution handshake's messages carry 4-byte lengths (as `inet_tls_dist`'s
/// `{packet, 4}` socket), and EPMD stays plain TCP, as in Erlang.
///
/// Thread: `makeChannel` is called on a node's loop thread, possibly from several nodes' loops at once:
/// implementations are `Sendable` and share only immutable (or internally locked) state between channels.
public protocol DistributionSecurity: Sendable {
    /// A channel for one new connection. `serverName`: the host part of the peer's node name when this node
    /// calls (the name the peer's certificate must carry, and the TLS server name); `nil` when it accepts.
    /// Errors: a `SecureChannelError` that ends the connection (it is logged, naming the peer).
    func makeChannel(role: SecureChannelRole, serverName: String?) throws(SecureChannelError) -> any SecureChannel
}

/// Which side of the secure handshake a connection is: the node that calls is the client.
public enum SecureChannelRole: Sendable, Equatable {
    case client, server
}

/// One connection's security state, a filter over bytes: ciphertext from the socket goes in (`receive`),
/// plaintext for the distribution comes out (`readPlaintext`); plaintext to send goes in (`send`),
/// ciphertext for the socket comes out (`takeCiphertext`). It performs no I/O itself.
///
/// Thread: the loop thread of its connection only. Cost: one channel per connection; bounds on what a
/// peer can make it hold are the implementation's (stated there).
public protocol SecureChannel: AnyObject {
    /// The handshake finished and the peer is authenticated: `send` may be called.
    var isEstablished: Bool { get }
    /// Who the peer proved to be (its certificate's subject), once established; for logs (escape it).
    var peerIdentity: String? { get }
    /// The peer ended the session (a close notification): no more plaintext comes, and the stream closes
    /// as if the socket had — not as a failure.
    var isClosedByPeer: Bool { get }
    /// Starts or continues the handshake (a client's first flight): ciphertext, if any, is in
    /// `takeCiphertext`.
    func advance() throws(SecureChannelError)
    /// Takes ciphertext from the peer (all of it).
    func receive(_ ciphertext: UnsafeRawBufferPointer) throws(SecureChannelError)
    /// Plaintext decrypted so far, at most `buffer.count` bytes at a time; 0 when there is none (yet). It
    /// also moves the handshake on.
    func readPlaintext(into buffer: UnsafeMutableRawBufferPointer) throws(SecureChannelError) -> Int
    /// Encrypts `plaintext` (only once established).
    func send(_ plaintext: UnsafeRawBufferPointer) throws(SecureChannelError)
    /// Ciphertext waits to go out (`takeCiphertext`): handshake records or alerts produced while receiving.
    var hasCiphertext: Bool { get }
    /// Appends the ciphertext waiting to go out (handshake records, data, alerts) to `output`.
    func takeCiphertext(into output: inout [UInt8])
    /// Ends the session politely (a close notification is left in `takeCiphertext`), once established.
    func shutdown()
}

/// Why a secure channel failed: the connection ends, and the reason is logged with the peer's name.
/// `reason` may quote what the peer sent (a certificate name): `description` escapes and bounds it.
public struct SecureChannelError: Error, Equatable, Sendable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "\(LogText(reason))" }
}
