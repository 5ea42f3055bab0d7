/* db.c: the asynchronous PostgreSQL pool of mentord.
 *
 * DESIGN: everything here runs on the loop thread. Each pool connection is a
 * PGconn in non-blocking pipeline mode whose socket is watched by a uv_poll
 * handle. A connection is DOWN (waiting for its reconnect timer),
 * CONNECTING (driven by PQconnectPoll), IDLE or BUSY (one transaction in its
 * pipeline). Transactions wait in a FIFO queue for an idle connection; when
 * no connection is up or coming up they fail at once with MD_EDBDOWN, so
 * requests answer UNAVAILABLE instead of hanging while the database is away.
 * A transaction that runs or waits past the timeout fails with
 * MD_EDBTIMEOUT, and a connection that timed out is dropped and reconnected
 * because its state is unknown. Each uv_poll_t is heap-allocated per socket
 * and freed in its close callback, since libpq may change the socket during
 * connection setup. */
#include "md_db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md_log.h"

#define DB_MAX_PREPARED   128
#define DB_BACKOFF_MIN_MS 50
#define DB_BACKOFF_MAX_MS 1000

typedef enum { PG_DOWN, PG_CONNECTING, PG_IDLE, PG_BUSY } pg_state_t;

struct db_stmt {
    const char *sql; /* static storage, not owned */
    int nparams;
    char **params; /* owned copies */
    PGresult *result;
};

struct md_db_txn {
    struct db_stmt *stmts;
    int count;
    int cap;
    md_db_cb cb;
    void *arg;
    uint64_t deadline;   /* uv_now at which it times out */
    uint64_t timeout_ms; /* 0: the pool's */
    int err;
    int failed_index;
    char sqlstate[6];
    char *message;
    char *detail;
    struct md_db_txn *next; /* queue link */
    /* Receiving side while running: which pipeline item is next. */
    int rx_stmt;
    int rx_prepare;    /* 1 while a Prepare result for rx_stmt is expected */
    int *prepared_now; /* per statement: 1 when a Prepare was sent */
};

typedef struct pgconn {
    md_db_t *db;
    int index;
    pg_state_t state;
    PGconn *conn;
    uv_poll_t *poll; /* heap; freed in close callback */
    int poll_fd;
    int poll_events;
    uv_timer_t timer; /* reconnect backoff */
    uint64_t backoff_ms;
    md_db_txn_t *txn; /* running transaction */
    const char *prepared[DB_MAX_PREPARED];
    int nprepared;
    int was_up;
} pgconn_t;

struct md_db {
    uv_loop_t *loop;
    char *conninfo;
    char *extra_options; /* "" when none */
    int size;
    uint64_t timeout_ms;
    pgconn_t *conns;
    md_db_txn_t *qhead, *qtail;
    md_db_txn_t *failhead, *failtail; /* failed before running: reported from a timer */
    uv_timer_t fail_timer;
    uv_timer_t tick; /* deadline checks */
    int closing;
    int open_handles;
    md_db_stats_t stats;
};

static void pg_start_connect(pgconn_t *c);
static void pg_run_next(md_db_t *db);
static void pg_drop(pgconn_t *c, int err, const char *why);

/* ---- transactions ---------------------------------------------------- */

md_db_txn_t *md_db_txn_new(void)
{
    md_db_txn_t *t = calloc(1, sizeof(*t));
    if (t != NULL)
        t->failed_index = -1;
    return t;
}

void md_db_txn_free(md_db_txn_t *t)
{
    if (t == NULL)
        return;
    for (int i = 0; i < t->count; i++) {
        struct db_stmt *s = &t->stmts[i];
        for (int j = 0; j < s->nparams; j++)
            free(s->params[j]);
        free(s->params);
        PQclear(s->result);
    }
    free(t->stmts);
    free(t->message);
    free(t->detail);
    free(t->prepared_now);
    free(t);
}

