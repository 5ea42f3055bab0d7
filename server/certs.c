/* certs.c: mentord's private CA and server certificate, created on first
 * start with the OpenSSL 3 API so that a fresh install serves TLS with no
 * setup. Files are written to a temporary name and renamed into place, so a
 * crash leaves either the old file or the new one, never half of one; keys
 * are written first and certificates last, because "all four files exist" is
 * what marks a complete set. */
#include "md_certs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "md_log.h"
#include "md_tls.h"

#define CA_DAYS     3650
#define SERVER_DAYS 825
/* Certificates start an hour in the past to tolerate clients whose clocks
 * run slightly behind. */
#define BACKDATE_SECONDS 3600
#define CN_MAX           64 /* RFC 5280 ub-common-name */

typedef struct {
    char dir[PATH_MAX];
    char ca_key[PATH_MAX];
    char ca_crt[PATH_MAX];
    char server_key[PATH_MAX];
    char server_crt[PATH_MAX];
} tls_paths_t;

/* Prefixes the pending OpenSSL error with what was being done. */
static int tls_fail(char *err, size_t errlen, const char *what)
{
    char detail[256];
    md_tls_last_error(detail, sizeof(detail));
    md_errbuf_set(err, errlen, "%s: %s", what, detail);
    return MD_ETLS;
}

static int ensure_dir(const char *path, char *err, size_t errlen)
{
    if (mkdir(path, 0700) != 0) {
        int e = errno;
        struct stat st;
        if (e != EEXIST || stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
            md_errbuf_set(err, errlen, "cannot create directory %s: %s", path,
                          e == EEXIST ? "exists and is not a directory" : strerror(e));
            return MD_EIO;
        }
    }
    return MD_OK;
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int copy_path(char *out, size_t len, const char *dir, const char *name)
{
    int n = snprintf(out, len, "%s/%s", dir, name);
    return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

/* The host name when it is usable as a DNS name in subjectAltName. */
static const char *dns_hostname(char *buf, size_t len)
{
    if (gethostname(buf, len) != 0)
        return NULL;
    buf[len - 1] = '\0';
    size_t n = strlen(buf);
    if (n == 0 || n > 253 || buf[0] == '-' || buf[0] == '.' || strcmp(buf, "localhost") == 0)
        return NULL;
    for (const char *p = buf; *p != '\0'; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '-' || c == '.';
        if (!ok)
            return NULL;
    }
    return buf;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL)
        return -1;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok == 1 ? 0 : -1;
}

/* A random positive serial of exactly 159 bits: unpredictable, and within the
 * 20 octets RFC 5280 allows. */
static int set_random_serial(X509 *cert)
{
    int rc = -1;
    BIGNUM *bn = BN_new();
    if (bn == NULL)
        return -1;
    if (BN_rand(bn, 159, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) == 1 &&
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL)
        rc = 0;
    BN_free(bn);
    return rc;
}

/* Builds and signs a certificate for pub. issuer NULL means self-signed by
 * sign_key (which is then pub's private key). exts is a list of
 * {nid, value} pairs ending with nid 0. */
struct ext_spec {
    int nid;
    const char *value;
};

static X509 *make_cert(EVP_PKEY *pub, const char *cn, X509 *issuer, EVP_PKEY *sign_key, long days,
                       const struct ext_spec *exts)
{
    X509 *cert = X509_new();
    if (cert == NULL)
        return NULL;
    X509_NAME *name = X509_get_subject_name(cert);
    if (X509_set_version(cert, X509_VERSION_3) != 1 || set_random_serial(cert) != 0 ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                   0) != 1 ||
        X509_set_issuer_name(cert, issuer != NULL ? X509_get_subject_name(issuer) : name) != 1 ||
        X509_gmtime_adj(X509_getm_notBefore(cert), -BACKDATE_SECONDS) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(cert), (int)days, 0, NULL) == NULL ||
        X509_set_pubkey(cert, pub) != 1)
        goto fail;
    /* The subject key must be in place before subjectKeyIdentifier, and that
     * before authorityKeyIdentifier of a self-signed certificate. */
    for (const struct ext_spec *e = exts; e->nid != 0; e++) {
        if (add_ext(cert, issuer != NULL ? issuer : cert, e->nid, e->value) != 0)
            goto fail;
    }
    if (X509_sign(cert, sign_key, EVP_sha256()) == 0)
        goto fail;
    return cert;
fail:
    X509_free(cert);
    return NULL;
}

/* Writes through a temporary file renamed into place. */
static int write_pem(const char *path, mode_t mode, EVP_PKEY *key, X509 *cert, char *err,
                     size_t errlen)
{
    char tmp[PATH_MAX + 8];
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        md_errbuf_set(err, errlen, "path too long: %s", path);
        return MD_EINVAL;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0 || fchmod(fd, mode) != 0) {
        md_errbuf_set(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        return MD_EIO;
    }
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        md_errbuf_set(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return MD_EIO;
    }
    int ok = key != NULL ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
                         : PEM_write_X509(f, cert);
    if (ok != 1) {
        fclose(f);
        unlink(tmp);
        return tls_fail(err, errlen, "encoding PEM");
    }
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        md_errbuf_set(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        fclose(f);
        unlink(tmp);
        return MD_EIO;
    }
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        md_errbuf_set(err, errlen, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return MD_EIO;
    }
    return MD_OK;
}

