/* h_audit.c: AuditList, the organization's audit log (sql/008_audit.sql),
 * newest first, filtered by time, actor and object. Admin only. */
#include <string.h>

#include "md_dispatch.h"
#include "md_model.h"

#define AUDIT_LIMIT_DEFAULT 100
#define AUDIT_LIMIT_MAX     1000

static const char SQL_AUDIT_LIST[] =
    "SELECT a.id, extract(epoch FROM a.at)::bigint, a.actor_id, coalesce(u.email, ''), a.action, "
    "a.object_kind, a.object_id, coalesce(a.before::text, ''), coalesce(a.after::text, '') "
    "FROM audit_log a LEFT JOIN users u ON u.org_id = a.org_id AND u.id = a.actor_id "
    "WHERE a.org_id = $1::bigint AND ($2::bigint = 0 OR a.at >= to_timestamp($2::bigint)) "
    "AND ($3::bigint = 0 OR a.actor_id = $3::bigint) AND ($4 = '' OR a.object_kind = $4) "
    "AND ($5::bigint = 0 OR a.object_id = $5::bigint) ORDER BY a.id DESC LIMIT $6::int";

static void listed(md_req_t *req, md_db_txn_t *txn, int err)
{
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, NULL);
        return;
    }
    PGresult *r = md_db_txn_result(txn, MD_REQ_FIRST);
    int n = PQntuples(r);
    Mentor__V1__AuditListReply *rep = md_req_alloc(req, sizeof(*rep));
    Mentor__V1__AuditEntry **items = md_req_alloc(req, sizeof(*items) * (size_t)(n ? n : 1));
    if (rep == NULL || items == NULL) {
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    mentor__v1__audit_list_reply__init(rep);
    for (int i = 0; i < n; i++) {
        Mentor__V1__AuditEntry *e = md_req_alloc(req, sizeof(*e));
        if (e == NULL) {
            md_req_fail(req, MD_ENOMEM, NULL, NULL);
            return;
        }
        mentor__v1__audit_entry__init(e);
        e->id = md_res_u64(r, i, 0);
        e->at = md_res_i64(r, i, 1);
        e->actor_id = md_res_u64(r, i, 2);
        e->actor_email = md_res_str(req, r, i, 3);
        e->action = md_res_str(req, r, i, 4);
        e->object_kind = md_res_str(req, r, i, 5);
        e->object_id = md_res_u64(r, i, 6);
        e->before_json = md_res_str(req, r, i, 7);
        e->after_json = md_res_str(req, r, i, 8);
        if (e->actor_email == NULL || e->action == NULL || e->object_kind == NULL ||
            e->before_json == NULL || e->after_json == NULL) {
            md_req_fail(req, MD_ENOMEM, NULL, NULL);
            return;
        }
        items[i] = e;
    }
    rep->entries = items;
    rep->n_entries = (size_t)n;
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    resp.result_case = MENTOR__V1__RESPONSE__RESULT_AUDIT_LIST;
    resp.audit_list = rep;
    md_req_reply(req, &resp);
}

void md_h_audit_list(md_req_t *req)
{
    Mentor__V1__AuditList *al = req->msg->audit_list;
    if (al->limit > AUDIT_LIMIT_MAX) {
        md_req_fail(req, MD_EINVAL, "audit_list.limit", "at most %d entries at a time",
                    AUDIT_LIMIT_MAX);
        return;
    }
    if (al->since < 0) {
        md_req_fail(req, MD_EINVAL, "audit_list.since", "since must not be negative");
        return;
    }
    if (al->object_kind[0] != '\0' && strcmp(al->object_kind, "user") != 0 &&
        strcmp(al->object_kind, "program") != 0 &&
        strcmp(al->object_kind, "program_coordinator") != 0 &&
        strcmp(al->object_kind, "participant") != 0) {
        md_req_fail(req, MD_EINVAL, "audit_list.object_kind",
                    "the kind must be user, program, program_coordinator or participant");
        return;
    }
    const char *p[6] = {md_req_u64(req, md_req_auth(req)->org_id),
                        md_req_i64(req, al->since),
                        md_req_u64(req, al->actor_id),
                        al->object_kind,
                        md_req_u64(req, al->object_id),
                        md_req_i64(req, al->limit ? al->limit : AUDIT_LIMIT_DEFAULT)};
    md_db_txn_t *txn = md_req_txn(req);
    if (txn == NULL || md_db_txn_add(txn, SQL_AUDIT_LIST, 6, p) != MD_OK) {
        md_db_txn_free(txn);
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    md_req_submit(req, txn, listed);
}
