/* conn.c: one client connection: TCP under libuv, TLS over memory BIOs,
 * frame decoding, output queueing with backpressure, and deadlines. It
 * hands each decoded Request to dispatch and never looks inside it.
 *
 * Buffers: bytes read from the socket land in the server's shared read
 * buffer and go straight into the TLS read BIO; decrypted bytes land in the
 * shared plaintext buffer and go into the connection's frame decoder. Output
 * is encrypted into `out`; when no write is in flight, `out` is swapped into
 * `wbuf` and handed to uv_write, so at most one write is outstanding and the
 * bytes it points to stay put until its callback. */
#include "md_conn.h"

#include <stdlib.h>
#include <string.h>

#include "md_dispatch.h"
#include "md_frame.h"
#include "md_log.h"
#include "md_tls.h"

struct md_conn {
    md_server_t *srv;
    md_conn_t *prev, *next;
    uv_tcp_t tcp;
    uv_timer_t timer; /* handshake and idle deadlines */
    uv_write_t wreq;
    md_tls_t *tls; /* owned */
    md_frame_decoder_t frames;
    md_buf_t out;  /* encrypted, waiting for the write in flight to finish */
    md_buf_t wbuf; /* encrypted, being written */
    md_conn_state_t state;
    md_auth_t auth;
    int refs;         /* 1 for the handles + one per request */
    int handles_open; /* tcp and timer */
    int writing;
    int reading;
    int paused;        /* frames left in the decoder while over the in-flight cap */
    int close_pending; /* close once the output has been written */
    int draining;      /* server shutdown: close once requests are answered */
    uint32_t in_flight;
    uint64_t ready_at; /* when the TLS handshake finished (loop time, ms) */
    char peer[64];
    char peer_host[48]; /* the address alone, for throttling */
};

static void conn_close(md_conn_t *c);
static void conn_flush(md_conn_t *c);
static void conn_process_frames(md_conn_t *c);
static void conn_update_reading(md_conn_t *c);
static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

md_server_t *md_conn_server(md_conn_t *c)
{
    return c->srv;
}

md_conn_state_t md_conn_state(const md_conn_t *c)
{
    return c->state;
}

void md_conn_set_state(md_conn_t *c, md_conn_state_t st)
{
    if (c->state != MD_CONN_CLOSING)
        c->state = st;
}

md_auth_t *md_conn_auth(md_conn_t *c)
{
    return &c->auth;
}

const char *md_conn_peer(const md_conn_t *c)
{
    return c->peer;
}

const char *md_conn_peer_host(const md_conn_t *c)
{
    return c->peer_host;
}

void md_conn_ref(md_conn_t *c)
{
    c->refs++;
}

static void conn_free(md_conn_t *c)
{
    md_tls_free(c->tls);
    md_frame_decoder_free(&c->frames);
    md_buf_free(&c->out);
    md_buf_free(&c->wbuf);
    free(c);
}

void md_conn_unref(md_conn_t *c)
{
    if (--c->refs == 0)
        conn_free(c);
}

static void handle_closed(uv_handle_t *h)
{
    md_conn_t *c = h->data;
    if (--c->handles_open == 0)
        md_conn_unref(c);
}

static void conn_unlink(md_conn_t *c)
{
    md_server_t *srv = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else if (srv->conns == c)
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    srv->stats.connections--;
    if (srv->shutting_down && srv->conns == NULL && srv->on_drained) {
        void (*cb)(md_server_t *) = srv->on_drained;
        srv->on_drained = NULL;
        cb(srv);
    }
}

/* Immediate close: no more output. */
static void conn_close(md_conn_t *c)
{
    if (c->handles_open == 0 || uv_is_closing((uv_handle_t *)&c->tcp))
        return;
    c->state = MD_CONN_CLOSING;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->tcp, handle_closed);
    uv_close((uv_handle_t *)&c->timer, handle_closed);
    md_log_debug("conn_closed", "peer=%s", c->peer);
    conn_unlink(c);
}

