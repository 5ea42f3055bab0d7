/* req.c: the life of one request: its arena, its answer, its database
 * transactions and its thread-pool jobs, plus the mapping of database
 * failures to wire statuses, kept in this one place. */
#include "md_req.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "md_dispatch.h"
#include "md_log.h"

struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    max_align_t data[];
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

md_req_t *md_req_new(md_conn_t *conn, Mentor__V1__Request *msg)
{
    md_req_t *req = calloc(1, sizeof(*req));
    if (req == NULL)
        return NULL;
    req->conn = conn;
    req->msg = msg;
    req->id = msg->id;
    req->started_ns = now_ns();
    return req;
}

void *md_req_alloc(md_req_t *req, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
    struct arena_chunk *c = req->arena;
    if (c == NULL || c->cap - c->used < n) {
        size_t cap = n > 4000 ? n : 4000;
        c = malloc(sizeof(*c) + cap);
        if (c == NULL)
            return NULL;
        c->cap = cap;
        c->used = 0;
        c->next = req->arena;
        req->arena = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

char *md_req_strdup(md_req_t *req, const char *s)
{
    if (s == NULL)
        s = "";
    size_t n = strlen(s) + 1;
    char *p = md_req_alloc(req, n);
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

md_server_t *md_req_server(md_req_t *req)
{
    return md_conn_server(req->conn);
}

md_auth_t *md_req_auth(md_req_t *req)
{
    return md_conn_auth(req->conn);
}

static void req_free(md_req_t *req)
{
    struct arena_chunk *c = req->arena;
    while (c != NULL) {
        struct arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    mentor__v1__request__free_unpacked(req->msg, NULL);
    md_conn_t *conn = req->conn;
    free(req);
    md_conn_request_done(conn);
}

static void req_log(md_req_t *req, int code)
{
    uint64_t us = (now_ns() - req->started_ns) / 1000;
    md_auth_t *a = md_req_auth(req);
    md_log(code == 0 ? MD_LOG_DEBUG : MD_LOG_INFO, "request",
           "kind=%s org=%" PRIu64 " user=%" PRIu64 " status=%s us=%" PRIu64,
           req->entry ? req->entry->name : "unknown", a->org_id, a->user_id, md_code_name(code),
           us);
    if (code != 0)
        md_req_server(req)->stats.errors++;
}

void md_req_reply(md_req_t *req, Mentor__V1__Response *resp)
{
    Mentor__V1__Status ok = MENTOR__V1__STATUS__INIT;
    resp->id = req->id;
    if (resp->status == NULL)
        resp->status = &ok;
    Mentor__V1__ServerMessage sm = MENTOR__V1__SERVER_MESSAGE__INIT;
    sm.msg_case = MENTOR__V1__SERVER_MESSAGE__MSG_RESPONSE;
    sm.response = resp;
    req_log(req, (int)resp->status->code);
    md_conn_send(req->conn, &sm, 0);
    req_free(req);
}

void md_req_fail(md_req_t *req, int err, const char *field, const char *fmt, ...)
{
    char msg[512];
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
    } else {
        snprintf(msg, sizeof(msg), "%s", md_err_message(err));
    }
    Mentor__V1__Status st = MENTOR__V1__STATUS__INIT;
    st.code = (Mentor__V1__Code)md_err_code(err);
    st.message = msg;
    st.field = (char *)(field ? field : "");
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    resp.status = &st;
    md_req_reply(req, &resp);
}

void md_req_reply_empty(md_req_t *req)
{
    Mentor__V1__Empty *e = md_req_alloc(req, sizeof(*e));
    if (e == NULL) {
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    mentor__v1__empty__init(e);
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    resp.result_case = MENTOR__V1__RESPONSE__RESULT_EMPTY;
    resp.empty = e;
    md_req_reply(req, &resp);
}

void md_req_fail_db(md_req_t *req, md_db_txn_t *txn, int err, const char *field)
{
    if (err == MD_EDBDOWN || err == MD_EDBTIMEOUT) {
        md_req_fail(req, err, NULL, NULL);
        return;
    }
    if (err != MD_EDB) {
        md_req_fail(req, err, field, NULL);
        return;
    }
    const char *st = md_db_txn_sqlstate(txn);
    const char *m = md_db_txn_message(txn);
    const char *detail = md_db_txn_detail(txn);
    if (strcmp(st, "MDA01") == 0) {
        md_auth_t *a = md_req_auth(req);
        memset(a, 0, sizeof(*a));
        md_req_fail(req, MD_EAUTH, NULL, "%s; log in again", m);
    } else if (strcmp(st, "MDA03") == 0) {
        md_req_fail(req, MD_EPERM, NULL, "%s", m);
    } else if (strcmp(st, "MDA09") == 0) {
        md_req_fail(req, MD_ESTATE, detail[0] ? detail : field, "%s", m);
    } else if (strcmp(st, "MDA04") == 0) {
        md_req_fail(req, MD_ENOTFOUND, detail[0] ? detail : field, "%s", m);
    } else if (strcmp(st, "MDA06") == 0) {
        md_req_fail(req, MD_EEXISTS, detail[0] ? detail : field, "%s", m);
    } else if (strcmp(st, "MDA22") == 0) {
        md_req_fail(req, MD_EINVAL, detail[0] ? detail : field, "%s", m);
    } else if (strcmp(st, "23503") == 0) {
        md_req_fail(req, MD_ENOTFOUND, field, "a referenced object does not exist");
    } else if (strcmp(st, "23505") == 0) {
        md_req_fail(req, MD_EEXISTS, field, "%s already exists", field ? field : "object");
    } else if (strcmp(st, "23514") == 0 || strcmp(st, "22P02") == 0 || strcmp(st, "22001") == 0 ||
               strcmp(st, "22021") == 0 || strcmp(st, "22P05") == 0) {
        md_req_fail(req, MD_EINVAL, field, "invalid value");
    } else if (strncmp(st, "08", 2) == 0 || strcmp(st, "57P01") == 0 || strcmp(st, "57P03") == 0) {
        md_req_fail(req, MD_EDBDOWN, NULL, NULL);
    } else if (strcmp(st, "57014") == 0) { /* the statement timeout */
        md_req_fail(req, MD_EDBTIMEOUT, NULL, NULL);
    } else if (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0) {
        md_req_fail(req, MD_EDBDOWN, NULL,
                    "a conflicting change was made at the same time; try again");
    } else {
        char q[300];
        md_log_error("db_error", "kind=%s sqlstate=%s message=%s",
                     req->entry ? req->entry->name : "?", st, md_log_quote(q, sizeof(q), m));
        md_req_fail(req, MD_EINTERNAL, NULL, NULL);
    }
}

static const char SQL_REQUEST_BEGIN[] =
    "SELECT user_id, role, is_operator FROM md_request_begin($1::bigint, $2::bigint, "
    "$3::int, $4::boolean, $5::int, $6::boolean, $7)";

md_db_txn_t *md_req_txn(md_req_t *req)
{
    md_db_txn_t *txn = md_db_txn_new();
    if (txn == NULL)
        return NULL;
    md_auth_t *a = md_req_auth(req);
    const md_dispatch_entry_t *e = req->entry;
    /* Login's own reads (its answer) are not writes. */
    int write = !(e != NULL && (e->flags & (MD_F_READ | MD_F_PREAUTH)));
    const char *p[7] = {md_req_u64(req, a->org_id),
                        md_req_u64(req, a->session_id),
                        md_req_i64(req, e ? e->min_role : 0),
                        e && (e->flags & MD_F_OPERATOR) ? "true" : "false",
                        md_req_i64(req, md_req_server(req)->cfg.session_idle_seconds),
                        write ? "true" : "false",
                        e ? e->name : "unknown"};
    if (md_db_txn_add(txn, SQL_REQUEST_BEGIN, 7, p) != MD_OK) {
        md_db_txn_free(txn);
        return NULL;
    }
    return txn;
}

md_db_txn_t *md_req_txn_anon(md_req_t *req)
{
    (void)req;
    return md_db_txn_new();
}

struct submit_ctx {
    md_req_t *req;
    md_req_db_cb cb;
};

static void submit_done(md_db_txn_t *txn, int err, void *arg)
{
    struct submit_ctx *sc = arg;
    md_req_t *req = sc->req;
    md_req_db_cb cb = sc->cb;
    free(sc);
    /* Refresh the cached role from the session check, when there was one. */
    md_auth_t *a = md_req_auth(req);
    PGresult *r = md_db_txn_result(txn, 0);
    if (err == MD_OK && a->authed && r != NULL && PQnfields(r) == 3 && PQntuples(r) == 1 &&
        strcmp(PQfname(r, 0), "user_id") == 0) {
        a->role = atoi(PQgetvalue(r, 0, 1));
        a->is_operator = PQgetvalue(r, 0, 2)[0] == 't';
    }
    cb(req, txn, err);
}

void md_req_submit(md_req_t *req, md_db_txn_t *txn, md_req_db_cb cb)
{
    struct submit_ctx *sc = malloc(sizeof(*sc));
    if (sc == NULL) {
        md_db_txn_free(txn);
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    sc->req = req;
    sc->cb = cb;
    md_db_submit(md_req_server(req)->db, txn, submit_done, sc);
}

struct work_ctx {
    uv_work_t w;
    md_req_t *req;
    md_req_work_fn fn;
    md_req_work_fn done;
};

static void work_run(uv_work_t *w)
{
    struct work_ctx *wc = w->data;
    wc->fn(wc->req);
}

static void work_after(uv_work_t *w, int status)
{
    struct work_ctx *wc = w->data;
    md_req_t *req = wc->req;
    md_req_work_fn done = wc->done;
    free(wc);
    if (status != 0) {
        md_req_fail(req, MD_EINTERNAL, NULL, NULL);
        return;
    }
    done(req);
}

int md_req_work(md_req_t *req, md_req_work_fn fn, md_req_work_fn done)
{
    struct work_ctx *wc = calloc(1, sizeof(*wc));
    if (wc == NULL)
        return MD_ENOMEM;
    wc->w.data = wc;
    wc->req = req;
    wc->fn = fn;
    wc->done = done;
    if (uv_queue_work(md_req_server(req)->loop, &wc->w, work_run, work_after) != 0) {
        free(wc);
        return MD_EINTERNAL;
    }
    return MD_OK;
}

const char *md_req_u64(md_req_t *req, uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%" PRIu64, v);
    return md_req_strdup(req, buf);
}

const char *md_req_i64(md_req_t *req, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%" PRId64, v);
    return md_req_strdup(req, buf);
}

uint64_t md_res_u64(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    return strtoull(PQgetvalue(r, row, col), NULL, 10);
}

int64_t md_res_i64(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

int md_res_bool(const PGresult *r, int row, int col)
{
    return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

char *md_res_str(md_req_t *req, const PGresult *r, int row, int col)
{
    return md_req_strdup(req, PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col));
}
