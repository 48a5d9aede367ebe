#if canImport(Glibc)
import Glibc
#endif
import COpenSSL
import OTP

/// One connection's TLS session over two memory BIOs: the stream feeds received ciphertext in and takes
/// ciphertext to send out; OpenSSL never touches the socket.
///
/// Thread: the connection's loop thread only (OpenSSL's error queue is per thread: every operation clears it
/// first). Memory: what the peer can make it hold is OpenSSL's: one partial record (16 KiB and change) past
/// what the stream reads in one go, and during the handshake at most OpenSSL's certificate-list limit (100
/// KiB); the distribution's setup time bounds how long. Renegotiation is refused.
final class TLSChannel: SecureChannel {
    private let ssl: OpaquePointer
    private let incoming: OpaquePointer
    private let outgoing: OpaquePointer
    private(set) var isEstablished = false
    private(set) var peerIdentity: String?
    private(set) var isClosedByPeer = false

    init(context: OpaquePointer, role: SecureChannelRole, serverName: String?, checkHostName: Bool) throws(SecureChannelError) {
        OpenSSLErrors.clear()
        guard let ssl = SSL_new(context) else {
            throw SecureChannelError(OpenSSLErrors.take(or: "cannot create a TLS session"))
        }
        guard let incoming = otp_bio_new_memory(), let outgoing = otp_bio_new_memory() else {
            SSL_free(ssl)
            throw SecureChannelError("cannot create TLS buffers")
        }
        SSL_set_bio(ssl, incoming, outgoing)  // the session owns them now
        self.ssl = ssl
        self.incoming = incoming
        self.outgoing = outgoing
        switch role {
        case .server:
            SSL_set_accept_state(ssl)
        case .client:
            SSL_set_connect_state(ssl)
            if let serverName { try expect(serverName, checkHostName: checkHostName) }
        }
    }

    deinit { SSL_free(ssl) }

    /// The caller's side: the server name it sends (SNI, for DNS names) and, when checked, the name the
    /// acceptor's certificate must carry.
    private func expect(_ host: String, checkHostName: Bool) throws(SecureChannelError) {
        let isAddress = Self.isIPAddress(host)
        if !isAddress { _ = otp_ssl_set_server_name(ssl, host) }
        guard checkHostName else { return }
        let accepted = isAddress ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) : SSL_set1_host(ssl, host)
        guard accepted == 1 else {
            throw SecureChannelError(OpenSSLErrors.take(or: "cannot check the certificate against host \(host)"))
        }
    }

    private static func isIPAddress(_ host: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET, host, &address) == 1 || inet_pton(AF_INET6, host, &address) == 1
    }

    func advance() throws(SecureChannelError) {
        guard !isEstablished else { return }
        OpenSSLErrors.clear()
        let result = SSL_do_handshake(ssl)
        guard result == 1 else { return try check(result) }
        isEstablished = true
        peerIdentity = Self.subject(of: SSL_get0_peer_certificate(ssl)).map { "\($0) (\(String(cString: SSL_get_version(ssl))))" }
    }

    func receive(_ ciphertext: UnsafeRawBufferPointer) throws(SecureChannelError) {
        var offset = 0
        while offset < ciphertext.count {
            let count = Int32(clamping: ciphertext.count - offset)
            let written = BIO_write(incoming, ciphertext.baseAddress! + offset, count)
            guard written > 0 else { throw SecureChannelError("cannot buffer received TLS records") }
            offset += Int(written)
        }
    }

    func readPlaintext(into buffer: UnsafeMutableRawBufferPointer) throws(SecureChannelError) -> Int {
        guard !isClosedByPeer else { return 0 }
        if !isEstablished {
            try advance()
            guard isEstablished else { return 0 }
        }
        OpenSSLErrors.clear()
        let count = SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count))
        if count > 0 { return Int(count) }
        try check(count)
        return 0
    }

    func send(_ plaintext: UnsafeRawBufferPointer) throws(SecureChannelError) {
        precondition(isEstablished, "TLSChannel.send before the handshake finished")
        var offset = 0
        while offset < plaintext.count {
            OpenSSLErrors.clear()
            let count = Int32(clamping: plaintext.count - offset)
            let written = SSL_write(ssl, plaintext.baseAddress! + offset, count)
            guard written > 0 else {
                try check(written)
                throw SecureChannelError("TLS write made no progress")
            }
            offset += Int(written)
        }
    }

    var hasCiphertext: Bool { otp_bio_pending(outgoing) > 0 }

    func takeCiphertext(into output: inout [UInt8]) {
        let pending = otp_bio_pending(outgoing)
        guard pending > 0 else { return }
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: pending))
        let read = output.withUnsafeMutableBytes { bytes in
            BIO_read(outgoing, bytes.baseAddress! + start, Int32(clamping: pending))
        }
        output.removeLast(pending - max(Int(read), 0))
    }

    func shutdown() {
        guard isEstablished, !isClosedByPeer else { return }
        OpenSSLErrors.clear()
        _ = SSL_shutdown(ssl)
        OpenSSLErrors.clear()
    }

    /// Returns when `result` only means "more input needed"; otherwise throws what went wrong.
    private func check(_ result: Int32) throws(SecureChannelError) {
        let code = SSL_get_error(ssl, result)
        switch code {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return
        case SSL_ERROR_ZERO_RETURN:
            isClosedByPeer = true  // a close notification: an orderly end
            return
        default:
            var reason = OpenSSLErrors.take(or: "TLS error \(code)")
            let verification = SSL_get_verify_result(ssl)
            if verification != X509_V_OK {
                reason += " (certificate: \(String(cString: X509_verify_cert_error_string(verification))))"
            }
            throw SecureChannelError(reason)
        }
    }

    /// A certificate's subject, one line (`/CN=...`), at most 255 bytes; peer-supplied: escape it to log it.
    private static func subject(of certificate: OpaquePointer?) -> String? {
        guard let certificate, let name = X509_get_subject_name(certificate) else { return nil }
        var text = [CChar](repeating: 0, count: 256)
        guard X509_NAME_oneline(name, &text, Int32(text.count)) != nil else { return nil }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
