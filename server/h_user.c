/* h_user.c: user management inside the caller's organization: invite,
 * list, show, update and deactivate. Row-level security confines every
 * statement to the caller's organization; the explicit org_id conditions
 * say the same thing for the reader and for the planner. */
#include <string.h>

#include "md_crypto.h"
#include "md_dispatch.h"
#include "md_model.h"

#define INVITE_DAYS 7

static const char SQL_USER_INVITE[] =
    "WITH nu AS (INSERT INTO users (org_id, email, display_name, role) "
    "  VALUES ($1::bigint, $2, $3, $4::smallint) RETURNING *), "
    "inv AS (INSERT INTO invites (org_id, user_id, code_hash, created_by, expires_at) "
    "  SELECT $1::bigint, nu.id, $5::bytea, $6::bigint, now() + interval '7 days' FROM nu "
    "  RETURNING expires_at) "
    "SELECT " MD_USER_COLS ", extract(epoch FROM inv.expires_at)::bigint FROM nu u, inv";
static const char SQL_USER_LIST[] = "SELECT " MD_USER_COLS " FROM users u "
                                    "WHERE u.org_id = $1::bigint AND ($2::boolean OR u.active) "
                                    "ORDER BY u.id";
static const char SQL_USER_BY_ID[] =
    "SELECT " MD_USER_COLS " FROM users u WHERE u.org_id = $1::bigint AND u.id = $2::bigint";
static const char SQL_USER_BY_EMAIL[] =
    "SELECT " MD_USER_COLS " FROM users u WHERE u.org_id = $1::bigint AND u.email = $2";
static const char SQL_USER_UPDATE[] =
    "UPDATE users u SET role = COALESCE($3::smallint, u.role), "
    "display_name = COALESCE($4, u.display_name) "
    "WHERE u.org_id = $1::bigint AND u.id = $2::bigint RETURNING " MD_USER_COLS;
static const char SQL_USER_DEACTIVATE[] =
    "UPDATE users u SET active = false WHERE u.org_id = $1::bigint AND u.id = $2::bigint "
    "RETURNING u.id";
static const char SQL_SESSIONS_REVOKE[] =
    "UPDATE sessions SET revoked_at = now() "
    "WHERE org_id = $1::bigint AND user_id = $2::bigint AND revoked_at IS NULL";

static int submit1(md_req_t *req, const char *sql, int n, const char *const *p, md_req_db_cb cb)
{
    md_db_txn_t *txn = md_req_txn(req);
    if (txn == NULL || md_db_txn_add(txn, sql, n, p) != MD_OK) {
        md_db_txn_free(txn);
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return MD_ENOMEM;
    }
    md_req_submit(req, txn, cb);
    return MD_OK;
}

