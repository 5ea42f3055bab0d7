/* tls.c: OpenSSL 3 glue over memory BIOs, shared by mentord (driven by
 * libuv) and mentorctl (driven by a blocking socket). */
#include "md_tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

struct md_tls {
    SSL *ssl;
    BIO *rbio; /* owned by ssl: ciphertext from the peer */
    BIO *wbio; /* owned by ssl: ciphertext for the peer */
    int done;
};

void md_tls_last_error(char *buf, size_t len)
{
    unsigned long e = ERR_get_error();
    if (len == 0)
        return;
    if (e == 0) {
        snprintf(buf, len, "unknown tls error");
        return;
    }
    ERR_error_string_n(e, buf, len);
    ERR_clear_error();
}

SSL_CTX *md_tls_server_ctx(const char *cert_file, const char *key_file, char *errbuf, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        goto fail;
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION))
        goto fail;
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* TLS 1.2 suites: forward secret and AEAD only (Mozilla's intermediate
     * list); TLS 1.3 suites are all AEAD already. */
    if (SSL_CTX_set_cipher_list(ctx,
                                "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305") != 1)
        goto fail;
    /* No resumption tickets for now: every connection does a full handshake. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 0);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1)
        goto fail;
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1)
        goto fail;
    if (SSL_CTX_check_private_key(ctx) != 1)
        goto fail;
    return ctx;
fail:
    md_tls_last_error(errbuf, errlen);
    SSL_CTX_free(ctx);
    return NULL;
}

SSL_CTX *md_tls_client_ctx(const char *ca_file, char *errbuf, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL)
        goto fail;
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION))
        goto fail;
    if (ca_file != NULL) {
        if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1)
            goto fail;
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    } else {
        /* The caller pins the fingerprint after the handshake. */
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    return ctx;
fail:
    md_tls_last_error(errbuf, errlen);
    SSL_CTX_free(ctx);
    return NULL;
}

md_tls_t *md_tls_new(SSL_CTX *ctx, int is_server, const char *host)
{
    md_tls_t *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->ssl = SSL_new(ctx);
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    if (t->ssl == NULL || t->rbio == NULL || t->wbio == NULL) {
        BIO_free(t->rbio);
        BIO_free(t->wbio);
        SSL_free(t->ssl);
        free(t);
        return NULL;
    }
    /* An empty read BIO means "no data yet", not end of file. */
    BIO_set_mem_eof_return(t->rbio, -1);
    BIO_set_mem_eof_return(t->wbio, -1);
    SSL_set_bio(t->ssl, t->rbio, t->wbio);
    if (is_server) {
        SSL_set_accept_state(t->ssl);
    } else {
        SSL_set_connect_state(t->ssl);
        if (host != NULL && host[0] != '\0') {
            /* SNI only for names, and name or address checked on verify. */
            SSL_set_tlsext_host_name(t->ssl, host);
            if (SSL_get_verify_mode(t->ssl) & SSL_VERIFY_PEER) {
                X509_VERIFY_PARAM *vp = SSL_get0_param(t->ssl);
                if (X509_VERIFY_PARAM_set1_ip_asc(vp, host) != 1)
                    X509_VERIFY_PARAM_set1_host(vp, host, 0);
            }
        }
    }
    return t;
}

void md_tls_free(md_tls_t *t)
{
    if (t == NULL)
        return;
    SSL_free(t->ssl);
    free(t);
}

int md_tls_feed(md_tls_t *t, const void *p, size_t n)
{
    while (n > 0) {
        int chunk = n > 1 << 30 ? 1 << 30 : (int)n;
        int w = BIO_write(t->rbio, p, chunk);
        if (w <= 0)
            return MD_ENOMEM;
        p = (const char *)p + w;
        n -= (size_t)w;
    }
    return MD_OK;
}

int md_tls_handshake(md_tls_t *t)
{
    if (t->done)
        return 1;
    ERR_clear_error();
    int r = SSL_do_handshake(t->ssl);
    if (r == 1) {
        t->done = 1;
        return 1;
    }
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    return MD_ETLS;
}

int md_tls_handshake_done(const md_tls_t *t)
{
    return t->done;
}

ssize_t md_tls_read(md_tls_t *t, void *p, size_t cap)
{
    if (cap > INT32_MAX)
        cap = INT32_MAX;
    ERR_clear_error();
    int r = SSL_read(t->ssl, p, (int)cap);
    if (r > 0)
        return r;
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    if (e == SSL_ERROR_ZERO_RETURN)
        return MD_EIO;
    return MD_ETLS;
}

int md_tls_write(md_tls_t *t, const void *p, size_t n)
{
    while (n > 0) {
        int chunk = n > 1 << 30 ? 1 << 30 : (int)n;
        ERR_clear_error();
        int r = SSL_write(t->ssl, p, chunk);
        if (r <= 0)
            return MD_ETLS;
        p = (const char *)p + r;
        n -= (size_t)r;
    }
    return MD_OK;
}

void md_tls_shutdown(md_tls_t *t)
{
    ERR_clear_error();
    (void)SSL_shutdown(t->ssl);
}

size_t md_tls_output_pending(md_tls_t *t)
{
    return BIO_ctrl_pending(t->wbio);
}

ssize_t md_tls_take_output(md_tls_t *t, md_buf_t *out)
{
    size_t pending = BIO_ctrl_pending(t->wbio);
    if (pending == 0)
        return 0;
    int rc = md_buf_reserve(out, pending);
    if (rc != MD_OK)
        return rc;
    int r = BIO_read(t->wbio, out->data + out->len, (int)pending);
    if (r <= 0)
        return 0;
    out->len += (size_t)r;
    return r;
}

static void hex_encode(const unsigned char *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}

static int cert_fingerprint(X509 *cert, char hex[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (X509_digest(cert, EVP_sha256(), md, &mdlen) != 1 || mdlen != 32)
        return MD_ETLS;
    hex_encode(md, mdlen, hex);
    return MD_OK;
}

int md_tls_peer_fingerprint(md_tls_t *t, char hex[65])
{
    X509 *cert = SSL_get1_peer_certificate(t->ssl);
    if (cert == NULL)
        return MD_ETLS;
    int rc = cert_fingerprint(cert, hex);
    X509_free(cert);
    return rc;
}

int md_tls_file_fingerprint(const char *pem_file, char hex[65])
{
    FILE *f = fopen(pem_file, "r");
    if (f == NULL)
        return MD_EIO;
    X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (cert == NULL)
        return MD_ETLS;
    int rc = cert_fingerprint(cert, hex);
    X509_free(cert);
    return rc;
}

long md_tls_verify_result(md_tls_t *t)
{
    return SSL_get_verify_result(t->ssl);
}

const char *md_tls_version(md_tls_t *t)
{
    return SSL_get_version(t->ssl);
}