/* The largest frame a connection may send: small until it has logged in. */
static size_t frame_limit(const md_conn_t *c)
{
    size_t max = c->srv->cfg.max_frame;
    if (!c->auth.authed && c->srv->cfg.prelogin_max_frame < max)
        return c->srv->cfg.prelogin_max_frame;
    return max;
}

static void timer_cb(uv_timer_t *t)
{
    md_conn_t *c = t->data;
    uint64_t now = uv_now(c->srv->loop);
    if (c->state == MD_CONN_HANDSHAKE) {
        md_log_info("conn_timeout", "peer=%s phase=handshake", c->peer);
        conn_close(c);
    } else if (!c->auth.authed && now - c->ready_at >= c->srv->cfg.login_ms) {
        md_log_info("conn_timeout", "peer=%s phase=login", c->peer);
        conn_close(c);
    } else if (c->in_flight == 0) {
        md_log_info("conn_timeout", "peer=%s phase=idle", c->peer);
        conn_close(c);
    } else {
        uv_timer_again(&c->timer);
    }
}

static void write_cb(uv_write_t *w, int status)
{
    md_conn_t *c = w->data;
    c->writing = 0;
    md_buf_reset(&c->wbuf);
    if (status < 0 || uv_is_closing((uv_handle_t *)&c->tcp)) {
        conn_close(c);
        md_conn_unref(c);
        return;
    }
    conn_flush(c);
    if (!c->writing && c->close_pending)
        conn_close(c);
    else
        conn_update_reading(c);
    md_conn_unref(c);
}

/* Moves TLS output into `out` and starts a write if none is running. */
static void conn_flush(md_conn_t *c)
{
    if (uv_is_closing((uv_handle_t *)&c->tcp))
        return;
    if (md_tls_take_output(c->tls, &c->out) < 0) {
        conn_close(c);
        return;
    }
    if (c->writing || md_buf_avail(&c->out) == 0)
        return;
    md_buf_t tmp = c->wbuf;
    c->wbuf = c->out;
    c->out = tmp;
    md_buf_reset(&c->out);
    uv_buf_t b = uv_buf_init((char *)md_buf_head(&c->wbuf), (unsigned)md_buf_avail(&c->wbuf));
    c->wreq.data = c;
    if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, write_cb) != 0) {
        conn_close(c);
        return;
    }
    c->writing = 1;
    md_conn_ref(c);
}

static size_t conn_queued(const md_conn_t *c)
{
    return md_buf_avail(&c->out) + md_buf_avail(&c->wbuf);
}

void md_conn_send(md_conn_t *c, const Mentor__V1__ServerMessage *msg, int close_after)
{
    if (c->state == MD_CONN_CLOSING || uv_is_closing((uv_handle_t *)&c->tcp))
        return;
    size_t n = mentor__v1__server_message__get_packed_size(msg);
    uint8_t stackbuf[4096];
    uint8_t *p = n + MD_FRAME_HEADER <= sizeof(stackbuf) ? stackbuf : malloc(n + MD_FRAME_HEADER);
    if (p == NULL) {
        conn_close(c);
        return;
    }
    md_frame_put_header(p, (uint32_t)n);
    mentor__v1__server_message__pack(msg, p + MD_FRAME_HEADER);
    int rc = md_tls_write(c->tls, p, n + MD_FRAME_HEADER);
    if (p != stackbuf)
        free(p);
    if (rc != MD_OK) {
        conn_close(c);
        return;
    }
    if (close_after) {
        c->close_pending = 1;
        c->state = MD_CONN_CLOSING;
        if (c->reading) {
            uv_read_stop((uv_stream_t *)&c->tcp);
            c->reading = 0;
        }
    }
    conn_flush(c);
    if (uv_is_closing((uv_handle_t *)&c->tcp))
        return;
    if (conn_queued(c) > c->srv->cfg.output_hard_cap) {
        md_log_warn("conn_output_overflow", "peer=%s queued=%zu", c->peer, conn_queued(c));
        conn_close(c);
        return;
    }
    if (close_after && !c->writing)
        conn_close(c);
}