static void reply_user(md_req_t *req, const PGresult *r)
{
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    resp.result_case = MENTOR__V1__RESPONSE__RESULT_USER;
    resp.user = md_model_user(req, r, 0, 0);
    if (resp.user == NULL) {
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    md_req_reply(req, &resp);
}

static int role_valid(int role)
{
    return role >= MENTOR__V1__ROLE__MEMBER && role <= MENTOR__V1__ROLE__ADMIN;
}

/* ---- invite ---------------------------------------------------------- */

typedef struct {
    char email[256];
    char code[48];
} invite_state_t;

static void invite_done(md_req_t *req, md_db_txn_t *txn, int err)
{
    invite_state_t *st = req->state;
    if (err == MD_EDB && strcmp(md_db_txn_sqlstate(txn), "23505") == 0) {
        md_req_fail(req, MD_EEXISTS, "user_invite.email",
                    "a user with e-mail %s already exists in this organization", st->email);
        return;
    }
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, "user_invite");
        return;
    }
    PGresult *r = md_db_txn_result(txn, MD_REQ_FIRST);
    if (PQntuples(r) != 1) {
        if (req->entry->kind == MENTOR__V1__REQUEST__KIND_USER_RESET_PASSWORD)
            md_req_fail(req, MD_ENOTFOUND, "user_reset_password.id",
                        "no such active user in your organization");
        else
            md_req_fail(req, MD_EINTERNAL, NULL, NULL);
        return;
    }
    if (req->entry->kind == MENTOR__V1__REQUEST__KIND_USER_RESET_PASSWORD)
        md_server_forget_sessions(md_req_server(req), md_req_auth(req)->org_id,
                                  req->msg->user_reset_password->id, 0);
    Mentor__V1__UserInviteReply *ir = md_req_alloc(req, sizeof(*ir));
    if (ir == NULL) {
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    mentor__v1__user_invite_reply__init(ir);
    ir->user = md_model_user(req, r, 0, 0);
    ir->invite_code = st->code;
    ir->invite_expires_at = md_res_i64(r, 0, MD_USER_NCOLS);
    if (ir->user == NULL) {
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    resp.result_case = MENTOR__V1__RESPONSE__RESULT_USER_INVITE;
    resp.user_invite = ir;
    md_req_reply(req, &resp);
}

void md_h_user_invite(md_req_t *req)
{
    Mentor__V1__UserInvite *ui = req->msg->user_invite;
    md_auth_t *a = md_req_auth(req);
    invite_state_t *st = md_req_alloc(req, sizeof(*st));
    if (st == NULL) {
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    req->state = st;
    if (!md_model_email(ui->email, st->email, sizeof(st->email))) {
        md_req_fail(req, MD_EINVAL, "user_invite.email", "not a valid e-mail address");
        return;
    }
    const char *name = ui->display_name;
    char local[256];
    if (name[0] == '\0') {
        size_t n = (size_t)(strchr(st->email, '@') - st->email);
        memcpy(local, st->email, n);
        local[n] = '\0';
        name = local;
    }
    if (!md_model_name(name)) {
        md_req_fail(req, MD_EINVAL, "user_invite.display_name",
                    "display name must be 1-200 printable characters");
        return;
    }
    int role =
        ui->role == MENTOR__V1__ROLE__ROLE_UNSPECIFIED ? MENTOR__V1__ROLE__MEMBER : (int)ui->role;
    if (!role_valid(role)) {
        md_req_fail(req, MD_EINVAL, "user_invite.role", "unknown role %d", role);
        return;
    }
    if (md_crypto_code(st->code, sizeof(st->code), MD_INVITE_BYTES) != MD_OK) {
        md_req_fail(req, MD_EINTERNAL, NULL, NULL);
        return;
    }
    char code_hash[67];
    md_crypto_sha256_bytea(st->code, code_hash);
    const char *p[6] = {md_req_u64(req, a->org_id), st->email, name,
                        md_req_i64(req, role),      code_hash, md_req_u64(req, a->user_id)};
    submit1(req, SQL_USER_INVITE, 6, p, invite_done);
}

/* ---- list ------------------------------------------------------------ */

static void list_done(md_req_t *req, md_db_txn_t *txn, int err)
{
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, NULL);
        return;
    }
    PGresult *r = md_db_txn_result(txn, MD_REQ_FIRST);
    int n = PQntuples(r);
    Mentor__V1__UserListReply *l = md_req_alloc(req, sizeof(*l));
    Mentor__V1__User **users = md_req_alloc(req, sizeof(*users) * (size_t)(n ? n : 1));
    if (l == NULL || users == NULL) {
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    mentor__v1__user_list_reply__init(l);
    for (int i = 0; i < n; i++) {
        users[i] = md_model_user(req, r, i, 0);
        if (users[i] == NULL) {
            md_req_fail(req, MD_ENOMEM, NULL, NULL);
            return;
        }
    }
    l->n_users = (size_t)n;
    l->users = users;
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    resp.result_case = MENTOR__V1__RESPONSE__RESULT_USER_LIST;
    resp.user_list = l;
    md_req_reply(req, &resp);
}

void md_h_user_list(md_req_t *req)
{
    md_auth_t *a = md_req_auth(req);
    const char *p[2] = {md_req_u64(req, a->org_id),
                        req->msg->user_list->include_inactive ? "true" : "false"};
    submit1(req, SQL_USER_LIST, 2, p, list_done);
}

/* ---- show ------------------------------------------------------------ */

static void show_done(md_req_t *req, md_db_txn_t *txn, int err)
{
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, NULL);
        return;
    }
    PGresult *r = md_db_txn_result(txn, MD_REQ_FIRST);
    md_auth_t *a = md_req_auth(req);
    if (PQntuples(r) != 1) {
        md_req_fail(req, MD_ENOTFOUND, "user_show", "no such user in your organization");
        return;
    }
    if (a->role < MENTOR__V1__ROLE__COORDINATOR && md_res_u64(r, 0, 0) != a->user_id) {
        md_req_fail(req, MD_EPERM, "user_show", "members may only view themselves");
        return;
    }
    reply_user(req, r);
}

