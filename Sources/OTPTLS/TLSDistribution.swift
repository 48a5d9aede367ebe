import COpenSSL
import OTP

/// TLS for a node's distribution connections (Erlang's `inet_tls_dist`), with Debian's OpenSSL 3: set it as
/// `DistributionOptions.security`.
///
/// ```swift
/// var options = DistributionOptions(name: "swift@host.example.com")
/// options.security = try TLSDistribution(TLSConfiguration(
///     certificateFile: "/etc/swift-otp/node.pem", privateKeyFile: "/etc/swift-otp/node.key",
///     trustedCAFile: "/etc/swift-otp/ca.pem"))
/// ```
///
/// Every connection, called or accepted, does a full TLS handshake (1.2 or 1.3; no session resumption, no
/// renegotiation, no compression) before the distribution handshake; both sides present a certificate and,
/// with `verifyPeer`, check the other's against `trustedCAFile` — and the caller checks that the acceptor's
/// certificate names the host it called. The cookie handshake still follows, as in Erlang.
///
/// Thread: `Sendable`. The OpenSSL context is built once here and only read afterwards (OpenSSL locks what
/// it shares between the channels of several loops). Cost: a handshake costs a few milliseconds of CPU on
/// the loop (RSA/ECDSA signatures); records add 22 bytes and an AES-GCM/ChaCha20 pass per flush.
/// Errors: `TLSConfigurationError` naming the file that is missing, unreadable or does not fit.
public final class TLSDistribution: DistributionSecurity, CustomStringConvertible, @unchecked Sendable {
    public let configuration: TLSConfiguration
    private let context: OpaquePointer

    public init(_ configuration: TLSConfiguration) throws(TLSConfigurationError) {
        self.configuration = configuration
        OpenSSLErrors.clear()
        guard let context = SSL_CTX_new(TLS_method()) else {
            throw .library(OpenSSLErrors.take(or: "cannot create a TLS context"))
        }
        do throws(TLSConfigurationError) {
            try Self.configure(context, configuration)
        } catch {
            SSL_CTX_free(context)
            throw error
        }
        self.context = context
    }

    private static func configure(_ context: OpaquePointer, _ configuration: TLSConfiguration) throws(TLSConfigurationError) {
        _ = SSL_CTX_set_options(context, otp_ssl_hardening_options())
        let version = configuration.minimumVersion == .v1_3 ? otp_tls1_3_version() : otp_tls1_2_version()
        guard otp_ssl_ctx_set_min_version(context, version) == 1 else {
            throw .library(OpenSSLErrors.take(or: "cannot set the minimum version"))
        }
        _ = SSL_CTX_set_num_tickets(context, 0)
        otp_ssl_ctx_disable_session_cache(context)
        // An encrypted key fails to load instead of OpenSSL asking for its passphrase on the terminal.
        SSL_CTX_set_default_passwd_cb(context) { _, _, _, _ in 0 }

        let certificate = configuration.certificateFile
        guard SSL_CTX_use_certificate_chain_file(context, certificate) == 1 else {
            throw .certificate(path: certificate, reason: OpenSSLErrors.take(or: "no PEM certificate"))
        }
        let key = configuration.privateKeyFile
        guard SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1,
              SSL_CTX_check_private_key(context) == 1 else {
            guard ERR_GET_REASON(ERR_peek_error()) != X509_R_KEY_VALUES_MISMATCH else {
                OpenSSLErrors.clear()
                throw .privateKey(path: key, reason: "not the key of the certificate in \(certificate)")
            }
            throw .privateKey(path: key, reason: OpenSSLErrors.take(or: "no PEM private key (an encrypted key is not supported)"))
        }
        let trusted = configuration.trustedCAFile
        guard SSL_CTX_load_verify_locations(context, trusted, nil) == 1 else {
            throw .trustedCA(path: trusted, reason: OpenSSLErrors.take(or: "no PEM certificate"))
        }
        // The acceptor names the authorities it trusts when it asks the caller for a certificate.
        if let names = SSL_load_client_CA_file(trusted) { SSL_CTX_set_client_CA_list(context, names) }
        OpenSSLErrors.clear()
        SSL_CTX_set_verify(context, configuration.verifyPeer ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                                                             : SSL_VERIFY_NONE, nil)
    }

    deinit { SSL_CTX_free(context) }

    /// A channel for one connection. Thread: the connection's loop thread.
    public func makeChannel(role: SecureChannelRole, serverName: String?) throws(SecureChannelError) -> any SecureChannel {
        try TLSChannel(context: context, role: role, serverName: serverName,
                       checkHostName: configuration.verifyPeer && configuration.checkHostName)
    }

    public var description: String { "TLS(\(configuration))" }
}