int md_db_txn_add(md_db_txn_t *t, const char *sql, int n, const char *const *params)
{
    if (t->count == t->cap) {
        int cap = t->cap ? t->cap * 2 : 4;
        struct db_stmt *s = realloc(t->stmts, (size_t)cap * sizeof(*s));
        if (s == NULL)
            return MD_ENOMEM;
        t->stmts = s;
        t->cap = cap;
    }
    struct db_stmt *s = &t->stmts[t->count];
    memset(s, 0, sizeof(*s));
    s->sql = sql;
    if (n > 0) {
        s->params = calloc((size_t)n, sizeof(char *));
        if (s->params == NULL)
            return MD_ENOMEM;
        for (int i = 0; i < n; i++) {
            if (params[i] == NULL)
                continue;
            s->params[i] = strdup(params[i]);
            if (s->params[i] == NULL) {
                for (int j = 0; j < i; j++)
                    free(s->params[j]);
                free(s->params);
                return MD_ENOMEM;
            }
        }
    }
    s->nparams = n;
    t->count++;
    return MD_OK;
}

int md_db_txn_count(const md_db_txn_t *t)
{
    return t->count;
}

PGresult *md_db_txn_result(const md_db_txn_t *t, int i)
{
    if (i < 0 || i >= t->count)
        return NULL;
    return t->stmts[i].result;
}

const char *md_db_txn_sqlstate(const md_db_txn_t *t)
{
    return t->sqlstate;
}

const char *md_db_txn_message(const md_db_txn_t *t)
{
    return t->message ? t->message : "";
}

const char *md_db_txn_detail(const md_db_txn_t *t)
{
    return t->detail ? t->detail : "";
}

int md_db_txn_failed_index(const md_db_txn_t *t)
{
    return t->failed_index;
}

static void txn_finish(md_db_t *db, md_db_txn_t *t, int err)
{
    if (err == MD_OK)
        err = t->err;
    if (err == MD_OK)
        db->stats.done++;
    else
        db->stats.failed++;
    md_db_cb cb = t->cb;
    void *arg = t->arg;
    cb(t, err, arg);
    md_db_txn_free(t);
}

static void fail_timer_cb(uv_timer_t *h)
{
    md_db_t *db = h->data;
    md_db_txn_t *t = db->failhead;
    db->failhead = db->failtail = NULL;
    while (t != NULL) {
        md_db_txn_t *next = t->next;
        txn_finish(db, t, t->err);
        t = next;
    }
}

/* Reports a failure from a fresh loop iteration, never from inside submit. */
static void txn_fail_later(md_db_t *db, md_db_txn_t *t, int err)
{
    t->err = err;
    t->next = NULL;
    if (db->failtail)
        db->failtail->next = t;
    else
        db->failhead = t;
    db->failtail = t;
    uv_timer_start(&db->fail_timer, fail_timer_cb, 0, 0);
}

/* ---- connections ----------------------------------------------------- */

static int db_any_usable(md_db_t *db)
{
    for (int i = 0; i < db->size; i++) {
        pg_state_t s = db->conns[i].state;
        if (s == PG_IDLE || s == PG_BUSY || s == PG_CONNECTING)
            return 1;
    }
    return 0;
}

static void db_release(md_db_t *db)
{
    db->open_handles--;
    if (db->closing && db->open_handles == 0) {
        free(db->conns);
        free(db->conninfo);
        free(db->extra_options);
        free(db);
    }
}

static void handle_closed(uv_handle_t *h)
{
    md_db_t *db = h->data;
    free(h);
    db_release(db);
}

static void poll_close(pgconn_t *c)
{
    if (c->poll == NULL)
        return;
    uv_poll_stop(c->poll);
    c->poll->data = c->db;
    uv_close((uv_handle_t *)c->poll, handle_closed);
    c->poll = NULL;
    c->poll_fd = -1;
    c->poll_events = 0;
}

static void pg_poll_cb(uv_poll_t *h, int status, int events);