void md_h_user_show(md_req_t *req)
{
    Mentor__V1__UserShow *us = req->msg->user_show;
    md_auth_t *a = md_req_auth(req);
    if (us->id != 0) {
        const char *p[2] = {md_req_u64(req, a->org_id), md_req_u64(req, us->id)};
        submit1(req, SQL_USER_BY_ID, 2, p, show_done);
        return;
    }
    char email[256];
    if (!md_model_email(us->email, email, sizeof(email))) {
        md_req_fail(req, MD_EINVAL, "user_show", "give a user id or a valid e-mail address");
        return;
    }
    const char *p[2] = {md_req_u64(req, a->org_id), email};
    submit1(req, SQL_USER_BY_EMAIL, 2, p, show_done);
}

/* ---- update ---------------------------------------------------------- */

static void update_done(md_req_t *req, md_db_txn_t *txn, int err)
{
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, "user_update");
        return;
    }
    PGresult *r = md_db_txn_result(txn, MD_REQ_FIRST);
    if (PQntuples(r) != 1) {
        md_req_fail(req, MD_ENOTFOUND, "user_update.id", "no such user in your organization");
        return;
    }
    reply_user(req, r);
}

void md_h_user_update(md_req_t *req)
{
    Mentor__V1__UserUpdate *uu = req->msg->user_update;
    md_auth_t *a = md_req_auth(req);
    if (uu->id == 0) {
        md_req_fail(req, MD_EINVAL, "user_update.id", "a user id is required");
        return;
    }
    int role = (int)uu->role;
    if (role != MENTOR__V1__ROLE__ROLE_UNSPECIFIED && !role_valid(role)) {
        md_req_fail(req, MD_EINVAL, "user_update.role", "unknown role %d", role);
        return;
    }
    if (uu->display_name[0] != '\0' && !md_model_name(uu->display_name)) {
        md_req_fail(req, MD_EINVAL, "user_update.display_name",
                    "display name must be 1-200 printable characters");
        return;
    }
    if (role == 0 && uu->display_name[0] == '\0') {
        md_req_fail(req, MD_EINVAL, "user_update", "nothing to change: give a role or a name");
        return;
    }
    if (uu->id == a->user_id && role != 0 && role != MENTOR__V1__ROLE__ADMIN) {
        md_req_fail(req, MD_ESTATE, "user_update.role",
                    "you cannot remove your own admin role; ask another admin");
        return;
    }
    const char *p[4] = {md_req_u64(req, a->org_id), md_req_u64(req, uu->id),
                        role ? md_req_i64(req, role) : NULL,
                        uu->display_name[0] ? uu->display_name : NULL};
    submit1(req, SQL_USER_UPDATE, 4, p, update_done);
}

/* ---- deactivate ------------------------------------------------------ */

