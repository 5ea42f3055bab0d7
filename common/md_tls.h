/* md_tls.h: TLS as a byte transformer over memory BIOs, independent of any
 * socket. The transport feeds ciphertext in with md_tls_feed and ships what
 * md_tls_take_output produces; plaintext goes through md_tls_read and
 * md_tls_write. After every call that may produce output (handshake, read,
 * write, shutdown) the caller drains the output. Ownership: the md_tls_t owns
 * its SSL object, and the SSL object owns both BIOs. */
#ifndef MD_TLS_H
#define MD_TLS_H

#include <stddef.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "md_buf.h"
#include "md_err.h"

typedef struct md_tls md_tls_t;

/* Server context: TLS 1.2 minimum, buffers released when idle. */
SSL_CTX *md_tls_server_ctx(const char *cert_file, const char *key_file, char *errbuf,
                           size_t errlen);
/* Client context. With ca_file the peer is verified against it (and the
 * host name checked by the caller via md_tls_new's host); without, the
 * caller must pin the peer's fingerprint itself. */
SSL_CTX *md_tls_client_ctx(const char *ca_file, char *errbuf, size_t errlen);

/* host: for clients, the name sent as SNI and checked against the
 * certificate when the context verifies; NULL for servers. */
md_tls_t *md_tls_new(SSL_CTX *ctx, int is_server, const char *host);
void md_tls_free(md_tls_t *t);

/* Give ciphertext received from the peer. */
MD_WUR int md_tls_feed(md_tls_t *t, const void *p, size_t n);
/* Drive the handshake: 1 done, 0 needs more bytes, MD_ETLS on failure. */
MD_WUR int md_tls_handshake(md_tls_t *t);
int md_tls_handshake_done(const md_tls_t *t);
/* Read plaintext: >0 bytes, 0 needs more bytes, MD_EIO when the peer closed
 * cleanly, MD_ETLS on error. */
MD_WUR ssize_t md_tls_read(md_tls_t *t, void *p, size_t cap);
/* Encrypt plaintext; all n bytes are accepted or MD_ETLS. */
MD_WUR int md_tls_write(md_tls_t *t, const void *p, size_t n);
/* Send close_notify. */
void md_tls_shutdown(md_tls_t *t);
/* Move pending ciphertext into out. Returns bytes moved or an error. */
MD_WUR ssize_t md_tls_take_output(md_tls_t *t, md_buf_t *out);
size_t md_tls_output_pending(md_tls_t *t);

/* SHA-256 of the peer's leaf certificate (DER) as 64 lowercase hex digits. */
MD_WUR int md_tls_peer_fingerprint(md_tls_t *t, char hex[65]);
/* Result of certificate verification (X509_V_OK when verified). */
long md_tls_verify_result(md_tls_t *t);
/* Describe the last OpenSSL error into buf. */
void md_tls_last_error(char *buf, size_t len);
/* SHA-256 fingerprint of a PEM certificate file, as 64 hex digits. */
MD_WUR int md_tls_file_fingerprint(const char *pem_file, char hex[65]);
const char *md_tls_version(md_tls_t *t);

#endif
