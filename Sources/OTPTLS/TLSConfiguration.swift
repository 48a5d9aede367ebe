/// What a node's TLS distribution needs: its certificate and key, and the authorities its peers'
/// certificates must chain to. The counterpart of Erlang's `-ssl_dist_optfile` (`certfile`, `keyfile`,
/// `cacertfile`, `verify`, `fail_if_no_peer_cert`), one set for both directions.
///
/// Thread: a plain value, `Sendable`. Files are read once, by `TLSDistribution.init`.
public struct TLSConfiguration: Sendable, Equatable, CustomStringConvertible {
    /// PEM file: this node's certificate, then any intermediate certificates (presented to peers, in both
    /// directions: Erlang's acceptors ask the caller for one).
    public var certificateFile: String
    /// PEM file: the private key of the certificate (unencrypted; keep it readable by the node's user only).
    public var privateKeyFile: String
    /// PEM file: the certificate authorities a peer's certificate must chain to.
    public var trustedCAFile: String
    /// Check the peer's certificate (true, the default, as Erlang's `{verify, verify_peer}` with
    /// `fail_if_no_peer_cert`): a peer without a certificate signed by `trustedCAFile` is refused, in either
    /// direction. Off, connections are encrypted but anyone who knows the cookie may join.
    public var verifyPeer: Bool
    /// When this node calls, the peer's certificate must name the host part of the peer's node name (a DNS
    /// name or an IP address in its subjectAltName), as Erlang's client checks its
    /// `server_name_indication`. Only with `verifyPeer`.
    public var checkHostName: Bool
    /// The oldest protocol version accepted: TLS 1.2 by default (what OTP 25 still offers); `.v1_3` for TLS
    /// 1.3 only.
    public var minimumVersion: TLSVersion

    public init(certificateFile: String, privateKeyFile: String, trustedCAFile: String, verifyPeer: Bool = true,
                checkHostName: Bool = true, minimumVersion: TLSVersion = .v1_2) {
        self.certificateFile = certificateFile
        self.privateKeyFile = privateKeyFile
        self.trustedCAFile = trustedCAFile
        self.verifyPeer = verifyPeer
        self.checkHostName = checkHostName
        self.minimumVersion = minimumVersion
    }

    public var description: String {
        "TLSConfiguration(certificate: \(certificateFile), key: \(privateKeyFile), trusted: \(trustedCAFile), "
            + "verifyPeer: \(verifyPeer), checkHostName: \(checkHostName), minimumVersion: \(minimumVersion))"
    }
}

/// A TLS protocol version.
public enum TLSVersion: String, Sendable, Equatable, CustomStringConvertible {
    case v1_2 = "TLS 1.2"
    case v1_3 = "TLS 1.3"
    public var description: String { rawValue }
}

/// Why a TLS distribution could not be set up from its configuration: names the file involved.
public enum TLSConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The certificate file is missing, unreadable or not PEM certificates.
    case certificate(path: String, reason: String)
    /// The private key file is missing, unreadable, not a PEM key, or not the certificate's key.
    case privateKey(path: String, reason: String)
    /// The trusted CA file is missing, unreadable or holds no PEM certificate.
    case trustedCA(path: String, reason: String)
    /// OpenSSL could not make a context (out of memory, or a broken installation).
    case library(String)

    public var description: String {
        switch self {
        case .certificate(let path, let reason): return "TLS certificate file \(path): \(reason)"
        case .privateKey(let path, let reason): return "TLS private key file \(path): \(reason)"
        case .trustedCA(let path, let reason): return "TLS trusted CA file \(path): \(reason)"
        case .library(let reason): return "OpenSSL: \(reason)"
        }
    }
}
