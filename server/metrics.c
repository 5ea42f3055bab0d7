/* metrics.c: see md_metrics.h. Each connection reads at most
 * MD_HTTP_MAX_REQUEST bytes, answers once and closes; a timer bounds how
 * long a client may take to send its request. */
#include "md_metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "md_buf.h"
#include "md_db.h"
#include "md_dispatch.h"
#include "md_http.h"
#include "md_log.h"
#include "md_worker.h"

#define METRICS_DEADLINE_MS 5000

typedef struct mconn mconn_t;

struct md_metrics {
    uv_tcp_t listener;
    md_server_t *srv;
    mconn_t *conns; /* open connections, closed by md_metrics_stop */
    int stopping;
    int handles; /* the listener and every connection: freed at zero */
};

struct mconn {
    mconn_t *prev, *next;
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_write_t wreq;
    md_metrics_t *m;
    char in[MD_HTTP_MAX_REQUEST];
    size_t len;
    md_buf_t out;
    int closing;
    int handles;
};

static void metrics_release(md_metrics_t *m)
{
    if (--m->handles == 0)
        free(m);
}

static void handle_closed(uv_handle_t *h)
{
    mconn_t *c = h->data;
    if (--c->handles == 0) {
        md_metrics_t *m = c->m;
        if (c->prev != NULL)
            c->prev->next = c->next;
        else
            m->conns = c->next;
        if (c->next != NULL)
            c->next->prev = c->prev;
        md_buf_free(&c->out);
        free(c);
        metrics_release(m);
    }
}

static void mconn_close(mconn_t *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->tcp, handle_closed);
    uv_close((uv_handle_t *)&c->timer, handle_closed);
}

static void written(uv_write_t *w, int status)
{
    (void)status;
    mconn_close(w->data);
}

static void appendf(md_buf_t *b, const char *fmt, ...) MD_PRINTF(2, 3);
static void appendf(md_buf_t *b, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n > 0 &&
        md_buf_append(b, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) != MD_OK)
        return; /* out of memory: the answer comes out short */
}

static void metric(md_buf_t *b, const char *name, const char *type, const char *help,
                   unsigned long long v)
{
    appendf(b, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name, v);
}

