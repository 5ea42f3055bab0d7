/* md_req.h (private to mentord): what a request handler sees.
 *
 * A handler receives an md_req_t that owns the decoded Request and a small
 * arena for building the response. The handler answers exactly once, with
 * md_req_reply or one of the md_req_fail* calls; either frees the request.
 * Database work goes through md_req_txn/md_req_submit, whose transaction
 * starts by re-checking the caller's session and role in the database, so
 * a revoked session or lowered role is noticed on the very next request. */
#ifndef MD_REQ_H
#define MD_REQ_H

#include <stddef.h>
#include <stdint.h>

#include "md_db.h"
#include "md_server.h"
#include "mentor.pb-c.h"

typedef struct md_req md_req_t;
typedef struct md_dispatch_entry md_dispatch_entry_t;

struct md_req {
    md_conn_t *conn;
    uint64_t id;
    Mentor__V1__Request *msg; /* owned: freed with the request */
    const md_dispatch_entry_t *entry;
    void *arena; /* chunks freed with the request */
    void *state; /* handler scratch, usually arena memory */
    uint64_t started_ns;
};

md_req_t *md_req_new(md_conn_t *conn, Mentor__V1__Request *msg);
void *md_req_alloc(md_req_t *req, size_t n);
char *md_req_strdup(md_req_t *req, const char *s);
md_server_t *md_req_server(md_req_t *req);
md_auth_t *md_req_auth(md_req_t *req);

/* Send resp (status OK unless resp->status is set) and free the request. */
void md_req_reply(md_req_t *req, Mentor__V1__Response *resp);
/* Answer OK with the Empty result. */
void md_req_reply_empty(md_req_t *req);
/* Send an error status and free the request. fmt NULL uses the table's
 * default message. */
void md_req_fail(md_req_t *req, int err, const char *field, const char *fmt, ...) MD_PRINTF(4, 5);
/* Map a database failure to a status (unique violation -> ALREADY_EXISTS on
 * field, check violation -> INVALID_ARGUMENT, lost database -> UNAVAILABLE,
 * session check -> UNAUTHENTICATED / PERMISSION_DENIED) and fail. */
void md_req_fail_db(md_req_t *req, md_db_txn_t *txn, int err, const char *field);

/* A new transaction whose first statement checks the caller's session and
 * the entry's required role. Handler statements follow at index 1.. */
md_db_txn_t *md_req_txn(md_req_t *req);
/* A transaction without the session check, for requests made before login. */
md_db_txn_t *md_req_txn_anon(md_req_t *req);
typedef void (*md_req_db_cb)(md_req_t *req, md_db_txn_t *txn, int err);
void md_req_submit(md_req_t *req, md_db_txn_t *txn, md_req_db_cb cb);
/* Index of the first handler statement in a transaction from md_req_txn. */
#define MD_REQ_FIRST 1

/* Run fn on the libuv thread pool, then done on the loop thread. */
typedef void (*md_req_work_fn)(md_req_t *req);
MD_WUR int md_req_work(md_req_t *req, md_req_work_fn fn, md_req_work_fn done);

/* Small helpers for building statements' text parameters. */
const char *md_req_u64(md_req_t *req, uint64_t v);
const char *md_req_i64(md_req_t *req, int64_t v);
/* Column helpers on a result row. */
uint64_t md_res_u64(const PGresult *r, int row, int col);
int64_t md_res_i64(const PGresult *r, int row, int col);
int md_res_bool(const PGresult *r, int row, int col);
/* Copies a text column into the request arena ("" for NULL). */
char *md_res_str(md_req_t *req, const PGresult *r, int row, int col);

#endif