static int poll_watch(pgconn_t *c, int events)
{
    int fd = PQsocket(c->conn);
    if (fd < 0)
        return MD_EDBDOWN;
    if (c->poll != NULL && c->poll_fd != fd)
        poll_close(c);
    if (c->poll == NULL) {
        c->poll = malloc(sizeof(*c->poll));
        if (c->poll == NULL)
            return MD_ENOMEM;
        if (uv_poll_init_socket(c->db->loop, c->poll, fd) != 0) {
            free(c->poll);
            c->poll = NULL;
            return MD_EDBDOWN;
        }
        c->db->open_handles++;
        c->poll->data = c;
        c->poll_fd = fd;
        c->poll_events = 0;
    }
    if (events != c->poll_events) {
        if (uv_poll_start(c->poll, events, pg_poll_cb) != 0)
            return MD_EDBDOWN;
        c->poll_events = events;
    }
    return MD_OK;
}

static void reconnect_cb(uv_timer_t *h)
{
    pgconn_t *c = h->data;
    pg_start_connect(c);
}

static void pg_schedule_reconnect(pgconn_t *c)
{
    c->state = PG_DOWN;
    if (c->db->closing)
        return;
    uint64_t delay = c->backoff_ms;
    c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : DB_BACKOFF_MIN_MS;
    if (c->backoff_ms > DB_BACKOFF_MAX_MS)
        c->backoff_ms = DB_BACKOFF_MAX_MS;
    uv_timer_start(&c->timer, reconnect_cb, delay, 0);
}

/* With no connection up or coming, waiting work cannot run: fail it now. */
static void db_fail_queue_if_down(md_db_t *db)
{
    if (db_any_usable(db))
        return;
    md_db_txn_t *t = db->qhead;
    db->qhead = db->qtail = NULL;
    while (t != NULL) {
        md_db_txn_t *next = t->next;
        db->stats.queued--;
        txn_fail_later(db, t, MD_EDBDOWN);
        t = next;
    }
}

static void pg_drop(pgconn_t *c, int err, const char *why)
{
    md_db_t *db = c->db;
    if (c->was_up) {
        md_log_warn("db_connection_lost", "conn=%d reason=%s", c->index, why);
        c->was_up = 0;
    }
    poll_close(c);
    if (c->conn) {
        PQfinish(c->conn);
        c->conn = NULL;
    }
    c->nprepared = 0;
    md_db_txn_t *t = c->txn;
    c->txn = NULL;
    pg_schedule_reconnect(c);
    if (t != NULL)
        txn_finish(db, t, err);
    db_fail_queue_if_down(db);
}

static void pg_connected(pgconn_t *c)
{
    if (PQsetnonblocking(c->conn, 1) != 0 || PQenterPipelineMode(c->conn) != 1) {
        pg_drop(c, MD_EDBDOWN, "pipeline");
        return;
    }
    c->state = PG_IDLE;
    c->backoff_ms = 0;
    c->was_up = 1;
    c->db->stats.reconnects++;
    md_log_info("db_connected", "conn=%d", c->index);
    if (poll_watch(c, UV_READABLE) != MD_OK) {
        pg_drop(c, MD_EDBDOWN, "poll");
        return;
    }
    pg_run_next(c->db);
}

static void pg_connect_step(pgconn_t *c)
{
    PostgresPollingStatusType st = PQconnectPoll(c->conn);
    switch (st) {
    case PGRES_POLLING_READING:
        if (poll_watch(c, UV_READABLE) != MD_OK)
            pg_drop(c, MD_EDBDOWN, "poll");
        return;
    case PGRES_POLLING_WRITING:
        if (poll_watch(c, UV_WRITABLE) != MD_OK)
            pg_drop(c, MD_EDBDOWN, "poll");
        return;
    case PGRES_POLLING_OK:
        pg_connected(c);
        return;
    default: {
        char msg[256];
        md_log_quote(msg, sizeof(msg), PQerrorMessage(c->conn));
        if (c->backoff_ms <= DB_BACKOFF_MIN_MS)
            md_log_warn("db_connect_failed", "conn=%d error=%s", c->index, msg);
        pg_drop(c, MD_EDBDOWN, "connect");
        return;
    }
    }
}