static void metrics_body(md_server_t *srv, md_buf_t *b)
{
    md_db_stats_t ds;
    md_db_stats(srv->db, &ds);
    int64_t now = (int64_t)time(NULL);
    metric(b, "mentord_up", "gauge", "1 while this instance serves.", 1);
    metric(b, "mentord_uptime_seconds", "gauge", "Seconds since the instance started.",
           (unsigned long long)(now > srv->stats.started_at ? now - srv->stats.started_at : 0));
    metric(b, "mentord_connections", "gauge", "Client connections open now.",
           (unsigned long long)srv->stats.connections);
    metric(b, "mentord_connections_accepted_total", "counter", "Client connections accepted.",
           (unsigned long long)srv->stats.accepted);
    appendf(b, "# HELP mentord_requests_total Requests received, by kind.\n"
               "# TYPE mentord_requests_total counter\n");
    for (size_t i = 0; i < md_dispatch_table_size && i < MD_STATS_KINDS; i++)
        appendf(b, "mentord_requests_total{kind=\"%s\"} %llu\n", md_dispatch_table[i].name,
                (unsigned long long)srv->stats.by_kind[i]);
    metric(b, "mentord_request_errors_total", "counter", "Requests answered with an error.",
           (unsigned long long)srv->stats.errors);
    metric(b, "mentord_db_pool_size", "gauge", "Database connections configured.",
           (unsigned long long)ds.size);
    metric(b, "mentord_db_pool_up", "gauge", "Database connections ready or busy.",
           (unsigned long long)ds.up);
    metric(b, "mentord_db_pool_busy", "gauge", "Database connections running a transaction.",
           (unsigned long long)ds.busy);
    metric(b, "mentord_db_queued", "gauge", "Transactions waiting for a connection.",
           (unsigned long long)ds.queued);
    appendf(b,
            "# HELP mentord_db_transactions_total Transactions finished, by result.\n"
            "# TYPE mentord_db_transactions_total counter\n"
            "mentord_db_transactions_total{result=\"done\"} %llu\n"
            "mentord_db_transactions_total{result=\"failed\"} %llu\n",
            (unsigned long long)ds.done, (unsigned long long)ds.failed);
    metric(b, "mentord_db_reconnects_total", "counter", "Database reconnections.",
           (unsigned long long)ds.reconnects);
    if (srv->worker == NULL)
        return;
    md_worker_stats_t ws;
    md_worker_stats(srv->worker, &ws);
    metric(b, "mentord_worker_connected", "gauge",
           "1 while the background worker's database connections are up.",
           (unsigned long long)ws.connected);
    appendf(b,
            "# HELP mentord_match_runs_total Background match recalculations, by result.\n"
            "# TYPE mentord_match_runs_total counter\n"
            "mentord_match_runs_total{result=\"done\"} %llu\n"
            "mentord_match_runs_total{result=\"failed\"} %llu\n"
            "mentord_match_runs_total{result=\"busy\"} %llu\n",
            (unsigned long long)ws.runs, (unsigned long long)ws.runs_failed,
            (unsigned long long)ws.runs_busy);
    metric(b, "mentord_match_requests_expired_total", "counter",
           "Self-match requests expired by the worker's housekeeping.",
           (unsigned long long)ws.requests_expired);
    metric(b, "mentord_notifications_pushed_total", "counter",
           "Notifications pushed live to connections of this instance.",
           (unsigned long long)ws.pushed);
    metric(b, "mentord_notifications_push_dropped_total", "counter",
           "Live-push announcements dropped (queue full or fetch failed); the inbox keeps them.",
           (unsigned long long)ws.push_dropped);
    metric(b, "mentord_worker_reconnects_total", "counter",
           "Database connections the background worker (re)established.",
           (unsigned long long)ws.reconnects);
}

static void respond(mconn_t *c, int code, const char *reason, const char *type, md_buf_t *body)
{
    size_t n = body != NULL ? body->len - body->off : 0;
    appendf(&c->out,
            "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
            "Connection: close\r\nCache-Control: no-store\r\n\r\n",
            code, reason, type, n);
    if (n > 0 && md_buf_append(&c->out, body->data + body->off, n) != MD_OK) {
        mconn_close(c);
        return;
    }
    uv_read_stop((uv_stream_t *)&c->tcp);
    uv_buf_t b = uv_buf_init((char *)c->out.data + c->out.off, (unsigned)(c->out.len - c->out.off));
    c->wreq.data = c;
    if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, written) != 0)
        mconn_close(c);
}

static void respond_text(mconn_t *c, int code, const char *reason, const char *text)
{
    md_buf_t body;
    md_buf_init(&body);
    if (md_buf_append(&body, text, strlen(text)) != MD_OK)
        md_buf_reset(&body);
    respond(c, code, reason, "text/plain; charset=utf-8", &body);
    md_buf_free(&body);
}

