/* h_auth.c: connection and session requests: Hello, Login (password or
 * session token), Logout, WhoAmI and InviteAccept. Password work (argon2id)
 * runs on the thread pool; every database step is one pipelined
 * transaction. A failed login takes the same path and the same time whether
 * the organization, the user or the password was wrong. */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "md_conn.h"
#include "md_crypto.h"
#include "md_dispatch.h"
#include "md_log.h"
#include "md_model.h"

#define PROTOCOL_MAJOR     1
#define PROTOCOL_MINOR     0
#define MAX_LOGIN_FAILURES 5
#define PASSWORD_MIN       10
#define PASSWORD_MAX       1024

void md_h_hello(md_req_t *req)
{
    Mentor__V1__Hello *h = req->msg->hello;
    md_server_t *srv = md_req_server(req);
    if (h->protocol_major != PROTOCOL_MAJOR) {
        md_conn_t *conn = req->conn;
        md_conn_ref(conn);
        md_req_fail(req, MD_EVERSION, "hello.protocol_major",
                    "protocol version %u is not supported; this server speaks %d.%d",
                    h->protocol_major, PROTOCOL_MAJOR, PROTOCOL_MINOR);
        md_conn_close_after_output(conn);
        md_conn_unref(conn);
        return;
    }
    md_conn_set_state(req->conn, MD_CONN_OPEN);
    char client[80];
    md_log_debug("hello", "peer=%s client=%s", md_conn_peer(req->conn),
                 md_log_quote(client, sizeof(client), h->client_name));
    Mentor__V1__HelloReply *r = md_req_alloc(req, sizeof(*r));
    if (r == NULL) {
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    mentor__v1__hello_reply__init(r);
    r->protocol_major = PROTOCOL_MAJOR;
    r->protocol_minor = PROTOCOL_MINOR;
    r->server_version = md_req_strdup(req, "mentord " MENTORD_VERSION);
    r->max_frame_bytes = (uint32_t)srv->cfg.max_frame;
    r->max_in_flight = srv->cfg.max_in_flight;
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    resp.result_case = MENTOR__V1__RESPONSE__RESULT_HELLO;
    resp.hello = r;
    md_req_reply(req, &resp);
}

/* ---- shared: answer with the caller's user and org ------------------- */

typedef struct {
    char token[64]; /* a new session token to hand out, or "" */
    char token_hash[67];
    char pwhash[MD_PWHASH_MAX];
    char *password; /* arena copy, wiped when done */
    int verified;
    uint64_t org_id, user_id;
    char *stored_hash; /* arena copy */
    int64_t expires_at;
    int result_kind; /* which Response field carries the LoginReply */
} auth_state_t;

static void wipe_password(auth_state_t *st)
{
    if (st->password != NULL)
        OPENSSL_cleanse(st->password, strlen(st->password));
}

static void self_done(md_req_t *req, md_db_txn_t *txn, int err)
{
    auth_state_t *st = req->state;
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, NULL);
        return;
    }
    PGresult *ru = md_db_txn_result(txn, MD_REQ_FIRST);
    PGresult *ro = md_db_txn_result(txn, MD_REQ_FIRST + 1);
    if (PQntuples(ru) != 1 || PQntuples(ro) != 1) {
        md_req_fail(req, MD_EAUTH, NULL, "session no longer valid; log in again");
        return;
    }
    Mentor__V1__User *u = md_model_user(req, ru, 0, 0);
    Mentor__V1__Org *o = md_model_org(req, ro, 0, 0);
    if (u == NULL || o == NULL) {
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    if (st == NULL) {
        /* WhoAmI */
        Mentor__V1__WhoAmIReply *w = md_req_alloc(req, sizeof(*w));
        if (w == NULL) {
            md_req_fail(req, MD_ENOMEM, NULL, NULL);
            return;
        }
        mentor__v1__who_am_ireply__init(w);
        w->user = u;
        w->org = o;
        PGresult *rb = md_db_txn_result(txn, MD_REQ_FIRST + 2);
        w->session_expires_at = rb && PQntuples(rb) == 1 ? md_res_i64(rb, 0, 0) : 0;
        resp.result_case = MENTOR__V1__RESPONSE__RESULT_WHOAMI;
        resp.whoami = w;
        md_req_reply(req, &resp);
        return;
    }
    Mentor__V1__LoginReply *l = md_req_alloc(req, sizeof(*l));
    if (l == NULL) {
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    mentor__v1__login_reply__init(l);
    l->session_token = st->token;
    l->expires_at = st->expires_at;
    l->user = u;
    l->org = o;
    resp.result_case = (Mentor__V1__Response__ResultCase)st->result_kind;
    if (st->result_kind == MENTOR__V1__RESPONSE__RESULT_INVITE_ACCEPT)
        resp.invite_accept = l;
    else
        resp.login = l;
    md_req_reply(req, &resp);
    /* The token lives in the arena, which is freed with the request. */
}

static const char SQL_SESSION_EXPIRY[] = "SELECT extract(epoch FROM expires_at)::bigint "
                                         "FROM sessions WHERE org_id = $1::bigint AND id = "
                                         "$2::bigint";

/* Reads the caller's user and org in a session-checked transaction. */
static void answer_self(md_req_t *req)
{
    md_auth_t *a = md_req_auth(req);
    md_db_txn_t *txn = md_req_txn(req);
    if (txn == NULL) {
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    const char *p[2] = {md_req_u64(req, a->org_id), md_req_u64(req, a->user_id)};
    const char *ps[2] = {p[0], md_req_u64(req, a->session_id)};
    if (md_db_txn_add(txn, md_sql_self_user, 2, p) != MD_OK ||
        md_db_txn_add(txn, md_sql_self_org, 1, p) != MD_OK ||
        md_db_txn_add(txn, SQL_SESSION_EXPIRY, 2, ps) != MD_OK) {
        md_db_txn_free(txn);
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    md_req_submit(req, txn, self_done);
}

static void become(md_req_t *req, uint64_t org, uint64_t session, uint64_t user)
{
    md_auth_t *a = md_req_auth(req);
    a->authed = 1;
    a->org_id = org;
    a->session_id = session;
    a->user_id = user;
    /* The role is filled by the session check of the next transaction;
     * until then the least role is assumed. */
    a->role = MENTOR__V1__ROLE__MEMBER;
    a->is_operator = 0;
    a->read_only = 0;
}

/* ---- Login with a session token --------------------------------------- */

static const char SQL_SESSION_RESUME[] =
    "SELECT org_id, session_id, user_id, extract(epoch FROM expires_at)::bigint, scope "
    "FROM md_session_resume($1::bytea, $2::int)";

static void resume_done(md_req_t *req, md_db_txn_t *txn, int err)
{
    auth_state_t *st = req->state;
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, NULL);
        return;
    }
    PGresult *r = md_db_txn_result(txn, 0);
    if (PQntuples(r) != 1) {
        md_req_fail(req, MD_EAUTH, "login.session_token",
                    "session expired or revoked; log in again");
        return;
    }
    become(req, md_res_u64(r, 0, 0), md_res_u64(r, 0, 1), md_res_u64(r, 0, 2));
    md_req_auth(req)->read_only = md_res_i64(r, 0, 4) == 1;
    st->expires_at = md_res_i64(r, 0, 3);
    st->token[0] = '\0';
    answer_self(req);
}

/* ---- Login with a password ------------------------------------------- */

static const char SQL_LOGIN_LOOKUP[] =
    "SELECT org_id, user_id, password_hash, failures, retry_after, address_failures, "
    "address_retry_after "
    "FROM md_login_lookup($1, $2, $3)";
static const char SQL_LOGIN_FINISH[] =
    "SELECT session_id, extract(epoch FROM expires_at)::bigint "
    "FROM md_login_finish($1, $2, $3::bigint, $4::bigint, $5::boolean, $6::bytea, $7::int, $8)";

static void login_finished(md_req_t *req, md_db_txn_t *txn, int err)
{
    auth_state_t *st = req->state;
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, NULL);
        return;
    }
    PGresult *r = md_db_txn_result(txn, 0);
    if (!st->verified || PQntuples(r) != 1) {
        md_log_info("login_failed", "peer=%s", md_conn_peer(req->conn));
        md_req_fail(req, MD_EAUTH, NULL, "invalid credentials");
        return;
    }
    become(req, st->org_id, md_res_u64(r, 0, 0), st->user_id);
    st->expires_at = md_res_i64(r, 0, 1);
    md_log_info("login", "org=%llu user=%llu", (unsigned long long)st->org_id,
                (unsigned long long)st->user_id);
    answer_self(req);
}

