/* h_inbox.c: each user's inbox of notifications (InboxList, InboxRead).
 * Rows are made by matching (sql/009_matching.sql, md_notify) and pushed
 * live by the worker; here a user reads and marks only their own, so every
 * statement is scoped to the caller's organization and user id besides the
 * table's row-level security. */
#include <inttypes.h>
#include <stdio.h>

#include "md_dispatch.h"

#define INBOX_LIMIT_DEFAULT 50
#define INBOX_LIMIT_MAX     500
#define INBOX_READ_IDS_MAX  500

static const char SQL_INBOX_LIST[] =
    "SELECT id, kind, title, body, coalesce(program_id, 0), "
    "extract(epoch FROM created_at)::bigint, coalesce(extract(epoch FROM read_at)::bigint, 0) "
    "FROM notifications WHERE org_id = $1::bigint AND user_id = $2::bigint "
    "AND ($3::bigint = 0 OR id < $3::bigint) AND (NOT $4::boolean OR read_at IS NULL) "
    "ORDER BY id DESC LIMIT $5::int";
static const char SQL_INBOX_UNREAD[] =
    "SELECT count(*) FROM notifications WHERE org_id = $1::bigint AND user_id = $2::bigint "
    "AND read_at IS NULL";
static const char SQL_INBOX_READ[] =
    "WITH m AS (UPDATE notifications SET read_at = now() "
    "WHERE org_id = $1::bigint AND user_id = $2::bigint AND read_at IS NULL "
    "AND ($3::boolean OR id = ANY ($4::bigint[])) RETURNING 1) SELECT count(*) FROM m";

static Mentor__V1__Notification *notification_from_row(md_req_t *req, const PGresult *r, int row)
{
    Mentor__V1__Notification *n = md_req_alloc(req, sizeof(*n));
    if (n == NULL)
        return NULL;
    mentor__v1__notification__init(n);
    n->id = md_res_u64(r, row, 0);
    n->kind = md_res_str(req, r, row, 1);
    n->title = md_res_str(req, r, row, 2);
    n->body = md_res_str(req, r, row, 3);
    n->program_id = md_res_u64(r, row, 4);
    n->created_at = md_res_i64(r, row, 5);
    n->read_at = md_res_i64(r, row, 6);
    return n->kind != NULL && n->title != NULL && n->body != NULL ? n : NULL;
}

/* The PostgreSQL bigint[] literal of n ids, in the request arena. */
static const char *id_array(md_req_t *req, const uint64_t *ids, size_t n)
{
    size_t len = 3 + n * 21;
    char *buf = md_req_alloc(req, len);
    if (buf == NULL)
        return NULL;
    size_t used = 0;
    buf[used++] = '{';
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(buf + used, len - used, "%s%" PRIu64, i ? "," : "", ids[i]);
        if (w < 0 || (size_t)w >= len - used)
            return NULL;
        used += (size_t)w;
    }
    buf[used++] = '}';
    buf[used] = '\0';
    return buf;
}

/* ---- list ------------------------------------------------------------- */

static void listed(md_req_t *req, md_db_txn_t *txn, int err)
{
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, NULL);
        return;
    }
    PGresult *r = md_db_txn_result(txn, MD_REQ_FIRST);
    PGresult *rc = md_db_txn_result(txn, MD_REQ_FIRST + 1);
    int n = PQntuples(r);
    Mentor__V1__InboxListReply *rep = md_req_alloc(req, sizeof(*rep));
    Mentor__V1__Notification **items = md_req_alloc(req, sizeof(*items) * (size_t)(n ? n : 1));
    if (rep == NULL || items == NULL) {
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    mentor__v1__inbox_list_reply__init(rep);
    for (int i = 0; i < n; i++) {
        items[i] = notification_from_row(req, r, i);
        if (items[i] == NULL) {
            md_req_fail(req, MD_ENOMEM, NULL, NULL);
            return;
        }
    }
    rep->notifications = items;
    rep->n_notifications = (size_t)n;
    rep->unread = PQntuples(rc) == 1 ? (uint32_t)md_res_u64(rc, 0, 0) : 0;
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    resp.result_case = MENTOR__V1__RESPONSE__RESULT_INBOX_LIST;
    resp.inbox_list = rep;
    md_req_reply(req, &resp);
}