static void deactivate_done(md_req_t *req, md_db_txn_t *txn, int err)
{
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, NULL);
        return;
    }
    PGresult *r = md_db_txn_result(txn, MD_REQ_FIRST);
    if (PQntuples(r) != 1) {
        md_req_fail(req, MD_ENOTFOUND, "user_deactivate.id", "no such user in your organization");
        return;
    }
    md_auth_t *a = md_req_auth(req);
    md_server_forget_sessions(md_req_server(req), a->org_id, req->msg->user_deactivate->id, 0);
    md_req_reply_empty(req);
}

void md_h_user_deactivate(md_req_t *req)
{
    Mentor__V1__UserDeactivate *ud = req->msg->user_deactivate;
    md_auth_t *a = md_req_auth(req);
    if (ud->id == 0) {
        md_req_fail(req, MD_EINVAL, "user_deactivate.id", "a user id is required");
        return;
    }
    if (ud->id == a->user_id) {
        md_req_fail(req, MD_ESTATE, "user_deactivate.id", "you cannot deactivate yourself");
        return;
    }
    md_db_txn_t *txn = md_req_txn(req);
    const char *p[2] = {md_req_u64(req, a->org_id), md_req_u64(req, ud->id)};
    if (txn == NULL || md_db_txn_add(txn, SQL_USER_DEACTIVATE, 2, p) != MD_OK ||
        md_db_txn_add(txn, SQL_SESSIONS_REVOKE, 2, p) != MD_OK) {
        md_db_txn_free(txn);
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    md_req_submit(req, txn, deactivate_done);
}

/* ---- reset password -------------------------------------------------- */

static const char SQL_USER_RESET[] =
    "WITH u AS (UPDATE users SET password_hash = NULL "
    "  WHERE org_id = $1::bigint AND id = $2::bigint AND active RETURNING *), "
    "s AS (UPDATE sessions SET revoked_at = now() WHERE org_id = $1::bigint "
    "  AND user_id IN (SELECT id FROM u) AND revoked_at IS NULL), "
    "old AS (UPDATE invites SET used_at = now() WHERE org_id = $1::bigint "
    "  AND user_id IN (SELECT id FROM u) AND used_at IS NULL), "
    "inv AS (INSERT INTO invites (org_id, user_id, code_hash, created_by, expires_at) "
    "  SELECT $1::bigint, u.id, $3::bytea, $4::bigint, now() + interval '7 days' FROM u "
    "  RETURNING expires_at) "
    "SELECT " MD_USER_COLS ", extract(epoch FROM inv.expires_at)::bigint FROM u, inv";

void md_h_user_reset_password(md_req_t *req)
{
    Mentor__V1__UserResetPassword *ur = req->msg->user_reset_password;
    md_auth_t *a = md_req_auth(req);
    if (ur->id == 0) {
        md_req_fail(req, MD_EINVAL, "user_reset_password.id", "a user id is required");
        return;
    }
    if (ur->id == a->user_id) {
        md_req_fail(req, MD_ESTATE, "user_reset_password.id",
                    "to change your own password, use PasswordChange");
        return;
    }
    invite_state_t *st = md_req_alloc(req, sizeof(*st));
    if (st == NULL || md_crypto_code(st->code, sizeof(st->code), MD_INVITE_BYTES) != MD_OK) {
        md_req_fail(req, MD_EINTERNAL, NULL, NULL);
        return;
    }
    st->email[0] = '\0';
    req->state = st;
    char code_hash[67];
    md_crypto_sha256_bytea(st->code, code_hash);
    const char *p[4] = {md_req_u64(req, a->org_id), md_req_u64(req, ur->id), code_hash,
                        md_req_u64(req, a->user_id)};
    md_db_txn_t *txn = md_req_txn(req);
    if (txn == NULL || md_db_txn_add(txn, SQL_USER_RESET, 4, p) != MD_OK) {
        md_db_txn_free(txn);
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    md_req_submit(req, txn, invite_done);
}
