/* test_tls.c: unit tests of the TLS glue in common/tls.c. Two md_tls_t, a
 * client and a server, are wired together through memory only: whatever one
 * produces is fed to the other, so the whole handshake, data transfer,
 * certificate checks, corruption and close_notify run without a socket. The
 * certificates (ECDSA P-256, self-signed) are made at run time in a private
 * temporary directory that the group teardown removes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "md_buf.h"
#include "md_err.h"
#include "md_tls.h"

/* Files made by the group setup. "other" is a second, unrelated identity
 * used as a wrong trust anchor. */
static char tmp_dir[64];
static char cert_path[128];
static char key_path[128];
static char other_cert_path[128];
static char other_key_path[128];

static int write_pem_files(const char *cert_file, const char *key_file, const char *cn)
{
    int ok = 0;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    X509_EXTENSION *ext = NULL;
    FILE *f = NULL;
    X509V3_CTX v3;

    key = EVP_EC_gen("P-256");
    if (key == NULL)
        goto cleanup;
    cert = X509_new();
    if (cert == NULL)
        goto cleanup;
    if (X509_set_version(cert, 2) != 1)
        goto cleanup;
    if (ASN1_INTEGER_set(X509_get_serialNumber(cert), 4242) != 1)
        goto cleanup;
    if (X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == NULL)
        goto cleanup;
    if (X509_gmtime_adj(X509_getm_notAfter(cert), 3600L * 24 * 30) == NULL)
        goto cleanup;
    X509_NAME *name = X509_get_subject_name(cert);
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                   0) != 1)
        goto cleanup;
    if (X509_set_issuer_name(cert, name) != 1)
        goto cleanup;
    if (X509_set_pubkey(cert, key) != 1)
        goto cleanup;
    X509V3_set_ctx(&v3, cert, cert, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
    if (ext == NULL || X509_add_ext(cert, ext, -1) != 1)
        goto cleanup;
    if (X509_sign(cert, key, EVP_sha256()) == 0)
        goto cleanup;

    f = fopen(cert_file, "w");
    if (f == NULL || PEM_write_X509(f, cert) != 1)
        goto cleanup;
    if (fclose(f) != 0) {
        f = NULL;
        goto cleanup;
    }
    f = fopen(key_file, "w");
    if (f == NULL || PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) != 1)
        goto cleanup;
    if (fclose(f) != 0) {
        f = NULL;
        goto cleanup;
    }
    f = NULL;
    ok = 1;

cleanup:
    if (f != NULL)
        fclose(f);
    X509_EXTENSION_free(ext);
    X509_free(cert);
    EVP_PKEY_free(key);
    return ok;
}

static int group_setup(void **state)
{
    snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/md-test-tls-XXXXXX");
    if (mkdtemp(tmp_dir) == NULL)
        return -1;
    snprintf(cert_path, sizeof(cert_path), "%s/cert.pem", tmp_dir);
    snprintf(key_path, sizeof(key_path), "%s/key.pem", tmp_dir);
    snprintf(other_cert_path, sizeof(other_cert_path), "%s/other.pem", tmp_dir);
    snprintf(other_key_path, sizeof(other_key_path), "%s/other-key.pem", tmp_dir);
    if (!write_pem_files(cert_path, key_path, "mentord test"))
        return -1;
    if (!write_pem_files(other_cert_path, other_key_path, "someone else"))
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    unlink(cert_path);
    unlink(key_path);
    unlink(other_cert_path);
    unlink(other_key_path);
    if (tmp_dir[0] != '\0')
        rmdir(tmp_dir);
    return 0;
}

/* A connected pair: contexts, endpoints, and one staging buffer per
 * direction standing in for the network. */
typedef struct {
    SSL_CTX *sctx;
    SSL_CTX *cctx;
    md_tls_t *server;
    md_tls_t *client;
    md_buf_t to_server;
    md_buf_t to_client;
} pair_t;

static void pair_open(pair_t *p, const char *ca_file, const char *host)
{
    char err[256] = "";
    memset(p, 0, sizeof(*p));
    md_buf_init(&p->to_server);
    md_buf_init(&p->to_client);
    p->sctx = md_tls_server_ctx(cert_path, key_path, err, sizeof(err));
    if (p->sctx == NULL)
        fail_msg("server ctx: %s", err);
    p->cctx = md_tls_client_ctx(ca_file, err, sizeof(err));
    if (p->cctx == NULL)
        fail_msg("client ctx: %s", err);
    p->server = md_tls_new(p->sctx, 1, NULL);
    p->client = md_tls_new(p->cctx, 0, host);
    assert_non_null(p->server);
    assert_non_null(p->client);
}

