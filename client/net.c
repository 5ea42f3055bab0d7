/* net.c: the blocking transport of mentorctl. Every wait goes through
 * poll() with a deadline, so an unreachable or silent server costs the user
 * at most the timeout, and the socket is non-blocking so no single call can
 * hang past it. TLS runs over memory BIOs: ciphertext the TLS object
 * produces is sent before each wait, and bytes from the socket are fed back
 * to it, the same discipline the server follows under libuv. */
#include "md_net.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "md_frame.h"
#include "md_tls.h"

struct md_net {
    int fd;
    SSL_CTX *ctx;
    md_tls_t *tls;           /* owns its SSL object and BIOs */
    md_buf_t out;            /* ciphertext not yet accepted by the socket */
    md_frame_decoder_t dec;  /* plaintext from the server, cut into frames */
    const md_endpoint_t *ep; /* borrowed from the caller */
    uint64_t next_id;        /* the last request id used */
    uint32_t max_request;    /* 0: unknown */
    int timeout_ms;
    int verify; /* a CA was given, so failures may be verification */
    char err[512];
};

MD_PRINTF(2, 3) static int net_fail(md_net_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n->err, sizeof(n->err), fmt, ap);
    va_end(ap);
    return MD_EIO;
}

const char *md_net_error(const md_net_t *n)
{
    return n->err;
}

static int valid_host_char(unsigned char c)
{
    return isalnum(c) || c == '.' || c == '-' || c == '_' || c == ':' || c == '%';
}

int md_endpoint_parse(const char *s, md_endpoint_t *ep)
{
    const char *host = s;
    size_t hlen;
    const char *port = NULL;
    int v6 = 0;
    memset(ep, 0, sizeof(*ep));
    if (s == NULL || s[0] == '\0')
        return MD_EINVAL;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL)
            return MD_EINVAL;
        host = s + 1;
        hlen = (size_t)(close - host);
        if (close[1] == ':')
            port = close + 2;
        else if (close[1] != '\0')
            return MD_EINVAL;
        v6 = 1;
    } else {
        const char *colon = strchr(s, ':');
        if (colon != NULL && strchr(colon + 1, ':') != NULL) {
            /* Two colons or more without brackets: a bare IPv6 address,
             * which cannot carry a port. */
            hlen = strlen(s);
            v6 = 1;
        } else if (colon != NULL) {
            hlen = (size_t)(colon - s);
            port = colon + 1;
        } else {
            hlen = strlen(s);
        }
    }
    if (hlen == 0 || hlen >= sizeof(ep->host))
        return MD_EINVAL;
    for (size_t i = 0; i < hlen; i++) {
        unsigned char c = (unsigned char)host[i];
        if (!valid_host_char(c) || (!v6 && c == ':'))
            return MD_EINVAL;
        ep->host[i] = (char)tolower(c);
    }
    ep->host[hlen] = '\0';
    if (port == NULL) {
        snprintf(ep->port, sizeof(ep->port), "%s", MD_NET_DEFAULT_PORT);
    } else {
        size_t plen = strlen(port);
        unsigned long v = 0;
        if (plen == 0 || plen > 5)
            return MD_EINVAL;
        for (size_t i = 0; i < plen; i++) {
            if (port[i] < '0' || port[i] > '9')
                return MD_EINVAL;
            v = v * 10 + (unsigned long)(port[i] - '0');
        }
        if (v == 0 || v > 65535)
            return MD_EINVAL;
        snprintf(ep->port, sizeof(ep->port), "%lu", v);
    }
    int w = v6 ? snprintf(ep->name, sizeof(ep->name), "[%s]:%s", ep->host, ep->port)
               : snprintf(ep->name, sizeof(ep->name), "%s:%s", ep->host, ep->port);
    if (w < 0 || (size_t)w >= sizeof(ep->name))
        return MD_EINVAL;
    return MD_OK;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for events. Returns 1 when ready, 0 on timeout,
 * MD_EIO on a poll failure. Signals do not stretch the wait. */
