/* h_import.c: bulk import of participants. Each batch is checked row by row
 * and staged (import_rows); the finishing request first lists the e-mails
 * that will become new users, gives each a one-time invitation code (only
 * its hash goes to the database), and then checks and applies the whole
 * file in one transaction with md_import_apply (sql/004_imports.sql). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "md_crypto.h"
#include "md_dispatch.h"
#include "md_model.h"
#include "md_profile_check.h"

#define MAX_BATCH_ROWS 1000

static const char SQL_REQUIRE_MANAGER[] = "SELECT md_program_require_manager($1::bigint)";
static const char SQL_REQUIRE_OPEN[] = "SELECT md_program_require_open($1::bigint)";
static const char SQL_STAGE_ROW[] =
    "INSERT INTO import_rows (org_id, import_id, program_id, row_no, email, display_name, role, "
    "profile_pb, manager_email, department, time_zone, capacity, skills, issue_column, "
    "issue_message, created_by) VALUES ($1::bigint, $2, $3::bigint, $4::int, $5, $6, "
    "$7::smallint, $8::bytea, $9, $10, $11, $12::int, $13::text[], $14, $15, $16::bigint) "
    "ON CONFLICT (org_id, import_id, row_no) DO UPDATE SET email = EXCLUDED.email, "
    "display_name = EXCLUDED.display_name, role = EXCLUDED.role, "
    "profile_pb = EXCLUDED.profile_pb, manager_email = EXCLUDED.manager_email, "
    "department = EXCLUDED.department, time_zone = EXCLUDED.time_zone, "
    "capacity = EXCLUDED.capacity, skills = EXCLUDED.skills, "
    "issue_column = EXCLUDED.issue_column, issue_message = EXCLUDED.issue_message";
static const char SQL_STAGED_COUNT[] =
    "SELECT count(*) FROM import_rows WHERE org_id = $1::bigint AND import_id = $2";
static const char SQL_NEW_EMAILS[] =
    "SELECT DISTINCT i.email FROM import_rows i WHERE i.org_id = $1::bigint AND i.import_id = $2 "
    "AND i.issue_message IS NULL AND NOT EXISTS (SELECT 1 FROM users u "
    "WHERE u.org_id = i.org_id AND u.email = i.email) ORDER BY i.email";
static const char SQL_APPLY[] =
    "SELECT kind, row_no, col, message, n FROM md_import_apply($1, $2::bigint, $3::boolean, "
    "$4::boolean, $5::text[], $6::bytea[])";

typedef struct {
    Mentor__V1__ImportIssue **issues;
    size_t n_issues;
    char **new_emails;
    char **codes;
    size_t n_new;
} import_state_t;

static void fail_nomem(md_req_t *req)
{
    md_req_fail(req, MD_ENOMEM, NULL, NULL);
}

static int import_id_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 8 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static Mentor__V1__ImportIssue *issue_new(md_req_t *req, uint32_t row, const char *col,
                                          const char *msg)
{
    Mentor__V1__ImportIssue *is = md_req_alloc(req, sizeof(*is));
    if (is == NULL)
        return NULL;
    mentor__v1__import_issue__init(is);
    is->row = row;
    is->column = md_req_strdup(req, col);
    is->message = md_req_strdup(req, msg);
    return is;
}

/* Checks one row; on a problem fills col/msg and returns -1. */
static int row_check(Mentor__V1__ImportRow *r, char *email, size_t emaillen, char *col,
                     size_t collen, char *msg, size_t msglen)
{
    if (!md_model_email(r->email, email, emaillen)) {
        snprintf(col, collen, "email");
        snprintf(msg, msglen, "'%s' is not a valid e-mail address", r->email);
        return -1;
    }
    if (r->role != MENTOR__V1__PARTICIPANT_ROLE__MENTOR &&
        r->role != MENTOR__V1__PARTICIPANT_ROLE__MENTEE) {
        snprintf(col, collen, "role");
        snprintf(msg, msglen, "the role must be mentor or mentee");
        return -1;
    }
    if (r->display_name[0] != '\0' && !md_model_name(r->display_name)) {
        snprintf(col, collen, "display_name");
        snprintf(msg, msglen, "the name must be 1-200 printable characters");
        return -1;
    }
    if (r->manager_email[0] != '\0') {
        char m[256];
        if (!md_model_email(r->manager_email, m, sizeof(m))) {
            snprintf(col, collen, "manager_email");
            snprintf(msg, msglen, "'%s' is not a valid e-mail address", r->manager_email);
            return -1;
        }
        snprintf(r->manager_email, strlen(r->manager_email) + 1, "%s", m);
    }
    if (r->profile != NULL) {
        r->profile->manager_id = 0;
        if (md_profile_check_all(r->profile, col, collen, msg, msglen) != 0)
            return -1;
    }
    return 0;
}