static void pair_close(pair_t *p)
{
    md_tls_free(p->client);
    md_tls_free(p->server);
    SSL_CTX_free(p->cctx);
    SSL_CTX_free(p->sctx);
    md_buf_free(&p->to_server);
    md_buf_free(&p->to_client);
}

/* Move what each side has produced to the other side's input. */
static void pump(pair_t *p)
{
    assert_true(md_tls_take_output(p->client, &p->to_server) >= 0);
    assert_true(md_tls_take_output(p->server, &p->to_client) >= 0);
    if (md_buf_avail(&p->to_server) > 0) {
        assert_int_equal(
            md_tls_feed(p->server, md_buf_head(&p->to_server), md_buf_avail(&p->to_server)), MD_OK);
        md_buf_consume(&p->to_server, md_buf_avail(&p->to_server));
    }
    if (md_buf_avail(&p->to_client) > 0) {
        assert_int_equal(
            md_tls_feed(p->client, md_buf_head(&p->to_client), md_buf_avail(&p->to_client)), MD_OK);
        md_buf_consume(&p->to_client, md_buf_avail(&p->to_client));
    }
}

/* Drive both handshakes. Returns 1 when both finished, or the first error
 * either side reported. */
static int handshake(pair_t *p)
{
    for (int round = 0; round < 50; round++) {
        int c = md_tls_handshake(p->client);
        pump(p);
        int s = md_tls_handshake(p->server);
        pump(p);
        if (c < 0)
            return c;
        if (s < 0)
            return s;
        if (c == 1 && s == 1)
            return 1;
    }
    return 0;
}

/* Read exactly n plaintext bytes from `to` after pumping. */
static void read_exact(pair_t *p, md_tls_t *to, uint8_t *dst, size_t n)
{
    size_t got = 0;
    for (int idle = 0; got < n && idle < 3;) {
        ssize_t r = md_tls_read(to, dst + got, n - got);
        assert_true(r >= 0);
        if (r == 0) {
            pump(p);
            idle++;
            continue;
        }
        idle = 0;
        got += (size_t)r;
    }
    assert_int_equal(got, n);
}

static void test_handshake_verified_with_ca(void **state)
{
    pair_t p;
    pair_open(&p, cert_path, "127.0.0.1");
    assert_false(md_tls_handshake_done(p.client));
    assert_int_equal(handshake(&p), 1);
    assert_true(md_tls_handshake_done(p.client));
    assert_true(md_tls_handshake_done(p.server));
    assert_int_equal(md_tls_verify_result(p.client), X509_V_OK);

    const char *v = md_tls_version(p.client);
    assert_non_null(v);
    assert_true(strcmp(v, "TLSv1.2") == 0 || strcmp(v, "TLSv1.3") == 0);
    assert_string_equal(v, md_tls_version(p.server));

    char peer[65], file[65];
    assert_int_equal(md_tls_peer_fingerprint(p.client, peer), MD_OK);
    assert_int_equal(md_tls_file_fingerprint(cert_path, file), MD_OK);
    assert_int_equal(strlen(peer), 64);
    assert_string_equal(peer, file);
    for (size_t i = 0; i < 64; i++)
        assert_non_null(strchr("0123456789abcdef", peer[i]));
    /* Clients present no certificate. */
    assert_int_not_equal(md_tls_peer_fingerprint(p.server, peer), MD_OK);
    pair_close(&p);
}

static void test_handshake_by_name(void **state)
{
    pair_t p;
    pair_open(&p, cert_path, "localhost");
    assert_int_equal(handshake(&p), 1);
    assert_int_equal(md_tls_verify_result(p.client), X509_V_OK);
    pair_close(&p);
}

static void test_handshake_unverified_for_pinning(void **state)
{
    pair_t p;
    pair_open(&p, NULL, "127.0.0.1");
    assert_int_equal(handshake(&p), 1);
    /* Without a CA the caller pins: the fingerprint must still be there,
     * including for a certificate nobody vouches for. */
    char peer[65], file[65], other[65];
    assert_int_equal(md_tls_peer_fingerprint(p.client, peer), MD_OK);
    assert_int_equal(md_tls_file_fingerprint(cert_path, file), MD_OK);
    assert_int_equal(md_tls_file_fingerprint(other_cert_path, other), MD_OK);
    assert_string_equal(peer, file);
    assert_string_not_equal(peer, other);
    pair_close(&p);
}

static void test_wrong_ca_refused(void **state)
{
    pair_t p;
    pair_open(&p, other_cert_path, "127.0.0.1");
    assert_int_equal(handshake(&p), MD_ETLS);
    assert_int_not_equal(md_tls_verify_result(p.client), X509_V_OK);
    pair_close(&p);
}

