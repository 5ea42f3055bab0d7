/* h_token.c: API tokens (TokenCreate, TokenList, TokenRevoke). A token is a
 * row of sessions with kind 2 (sql/007_tokens.sql): the secret is made here
 * and only its SHA-256 is stored; requests made with it are checked by
 * md_request_begin like any session, plus its scope. */
#include <string.h>

#include "md_crypto.h"
#include "md_dispatch.h"
#include "md_log.h"
#include "md_model.h"

#define TOKEN_NAME_MAX     100
#define TOKEN_DAYS_DEFAULT 90
#define TOKEN_DAYS_MAX     365

#define TOKEN_COLS                                                                                 \
    "id, name, scope, extract(epoch FROM created_at)::bigint, "                                    \
    "extract(epoch FROM expires_at)::bigint, "                                                     \
    "CASE WHEN last_seen_at > created_at THEN extract(epoch FROM last_seen_at)::bigint "           \
    "ELSE 0 END, revoked_at IS NOT NULL"

/* Only from a session opened with a password: a token cannot make tokens. */
static const char SQL_TOKEN_CREATE[] =
    "INSERT INTO sessions (org_id, user_id, token_hash, expires_at, kind, scope, name) "
    "SELECT $1::bigint, $2::bigint, $3::bytea, now() + make_interval(days => $4::int), 2, "
    "$5::smallint, $6 WHERE current_setting('app.session_kind', true) = '1' "
    "RETURNING " TOKEN_COLS;
static const char SQL_TOKEN_LIST[] = "SELECT " TOKEN_COLS " FROM sessions "
                                     "WHERE org_id = $1::bigint AND user_id = $2::bigint "
                                     "AND kind = 2 ORDER BY id DESC";
static const char SQL_TOKEN_REVOKE[] =
    "UPDATE sessions SET revoked_at = now() WHERE org_id = $1::bigint AND user_id = $2::bigint "
    "AND id = $3::bigint AND kind = 2 AND revoked_at IS NULL RETURNING id";

typedef struct {
    char secret[64];
} token_state_t;

static Mentor__V1__ApiToken *token_from_row(md_req_t *req, const PGresult *r, int row)
{
    Mentor__V1__ApiToken *t = md_req_alloc(req, sizeof(*t));
    if (t == NULL)
        return NULL;
    mentor__v1__api_token__init(t);
    t->id = md_res_u64(r, row, 0);
    t->name = md_res_str(req, r, row, 1);
    t->scope = (Mentor__V1__TokenScope)md_res_i64(r, row, 2);
    t->created_at = md_res_i64(r, row, 3);
    t->expires_at = md_res_i64(r, row, 4);
    t->last_used_at = md_res_i64(r, row, 5);
    t->revoked = md_res_bool(r, row, 6);
    return t->name != NULL ? t : NULL;
}