static X509 *read_cert(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        md_errbuf_set(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (cert == NULL) {
        char what[PATH_MAX + 32];
        snprintf(what, sizeof(what), "cannot parse %s", path);
        tls_fail(err, errlen, what);
    }
    return cert;
}

static EVP_PKEY *read_key(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        md_errbuf_set(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (key == NULL) {
        char what[PATH_MAX + 32];
        snprintf(what, sizeof(what), "cannot parse %s", path);
        tls_fail(err, errlen, what);
    }
    return key;
}

/* Creates ca.key and ca.crt. */
static int create_ca(const tls_paths_t *p, char *err, size_t errlen)
{
    int rc = MD_ETLS;
    X509 *cert = NULL;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    if (key == NULL)
        return tls_fail(err, errlen, "generating the CA key");

    char host[256];
    if (gethostname(host, sizeof(host)) != 0)
        snprintf(host, sizeof(host), "unknown");
    host[sizeof(host) - 1] = '\0';
    for (char *c = host; *c != '\0'; c++) {
        if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
            *c = '?';
    }
    static const char prefix[] = "mentord private CA ";
    char cn[CN_MAX + 1];
    /* Truncating keeps the name within the 64 characters a CN may hold. */
    snprintf(cn, sizeof(cn), "%s%.*s", prefix, (int)(CN_MAX - (sizeof(prefix) - 1)), host);
    static const struct ext_spec exts[] = {
        {NID_basic_constraints, "critical,CA:TRUE"},
        {NID_key_usage, "critical,keyCertSign,cRLSign"},
        {NID_subject_key_identifier, "hash"},
        {NID_authority_key_identifier, "keyid:always"},
        {0, NULL},
    };
    cert = make_cert(key, cn, NULL, key, CA_DAYS, exts);
    if (cert == NULL) {
        rc = tls_fail(err, errlen, "creating the CA certificate");
        goto cleanup;
    }
    rc = write_pem(p->ca_key, 0600, key, NULL, err, errlen);
    if (rc == MD_OK)
        rc = write_pem(p->ca_crt, 0644, NULL, cert, err, errlen);
cleanup:
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}

/* Creates server.key and server.crt, issued by the CA on disk. */
static int create_server(const tls_paths_t *p, char *err, size_t errlen)
{
    int rc = MD_ETLS;
    X509 *cert = NULL;
    EVP_PKEY *key = NULL;
    X509 *ca = read_cert(p->ca_crt, err, errlen);
    EVP_PKEY *ca_key = ca != NULL ? read_key(p->ca_key, err, errlen) : NULL;
    if (ca == NULL || ca_key == NULL)
        goto cleanup;
    if (X509_check_private_key(ca, ca_key) != 1) {
        ERR_clear_error();
        md_errbuf_set(err, errlen, "%s is not the key of %s", p->ca_key, p->ca_crt);
        goto cleanup;
    }
    key = EVP_EC_gen("P-256");
    if (key == NULL) {
        rc = tls_fail(err, errlen, "generating the server key");
        goto cleanup;
    }
    char hostbuf[256];
    const char *host = dns_hostname(hostbuf, sizeof(hostbuf));
    char san[400];
    snprintf(san, sizeof(san), "DNS:localhost,IP:127.0.0.1,IP:::1%s%s", host != NULL ? ",DNS:" : "",
             host != NULL ? host : "");
    const struct ext_spec exts[] = {
        {NID_basic_constraints, "critical,CA:FALSE"},
        {NID_key_usage, "critical,digitalSignature"},
        {NID_ext_key_usage, "serverAuth"},
        {NID_subject_alt_name, san},
        {NID_subject_key_identifier, "hash"},
        {NID_authority_key_identifier, "keyid:always"},
        {0, NULL},
    };
    cert = make_cert(key, "localhost", ca, ca_key, SERVER_DAYS, exts);
    if (cert == NULL) {
        rc = tls_fail(err, errlen, "creating the server certificate");
        goto cleanup;
    }
    rc = write_pem(p->server_key, 0600, key, NULL, err, errlen);
    if (rc == MD_OK)
        rc = write_pem(p->server_crt, 0644, NULL, cert, err, errlen);
cleanup:
    X509_free(cert);
    EVP_PKEY_free(key);
    EVP_PKEY_free(ca_key);
    X509_free(ca);
    return rc;
}

/* Checks an existing set belongs together. Sets *renew when the server
 * certificate is close to its end (or past it). */
static int check_existing(const tls_paths_t *p, int *renew, char *err, size_t errlen)
{
    int rc = MD_ETLS;
    X509 *srv = NULL;
    EVP_PKEY *srv_key = NULL;
    X509 *ca = read_cert(p->ca_crt, err, errlen);
    if (ca == NULL)
        goto cleanup;
    srv = read_cert(p->server_crt, err, errlen);
    if (srv == NULL)
        goto cleanup;
    srv_key = read_key(p->server_key, err, errlen);
    if (srv_key == NULL)
        goto cleanup;
    if (X509_verify(srv, X509_get0_pubkey(ca)) != 1) {
        ERR_clear_error();
        md_errbuf_set(err, errlen,
                      "%s was not issued by %s; remove %s/server.crt and server.key to have them "
                      "reissued",
                      p->server_crt, p->ca_crt, p->dir);
        goto cleanup;
    }
    if (X509_check_private_key(srv, srv_key) != 1) {
        ERR_clear_error();
        md_errbuf_set(err, errlen, "%s is not the key of %s", p->server_key, p->server_crt);
        goto cleanup;
    }
    time_t limit = time(NULL) + (time_t)MD_CERTS_RENEW_DAYS * 86400;
    *renew = X509_cmp_time(X509_get0_notAfter(srv), &limit) <= 0;
    rc = MD_OK;
cleanup:
    EVP_PKEY_free(srv_key);
    X509_free(srv);
    X509_free(ca);
    return rc;
}

static void log_cert(const char *event, const char *path, const char *state)
{
    char hex[65];
    char q[PATH_MAX + 8];
    if (md_tls_file_fingerprint(path, hex) != MD_OK)
        snprintf(hex, sizeof(hex), "unknown");
    md_log_info(event, "path=%s sha256=%s state=%s", md_log_quote(q, sizeof(q), path), hex, state);
}

int md_certs_ensure(const char *data_dir, char *cert, char *key, char *ca, size_t pathlen,
                    char *err, size_t errlen)
{
    if (data_dir == NULL || data_dir[0] == '\0' || cert == NULL || key == NULL || ca == NULL) {
        md_errbuf_set(err, errlen, "no data directory given");
        return MD_EINVAL;
    }
    int rc = ensure_dir(data_dir, err, errlen);
    if (rc != MD_OK)
        return rc;
    /* Absolute, so the paths handed out and logged stay valid whatever the
     * working directory. */
    char abs[PATH_MAX];
    if (realpath(data_dir, abs) == NULL) {
        md_errbuf_set(err, errlen, "cannot resolve %s: %s", data_dir, strerror(errno));
        return MD_EIO;
    }
    tls_paths_t p;
    if (copy_path(p.dir, sizeof(p.dir), abs, "tls") != 0 ||
        copy_path(p.ca_key, sizeof(p.ca_key), p.dir, "ca.key") != 0 ||
        copy_path(p.ca_crt, sizeof(p.ca_crt), p.dir, "ca.crt") != 0 ||
        copy_path(p.server_key, sizeof(p.server_key), p.dir, "server.key") != 0 ||
        copy_path(p.server_crt, sizeof(p.server_crt), p.dir, "server.crt") != 0 ||
        strlen(p.server_crt) >= pathlen || strlen(p.server_key) >= pathlen ||
        strlen(p.ca_crt) >= pathlen) {
        md_errbuf_set(err, errlen, "data directory path too long: %s", data_dir);
        return MD_EINVAL;
    }
    rc = ensure_dir(p.dir, err, errlen);
    if (rc != MD_OK)
        return rc;
    /* The directory holds private keys: only mentord's user may enter. */
    if (chmod(p.dir, 0700) != 0) {
        md_errbuf_set(err, errlen, "cannot chmod %s: %s", p.dir, strerror(errno));
        return MD_EIO;
    }

    const char *ca_state = "reused";
    const char *server_state = "reused";
    int have_ca = file_exists(p.ca_key) && file_exists(p.ca_crt);
    int have_server = file_exists(p.server_key) && file_exists(p.server_crt);
    if (!have_ca) {
        /* Without its key a CA cannot issue; start the whole set over. */
        rc = create_ca(&p, err, errlen);
        if (rc != MD_OK)
            return rc;
        ca_state = "created";
        have_server = 0;
    }
    if (have_server) {
        int renew = 0;
        rc = check_existing(&p, &renew, err, errlen);
        if (rc != MD_OK)
            return rc;
        if (renew) {
            have_server = 0;
            server_state = "renewed";
        }
    } else {
        server_state = "created";
    }
    if (!have_server) {
        rc = create_server(&p, err, errlen);
        if (rc != MD_OK)
            return rc;
    }

    snprintf(cert, pathlen, "%s", p.server_crt);
    snprintf(key, pathlen, "%s", p.server_key);
    snprintf(ca, pathlen, "%s", p.ca_crt);
    log_cert("tls_ca", p.ca_crt, ca_state);
    log_cert("tls_server_cert", p.server_crt, server_state);
    return MD_OK;
}