static void test_wrong_host_refused(void **state)
{
    pair_t p;
    pair_open(&p, cert_path, "mentor.example.org");
    assert_int_equal(handshake(&p), MD_ETLS);
    assert_int_not_equal(md_tls_verify_result(p.client), X509_V_OK);
    pair_close(&p);
}

static void test_data_both_ways(void **state)
{
    pair_t p;
    pair_open(&p, cert_path, "127.0.0.1");
    assert_int_equal(handshake(&p), 1);

    static const char ping[] = "ping from client";
    static const char pong[] = "pong from server";
    uint8_t buf[64];
    assert_int_equal(md_tls_write(p.client, ping, sizeof(ping)), MD_OK);
    pump(&p);
    read_exact(&p, p.server, buf, sizeof(ping));
    assert_memory_equal(buf, ping, sizeof(ping));
    assert_int_equal(md_tls_write(p.server, pong, sizeof(pong)), MD_OK);
    pump(&p);
    read_exact(&p, p.client, buf, sizeof(pong));
    assert_memory_equal(buf, pong, sizeof(pong));

    /* Nothing more to read: "need more bytes", not an error. */
    assert_int_equal(md_tls_read(p.server, buf, sizeof(buf)), 0);
    assert_int_equal(md_tls_read(p.client, buf, sizeof(buf)), 0);

    /* One mebibyte each way, which spans many TLS records. */
    const size_t big = 1024 * 1024;
    uint8_t *out = malloc(big);
    uint8_t *in = malloc(big);
    assert_non_null(out);
    assert_non_null(in);
    for (size_t i = 0; i < big; i++)
        out[i] = (uint8_t)(i * 131 + (i >> 12));
    assert_int_equal(md_tls_write(p.client, out, big), MD_OK);
    assert_true(md_tls_output_pending(p.client) > big);
    pump(&p);
    assert_int_equal(md_tls_output_pending(p.client), 0);
    read_exact(&p, p.server, in, big);
    assert_memory_equal(in, out, big);

    memset(in, 0, big);
    assert_int_equal(md_tls_write(p.server, out, big), MD_OK);
    pump(&p);
    read_exact(&p, p.client, in, big);
    assert_memory_equal(in, out, big);

    free(out);
    free(in);
    pair_close(&p);
}

static void test_corrupted_record_is_an_error(void **state)
{
    pair_t p;
    pair_open(&p, cert_path, "127.0.0.1");
    assert_int_equal(handshake(&p), 1);
    static const char secret[] = "a record that will be damaged on the way";
    assert_int_equal(md_tls_write(p.client, secret, sizeof(secret)), MD_OK);
    md_buf_t wire;
    md_buf_init(&wire);
    assert_true(md_tls_take_output(p.client, &wire) > 5);
    /* Flip a bit inside the record body (past the 5-byte record header). */
    wire.data[wire.off + md_buf_avail(&wire) - 3] ^= 0x40;
    assert_int_equal(md_tls_feed(p.server, md_buf_head(&wire), md_buf_avail(&wire)), MD_OK);
    uint8_t buf[128];
    assert_int_equal(md_tls_read(p.server, buf, sizeof(buf)), MD_ETLS);
    /* The failed endpoint keeps failing and does not crash. */
    ssize_t again = md_tls_read(p.server, buf, sizeof(buf));
    assert_true(again == MD_ETLS || again == 0);
    md_buf_free(&wire);
    pair_close(&p);
}

static void test_garbage_instead_of_handshake(void **state)
{
    pair_t p;
    pair_open(&p, cert_path, "127.0.0.1");
    static const char http[] = "GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    assert_int_equal(md_tls_feed(p.server, http, sizeof(http) - 1), MD_OK);
    assert_int_equal(md_tls_handshake(p.server), MD_ETLS);
    assert_false(md_tls_handshake_done(p.server));
    /* The server may have queued an alert; taking it must work. */
    md_buf_t out;
    md_buf_init(&out);
    assert_true(md_tls_take_output(p.server, &out) >= 0);
    md_buf_free(&out);
    pair_close(&p);

    /* Random bytes in small pieces against a fresh server, and a corrupted
     * handshake flight against a fresh client. */
    uint32_t x = 12345;
    for (int round = 0; round < 50; round++) {
        pair_open(&p, cert_path, "127.0.0.1");
        int rc = 0;
        for (int i = 0; i < 64 && rc == 0; i++) {
            uint8_t junk[37];
            for (size_t j = 0; j < sizeof(junk); j++) {
                x = x * 1103515245u + 12345u;
                junk[j] = (uint8_t)(x >> 16);
            }
            /* Start like a handshake record now and then so parsing goes
             * deeper than the first byte. */
            if (i == 0 && round % 2 == 0) {
                junk[0] = 0x16;
                junk[1] = 0x03;
                junk[2] = 0x01;
            }
            assert_int_equal(md_tls_feed(p.server, junk, sizeof(junk)), MD_OK);
            rc = md_tls_handshake(p.server);
        }
        assert_true(rc == 0 || rc == MD_ETLS);
        assert_false(md_tls_handshake_done(p.server));
        pair_close(&p);
    }

    pair_open(&p, cert_path, "127.0.0.1");
    assert_int_equal(md_tls_handshake(p.client), 0);
    pump(&p);
    assert_int_equal(md_tls_handshake(p.server), 0);
    md_buf_t flight;
    md_buf_init(&flight);
    assert_true(md_tls_take_output(p.server, &flight) > 100);
    flight.data[flight.off + 60] ^= 0xff;
    flight.data[flight.off + md_buf_avail(&flight) - 10] ^= 0xff;
    assert_int_equal(md_tls_feed(p.client, md_buf_head(&flight), md_buf_avail(&flight)), MD_OK);
    assert_int_equal(md_tls_handshake(p.client), MD_ETLS);
    md_buf_free(&flight);
    pair_close(&p);
}