static void pg_start_connect(pgconn_t *c)
{
    if (c->db->closing)
        return;
    /* The server-side statement timeout matches ours, so a statement we gave
     * up on (and whose connection we dropped) does not run on unseen. JIT
     * compilation costs more than it saves for statements this short. */
    char options[512];
    snprintf(options, sizeof(options), "-c statement_timeout=%llu -c jit=off%s%s",
             (unsigned long long)c->db->timeout_ms, c->db->extra_options[0] ? " " : "",
             c->db->extra_options);
    const char *const keys[] = {"dbname", "options", NULL};
    const char *const vals[] = {c->db->conninfo, options, NULL};
    c->conn = PQconnectStartParams(keys, vals, 1);
    if (c->conn == NULL || PQstatus(c->conn) == CONNECTION_BAD) {
        if (c->conn) {
            PQfinish(c->conn);
            c->conn = NULL;
        }
        pg_schedule_reconnect(c);
        db_fail_queue_if_down(c->db);
        return;
    }
    c->state = PG_CONNECTING;
    /* Start with a writability wait, as the libpq protocol asks. */
    if (poll_watch(c, UV_WRITABLE) != MD_OK)
        pg_drop(c, MD_EDBDOWN, "poll");
}

static int pg_is_prepared(pgconn_t *c, const char *sql)
{
    for (int i = 0; i < c->nprepared; i++) {
        if (c->prepared[i] == sql)
            return 1;
    }
    return 0;
}

static void stmt_name(char *buf, size_t len, const char *sql)
{
    snprintf(buf, len, "md_%lx", (unsigned long)(uintptr_t)sql);
}

static int pg_flush(pgconn_t *c)
{
    int r = PQflush(c->conn);
    if (r < 0)
        return MD_EDBDOWN;
    return poll_watch(c, r == 1 ? (UV_READABLE | UV_WRITABLE) : UV_READABLE);
}

static int pg_send_txn(pgconn_t *c, md_db_txn_t *t)
{
    t->prepared_now = calloc((size_t)(t->count ? t->count : 1), sizeof(int));
    if (t->prepared_now == NULL)
        return MD_ENOMEM;
    int pending = 0;
    for (int i = 0; i < t->count; i++) {
        struct db_stmt *s = &t->stmts[i];
        char name[32];
        stmt_name(name, sizeof(name), s->sql);
        /* Prepare each distinct statement once per connection; when the
         * cache is full, statements run unprepared. */
        if (!pg_is_prepared(c, s->sql) && c->nprepared + pending < DB_MAX_PREPARED) {
            int seen = 0;
            for (int j = 0; j < i; j++)
                seen |= t->stmts[j].sql == s->sql && t->prepared_now[j];
            if (!seen) {
                if (!PQsendPrepare(c->conn, name, s->sql, s->nparams, NULL))
                    return MD_EDBDOWN;
                t->prepared_now[i] = 1;
                pending++;
            }
        }
        int use_prepared = pg_is_prepared(c, s->sql);
        for (int j = 0; j <= i && !use_prepared; j++)
            use_prepared = t->stmts[j].sql == s->sql && t->prepared_now[j];
        int ok;
        if (use_prepared) {
            ok = PQsendQueryPrepared(c->conn, name, s->nparams, (const char *const *)s->params,
                                     NULL, NULL, 0);
        } else {
            ok = PQsendQueryParams(c->conn, s->sql, s->nparams, NULL,
                                   (const char *const *)s->params, NULL, NULL, 0);
        }
        if (!ok)
            return MD_EDBDOWN;
    }
    if (!PQpipelineSync(c->conn))
        return MD_EDBDOWN;
    t->rx_stmt = 0;
    t->rx_prepare = t->count > 0 ? t->prepared_now[0] : 0;
    return pg_flush(c);
}

static void txn_record_error(md_db_txn_t *t, int index, const PGresult *r)
{
    if (t->err != MD_OK)
        return;
    t->err = MD_EDB;
    t->failed_index = index;
    const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    snprintf(t->sqlstate, sizeof(t->sqlstate), "%s", st ? st : "XX000");
    const char *m = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    free(t->message);
    t->message = strdup(m ? m : PQresultErrorMessage(r));
    const char *d = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
    free(t->detail);
    t->detail = d ? strdup(d) : NULL;
}

/* Reads every result available without blocking. Returns 1 when the
 * transaction's Sync arrived. */
