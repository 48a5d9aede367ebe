// COpenSSL: Debian's OpenSSL 3 (libssl-dev) for Swift, plus functions for what its headers define as
// macros (Swift imports no function-like macros).
#ifndef SWIFT_OTP_COPENSSL_SHIM_H
#define SWIFT_OTP_COPENSSL_SHIM_H

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/bio.h>

/// The TLS server name (SNI) a client sends.
static inline int otp_ssl_set_server_name(SSL *ssl, const char *name) { return SSL_set_tlsext_host_name(ssl, name); }

/// The oldest protocol version a context accepts.
static inline int otp_ssl_ctx_set_min_version(SSL_CTX *context, int version) {
    return SSL_CTX_set_min_proto_version(context, version);
}

/// Turns the session cache off (every distribution connection is a full handshake, as in Erlang).
static inline void otp_ssl_ctx_disable_session_cache(SSL_CTX *context) {
    SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_OFF);
}

/// An empty memory BIO that reports "retry" (not end of file) when read while empty.
static inline BIO *otp_bio_new_memory(void) {
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio) BIO_set_mem_eof_return(bio, -1);
    return bio;
}

/// Bytes waiting in a memory BIO.
static inline size_t otp_bio_pending(BIO *bio) { return BIO_ctrl_pending(bio); }

/// Options every distribution context sets: no renegotiation (a peer could make the loop redo handshakes)
/// and no compression.
static inline uint64_t otp_ssl_hardening_options(void) { return SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION; }

static inline int otp_tls1_2_version(void) { return TLS1_2_VERSION; }
static inline int otp_tls1_3_version(void) { return TLS1_3_VERSION; }

#endif