/* ---- batches --------------------------------------------------------------- */

static void batch_done(md_req_t *req, md_db_txn_t *txn, int err)
{
    import_state_t *st = req->state;
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, NULL);
        return;
    }
    Mentor__V1__ImportReply *rep = md_req_alloc(req, sizeof(*rep));
    if (rep == NULL) {
        fail_nomem(req);
        return;
    }
    mentor__v1__import_reply__init(rep);
    rep->issues = st->issues;
    rep->n_issues = st->n_issues;
    PGresult *r = md_db_txn_result(txn, md_db_txn_count(txn) - 1);
    rep->rows_received = (uint32_t)md_res_i64(r, 0, 0);
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    resp.result_case = MENTOR__V1__RESPONSE__RESULT_PARTICIPANT_IMPORT;
    resp.participant_import = rep;
    md_req_reply(req, &resp);
}

static void stage_batch(md_req_t *req, md_req_db_cb done)
{
    Mentor__V1__ParticipantImport *im = req->msg->participant_import;
    import_state_t *st = req->state;
    md_auth_t *a = md_req_auth(req);
    const char *org = md_req_u64(req, a->org_id);
    const char *prog = md_req_u64(req, im->program_id);
    const char *me = md_req_u64(req, a->user_id);
    st->issues = md_req_alloc(req, sizeof(*st->issues) * (im->n_rows ? im->n_rows : 1));
    md_db_txn_t *txn = md_req_txn(req);
    const char *pp[1] = {prog};
    if (st->issues == NULL || txn == NULL ||
        md_db_txn_add(txn, SQL_REQUIRE_MANAGER, 1, pp) != MD_OK ||
        md_db_txn_add(txn, SQL_REQUIRE_OPEN, 1, pp) != MD_OK) {
        md_db_txn_free(txn);
        fail_nomem(req);
        return;
    }
    for (size_t i = 0; i < im->n_rows; i++) {
        Mentor__V1__ImportRow *r = im->rows[i];
        static Mentor__V1__Profile empty = MENTOR__V1__PROFILE__INIT;
        char email[256] = "", col[64] = "", msg[256] = "";
        int bad = row_check(r, email, sizeof(email), col, sizeof(col), msg, sizeof(msg)) != 0;
        if (email[0] == '\0')
            snprintf(email, sizeof(email), "%s", r->email);
        if (bad) {
            st->issues[st->n_issues] = issue_new(req, r->row, col, msg);
            if (st->issues[st->n_issues] == NULL) {
                md_db_txn_free(txn);
                fail_nomem(req);
                return;
            }
            st->n_issues++;
        }
        const Mentor__V1__Profile *p = r->profile ? r->profile : &empty;
        char local[256];
        const char *name = r->display_name;
        if (name[0] == '\0') {
            const char *at = strchr(email, '@');
            size_t n = at ? (size_t)(at - email) : strlen(email);
            if (n == 0 || n >= sizeof(local))
                n = 1;
            snprintf(local, sizeof(local), "%.*s", (int)n, email);
            name = local;
        }
        const char *params[16] = {org,
                                  im->import_id,
                                  prog,
                                  md_req_i64(req, r->row),
                                  email,
                                  name,
                                  md_req_i64(req, r->role),
                                  md_profile_bytea(req, p),
                                  r->manager_email,
                                  p->department,
                                  p->time_zone,
                                  md_req_i64(req, p->capacity),
                                  md_profile_skill_names(req, p),
                                  bad ? col : NULL,
                                  bad ? msg : NULL,
                                  me};
        if (params[7] == NULL || params[12] == NULL ||
            md_db_txn_add(txn, SQL_STAGE_ROW, 16, params) != MD_OK) {
            md_db_txn_free(txn);
            fail_nomem(req);
            return;
        }
    }
    const char *cp[2] = {org, im->import_id};
    if (md_db_txn_add(txn, SQL_STAGED_COUNT, 2, cp) != MD_OK) {
        md_db_txn_free(txn);
        fail_nomem(req);
        return;
    }
    md_req_submit(req, txn, done);
}