static void test_close_notify(void **state)
{
    pair_t p;
    pair_open(&p, cert_path, "127.0.0.1");
    assert_int_equal(handshake(&p), 1);
    static const char last[] = "last words";
    assert_int_equal(md_tls_write(p.client, last, sizeof(last)), MD_OK);
    md_tls_shutdown(p.client);
    pump(&p);
    /* Data sent before close_notify is delivered first, then the clean end
     * of stream. */
    uint8_t buf[64];
    read_exact(&p, p.server, buf, sizeof(last));
    assert_memory_equal(buf, last, sizeof(last));
    assert_int_equal(md_tls_read(p.server, buf, sizeof(buf)), MD_EIO);
    /* The server answers with its own close_notify. */
    md_tls_shutdown(p.server);
    pump(&p);
    assert_int_equal(md_tls_read(p.client, buf, sizeof(buf)), MD_EIO);
    pair_close(&p);
}

static void test_old_protocol_refused(void **state)
{
    char err[256] = "";
    SSL_CTX *sctx = md_tls_server_ctx(cert_path, key_path, err, sizeof(err));
    assert_non_null(sctx);
    /* A client that speaks nothing newer than TLS 1.1. */
    SSL_CTX *old = SSL_CTX_new(TLS_client_method());
    assert_non_null(old);
    SSL_CTX_set_security_level(old, 0);
    assert_int_equal(SSL_CTX_set_min_proto_version(old, TLS1_VERSION), 1);
    assert_int_equal(SSL_CTX_set_max_proto_version(old, TLS1_1_VERSION), 1);
    pair_t p;
    memset(&p, 0, sizeof(p));
    md_buf_init(&p.to_server);
    md_buf_init(&p.to_client);
    p.sctx = sctx;
    p.cctx = old;
    p.server = md_tls_new(sctx, 1, NULL);
    p.client = md_tls_new(old, 0, NULL);
    assert_non_null(p.server);
    assert_non_null(p.client);
    assert_int_equal(handshake(&p), MD_ETLS);
    assert_false(md_tls_handshake_done(p.server));
    pair_close(&p);
}

static void test_context_errors(void **state)
{
    char err[256] = "";
    assert_null(md_tls_server_ctx("/nonexistent/cert.pem", key_path, err, sizeof(err)));
    assert_true(strlen(err) > 0);
    err[0] = '\0';
    /* A certificate with somebody else's key. */
    assert_null(md_tls_server_ctx(cert_path, other_key_path, err, sizeof(err)));
    assert_true(strlen(err) > 0);
    err[0] = '\0';
    assert_null(md_tls_client_ctx("/nonexistent/ca.pem", err, sizeof(err)));
    assert_true(strlen(err) > 0);

    char hex[65];
    assert_int_not_equal(md_tls_file_fingerprint("/nonexistent/cert.pem", hex), MD_OK);
    assert_int_not_equal(md_tls_file_fingerprint(key_path, hex), MD_OK);
    md_tls_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_verified_with_ca),
        cmocka_unit_test(test_handshake_by_name),
        cmocka_unit_test(test_handshake_unverified_for_pinning),
        cmocka_unit_test(test_wrong_ca_refused),
        cmocka_unit_test(test_wrong_host_refused),
        cmocka_unit_test(test_data_both_ways),
        cmocka_unit_test(test_corrupted_record_is_an_error),
        cmocka_unit_test(test_garbage_instead_of_handshake),
        cmocka_unit_test(test_close_notify),
        cmocka_unit_test(test_old_protocol_refused),
        cmocka_unit_test(test_context_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