static void login_verify_work(md_req_t *req)
{
    auth_state_t *st = req->state;
    st->verified = md_crypto_verify_password(st->stored_hash, st->password);
    wipe_password(st);
}

static void login_verified(md_req_t *req)
{
    auth_state_t *st = req->state;
    Mentor__V1__Login *l = req->msg->login;
    if (st->verified) {
        if (md_crypto_token(st->token, sizeof(st->token), MD_TOKEN_BYTES) != MD_OK) {
            md_req_fail(req, MD_EINTERNAL, NULL, NULL);
            return;
        }
        md_crypto_sha256_bytea(st->token, st->token_hash);
    }
    md_db_txn_t *txn = md_req_txn_anon(req);
    const char *p[8] = {l->org,
                        l->email,
                        md_req_u64(req, st->org_id),
                        md_req_u64(req, st->user_id),
                        st->verified ? "true" : "false",
                        st->verified ? st->token_hash : NULL,
                        md_req_i64(req, md_req_server(req)->cfg.session_ttl_seconds),
                        md_conn_peer_host(req->conn)};
    if (txn == NULL || md_db_txn_add(txn, SQL_LOGIN_FINISH, 8, p) != MD_OK) {
        md_db_txn_free(txn);
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    md_req_submit(req, txn, login_finished);
}

static void login_looked_up(md_req_t *req, md_db_txn_t *txn, int err)
{
    auth_state_t *st = req->state;
    if (err != MD_OK) {
        wipe_password(st);
        md_req_fail_db(req, txn, err, NULL);
        return;
    }
    PGresult *r = md_db_txn_result(txn, 0);
    /* The address check first: its answer says nothing about the account. */
    if (PQntuples(r) == 1 && md_res_i64(r, 0, 5) >= md_req_server(req)->cfg.max_address_failures) {
        wipe_password(st);
        md_log_warn("login_throttled", "peer=%s failures=%lld", md_conn_peer(req->conn),
                    (long long)md_res_i64(r, 0, 5));
        md_req_fail(req, MD_ETHROTTLED, NULL,
                    "too many failed logins from your address; try again in %lld seconds",
                    (long long)md_res_i64(r, 0, 6));
        return;
    }
    if (PQntuples(r) == 1) {
        if (md_res_i64(r, 0, 3) >= MAX_LOGIN_FAILURES && md_res_i64(r, 0, 4) > 0) {
            wipe_password(st);
            md_req_fail(req, MD_ETHROTTLED, NULL,
                        "too many failed logins for this account; try again in %lld seconds",
                        (long long)md_res_i64(r, 0, 4));
            return;
        }
        st->org_id = md_res_u64(r, 0, 0);
        st->user_id = md_res_u64(r, 0, 1);
        st->stored_hash = md_res_str(req, r, 0, 2);
    }
    if (md_req_work(req, login_verify_work, login_verified) != MD_OK) {
        wipe_password(st);
        md_req_fail(req, MD_EINTERNAL, NULL, NULL);
    }
}

void md_h_login(md_req_t *req)
{
    Mentor__V1__Login *l = req->msg->login;
    auth_state_t *st = md_req_alloc(req, sizeof(*st));
    if (st == NULL) {
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    req->state = st;
    st->result_kind = MENTOR__V1__RESPONSE__RESULT_LOGIN;
    md_db_txn_t *txn = md_req_txn_anon(req);
    if (txn == NULL) {
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    if (l->session_token[0] != '\0') {
        char h[67];
        md_crypto_sha256_bytea(l->session_token, h);
        const char *p[2] = {h, md_req_i64(req, md_req_server(req)->cfg.session_idle_seconds)};
        if (md_db_txn_add(txn, SQL_SESSION_RESUME, 2, p) != MD_OK) {
            md_db_txn_free(txn);
            md_req_fail(req, MD_ENOMEM, NULL, NULL);
            return;
        }
        md_req_submit(req, txn, resume_done);
        return;
    }
    const char *field = NULL;
    if (l->org[0] == '\0' || strlen(l->org) > 40)
        field = "login.org";
    else if (l->email[0] == '\0' || strlen(l->email) > 254)
        field = "login.email";
    else if (l->password[0] == '\0' || strlen(l->password) > PASSWORD_MAX)
        field = "login.password";
    if (field != NULL) {
        md_db_txn_free(txn);
        md_req_fail(req, MD_EINVAL, field, "%s is required (and not too long)", field);
        return;
    }
    st->password = l->password; /* owned by the request message */
    const char *p[3] = {l->org, l->email, md_conn_peer_host(req->conn)};
    if (md_db_txn_add(txn, SQL_LOGIN_LOOKUP, 3, p) != MD_OK) {
        md_db_txn_free(txn);
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    md_req_submit(req, txn, login_looked_up);
}

/* ---- Logout, WhoAmI -------------------------------------------------- */

static const char SQL_LOGOUT[] = "UPDATE sessions SET revoked_at = now() "
                                 "WHERE org_id = $1::bigint AND id = $2::bigint";
static const char SQL_LOGOUT_ALL[] =
    "UPDATE sessions SET revoked_at = now() "
    "WHERE org_id = $1::bigint AND user_id = $2::bigint AND revoked_at IS NULL AND kind = 1 "
    "AND current_setting('app.session_kind', true) = '1'";

static void logout_done(md_req_t *req, md_db_txn_t *txn, int err)
{
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, NULL);
        return;
    }
    md_auth_t *a = md_req_auth(req);
    if (req->msg->logout->all)
        md_server_forget_sessions(md_req_server(req), a->org_id, a->user_id, 0);
    else
        md_server_forget_sessions(md_req_server(req), a->org_id, 0, a->session_id);
    md_req_reply_empty(req);
}

void md_h_logout(md_req_t *req)
{
    md_auth_t *a = md_req_auth(req);
    md_db_txn_t *txn = md_req_txn(req);
    int all = req->msg->logout->all;
    const char *p[2] = {md_req_u64(req, a->org_id),
                        md_req_u64(req, all ? a->user_id : a->session_id)};
    if (txn == NULL || md_db_txn_add(txn, all ? SQL_LOGOUT_ALL : SQL_LOGOUT, 2, p) != MD_OK) {
        md_db_txn_free(txn);
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    md_req_submit(req, txn, logout_done);
}

void md_h_whoami(md_req_t *req)
{
    req->state = NULL;
    answer_self(req);
}

/* ---- InviteAccept ---------------------------------------------------- */

static const char SQL_INVITE_REDEEM[] =
    "SELECT org_id, session_id, user_id, extract(epoch FROM expires_at)::bigint "
    "FROM md_invite_redeem($1::bytea, $2, $3::bytea, $4::int)";

static void invite_redeemed(md_req_t *req, md_db_txn_t *txn, int err)
{
    auth_state_t *st = req->state;
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, NULL);
        return;
    }
    PGresult *r = md_db_txn_result(txn, 0);
    if (PQntuples(r) != 1) {
        md_req_fail(req, MD_ENOTFOUND, "invite_accept.code",
                    "invitation code is unknown, already used or expired");
        return;
    }
    become(req, md_res_u64(r, 0, 0), md_res_u64(r, 0, 1), md_res_u64(r, 0, 2));
    st->expires_at = md_res_i64(r, 0, 3);
    md_log_info("invite_accepted", "org=%llu user=%llu", (unsigned long long)md_res_u64(r, 0, 0),
                (unsigned long long)md_res_u64(r, 0, 2));
    answer_self(req);
}

static void invite_hash_work(md_req_t *req)
{
    auth_state_t *st = req->state;
    st->verified = md_crypto_hash_password(st->password, st->pwhash, sizeof(st->pwhash)) == MD_OK;
    wipe_password(st);
}

static void invite_hashed(md_req_t *req)
{
    auth_state_t *st = req->state;
    if (!st->verified || md_crypto_token(st->token, sizeof(st->token), MD_TOKEN_BYTES) != MD_OK) {
        md_req_fail(req, MD_EINTERNAL, NULL, NULL);
        return;
    }
    md_crypto_sha256_bytea(st->token, st->token_hash);
    char code_hash[67];
    md_crypto_sha256_bytea(req->msg->invite_accept->code, code_hash);
    const char *p[4] = {code_hash, st->pwhash, st->token_hash,
                        md_req_i64(req, md_req_server(req)->cfg.session_ttl_seconds)};
    md_db_txn_t *txn = md_req_txn_anon(req);
    if (txn == NULL || md_db_txn_add(txn, SQL_INVITE_REDEEM, 4, p) != MD_OK) {
        md_db_txn_free(txn);
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    md_req_submit(req, txn, invite_redeemed);
}

void md_h_invite_accept(md_req_t *req)
{
    Mentor__V1__InviteAccept *ia = req->msg->invite_accept;
    if (ia->code[0] == '\0' || strlen(ia->code) > 100) {
        md_req_fail(req, MD_EINVAL, "invite_accept.code", "an invitation code is required");
        return;
    }
    size_t pl = strlen(ia->password);
    if (pl < PASSWORD_MIN || pl > PASSWORD_MAX) {
        md_req_fail(req, MD_EINVAL, "invite_accept.password",
                    "the password must be %d to %d characters long", PASSWORD_MIN, PASSWORD_MAX);
        return;
    }
    auth_state_t *st = md_req_alloc(req, sizeof(*st));
    if (st == NULL) {
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    req->state = st;
    st->result_kind = MENTOR__V1__RESPONSE__RESULT_INVITE_ACCEPT;
    st->password = ia->password;
    if (md_req_work(req, invite_hash_work, invite_hashed) != MD_OK)
        md_req_fail(req, MD_EINTERNAL, NULL, NULL);
}

/* ---- PasswordChange --------------------------------------------------- */

static const char SQL_PASSWORD_READ[] =
    "SELECT password_hash FROM users WHERE org_id = $1::bigint AND id = $2::bigint";
/* Only if the hash is still the one checked, so two changes at once cannot
 * both win; the caller's other sessions end. */
static const char SQL_PASSWORD_WRITE[] =
    "UPDATE users SET password_hash = $3 WHERE org_id = $1::bigint AND id = $2::bigint "
    "AND password_hash = $4 RETURNING id";
static const char SQL_SESSIONS_END_OTHERS[] =
    "UPDATE sessions SET revoked_at = now() WHERE org_id = $1::bigint AND user_id = $2::bigint "
    "AND id <> $3::bigint AND revoked_at IS NULL AND kind = 1";

typedef struct {
    char *current; /* arena copies of the passwords, wiped when done */
    char *next;
    char *stored;
    char pwhash[MD_PWHASH_MAX];
    int verified;
    int hashed;
} pwchange_t;

static void pwchange_wipe(pwchange_t *st)
{
    if (st->current != NULL)
        OPENSSL_cleanse(st->current, strlen(st->current));
    if (st->next != NULL)
        OPENSSL_cleanse(st->next, strlen(st->next));
}

static void pwchange_written(md_req_t *req, md_db_txn_t *txn, int err)
{
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, NULL);
        return;
    }
    if (PQntuples(md_db_txn_result(txn, MD_REQ_FIRST)) != 1) {
        md_req_fail(req, MD_EDBDOWN, NULL,
                    "the password was changed at the same time by another request; try again");
        return;
    }
    md_auth_t *a = md_req_auth(req);
    md_log_info("password_changed", "org=%llu user=%llu", (unsigned long long)a->org_id,
                (unsigned long long)a->user_id);
    md_req_reply_empty(req);
}

static void pwchange_work(md_req_t *req)
{
    pwchange_t *st = req->state;
    st->verified = md_crypto_verify_password(st->stored, st->current);
    st->hashed =
        st->verified && md_crypto_hash_password(st->next, st->pwhash, sizeof(st->pwhash)) == MD_OK;
    pwchange_wipe(st);
}

static void pwchange_checked(md_req_t *req)
{
    pwchange_t *st = req->state;
    if (!st->verified) {
        md_req_fail(req, MD_EINVAL, "password_change.current_password",
                    "the current password is not right");
        return;
    }
    if (!st->hashed) {
        md_req_fail(req, MD_EINTERNAL, NULL, NULL);
        return;
    }
    md_auth_t *a = md_req_auth(req);
    const char *p[4] = {md_req_u64(req, a->org_id), md_req_u64(req, a->user_id), st->pwhash,
                        st->stored};
    const char *ps[3] = {p[0], p[1], md_req_u64(req, a->session_id)};
    md_db_txn_t *txn = md_req_txn(req);
    if (txn == NULL || md_db_txn_add(txn, SQL_PASSWORD_WRITE, 4, p) != MD_OK ||
        md_db_txn_add(txn, SQL_SESSIONS_END_OTHERS, 3, ps) != MD_OK) {
        md_db_txn_free(txn);
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    md_req_submit(req, txn, pwchange_written);
}

static void pwchange_read(md_req_t *req, md_db_txn_t *txn, int err)
{
    pwchange_t *st = req->state;
    if (err != MD_OK) {
        pwchange_wipe(st);
        md_req_fail_db(req, txn, err, NULL);
        return;
    }
    PGresult *r = md_db_txn_result(txn, MD_REQ_FIRST);
    st->stored = PQntuples(r) == 1 ? md_res_str(req, r, 0, 0) : NULL;
    if (md_req_work(req, pwchange_work, pwchange_checked) != MD_OK) {
        pwchange_wipe(st);
        md_req_fail(req, MD_EINTERNAL, NULL, NULL);
    }
}

void md_h_password_change(md_req_t *req)
{
    Mentor__V1__PasswordChange *pc = req->msg->password_change;
    size_t cl = strlen(pc->current_password), nl = strlen(pc->new_password);
    if (cl == 0 || cl > PASSWORD_MAX) {
        md_req_fail(req, MD_EINVAL, "password_change.current_password",
                    "the current password is required");
        return;
    }
    if (nl < PASSWORD_MIN || nl > PASSWORD_MAX) {
        md_req_fail(req, MD_EINVAL, "password_change.new_password",
                    "the password must be %d to %d characters long", PASSWORD_MIN, PASSWORD_MAX);
        return;
    }
    if (strcmp(pc->current_password, pc->new_password) == 0) {
        md_req_fail(req, MD_EINVAL, "password_change.new_password",
                    "the new password must differ from the current one");
        return;
    }
    pwchange_t *st = md_req_alloc(req, sizeof(*st));
    if (st == NULL) {
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    memset(st, 0, sizeof(*st));
    st->current = pc->current_password; /* owned by the request message */
    st->next = pc->new_password;
    req->state = st;
    md_auth_t *a = md_req_auth(req);
    const char *p[2] = {md_req_u64(req, a->org_id), md_req_u64(req, a->user_id)};
    md_db_txn_t *txn = md_req_txn(req);
    if (txn == NULL || md_db_txn_add(txn, SQL_PASSWORD_READ, 2, p) != MD_OK) {
        md_db_txn_free(txn);
        pwchange_wipe(st);
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    md_req_submit(req, txn, pwchange_read);
}