void md_h_inbox_list(md_req_t *req)
{
    Mentor__V1__InboxList *il = req->msg->inbox_list;
    uint32_t limit = il->limit ? il->limit : INBOX_LIMIT_DEFAULT;
    if (limit > INBOX_LIMIT_MAX) {
        md_req_fail(req, MD_EINVAL, "inbox_list.limit", "the limit is 1 to %d notifications",
                    INBOX_LIMIT_MAX);
        return;
    }
    md_auth_t *a = md_req_auth(req);
    const char *org = md_req_u64(req, a->org_id);
    const char *user = md_req_u64(req, a->user_id);
    const char *p[5] = {org, user, md_req_u64(req, il->before_id),
                        il->unread_only ? "true" : "false", md_req_i64(req, limit)};
    const char *pc[2] = {org, user};
    md_db_txn_t *txn = md_req_txn(req);
    if (txn == NULL || md_db_txn_add(txn, SQL_INBOX_LIST, 5, p) != MD_OK ||
        md_db_txn_add(txn, SQL_INBOX_UNREAD, 2, pc) != MD_OK) {
        md_db_txn_free(txn);
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    md_req_submit(req, txn, listed);
}

/* ---- read ------------------------------------------------------------- */

static void marked(md_req_t *req, md_db_txn_t *txn, int err)
{
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, NULL);
        return;
    }
    PGresult *r = md_db_txn_result(txn, MD_REQ_FIRST);
    Mentor__V1__InboxReadReply *rep = md_req_alloc(req, sizeof(*rep));
    if (rep == NULL) {
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    mentor__v1__inbox_read_reply__init(rep);
    rep->marked = PQntuples(r) == 1 ? (uint32_t)md_res_u64(r, 0, 0) : 0;
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    resp.result_case = MENTOR__V1__RESPONSE__RESULT_INBOX_READ;
    resp.inbox_read = rep;
    md_req_reply(req, &resp);
}

void md_h_inbox_read(md_req_t *req)
{
    Mentor__V1__InboxRead *ir = req->msg->inbox_read;
    if (ir->n_ids == 0 && !ir->all) {
        md_req_fail(req, MD_EINVAL, "inbox_read.ids",
                    "name the notifications to mark read, or mark them all");
        return;
    }
    if (ir->n_ids > 0 && ir->all) {
        md_req_fail(req, MD_EINVAL, "inbox_read.all", "give notification ids or all, not both");
        return;
    }
    if (ir->n_ids > INBOX_READ_IDS_MAX) {
        md_req_fail(req, MD_EINVAL, "inbox_read.ids", "at most %d notifications at a time",
                    INBOX_READ_IDS_MAX);
        return;
    }
    for (size_t i = 0; i < ir->n_ids; i++) {
        if (ir->ids[i] == 0 || ir->ids[i] > INT64_MAX) {
            md_req_fail(req, MD_EINVAL, "inbox_read.ids", "%" PRIu64 " is not a notification id",
                        ir->ids[i]);
            return;
        }
    }
    const char *ids = id_array(req, ir->ids, ir->n_ids);
    md_auth_t *a = md_req_auth(req);
    const char *p[4] = {md_req_u64(req, a->org_id), md_req_u64(req, a->user_id),
                        ir->all ? "true" : "false", ids};
    md_db_txn_t *txn = ids != NULL ? md_req_txn(req) : NULL;
    if (txn == NULL || md_db_txn_add(txn, SQL_INBOX_READ, 4, p) != MD_OK) {
        md_db_txn_free(txn);
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    md_req_submit(req, txn, marked);
}