static int wait_fd(int fd, short events, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left < 0)
            left = 0;
        struct pollfd p = {.fd = fd, .events = events, .revents = 0};
        int r = poll(&p, 1, (int)left);
        if (r > 0)
            return 1;
        if (r == 0)
            return 0;
        if (errno != EINTR)
            return MD_EIO;
    }
}

static int connect_one(const struct addrinfo *ai, int timeout_ms, int *fd_out)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return errno;
    int err = 0;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            err = errno;
        } else {
            int r = wait_fd(fd, POLLOUT, timeout_ms);
            socklen_t len = sizeof(err);
            if (r == 0)
                err = ETIMEDOUT;
            else if (r < 0)
                err = errno;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
                err = errno;
        }
    }
    if (err != 0) {
        close(fd);
        return err;
    }
    /* Requests are small and each waits for its answer: do not let Nagle
     * hold them back. */
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    *fd_out = fd;
    return 0;
}

static int tcp_connect(md_net_t *n)
{
    struct addrinfo hints;
    struct addrinfo *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    int gai = getaddrinfo(n->ep->host, n->ep->port, &hints, &res);
    if (gai != 0)
        return net_fail(n, "cannot resolve %s: %s", n->ep->host, gai_strerror(gai));
    int err = ENOENT;
    /* Try every address in the order the resolver prefers, as a host with
     * IPv6 and IPv4 addresses may listen on only one of them. */
    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        err = connect_one(ai, n->timeout_ms, &n->fd);
        if (err == 0)
            break;
    }
    freeaddrinfo(res);
    if (err != 0) {
        if (err == ETIMEDOUT)
            return net_fail(n, "cannot connect to %s: timed out after %d s", n->ep->name,
                            n->timeout_ms / 1000);
        return net_fail(n, "cannot connect to %s: %s", n->ep->name, strerror(err));
    }
    return MD_OK;
}

/* Move whatever TLS produced to the socket, waiting while the socket is
 * full. */