/* ---- finish ---------------------------------------------------------------- */

static void apply_done(md_req_t *req, md_db_txn_t *txn, int err)
{
    import_state_t *st = req->state;
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, NULL);
        return;
    }
    PGresult *r = md_db_txn_result(txn, MD_REQ_FIRST);
    int n = PQntuples(r);
    Mentor__V1__ImportReply *rep = md_req_alloc(req, sizeof(*rep));
    Mentor__V1__ImportIssue **issues = md_req_alloc(req, sizeof(*issues) * (size_t)(n ? n : 1));
    Mentor__V1__InviteCode **invites = md_req_alloc(req, sizeof(*invites) * (size_t)(n ? n : 1));
    if (rep == NULL || issues == NULL || invites == NULL) {
        fail_nomem(req);
        return;
    }
    mentor__v1__import_reply__init(rep);
    rep->issues = issues;
    rep->invites = invites;
    for (int i = 0; i < n; i++) {
        const char *kind = PQgetvalue(r, i, 0);
        const char *col = PQgetvalue(r, i, 2);
        uint32_t v = (uint32_t)md_res_i64(r, i, 4);
        if (strcmp(kind, "issue") == 0) {
            issues[rep->n_issues] =
                issue_new(req, (uint32_t)md_res_i64(r, i, 1), col, PQgetvalue(r, i, 3));
            if (issues[rep->n_issues] == NULL) {
                fail_nomem(req);
                return;
            }
            rep->n_issues++;
        } else if (strcmp(kind, "created") == 0) {
            for (size_t j = 0; j < st->n_new; j++) {
                if (strcmp(st->new_emails[j], col) != 0)
                    continue;
                Mentor__V1__InviteCode *ic = md_req_alloc(req, sizeof(*ic));
                if (ic == NULL) {
                    fail_nomem(req);
                    return;
                }
                mentor__v1__invite_code__init(ic);
                ic->email = st->new_emails[j];
                ic->code = st->codes[j];
                ic->expires_at = (int64_t)time(NULL) + 7 * 24 * 3600;
                invites[rep->n_invites++] = ic;
            }
        } else if (strcmp(col, "applied") == 0) {
            rep->applied = v != 0;
        } else if (strcmp(col, "users_created") == 0) {
            rep->users_created = v;
        } else if (strcmp(col, "enrolled") == 0) {
            rep->enrolled = v;
        } else if (strcmp(col, "updated") == 0) {
            rep->updated = v;
        } else if (strcmp(col, "unchanged") == 0) {
            rep->unchanged = v;
        } else if (strcmp(col, "skipped") == 0) {
            rep->skipped = v;
        }
    }
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    resp.result_case = MENTOR__V1__RESPONSE__RESULT_PARTICIPANT_IMPORT;
    resp.participant_import = rep;
    md_req_reply(req, &resp);
}