static void serve(mconn_t *c)
{
    char path[256];
    switch (md_http_parse_request(c->in, c->len, path, sizeof(path))) {
    case MD_HTTP_INCOMPLETE:
        return;
    case MD_HTTP_BAD:
        respond_text(c, 400, "Bad Request", "bad request\n");
        return;
    case MD_HTTP_METHOD:
        respond_text(c, 405, "Method Not Allowed", "only GET\n");
        return;
    case MD_HTTP_TOO_LARGE:
        respond_text(c, 431, "Request Header Fields Too Large", "request too large\n");
        return;
    case MD_HTTP_OK:
        break;
    }
    md_server_t *srv = c->m->srv;
    if (strcmp(path, "/metrics") == 0) {
        md_buf_t body;
        md_buf_init(&body);
        metrics_body(srv, &body);
        respond(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", &body);
        md_buf_free(&body);
    } else if (strcmp(path, "/healthz") == 0) {
        md_db_stats_t ds;
        md_db_stats(srv->db, &ds);
        if (ds.up > 0)
            respond_text(c, 200, "OK", "ok\n");
        else
            respond_text(c, 503, "Service Unavailable", "database unavailable\n");
    } else {
        respond_text(c, 404, "Not Found", "not found: try /metrics or /healthz\n");
    }
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    mconn_t *c = h->data;
    static char discard[64]; /* a full request buffer takes no more */
    size_t room = sizeof(c->in) - c->len;
    *buf = room > 0 ? uv_buf_init(c->in + c->len, (unsigned)room)
                    : uv_buf_init(discard, sizeof(discard));
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    mconn_t *c = s->data;
    if (n < 0) {
        mconn_close(c);
        return;
    }
    if (buf->base >= c->in && buf->base < c->in + sizeof(c->in))
        c->len += (size_t)n;
    serve(c);
}

static void deadline_cb(uv_timer_t *t)
{
    mconn_close(t->data);
}

static void on_connection(uv_stream_t *s, int status)
{
    md_metrics_t *m = s->data;
    if (status < 0 || m->stopping)
        return;
    mconn_t *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return;
    c->m = m;
    c->next = m->conns;
    if (m->conns != NULL)
        m->conns->prev = c;
    m->conns = c;
    m->handles++;
    md_buf_init(&c->out);
    uv_tcp_init(s->loop, &c->tcp);
    uv_timer_init(s->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->handles = 2;
    if (uv_accept(s, (uv_stream_t *)&c->tcp) != 0) {
        mconn_close(c);
        return;
    }
    uv_timer_start(&c->timer, deadline_cb, METRICS_DEADLINE_MS, 0);
    if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) != 0)
        mconn_close(c);
}

int md_metrics_start(uv_loop_t *loop, const char *listen, md_server_t *srv, md_metrics_t **out,
                     char *err, size_t errlen)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (colon == NULL || colon == listen || (size_t)(colon - listen) >= sizeof(host)) {
        snprintf(err, errlen, "invalid metrics address '%s' (want HOST:PORT)", listen);
        return MD_EINVAL;
    }
    snprintf(host, sizeof(host), "%.*s", (int)(colon - listen), listen);
    int port = atoi(colon + 1);
    struct sockaddr_storage addr;
    int r = strchr(host, ':') != NULL ? uv_ip6_addr(host, port, (struct sockaddr_in6 *)&addr)
                                      : uv_ip4_addr(host, port, (struct sockaddr_in *)&addr);
    if (r != 0 || port <= 0 || port > 65535) {
        snprintf(err, errlen, "invalid metrics address '%s'", listen);
        return MD_EINVAL;
    }
    md_metrics_t *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return MD_ENOMEM;
    m->srv = srv;
    m->handles = 1;
    uv_tcp_init(loop, &m->listener);
    m->listener.data = m;
    r = uv_tcp_bind(&m->listener, (struct sockaddr *)&addr, 0);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&m->listener, 128, on_connection);
    if (r != 0) {
        snprintf(err, errlen, "cannot listen on %s for metrics: %s", listen, uv_strerror(r));
        md_metrics_stop(m);
        return MD_EIO;
    }
    *out = m;
    return MD_OK;
}

static void listener_closed(uv_handle_t *h)
{
    metrics_release(h->data);
}

void md_metrics_stop(md_metrics_t *m)
{
    if (m == NULL || m->stopping)
        return;
    m->stopping = 1;
    for (mconn_t *c = m->conns; c != NULL; c = c->next)
        mconn_close(c);
    uv_close((uv_handle_t *)&m->listener, listener_closed);
}