static void submit(md_req_t *req, const char *sql, int n, const char *const *p, md_req_db_cb cb)
{
    md_db_txn_t *txn = md_req_txn(req);
    if (txn == NULL || md_db_txn_add(txn, sql, n, p) != MD_OK) {
        md_db_txn_free(txn);
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    md_req_submit(req, txn, cb);
}

/* ---- create ----------------------------------------------------------- */

static void created(md_req_t *req, md_db_txn_t *txn, int err)
{
    token_state_t *st = req->state;
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, NULL);
        return;
    }
    PGresult *r = md_db_txn_result(txn, MD_REQ_FIRST);
    if (PQntuples(r) != 1) {
        md_req_fail(req, MD_ESTATE, NULL,
                    "an API token cannot make tokens; log in with your password to do this");
        return;
    }
    Mentor__V1__TokenCreateReply *rep = md_req_alloc(req, sizeof(*rep));
    if (rep == NULL) {
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    mentor__v1__token_create_reply__init(rep);
    rep->token = token_from_row(req, r, 0);
    rep->secret = st->secret;
    if (rep->token == NULL) {
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    md_auth_t *a = md_req_auth(req);
    md_log_info("token_created", "org=%llu user=%llu token=%llu scope=%d",
                (unsigned long long)a->org_id, (unsigned long long)a->user_id,
                (unsigned long long)rep->token->id, (int)rep->token->scope);
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    resp.result_case = MENTOR__V1__RESPONSE__RESULT_TOKEN_CREATE;
    resp.token_create = rep;
    md_req_reply(req, &resp);
}

void md_h_token_create(md_req_t *req)
{
    Mentor__V1__TokenCreate *tc = req->msg->token_create;
    if (tc->name[0] == '\0' || !md_model_name(tc->name) || strlen(tc->name) > 4 * TOKEN_NAME_MAX) {
        md_req_fail(req, MD_EINVAL, "token_create.name",
                    "name the token: 1-%d printable characters", TOKEN_NAME_MAX);
        return;
    }
    if (tc->scope != MENTOR__V1__TOKEN_SCOPE__TOKEN_READ &&
        tc->scope != MENTOR__V1__TOKEN_SCOPE__TOKEN_WRITE) {
        md_req_fail(req, MD_EINVAL, "token_create.scope", "the scope must be read or write");
        return;
    }
    uint32_t days = tc->expires_days ? tc->expires_days : TOKEN_DAYS_DEFAULT;
    if (days > TOKEN_DAYS_MAX) {
        md_req_fail(req, MD_EINVAL, "token_create.expires_days", "a token lives 1 to %d days",
                    TOKEN_DAYS_MAX);
        return;
    }
    token_state_t *st = md_req_alloc(req, sizeof(*st));
    char hash[67];
    if (st == NULL || md_crypto_token(st->secret, sizeof(st->secret), MD_TOKEN_BYTES) != MD_OK) {
        md_req_fail(req, MD_EINTERNAL, NULL, NULL);
        return;
    }
    req->state = st;
    md_crypto_sha256_bytea(st->secret, hash);
    md_auth_t *a = md_req_auth(req);
    const char *p[6] = {md_req_u64(req, a->org_id), md_req_u64(req, a->user_id), hash,
                        md_req_i64(req, days),      md_req_i64(req, tc->scope),  tc->name};
    submit(req, SQL_TOKEN_CREATE, 6, p, created);
}

/* ---- list ------------------------------------------------------------- */

static void listed(md_req_t *req, md_db_txn_t *txn, int err)
{
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, NULL);
        return;
    }
    PGresult *r = md_db_txn_result(txn, MD_REQ_FIRST);
    int n = PQntuples(r);
    Mentor__V1__TokenListReply *rep = md_req_alloc(req, sizeof(*rep));
    Mentor__V1__ApiToken **items = md_req_alloc(req, sizeof(*items) * (size_t)(n ? n : 1));
    if (rep == NULL || items == NULL) {
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    mentor__v1__token_list_reply__init(rep);
    for (int i = 0; i < n; i++) {
        items[i] = token_from_row(req, r, i);
        if (items[i] == NULL) {
            md_req_fail(req, MD_ENOMEM, NULL, NULL);
            return;
        }
    }
    rep->tokens = items;
    rep->n_tokens = (size_t)n;
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    resp.result_case = MENTOR__V1__RESPONSE__RESULT_TOKEN_LIST;
    resp.token_list = rep;
    md_req_reply(req, &resp);
}

void md_h_token_list(md_req_t *req)
{
    md_auth_t *a = md_req_auth(req);
    const char *p[2] = {md_req_u64(req, a->org_id), md_req_u64(req, a->user_id)};
    submit(req, SQL_TOKEN_LIST, 2, p, listed);
}

/* ---- revoke ----------------------------------------------------------- */

static void revoked(md_req_t *req, md_db_txn_t *txn, int err)
{
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, NULL);
        return;
    }
    if (PQntuples(md_db_txn_result(txn, MD_REQ_FIRST)) != 1) {
        md_req_fail(req, MD_ENOTFOUND, "token_revoke.id",
                    "you have no such token, or it was revoked already");
        return;
    }
    md_auth_t *a = md_req_auth(req);
    md_server_forget_sessions(md_req_server(req), a->org_id, 0, req->msg->token_revoke->id);
    md_req_reply_empty(req);
}

void md_h_token_revoke(md_req_t *req)
{
    Mentor__V1__TokenRevoke *tr = req->msg->token_revoke;
    if (tr->id == 0) {
        md_req_fail(req, MD_EINVAL, "token_revoke.id", "a token id is required");
        return;
    }
    md_auth_t *a = md_req_auth(req);
    const char *p[3] = {md_req_u64(req, a->org_id), md_req_u64(req, a->user_id),
                        md_req_u64(req, tr->id)};
    submit(req, SQL_TOKEN_REVOKE, 3, p, revoked);
}