static int pg_read_results(pgconn_t *c)
{
    md_db_txn_t *t = c->txn;
    while (!PQisBusy(c->conn)) {
        PGresult *r = PQgetResult(c->conn);
        if (r == NULL) {
            /* End of one item's results: move to the next item. */
            if (t->rx_prepare) {
                t->rx_prepare = 0;
            } else {
                t->rx_stmt++;
                t->rx_prepare = t->rx_stmt < t->count ? t->prepared_now[t->rx_stmt] : 0;
            }
            continue;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            return 1;
        }
        if (t->rx_stmt >= t->count) {
            PQclear(r);
            continue;
        }
        if (t->rx_prepare) {
            if (st == PGRES_COMMAND_OK) {
                if (c->nprepared < DB_MAX_PREPARED)
                    c->prepared[c->nprepared++] = t->stmts[t->rx_stmt].sql;
            } else if (st == PGRES_FATAL_ERROR) {
                txn_record_error(t, t->rx_stmt, r);
            }
            PQclear(r);
            continue;
        }
        if (st == PGRES_FATAL_ERROR)
            txn_record_error(t, t->rx_stmt, r);
        if (st == PGRES_PIPELINE_ABORTED || t->stmts[t->rx_stmt].result != NULL) {
            PQclear(r);
            continue;
        }
        t->stmts[t->rx_stmt].result = r;
    }
    return 0;
}

static void pg_poll_cb(uv_poll_t *h, int status, int events)
{
    pgconn_t *c = h->data;
    if (c->state == PG_CONNECTING) {
        pg_connect_step(c);
        return;
    }
    if (status < 0) {
        pg_drop(c, MD_EDBDOWN, "poll_error");
        return;
    }
    if (events & UV_WRITABLE) {
        if (pg_flush(c) != MD_OK) {
            pg_drop(c, MD_EDBDOWN, "flush");
            return;
        }
    }
    if (events & UV_READABLE) {
        if (!PQconsumeInput(c->conn)) {
            pg_drop(c, MD_EDBDOWN, "read");
            return;
        }
        /* Drain notices and notifications so they do not pile up. */
        PGnotify *n;
        while ((n = PQnotifies(c->conn)) != NULL)
            PQfreemem(n);
        if (c->state == PG_BUSY && pg_read_results(c)) {
            md_db_txn_t *t = c->txn;
            c->txn = NULL;
            c->state = PG_IDLE;
            txn_finish(c->db, t, MD_OK);
            pg_run_next(c->db);
        } else if (c->state == PG_IDLE && PQstatus(c->conn) != CONNECTION_OK) {
            pg_drop(c, MD_EDBDOWN, "closed");
        }
    }
}

static void pg_run_next(md_db_t *db)
{
    for (int i = 0; i < db->size && db->qhead != NULL; i++) {
        pgconn_t *c = &db->conns[i];
        if (c->state != PG_IDLE)
            continue;
        md_db_txn_t *t = db->qhead;
        db->qhead = t->next;
        if (db->qhead == NULL)
            db->qtail = NULL;
        t->next = NULL;
        db->stats.queued--;
        c->txn = t;
        c->state = PG_BUSY;
        int rc = pg_send_txn(c, t);
        if (rc != MD_OK)
            pg_drop(c, MD_EDBDOWN, "send");
    }
}

/* Fails transactions that waited or ran past their deadline. */
static void tick_cb(uv_timer_t *h)
{
    md_db_t *db = h->data;
    uint64_t now = uv_now(db->loop);
    for (int i = 0; i < db->size; i++) {
        pgconn_t *c = &db->conns[i];
        if (c->state == PG_BUSY && c->txn && c->txn->deadline <= now)
            pg_drop(c, MD_EDBTIMEOUT, "timeout");
    }
    md_db_txn_t **pp = &db->qhead;
    db->qtail = NULL;
    while (*pp != NULL) {
        md_db_txn_t *t = *pp;
        if (t->deadline <= now) {
            *pp = t->next;
            db->stats.queued--;
            txn_fail_later(db, t, MD_EDBTIMEOUT);
            continue;
        }
        db->qtail = t;
        pp = &t->next;
    }
}

