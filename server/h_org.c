/* h_org.c: organization requests. OrgShow reads the caller's own
 * organization; OrgCreate and OrgList cross organizations and are for the
 * server operator only, through SECURITY DEFINER functions that check the
 * operator flag again inside the database. */
#include <string.h>

#include "md_crypto.h"
#include "md_dispatch.h"
#include "md_model.h"

static const char SQL_ORG_LIST[] =
    "SELECT id, slug, name, extract(epoch FROM created_at)::bigint, user_count FROM md_org_list()";
static const char SQL_ORG_CREATE[] =
    "SELECT org_id, user_id, extract(epoch FROM created_at)::bigint, "
    "extract(epoch FROM invite_expires_at)::bigint "
    "FROM md_org_create($1, $2, $3, $4, NULL, $5::bytea, false)";

static void org_show_done(md_req_t *req, md_db_txn_t *txn, int err)
{
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, NULL);
        return;
    }
    PGresult *r = md_db_txn_result(txn, MD_REQ_FIRST);
    if (PQntuples(r) != 1) {
        md_req_fail(req, MD_ENOTFOUND, NULL, "organization not found");
        return;
    }
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    resp.result_case = MENTOR__V1__RESPONSE__RESULT_ORG;
    resp.org = md_model_org(req, r, 0, 0);
    if (resp.org == NULL) {
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    md_req_reply(req, &resp);
}

void md_h_org_show(md_req_t *req)
{
    md_db_txn_t *txn = md_req_txn(req);
    const char *p[1] = {md_req_u64(req, md_req_auth(req)->org_id)};
    if (txn == NULL || md_db_txn_add(txn, md_sql_self_org, 1, p) != MD_OK) {
        md_db_txn_free(txn);
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    md_req_submit(req, txn, org_show_done);
}

static void org_list_done(md_req_t *req, md_db_txn_t *txn, int err)
{
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, NULL);
        return;
    }
    PGresult *r = md_db_txn_result(txn, MD_REQ_FIRST);
    int n = PQntuples(r);
    Mentor__V1__OrgListReply *l = md_req_alloc(req, sizeof(*l));
    Mentor__V1__Org **orgs = md_req_alloc(req, sizeof(*orgs) * (size_t)(n ? n : 1));
    if (l == NULL || orgs == NULL) {
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    mentor__v1__org_list_reply__init(l);
    for (int i = 0; i < n; i++) {
        orgs[i] = md_model_org(req, r, i, 0);
        if (orgs[i] == NULL) {
            md_req_fail(req, MD_ENOMEM, NULL, NULL);
            return;
        }
    }
    l->n_orgs = (size_t)n;
    l->orgs = orgs;
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    resp.result_case = MENTOR__V1__RESPONSE__RESULT_ORG_LIST;
    resp.org_list = l;
    md_req_reply(req, &resp);
}

void md_h_org_list(md_req_t *req)
{
    md_db_txn_t *txn = md_req_txn(req);
    if (txn == NULL || md_db_txn_add(txn, SQL_ORG_LIST, 0, NULL) != MD_OK) {
        md_db_txn_free(txn);
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    md_req_submit(req, txn, org_list_done);
}

typedef struct {
    char code[48];
    char email[256];
} org_create_state_t;

static void org_create_done(md_req_t *req, md_db_txn_t *txn, int err)
{
    org_create_state_t *st = req->state;
    Mentor__V1__OrgCreate *oc = req->msg->org_create;
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, "org_create.slug");
        return;
    }
    PGresult *r = md_db_txn_result(txn, MD_REQ_FIRST);
    if (PQntuples(r) != 1) {
        md_req_fail(req, MD_EINTERNAL, NULL, NULL);
        return;
    }
    Mentor__V1__OrgCreateReply *cr = md_req_alloc(req, sizeof(*cr));
    Mentor__V1__Org *o = md_req_alloc(req, sizeof(*o));
    Mentor__V1__User *u = md_req_alloc(req, sizeof(*u));
    if (cr == NULL || o == NULL || u == NULL) {
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    mentor__v1__org_create_reply__init(cr);
    mentor__v1__org__init(o);
    mentor__v1__user__init(u);
    o->id = md_res_u64(r, 0, 0);
    o->slug = oc->slug;
    o->name = oc->name;
    o->created_at = md_res_i64(r, 0, 2);
    o->user_count = 1;
    u->id = md_res_u64(r, 0, 1);
    u->email = st->email;
    u->display_name = oc->admin_display_name[0] ? oc->admin_display_name : st->email;
    u->role = MENTOR__V1__ROLE__ADMIN;
    u->active = 1;
    u->created_at = o->created_at;
    u->invite_pending = 1;
    cr->org = o;
    cr->admin = u;
    cr->invite_code = st->code;
    cr->invite_expires_at = md_res_i64(r, 0, 3);
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    resp.result_case = MENTOR__V1__RESPONSE__RESULT_ORG_CREATE;
    resp.org_create = cr;
    md_req_reply(req, &resp);
}

void md_h_org_create(md_req_t *req)
{
    Mentor__V1__OrgCreate *oc = req->msg->org_create;
    org_create_state_t *st = md_req_alloc(req, sizeof(*st));
    if (st == NULL) {
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    req->state = st;
    if (!md_model_slug(oc->slug)) {
        md_req_fail(req, MD_EINVAL, "org_create.slug",
                    "slug must be 2-40 characters of a-z, 0-9 and '-', starting with a letter");
        return;
    }
    if (!md_model_name(oc->name)) {
        md_req_fail(req, MD_EINVAL, "org_create.name", "name must be 1-200 printable characters");
        return;
    }
    if (!md_model_email(oc->admin_email, st->email, sizeof(st->email))) {
        md_req_fail(req, MD_EINVAL, "org_create.admin_email", "not a valid e-mail address");
        return;
    }
    const char *display = oc->admin_display_name;
    if (display[0] != '\0' && !md_model_name(display)) {
        md_req_fail(req, MD_EINVAL, "org_create.admin_display_name",
                    "display name must be 1-200 printable characters");
        return;
    }
    if (display[0] == '\0')
        display = st->email;
    if (md_crypto_code(st->code, sizeof(st->code), MD_INVITE_BYTES) != MD_OK) {
        md_req_fail(req, MD_EINTERNAL, NULL, NULL);
        return;
    }
    char code_hash[67];
    md_crypto_sha256_bytea(st->code, code_hash);
    const char *p[5] = {oc->slug, oc->name, st->email, display, code_hash};
    md_db_txn_t *txn = md_req_txn(req);
    if (txn == NULL || md_db_txn_add(txn, SQL_ORG_CREATE, 5, p) != MD_OK) {
        md_db_txn_free(txn);
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    md_req_submit(req, txn, org_create_done);
}