/* Sends a connection-level error (id 0). */
static void conn_send_error(md_conn_t *c, int err)
{
    Mentor__V1__Status st = MENTOR__V1__STATUS__INIT;
    st.code = (Mentor__V1__Code)md_err_code(err);
    st.message = (char *)md_err_message(err);
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    resp.status = &st;
    Mentor__V1__ServerMessage sm = MENTOR__V1__SERVER_MESSAGE__INIT;
    sm.msg_case = MENTOR__V1__SERVER_MESSAGE__MSG_RESPONSE;
    sm.response = &resp;
    md_conn_send(c, &sm, md_err_closes(err));
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    md_conn_t *c = h->data;
    buf->base = (char *)c->srv->readbuf;
    buf->len = sizeof(c->srv->readbuf);
}

static void conn_update_reading(md_conn_t *c)
{
    if (c->state == MD_CONN_CLOSING || c->draining || uv_is_closing((uv_handle_t *)&c->tcp))
        return;
    int want =
        c->in_flight < c->srv->cfg.max_in_flight && conn_queued(c) <= c->srv->cfg.output_soft_cap;
    if (want && c->paused) {
        c->paused = 0;
        conn_process_frames(c);
        if (c->state == MD_CONN_CLOSING || uv_is_closing((uv_handle_t *)&c->tcp))
            return;
        want = !c->paused && c->in_flight < c->srv->cfg.max_in_flight &&
               conn_queued(c) <= c->srv->cfg.output_soft_cap;
    }
    if (want && !c->reading) {
        if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) == 0)
            c->reading = 1;
    } else if (!want && c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = 0;
    }
}

void md_conn_request_done(md_conn_t *c)
{
    if (c->in_flight > 0)
        c->in_flight--;
    /* Activity postpones the idle deadline, but not the login deadline. */
    if (c->in_flight == 0 && c->auth.authed && c->handles_open &&
        !uv_is_closing((uv_handle_t *)&c->timer))
        uv_timer_again(&c->timer);
    if (c->draining && c->in_flight == 0)
        md_conn_close_after_output(c);
    else
        conn_update_reading(c);
    md_conn_unref(c);
}

static void conn_process_frames(md_conn_t *c)
{
    for (;;) {
        if (c->state == MD_CONN_CLOSING || uv_is_closing((uv_handle_t *)&c->tcp))
            return;
        if (c->in_flight >= c->srv->cfg.max_in_flight) {
            c->paused = 1;
            return;
        }
        const uint8_t *payload;
        size_t len;
        c->frames.max_payload = frame_limit(c);
        int r = md_frame_next(&c->frames, &payload, &len);
        if (r == 0)
            return;
        if (r < 0) {
            md_log_info("frame_rejected", "peer=%s reason=too_large", c->peer);
            conn_send_error(c, r);
            return;
        }
        Mentor__V1__Request *msg = mentor__v1__request__unpack(NULL, len, payload);
        if (msg == NULL) {
            md_log_info("frame_rejected", "peer=%s reason=decode", c->peer);
            conn_send_error(c, MD_EDECODE);
            return;
        }
        c->in_flight++;
        md_conn_ref(c);
        c->srv->stats.requests++;
        md_dispatch(c, msg);
    }
}