static void new_emails_done(md_req_t *req, md_db_txn_t *txn, int err)
{
    import_state_t *st = req->state;
    Mentor__V1__ParticipantImport *im = req->msg->participant_import;
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, NULL);
        return;
    }
    PGresult *r = md_db_txn_result(txn, MD_REQ_FIRST + 1);
    int n = PQntuples(r);
    st->n_new = (size_t)n;
    st->new_emails = md_req_alloc(req, sizeof(char *) * (size_t)(n ? n : 1));
    st->codes = md_req_alloc(req, sizeof(char *) * (size_t)(n ? n : 1));
    char **hashes = md_req_alloc(req, sizeof(char *) * (size_t)(n ? n : 1));
    if (st->new_emails == NULL || st->codes == NULL || hashes == NULL) {
        fail_nomem(req);
        return;
    }
    for (int i = 0; i < n; i++) {
        st->new_emails[i] = md_res_str(req, r, i, 0);
        st->codes[i] = md_req_alloc(req, 48);
        hashes[i] = md_req_alloc(req, 67);
        if (st->codes[i] == NULL || hashes[i] == NULL ||
            md_crypto_code(st->codes[i], 48, MD_INVITE_BYTES) != MD_OK) {
            fail_nomem(req);
            return;
        }
        md_crypto_sha256_bytea(st->codes[i], hashes[i]);
    }
    /* In an array literal a bytea element is its "\x.." text, quoted. */
    const char *params[6] = {im->import_id,
                             md_req_u64(req, im->program_id),
                             im->skip_invalid ? "true" : "false",
                             im->dry_run ? "true" : "false",
                             md_model_text_array(req, st->new_emails, (size_t)n),
                             md_model_text_array(req, hashes, (size_t)n)};
    md_db_txn_t *t = md_req_txn(req);
    if (params[4] == NULL || params[5] == NULL || t == NULL ||
        md_db_txn_add(t, SQL_APPLY, 6, params) != MD_OK) {
        md_db_txn_free(t);
        fail_nomem(req);
        return;
    }
    md_req_submit(req, t, apply_done);
}

static void finish(md_req_t *req)
{
    Mentor__V1__ParticipantImport *im = req->msg->participant_import;
    const char *pp[1] = {md_req_u64(req, im->program_id)};
    const char *cp[2] = {md_req_u64(req, md_req_auth(req)->org_id), im->import_id};
    md_db_txn_t *t = md_req_txn(req);
    if (t == NULL || md_db_txn_add(t, SQL_REQUIRE_MANAGER, 1, pp) != MD_OK ||
        md_db_txn_add(t, SQL_NEW_EMAILS, 2, cp) != MD_OK) {
        md_db_txn_free(t);
        fail_nomem(req);
        return;
    }
    md_req_submit(req, t, new_emails_done);
}

static void staged_then_finish(md_req_t *req, md_db_txn_t *txn, int err)
{
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, NULL);
        return;
    }
    finish(req);
}

void md_h_participant_import(md_req_t *req)
{
    Mentor__V1__ParticipantImport *im = req->msg->participant_import;
    if (!import_id_valid(im->import_id)) {
        md_req_fail(req, MD_EINVAL, "participant_import.import_id",
                    "the import id must be 8-64 characters of A-Z, a-z, 0-9, _ and -");
        return;
    }
    if (im->n_rows > MAX_BATCH_ROWS) {
        md_req_fail(req, MD_EINVAL, "participant_import.rows", "at most %d rows per request",
                    MAX_BATCH_ROWS);
        return;
    }
    import_state_t *st = md_req_alloc(req, sizeof(*st));
    if (st == NULL) {
        fail_nomem(req);
        return;
    }
    req->state = st;
    if (!im->finish) {
        stage_batch(req, batch_done);
        return;
    }
    if (im->n_rows == 0) {
        finish(req);
        return;
    }
    /* Rows and finish in one request: stage, then finish. The batch's own
     * issues come back again from the whole-file check. */
    stage_batch(req, staged_then_finish);
}