void md_db_txn_set_timeout(md_db_txn_t *txn, uint64_t timeout_ms)
{
    txn->timeout_ms = timeout_ms;
}

void md_db_submit(md_db_t *db, md_db_txn_t *t, md_db_cb cb, void *arg)
{
    t->cb = cb;
    t->arg = arg;
    t->next = NULL;
    t->deadline = uv_now(db->loop) + (t->timeout_ms ? t->timeout_ms : db->timeout_ms);
    if (db->closing || !db_any_usable(db)) {
        txn_fail_later(db, t, MD_EDBDOWN);
        return;
    }
    if (db->qtail)
        db->qtail->next = t;
    else
        db->qhead = t;
    db->qtail = t;
    db->stats.queued++;
    pg_run_next(db);
}

int md_db_open(uv_loop_t *loop, const md_db_config_t *cfg, md_db_t **out)
{
    md_db_t *db = calloc(1, sizeof(*db));
    if (db == NULL)
        return MD_ENOMEM;
    db->loop = loop;
    db->size = cfg->pool_size > 0 ? cfg->pool_size : 4;
    db->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 10000;
    db->conninfo = strdup(cfg->conninfo);
    db->extra_options = strdup(cfg->extra_options ? cfg->extra_options : "");
    db->conns = calloc((size_t)db->size, sizeof(pgconn_t));
    if (db->conninfo == NULL || db->extra_options == NULL || db->conns == NULL) {
        free(db->conninfo);
        free(db->extra_options);
        free(db->conns);
        free(db);
        return MD_ENOMEM;
    }
    db->stats.size = db->size;
    uv_timer_init(loop, &db->fail_timer);
    db->fail_timer.data = db;
    uv_timer_init(loop, &db->tick);
    db->tick.data = db;
    uv_timer_start(&db->tick, tick_cb, 100, 100);
    uv_unref((uv_handle_t *)&db->tick);
    db->open_handles = 2;
    for (int i = 0; i < db->size; i++) {
        pgconn_t *c = &db->conns[i];
        c->db = db;
        c->index = i;
        c->poll_fd = -1;
        uv_timer_init(loop, &c->timer);
        c->timer.data = c;
        db->open_handles++;
        pg_start_connect(c);
    }
    *out = db;
    return MD_OK;
}

static void timer_closed(uv_handle_t *h)
{
    db_release(h->data);
}

void md_db_close(md_db_t *db)
{
    if (db == NULL || db->closing)
        return;
    db->closing = 1;
    for (int i = 0; i < db->size; i++) {
        pgconn_t *c = &db->conns[i];
        poll_close(c);
        if (c->conn) {
            PQfinish(c->conn);
            c->conn = NULL;
        }
        md_db_txn_t *t = c->txn;
        c->txn = NULL;
        c->state = PG_DOWN;
        if (t)
            txn_finish(db, t, MD_EDBDOWN);
        uv_timer_stop(&c->timer);
        c->timer.data = db;
        uv_close((uv_handle_t *)&c->timer, timer_closed);
    }
    md_db_txn_t *t = db->qhead;
    db->qhead = db->qtail = NULL;
    while (t != NULL) {
        md_db_txn_t *next = t->next;
        txn_finish(db, t, MD_EDBDOWN);
        t = next;
    }
    fail_timer_cb(&db->fail_timer);
    uv_close((uv_handle_t *)&db->fail_timer, timer_closed);
    uv_close((uv_handle_t *)&db->tick, timer_closed);
}

void md_db_stats(const md_db_t *db, md_db_stats_t *out)
{
    *out = db->stats;
    out->up = 0;
    out->busy = 0;
    for (int i = 0; i < db->size; i++) {
        if (db->conns[i].state == PG_IDLE || db->conns[i].state == PG_BUSY)
            out->up++;
        if (db->conns[i].state == PG_BUSY)
            out->busy++;
    }
}

int md_db_pending(const md_db_t *db)
{
    int n = (int)db->stats.queued;
    for (int i = 0; i < db->size; i++) {
        if (db->conns[i].state == PG_BUSY)
            n++;
    }
    return n;
}
