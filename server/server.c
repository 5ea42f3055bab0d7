/* server.c: the listening socket, server-wide connection bookkeeping
 * (session ends, pushes to a user's connections) and graceful shutdown. */
#include "md_conn.h"
#include "md_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "md_frame.h"
#include "md_log.h"

void md_server_config_defaults(md_server_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->listen, sizeof(cfg->listen), "127.0.0.1:7411");
    cfg->max_frame = MD_FRAME_DEFAULT_MAX;
    cfg->max_in_flight = 64;
    cfg->output_soft_cap = 1024 * 1024;
    cfg->output_hard_cap = 16 * 1024 * 1024;
    cfg->handshake_ms = 10000;
    cfg->idle_ms = 600000;
    cfg->login_ms = 10000;
    cfg->prelogin_max_frame = 16 * 1024;
    cfg->session_ttl_seconds = 12 * 3600;
    cfg->session_idle_seconds = 2 * 3600;
    cfg->max_address_failures = 50;
    cfg->max_connections = 20000;
}

static void on_connection(uv_stream_t *s, int status)
{
    md_server_t *srv = s->data;
    if (status < 0) {
        md_log_warn("accept_failed", "error=%s", uv_strerror(status));
        return;
    }
    if (md_conn_accept(srv) != MD_OK)
        md_log_warn("accept_failed", "error=%s", "setup");
}

/* Splits "host:port" or "[v6]:port". */
static int parse_listen(const char *s, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(s, ':');
    if (colon == NULL || colon == s)
        return MD_EINVAL;
    const char *h = s;
    size_t hl = (size_t)(colon - s);
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (hl == 0 || hl >= hostlen)
        return MD_EINVAL;
    memcpy(host, h, hl);
    host[hl] = '\0';
    char *end = NULL;
    long p = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end != '\0' || p < 0 || p > 65535)
        return MD_EINVAL;
    *port = (int)p;
    return MD_OK;
}

SSL_CTX *md_server_swap_tls(md_server_t *srv, SSL_CTX *ctx)
{
    SSL_CTX *old = srv->ssl_ctx;
    srv->ssl_ctx = ctx;
    return old;
}

int md_server_start(md_server_t *srv, uv_loop_t *loop, const md_server_config_t *cfg, SSL_CTX *ctx,
                    md_db_t *db, char *err, size_t errlen)
{
    srv->loop = loop;
    srv->cfg = *cfg;
    srv->ssl_ctx = ctx;
    srv->db = db;
    srv->stats.started_at = (int64_t)time(NULL);
    char host[256];
    int port;
    if (parse_listen(cfg->listen, host, sizeof(host), &port) != MD_OK) {
        snprintf(err, errlen, "invalid listen address '%s' (want HOST:PORT)", cfg->listen);
        return MD_EINVAL;
    }
    struct sockaddr_storage addr;
    int r;
    if (strchr(host, ':') != NULL)
        r = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&addr);
    else
        r = uv_ip4_addr(host, port, (struct sockaddr_in *)&addr);
    if (r != 0) {
        snprintf(err, errlen, "invalid listen address '%s': %s", cfg->listen, uv_strerror(r));
        return MD_EINVAL;
    }
    uv_tcp_init(loop, &srv->listener);
    srv->listener.data = srv;
    r = uv_tcp_bind(&srv->listener, (struct sockaddr *)&addr, 0);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&srv->listener, 1024, on_connection);
    if (r != 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", cfg->listen, uv_strerror(r));
        uv_close((uv_handle_t *)&srv->listener, NULL);
        return MD_EIO;
    }
    srv->listening = 1;
    return MD_OK;
}

void md_server_shutdown(md_server_t *srv, void (*on_drained)(md_server_t *srv))
{
    if (srv->shutting_down)
        return;
    srv->shutting_down = 1;
    srv->on_drained = on_drained;
    if (srv->listening) {
        uv_close((uv_handle_t *)&srv->listener, NULL);
        srv->listening = 0;
    }
    md_log_info("shutdown_started", "connections=%d", srv->stats.connections);
    md_conn_t *c = srv->conns;
    while (c != NULL) {
        md_conn_t *next = md_conn_next(c);
        md_conn_shutdown(c);
        c = next;
    }
    if (srv->conns == NULL && srv->on_drained) {
        srv->on_drained = NULL;
        on_drained(srv);
    }
}

void md_server_forget_sessions(md_server_t *srv, uint64_t org_id, uint64_t user_id,
                               uint64_t session_id)
{
    for (md_conn_t *c = srv->conns; c != NULL; c = md_conn_next(c)) {
        md_auth_t *a = md_conn_auth(c);
        if (!a->authed || a->org_id != org_id)
            continue;
        if ((session_id != 0 && a->session_id == session_id) ||
            (session_id == 0 && a->user_id == user_id)) {
            memset(a, 0, sizeof(*a));
        }
    }
}

void md_server_each_authed(md_server_t *srv, md_server_conn_fn fn, void *arg)
{
    md_conn_t *c = srv->conns;
    while (c != NULL) {
        /* Sending may close (and unlink) c: step on first. */
        md_conn_t *next = md_conn_next(c);
        const md_auth_t *a = md_conn_auth(c);
        if (a->authed && md_conn_state(c) == MD_CONN_OPEN)
            fn(c, a, arg);
        c = next;
    }
}

typedef struct {
    uint64_t org_id, user_id;
    const Mentor__V1__Push *push;
    int sent;
} push_one_t;

static void push_one(md_conn_t *c, const md_auth_t *a, void *arg)
{
    push_one_t *p = arg;
    if (a->org_id != p->org_id || a->user_id != p->user_id)
        return;
    Mentor__V1__ServerMessage sm = MENTOR__V1__SERVER_MESSAGE__INIT;
    sm.msg_case = MENTOR__V1__SERVER_MESSAGE__MSG_PUSH;
    sm.push = (Mentor__V1__Push *)p->push;
    md_conn_send(c, &sm, 0);
    p->sent++;
}

int md_server_push(md_server_t *srv, uint64_t org_id, uint64_t user_id,
                   const Mentor__V1__Push *push)
{
    push_one_t p = {.org_id = org_id, .user_id = user_id, .push = push, .sent = 0};
    md_server_each_authed(srv, push_one, &p);
    return p.sent;
}