static int flush(md_net_t *n)
{
    for (;;) {
        ssize_t took = md_tls_take_output(n->tls, &n->out);
        if (took < 0)
            return net_fail(n, "out of memory");
        if (md_buf_avail(&n->out) == 0)
            return MD_OK;
        ssize_t w = send(n->fd, md_buf_head(&n->out), md_buf_avail(&n->out), MSG_NOSIGNAL);
        if (w > 0) {
            md_buf_consume(&n->out, (size_t)w);
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return net_fail(n, "connection to %s lost: %s", n->ep->name, strerror(errno));
        int r = wait_fd(n->fd, POLLOUT, n->timeout_ms);
        if (r == 0)
            return net_fail(n, "%s did not accept data for %d s", n->ep->name,
                            n->timeout_ms / 1000);
        if (r < 0)
            return net_fail(n, "poll failed: %s", strerror(errno));
    }
}

/* Wait for bytes from the server and give them to TLS. */
static int receive(md_net_t *n, const char *during)
{
    uint8_t buf[16384];
    for (;;) {
        int r = wait_fd(n->fd, POLLIN, n->timeout_ms);
        if (r == 0)
            return net_fail(n, "%s did not answer within %d s", n->ep->name, n->timeout_ms / 1000);
        if (r < 0)
            return net_fail(n, "poll failed: %s", strerror(errno));
        ssize_t got = recv(n->fd, buf, sizeof(buf), 0);
        if (got > 0) {
            if (md_tls_feed(n->tls, buf, (size_t)got) != MD_OK)
                return net_fail(n, "out of memory");
            return MD_OK;
        }
        if (got == 0)
            return net_fail(n, "%s closed the connection%s", n->ep->name, during);
        if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
            return net_fail(n, "connection to %s lost: %s", n->ep->name, strerror(errno));
    }
}

static int handshake(md_net_t *n)
{
    for (;;) {
        int r = md_tls_handshake(n->tls);
        /* Flush even on failure: the alert tells the server why. */
        int frc = flush(n);
        if (r < 0) {
            long vr = md_tls_verify_result(n->tls);
            char why[256];
            if (n->verify && vr != X509_V_OK) {
                net_fail(n, "TLS: cannot verify the certificate of %s: %s", n->ep->name,
                         X509_verify_cert_error_string(vr));
            } else {
                md_tls_last_error(why, sizeof(why));
                net_fail(n, "TLS handshake with %s failed (is it a mentord server?): %s",
                         n->ep->name, why);
            }
            return MD_ETLS;
        }
        if (frc != MD_OK)
            return frc;
        if (r == 1)
            return MD_OK;
        int rc = receive(n, " during the TLS handshake (is it a mentord server?)");
        if (rc != MD_OK)
            return rc;
    }
}

int md_net_open(md_net_t **out, const md_endpoint_t *ep, const char *ca_file, int timeout_ms,
                char *err, size_t errlen)
{
    char why[256];
    int rc = MD_OK;
    *out = NULL;
    md_net_t *n = calloc(1, sizeof(*n));
    if (n == NULL) {
        snprintf(err, errlen, "out of memory");
        return MD_ENOMEM;
    }
    n->fd = -1;
    n->ep = ep;
    n->timeout_ms = timeout_ms > 0 ? timeout_ms : MD_NET_TIMEOUT_MS;
    n->verify = ca_file != NULL;
    md_buf_init(&n->out);
    md_frame_decoder_init(&n->dec, MD_NET_MAX_REPLY);

    /* OpenSSL's own words for a missing file are cryptic; say it plainly. */
    if (ca_file != NULL && access(ca_file, R_OK) != 0) {
        net_fail(n, "cannot read CA file %s: %s", ca_file, strerror(errno));
        rc = MD_ETLS;
        goto fail;
    }
    n->ctx = md_tls_client_ctx(ca_file, why, sizeof(why));
    if (n->ctx == NULL) {
        if (ca_file != NULL)
            net_fail(n, "cannot load CA file %s: %s", ca_file, why);
        else
            net_fail(n, "cannot set up TLS: %s", why);
        rc = MD_ETLS;
        goto fail;
    }
    rc = tcp_connect(n);
    if (rc != MD_OK)
        goto fail;
    n->tls = md_tls_new(n->ctx, 0, ep->host);
    if (n->tls == NULL) {
        rc = net_fail(n, "out of memory");
        goto fail;
    }
    rc = handshake(n);
    if (rc != MD_OK)
        goto fail;
    *out = n;
    return MD_OK;
fail:
    snprintf(err, errlen, "%s", n->err);
    md_net_close(n);
    return rc;
}

int md_net_fingerprint(md_net_t *n, char hex[MD_FP_LEN])
{
    return md_tls_peer_fingerprint(n->tls, hex);
}

const char *md_net_tls_version(md_net_t *n)
{
    return md_tls_version(n->tls);
}

void md_net_set_max_request(md_net_t *n, uint32_t max)
{
    n->max_request = max;
}

uint32_t md_net_max_request(const md_net_t *n)
{
    return n->max_request;
}

static int send_request(md_net_t *n, const Mentor__V1__Request *req)
{
    size_t size = mentor__v1__request__get_packed_size(req);
    if (n->max_request != 0 && size > n->max_request) {
        /* Nothing was sent: the connection is as good as before. */
        net_fail(n, "the request is %zu bytes, more than the %u the server accepts", size,
                 n->max_request);
        return MD_EINVAL;
    }
    uint8_t *packed = malloc(size > 0 ? size : 1);
    md_buf_t plain;
    md_buf_init(&plain);
    int rc = MD_OK;
    if (packed == NULL) {
        rc = net_fail(n, "out of memory");
        goto cleanup;
    }
    mentor__v1__request__pack(req, packed);
    if (md_frame_append(&plain, packed, size) != MD_OK) {
        rc = net_fail(n, "out of memory");
        goto cleanup;
    }
    if (md_tls_write(n->tls, md_buf_head(&plain), md_buf_avail(&plain)) != MD_OK) {
        char why[256];
        md_tls_last_error(why, sizeof(why));
        net_fail(n, "TLS write failed: %s", why);
        rc = MD_ETLS;
        goto cleanup;
    }
    rc = flush(n);
cleanup:
    /* The plaintext may hold a password or a session token. */
    if (plain.data != NULL)
        explicit_bzero(plain.data, plain.cap);
    md_buf_free(&plain);
    if (packed != NULL)
        explicit_bzero(packed, size);
    free(packed);
    return rc;
}

static int receive_message(md_net_t *n, Mentor__V1__ServerMessage **out)
{
    uint8_t buf[16384];
    for (;;) {
        const uint8_t *payload = NULL;
        size_t len = 0;
        int r = md_frame_next(&n->dec, &payload, &len);
        if (r < 0) {
            net_fail(n, "%s sent a frame larger than %u bytes", n->ep->name, MD_NET_MAX_REPLY);
            return MD_EFRAMETOOBIG;
        }
        if (r == 1) {
            Mentor__V1__ServerMessage *m = mentor__v1__server_message__unpack(NULL, len, payload);
            if (m == NULL) {
                net_fail(n, "%s sent a message that does not decode (is it a mentord server?)",
                         n->ep->name);
                return MD_EDECODE;
            }
            *out = m;
            return MD_OK;
        }
        ssize_t got = md_tls_read(n->tls, buf, sizeof(buf));
        /* Reading may make TLS answer (a key update, for one). */
        int frc = flush(n);
        if (got > 0) {
            int frame_rc = md_frame_feed(&n->dec, buf, (size_t)got);
            explicit_bzero(buf, (size_t)got);
            if (frame_rc == MD_EFRAMETOOBIG) {
                net_fail(n, "%s sent a frame larger than %u bytes", n->ep->name, MD_NET_MAX_REPLY);
                return MD_EFRAMETOOBIG;
            }
            if (frame_rc != MD_OK)
                return net_fail(n, "out of memory");
            continue;
        }
        if (got == MD_EIO)
            return net_fail(n, "%s closed the connection", n->ep->name);
        if (got < 0) {
            char why[256];
            md_tls_last_error(why, sizeof(why));
            net_fail(n, "TLS error from %s: %s", n->ep->name, why);
            return MD_ETLS;
        }
        if (frc != MD_OK)
            return frc;
        int rc = receive(n, "");
        if (rc != MD_OK)
            return rc;
    }
}

int md_net_call(md_net_t *n, Mentor__V1__Request *req, Mentor__V1__ServerMessage **out)
{
    *out = NULL;
    req->id = ++n->next_id;
    int rc = send_request(n, req);
    if (rc != MD_OK)
        return rc;
    for (;;) {
        Mentor__V1__ServerMessage *m = NULL;
        rc = receive_message(n, &m);
        if (rc != MD_OK)
            return rc;
        if (m->msg_case == MENTOR__V1__SERVER_MESSAGE__MSG_RESPONSE && m->response != NULL &&
            (m->response->id == req->id || m->response->id == 0)) {
            *out = m;
            return MD_OK;
        }
        /* A push, or an answer to nothing we asked: neither concerns the
         * command that is waiting. */
        mentor__v1__server_message__free_unpacked(m, NULL);
    }
}

void md_net_close(md_net_t *n)
{
    if (n == NULL)
        return;
    if (n->tls != NULL && n->fd >= 0 && md_tls_handshake_done(n->tls)) {
        /* A polite close_notify, sent only if the socket takes it at once:
         * the command has its answer and must not wait on the way out. */
        md_tls_shutdown(n->tls);
        if (md_tls_take_output(n->tls, &n->out) > 0)
            (void)send(n->fd, md_buf_head(&n->out), md_buf_avail(&n->out),
                       MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    md_tls_free(n->tls);
    SSL_CTX_free(n->ctx);
    if (n->fd >= 0)
        close(n->fd);
    md_frame_decoder_free(&n->dec);
    md_buf_free(&n->out);
    free(n);
}