static void conn_on_plaintext(md_conn_t *c)
{
    for (;;) {
        ssize_t n = md_tls_read(c->tls, c->srv->plainbuf, sizeof(c->srv->plainbuf));
        if (n == 0)
            break;
        if (n < 0) {
            conn_close(c);
            return;
        }
        c->frames.max_payload = frame_limit(c);
        int rc = md_frame_feed(&c->frames, c->srv->plainbuf, (size_t)n);
        if (rc != MD_OK) {
            md_log_info("frame_rejected", "peer=%s reason=too_large", c->peer);
            conn_send_error(c, rc);
            return;
        }
    }
    if (!c->paused)
        conn_process_frames(c);
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    md_conn_t *c = s->data;
    if (n == 0)
        return;
    if (n < 0) {
        conn_close(c);
        return;
    }
    if (c->state == MD_CONN_CLOSING)
        return;
    if (md_tls_feed(c->tls, buf->base, (size_t)n) != MD_OK) {
        conn_close(c);
        return;
    }
    if (c->state == MD_CONN_HANDSHAKE) {
        int r = md_tls_handshake(c->tls);
        if (r < 0) {
            char e[160];
            md_tls_last_error(e, sizeof(e));
            char q[200];
            md_log_info("tls_handshake_failed", "peer=%s error=%s", c->peer,
                        md_log_quote(q, sizeof(q), e));
            conn_flush(c);
            conn_close(c);
            return;
        }
        if (r == 0) {
            conn_flush(c);
            return;
        }
        c->state = MD_CONN_HELLO;
        c->ready_at = uv_now(c->srv->loop);
        uv_timer_stop(&c->timer);
        uint64_t first =
            c->srv->cfg.login_ms < c->srv->cfg.idle_ms ? c->srv->cfg.login_ms : c->srv->cfg.idle_ms;
        uv_timer_start(&c->timer, timer_cb, first, c->srv->cfg.idle_ms);
    }
    md_conn_ref(c); /* dispatch may close the connection under us */
    conn_on_plaintext(c);
    conn_flush(c);
    conn_update_reading(c);
    md_conn_unref(c);
}

int md_conn_accept(md_server_t *srv)
{
    md_conn_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return MD_ENOMEM;
    c->srv = srv;
    c->refs = 1;
    uv_tcp_init(srv->loop, &c->tcp);
    c->tcp.data = c;
    c->handles_open = 1;
    if (uv_accept((uv_stream_t *)&srv->listener, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, handle_closed);
        return MD_EIO;
    }
    uv_timer_init(srv->loop, &c->timer);
    c->timer.data = c;
    c->handles_open = 2;
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    srv->stats.connections++;
    srv->stats.accepted++;

    struct sockaddr_storage ss;
    int len = sizeof(ss);
    snprintf(c->peer, sizeof(c->peer), "?");
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0) {
        char host[48] = "";
        int port = 0;
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            uv_ip4_name(a, host, sizeof(host));
            port = ntohs(a->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            uv_ip6_name(a, host, sizeof(host));
            port = ntohs(a->sin6_port);
        }
        snprintf(c->peer, sizeof(c->peer), "%s:%d", host, port);
        snprintf(c->peer_host, sizeof(c->peer_host), "%s", host);
    }
    uv_tcp_nodelay(&c->tcp, 1);
    md_frame_decoder_init(&c->frames, frame_limit(c));
    md_buf_init(&c->out);
    md_buf_init(&c->wbuf);
    c->tls = md_tls_new(srv->ssl_ctx, 1, NULL);
    if (c->tls == NULL) {
        conn_close(c);
        return MD_ENOMEM;
    }
    if (srv->cfg.max_connections > 0 && srv->stats.connections > srv->cfg.max_connections) {
        md_log_warn("conn_refused", "peer=%s reason=max_connections", c->peer);
        conn_close(c);
        return MD_OK;
    }
    c->state = MD_CONN_HANDSHAKE;
    uv_timer_start(&c->timer, timer_cb, srv->cfg.handshake_ms, 0);
    conn_update_reading(c);
    md_log_debug("conn_accepted", "peer=%s", c->peer);
    return MD_OK;
}

void md_conn_shutdown(md_conn_t *c)
{
    /* Idle connections close now; busy ones close when their last request
     * has been answered (see md_conn_request_done). */
    c->draining = 1;
    if (c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = 0;
    }
    if (c->in_flight == 0)
        md_conn_close_after_output(c);
}

int md_conn_close_pending(const md_conn_t *c)
{
    return c->close_pending;
}

uint32_t md_conn_in_flight(const md_conn_t *c)
{
    return c->in_flight;
}

md_conn_t *md_conn_next(md_conn_t *c)
{
    return c->next;
}

void md_conn_close_after_output(md_conn_t *c)
{
    if (uv_is_closing((uv_handle_t *)&c->tcp))
        return;
    if (!c->writing)
        conn_close(c);
    else
        c->close_pending = 1;
}
