/* h_import.c: bulk imports from files. Two kinds share one flow:
 * ParticipantImport (a program's participants, sql/004_imports.sql) and
 * UserImport (the HR directory, sql/005_directory.sql).
 *
 * A client sends a file as batches of rows under one import id. Each batch
 * is checked row by row here and staged in the kind's staging table; the
 * finishing request first lists the e-mails that will become new users,
 * gives each a one-time invitation code (only its hash goes to the
 * database), and then checks and applies the whole file in one
 * transaction with the kind's apply function. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "md_crypto.h"
#include "md_dispatch.h"
#include "md_model.h"
#include "md_profile_check.h"
#include "md_utf8.h"

#define MAX_BATCH_ROWS 1000
#define INVITE_DAYS    7

typedef struct import_state import_state_t;

/* What differs between the kinds of import. */
typedef struct {
    const char *field_import_id; /* request field paths, for errors */
    const char *field_rows;
    Mentor__V1__Response__ResultCase result;
    const char *sql_count;      /* $1 org, $2 import id: rows staged so far */
    const char *sql_new_emails; /* $1 org, $2 import id: e-mails of new users */
    /* Adds the statements that check the caller may import there. */
    int (*add_checks)(md_req_t *req, md_db_txn_t *txn);
    /* Checks row i and adds its staging statement; a row that fails its
     * checks is staged with its problem, which is also noted in st. */
    int (*stage_row)(md_req_t *req, md_db_txn_t *txn, import_state_t *st, size_t i);
    /* Optional: adds statements to the finishing request's first
     * transaction, whose results add_apply then reads. */
    int (*add_finish_reads)(md_req_t *req, md_db_txn_t *txn);
    /* Adds the apply statement, given the first finishing transaction and
     * the new users' e-mails and code hashes as text[] literals. */
    int (*add_apply)(md_req_t *req, md_db_txn_t *first, md_db_txn_t *txn, const char *emails,
                     const char *hashes);
} import_kind_t;

struct import_state {
    const import_kind_t *kind;
    const char *import_id;
    size_t n_rows;
    int finish;
    int dry_run;
    int new_emails_at; /* statement indexes in the first finishing transaction */
    int reads_at;
    Mentor__V1__ImportIssue **issues;
    size_t n_issues;
    char **new_emails;
    char **codes;
    size_t n_new;
};

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
    return is->column != NULL && is->message != NULL ? is : NULL;
}

static int note_issue(md_req_t *req, import_state_t *st, uint32_t row, const char *col,
                      const char *msg)
{
    Mentor__V1__ImportIssue *is = issue_new(req, row, col, msg);
    if (is == NULL)
        return MD_ENOMEM;
    st->issues[st->n_issues++] = is;
    return MD_OK;
}

/* The e-mail's local part, the default name of a user an import creates. */
static const char *default_name(char *buf, size_t len, const char *email)
{
    const char *at = strchr(email, '@');
    size_t n = at ? (size_t)(at - email) : strlen(email);
    if (n == 0 || n >= len)
        n = 1;
    snprintf(buf, len, "%.*s", (int)n, email);
    return buf;
}

static void reply(md_req_t *req, const import_state_t *st, Mentor__V1__ImportReply *rep)
{
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    resp.result_case = st->kind->result;
    if (st->kind->result == MENTOR__V1__RESPONSE__RESULT_USER_IMPORT)
        resp.user_import = rep;
    else
        resp.participant_import = rep;
    md_req_reply(req, &resp);
}

/* ---- batches ---------------------------------------------------------- */

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
    reply(req, st, rep);
}

static void stage_batch(md_req_t *req, md_req_db_cb done)
{
    import_state_t *st = req->state;
    st->issues = md_req_alloc(req, sizeof(*st->issues) * (st->n_rows ? st->n_rows : 1));
    md_db_txn_t *txn = md_req_txn(req);
    int rc = st->issues == NULL || txn == NULL ? MD_ENOMEM : st->kind->add_checks(req, txn);
    for (size_t i = 0; rc == MD_OK && i < st->n_rows; i++)
        rc = st->kind->stage_row(req, txn, st, i);
    const char *cp[2] = {md_req_u64(req, md_req_auth(req)->org_id), st->import_id};
    if (rc == MD_OK)
        rc = md_db_txn_add(txn, st->kind->sql_count, 2, cp);
    if (rc != MD_OK) {
        md_db_txn_free(txn);
        fail_nomem(req);
        return;
    }
    md_req_submit(req, txn, done);
}

/* ---- finish ----------------------------------------------------------- */

static Mentor__V1__InviteCode *invite_for(md_req_t *req, const import_state_t *st,
                                          const char *email)
{
    for (size_t j = 0; j < st->n_new; j++) {
        if (strcmp(st->new_emails[j], email) != 0)
            continue;
        Mentor__V1__InviteCode *ic = md_req_alloc(req, sizeof(*ic));
        if (ic == NULL)
            return NULL;
        mentor__v1__invite_code__init(ic);
        ic->email = st->new_emails[j];
        ic->code = st->codes[j];
        ic->expires_at = (int64_t)time(NULL) + INVITE_DAYS * 24 * 3600;
        return ic;
    }
    return NULL;
}

static void set_count(Mentor__V1__ImportReply *rep, const char *name, uint32_t v)
{
    static const struct {
        const char *name;
        size_t offset;
    } counters[] = {
        {"users_created", offsetof(Mentor__V1__ImportReply, users_created)},
        {"enrolled", offsetof(Mentor__V1__ImportReply, enrolled)},
        {"updated", offsetof(Mentor__V1__ImportReply, updated)},
        {"unchanged", offsetof(Mentor__V1__ImportReply, unchanged)},
        {"skipped", offsetof(Mentor__V1__ImportReply, skipped)},
        {"deactivated", offsetof(Mentor__V1__ImportReply, deactivated)},
        {"on_leave", offsetof(Mentor__V1__ImportReply, on_leave)},
    };
    if (strcmp(name, "applied") == 0) {
        rep->applied = v != 0;
        return;
    }
    for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
        if (strcmp(name, counters[i].name) == 0)
            *(uint32_t *)((char *)rep + counters[i].offset) = v;
    }
}

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
    md_auth_t *a = md_req_auth(req);
    for (int i = 0; i < n; i++) {
        const char *kind = PQgetvalue(r, i, 0);
        const char *col = PQgetvalue(r, i, 2);
        int64_t v = md_res_i64(r, i, 4);
        if (strcmp(kind, "issue") == 0) {
            issues[rep->n_issues] =
                issue_new(req, (uint32_t)md_res_i64(r, i, 1), col, PQgetvalue(r, i, 3));
            if (issues[rep->n_issues] == NULL) {
                fail_nomem(req);
                return;
            }
            rep->n_issues++;
        } else if (strcmp(kind, "created") == 0) {
            Mentor__V1__InviteCode *ic = st->dry_run ? NULL : invite_for(req, st, col);
            if (ic != NULL)
                invites[rep->n_invites++] = ic;
        } else if (strcmp(kind, "deactivated") == 0) {
            /* Committed: their live connections lose their sessions now. */
            if (!st->dry_run)
                md_server_forget_sessions(md_req_server(req), a->org_id, (uint64_t)v, 0);
        } else {
            set_count(rep, col, (uint32_t)v);
        }
    }
    reply(req, st, rep);
}

static void new_emails_done(md_req_t *req, md_db_txn_t *txn, int err)
{
    import_state_t *st = req->state;
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, NULL);
        return;
    }
    PGresult *r = md_db_txn_result(txn, st->new_emails_at);
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
        if (st->new_emails[i] == NULL || st->codes[i] == NULL || hashes[i] == NULL ||
            md_crypto_code(st->codes[i], 48, MD_INVITE_BYTES) != MD_OK) {
            fail_nomem(req);
            return;
        }
        md_crypto_sha256_bytea(st->codes[i], hashes[i]);
    }
    /* In an array literal a bytea element is its "\x.." text, quoted. */
    const char *emails = md_model_text_array(req, st->new_emails, (size_t)n);
    const char *hash_list = md_model_text_array(req, hashes, (size_t)n);
    md_db_txn_t *t = md_req_txn(req);
    if (emails == NULL || hash_list == NULL || t == NULL ||
        st->kind->add_apply(req, txn, t, emails, hash_list) != MD_OK) {
        md_db_txn_free(t);
        fail_nomem(req);
        return;
    }
    md_req_submit(req, t, apply_done);
}

static void finish(md_req_t *req)
{
    import_state_t *st = req->state;
    const char *cp[2] = {md_req_u64(req, md_req_auth(req)->org_id), st->import_id};
    md_db_txn_t *t = md_req_txn(req);
    int rc = t == NULL ? MD_ENOMEM : st->kind->add_checks(req, t);
    if (rc == MD_OK)
        rc = md_db_txn_add(t, st->kind->sql_new_emails, 2, cp);
    st->new_emails_at = rc == MD_OK ? md_db_txn_count(t) - 1 : 0;
    if (rc == MD_OK && st->kind->add_finish_reads != NULL)
        rc = st->kind->add_finish_reads(req, t);
    st->reads_at = rc == MD_OK ? md_db_txn_count(t) - 1 : 0;
    if (rc != MD_OK) {
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

static void import_start(md_req_t *req, const import_kind_t *kind, const char *import_id,
                         size_t n_rows, int finishing, int dry_run)
{
    if (!import_id_valid(import_id)) {
        md_req_fail(req, MD_EINVAL, kind->field_import_id,
                    "the import id must be 8-64 characters of A-Z, a-z, 0-9, _ and -");
        return;
    }
    if (n_rows > MAX_BATCH_ROWS) {
        md_req_fail(req, MD_EINVAL, kind->field_rows, "at most %d rows per request",
                    MAX_BATCH_ROWS);
        return;
    }
    import_state_t *st = md_req_alloc(req, sizeof(*st));
    if (st == NULL) {
        fail_nomem(req);
        return;
    }
    memset(st, 0, sizeof(*st));
    st->kind = kind;
    st->import_id = import_id;
    st->n_rows = n_rows;
    st->finish = finishing;
    st->dry_run = finishing && dry_run;
    req->state = st;
    if (!finishing)
        stage_batch(req, batch_done);
    else if (n_rows == 0)
        finish(req);
    else /* Rows and finish in one request; the batch's issues come back
          * again from the whole-file check. */
        stage_batch(req, staged_then_finish);
}

/* ---- participants ----------------------------------------------------- */

static const char SQL_REQUIRE_MANAGER[] = "SELECT md_program_require_manager($1::bigint)";
static const char SQL_REQUIRE_OPEN[] = "SELECT md_program_require_open($1::bigint)";
static const char SQL_STAGE_PARTICIPANT[] =
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
static const char SQL_PARTICIPANTS_STAGED[] =
    "SELECT count(*) FROM import_rows WHERE org_id = $1::bigint AND import_id = $2";
/* LATERAL ... LIMIT 1: one index probe per row whatever the statistics say
 * (see md_import_apply). */
static const char SQL_PARTICIPANTS_NEW[] =
    "SELECT DISTINCT i.email FROM import_rows i LEFT JOIN LATERAL (SELECT u.id FROM users u "
    "WHERE u.org_id = i.org_id AND u.email = i.email LIMIT 1) x ON true "
    "WHERE i.org_id = $1::bigint AND i.import_id = $2 AND i.issue_message IS NULL "
    "AND x.id IS NULL ORDER BY i.email";
/* The staged rows of participants already enrolled, with the stored
 * profile each is merged with. */
static const char SQL_PARTICIPANTS_MERGE[] =
    "SELECT i.row_no, i.profile_pb, p.profile_pb, p.updated_at::text FROM import_rows i "
    "CROSS JOIN LATERAL (SELECT u.id FROM users u WHERE u.org_id = i.org_id "
    "AND u.email = i.email LIMIT 1) u "
    "CROSS JOIN LATERAL (SELECT x.profile_pb, x.updated_at FROM participants x "
    "WHERE x.org_id = i.org_id AND x.program_id = $3::bigint AND x.user_id = u.id LIMIT 1) p "
    "WHERE i.org_id = $1::bigint AND i.import_id = $2 AND i.issue_message IS NULL";
static const char SQL_PARTICIPANTS_APPLY[] =
    "SELECT kind, row_no, col, message, n FROM md_import_apply($1, $2::bigint, $3::boolean, "
    "$4::boolean, $5::boolean, $6::text[], $7::bytea[], $8::int[], $9::bytea[], $10::text[], "
    "$11::text[], $12::int[], $13::timestamptz[])";

/* The profile fields an import may name in ParticipantImport.columns. */
static const char *const import_columns[] = {
    "skills_offered", "skills_wanted",   "career_goals",    "interests",
    "department",     "seniority_level", "seniority_years", "time_zone",
    "languages",      "availability",    "capacity",        "manager_email",
};
#define N_IMPORT_COLUMNS (sizeof(import_columns) / sizeof(import_columns[0]))

static int has_column(const Mentor__V1__ParticipantImport *im, const char *name)
{
    for (size_t i = 0; i < im->n_columns; i++) {
        if (strcmp(im->columns[i], name) == 0)
            return 1;
    }
    return 0;
}

/* Checks one row; on a problem fills col/msg and returns -1. */
static int participant_check(Mentor__V1__ImportRow *r, char *email, size_t emaillen, char *col,
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

static int participant_checks(md_req_t *req, md_db_txn_t *txn)
{
    const char *pp[1] = {md_req_u64(req, req->msg->participant_import->program_id)};
    int rc = md_db_txn_add(txn, SQL_REQUIRE_MANAGER, 1, pp);
    return rc == MD_OK ? md_db_txn_add(txn, SQL_REQUIRE_OPEN, 1, pp) : rc;
}

static int participant_stage(md_req_t *req, md_db_txn_t *txn, import_state_t *st, size_t i)
{
    static const Mentor__V1__Profile empty = MENTOR__V1__PROFILE__INIT;
    Mentor__V1__ParticipantImport *im = req->msg->participant_import;
    Mentor__V1__ImportRow *r = im->rows[i];
    md_auth_t *a = md_req_auth(req);
    char email[256] = "", col[64] = "", msg[256] = "", local[256];
    int bad = participant_check(r, email, sizeof(email), col, sizeof(col), msg, sizeof(msg)) != 0;
    if (email[0] == '\0')
        snprintf(email, sizeof(email), "%s", r->email);
    if (bad && note_issue(req, st, r->row, col, msg) != MD_OK)
        return MD_ENOMEM;
    const Mentor__V1__Profile *p = r->profile ? r->profile : &empty;
    const char *name =
        r->display_name[0] ? r->display_name : default_name(local, sizeof(local), email);
    const char *params[16] = {md_req_u64(req, a->org_id),
                              im->import_id,
                              md_req_u64(req, im->program_id),
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
                              md_req_u64(req, a->user_id)};
    if (params[7] == NULL || params[12] == NULL)
        return MD_ENOMEM;
    return md_db_txn_add(txn, SQL_STAGE_PARTICIPANT, 16, params);
}

static int participant_reads(md_req_t *req, md_db_txn_t *txn)
{
    Mentor__V1__ParticipantImport *im = req->msg->participant_import;
    const char *p[3] = {md_req_u64(req, md_req_auth(req)->org_id), im->import_id,
                        md_req_u64(req, im->program_id)};
    return md_db_txn_add(txn, SQL_PARTICIPANTS_MERGE, 3, p);
}

static Mentor__V1__Profile *unpack_profile(md_req_t *req, const PGresult *r, int row, int col)
{
    size_t n = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, col), &n);
    if (raw == NULL)
        return NULL;
    ProtobufCAllocator alloc;
    md_model_arena_allocator(req, &alloc);
    Mentor__V1__Profile *p = mentor__v1__profile__unpack(&alloc, n, raw);
    PQfreemem(raw);
    return p;
}

/* The merged profiles as parallel arrays (text[] literals) for
 * md_import_apply: row, profile, department, time zone, capacity, and the
 * stored profile's updated_at (to detect an edit made meanwhile). */
typedef struct {
    char **row, **pb, **dept, **tz, **cap, **seen;
} merged_t;

static int merge_profiles(md_req_t *req, const PGresult *r, merged_t *m)
{
    Mentor__V1__ParticipantImport *im = req->msg->participant_import;
    int n = PQntuples(r);
    size_t sz = sizeof(char *) * (size_t)(n ? n : 1);
    char ***cols[6] = {&m->row, &m->pb, &m->dept, &m->tz, &m->cap, &m->seen};
    for (int c = 0; c < 6; c++) {
        *cols[c] = md_req_alloc(req, sz);
        if (*cols[c] == NULL)
            return MD_ENOMEM;
    }
    for (int i = 0; i < n; i++) {
        Mentor__V1__Profile *staged = unpack_profile(req, r, i, 1);
        Mentor__V1__Profile *stored = unpack_profile(req, r, i, 2);
        if (staged == NULL || stored == NULL)
            return MD_ENOMEM;
        /* Fields the file has replace the stored ones; an import never
         * touches the self-identified attributes. */
        Mentor__V1__Profile *out = stored;
        if (im->n_columns == 0 && !im->columns_given) {
            out = staged;
            md_profile_copy_field(out, stored, "attributes");
        } else {
            for (size_t k = 0; k < im->n_columns; k++)
                md_profile_copy_field(out, staged, im->columns[k]);
        }
        m->row[i] = PQgetvalue(r, i, 0);
        m->pb[i] = (char *)md_profile_bytea(req, out);
        m->dept[i] = out->department;
        m->tz[i] = out->time_zone;
        m->cap[i] = (char *)md_req_i64(req, out->capacity);
        m->seen[i] = PQgetvalue(r, i, 3);
        if (m->pb[i] == NULL || m->cap[i] == NULL)
            return MD_ENOMEM;
    }
    return MD_OK;
}

static int participant_apply(md_req_t *req, md_db_txn_t *first, md_db_txn_t *txn,
                             const char *emails, const char *hashes)
{
    Mentor__V1__ParticipantImport *im = req->msg->participant_import;
    import_state_t *st = req->state;
    const PGresult *r = md_db_txn_result(first, st->reads_at);
    merged_t m;
    if (merge_profiles(req, r, &m) != MD_OK)
        return MD_ENOMEM;
    size_t n = (size_t)PQntuples(r);
    int every_field = im->n_columns == 0 && !im->columns_given;
    int keep_manager = !every_field && !has_column(im, "manager_email");
    const char *params[13] = {im->import_id,
                              md_req_u64(req, im->program_id),
                              im->skip_invalid ? "true" : "false",
                              im->dry_run ? "true" : "false",
                              keep_manager ? "true" : "false",
                              emails,
                              hashes,
                              md_model_text_array(req, m.row, n),
                              md_model_text_array(req, m.pb, n),
                              md_model_text_array(req, m.dept, n),
                              md_model_text_array(req, m.tz, n),
                              md_model_text_array(req, m.cap, n),
                              md_model_text_array(req, m.seen, n)};
    for (int i = 7; i < 13; i++) {
        if (params[i] == NULL)
            return MD_ENOMEM;
    }
    return md_db_txn_add(txn, SQL_PARTICIPANTS_APPLY, 13, params);
}

static const import_kind_t participant_kind = {
    .field_import_id = "participant_import.import_id",
    .field_rows = "participant_import.rows",
    .result = MENTOR__V1__RESPONSE__RESULT_PARTICIPANT_IMPORT,
    .sql_count = SQL_PARTICIPANTS_STAGED,
    .sql_new_emails = SQL_PARTICIPANTS_NEW,
    .add_checks = participant_checks,
    .stage_row = participant_stage,
    .add_finish_reads = participant_reads,
    .add_apply = participant_apply,
};

void md_h_participant_import(md_req_t *req)
{
    Mentor__V1__ParticipantImport *im = req->msg->participant_import;
    for (size_t i = 0; i < im->n_columns; i++) {
        size_t j = 0;
        while (j < N_IMPORT_COLUMNS && strcmp(im->columns[i], import_columns[j]) != 0)
            j++;
        if (j == N_IMPORT_COLUMNS) {
            md_req_fail(req, MD_EINVAL, "participant_import.columns",
                        "'%s' is not a profile field an import sets", im->columns[i]);
            return;
        }
    }
    import_start(req, &participant_kind, im->import_id, im->n_rows, im->finish, im->dry_run);
}

/* ---- the directory ---------------------------------------------------- */

#define EMPLOYEE_ID_MAX 64
#define TEXT_MAX        200

static const char SQL_STAGE_DIRECTORY[] =
    "INSERT INTO directory_rows (org_id, import_id, row_no, employee_id, email, display_name, "
    "department, title, manager_employee_id, employment, issue_column, issue_message, "
    "created_by) VALUES ($1::bigint, $2, $3::int, $4, $5, $6, $7, $8, $9, $10::smallint, $11, "
    "$12, $13::bigint) "
    "ON CONFLICT (org_id, import_id, row_no) DO UPDATE SET employee_id = EXCLUDED.employee_id, "
    "email = EXCLUDED.email, display_name = EXCLUDED.display_name, "
    "department = EXCLUDED.department, title = EXCLUDED.title, "
    "manager_employee_id = EXCLUDED.manager_employee_id, employment = EXCLUDED.employment, "
    "issue_column = EXCLUDED.issue_column, issue_message = EXCLUDED.issue_message";
static const char SQL_DIRECTORY_STAGED[] =
    "SELECT count(*) FROM directory_rows WHERE org_id = $1::bigint AND import_id = $2";
static const char SQL_DIRECTORY_NEW[] =
    "SELECT DISTINCT d.email FROM directory_rows d "
    "LEFT JOIN LATERAL (SELECT u.id FROM users u WHERE u.org_id = d.org_id "
    "AND u.email = d.email LIMIT 1) x ON true "
    "LEFT JOIN LATERAL (SELECT u.id FROM users u WHERE u.org_id = d.org_id "
    "AND u.employee_id = d.employee_id LIMIT 1) y ON true "
    "WHERE d.org_id = $1::bigint AND d.import_id = $2 AND d.issue_message IS NULL "
    "AND d.employment <> 3 AND x.id IS NULL AND y.id IS NULL ORDER BY d.email";
static const char SQL_DIRECTORY_APPLY[] =
    "SELECT kind, row_no, col, message, n FROM md_directory_apply($1, $2::boolean, "
    "$3::boolean, $4::text[], $5::bytea[])";

/* An employee id: 1-64 bytes without control characters, not blank. */
static int employee_id_ok(const char *s)
{
    return md_utf8_len(s) <= EMPLOYEE_ID_MAX && md_model_name(s) && s[strspn(s, " ")] != '\0';
}

static int directory_check(Mentor__V1__DirectoryRow *r, char *email, size_t emaillen, char *col,
                           size_t collen, char *msg, size_t msglen)
{
#define DIR_FAIL(name, ...)                                                                        \
    do {                                                                                           \
        snprintf(col, collen, "%s", name);                                                         \
        snprintf(msg, msglen, __VA_ARGS__);                                                        \
        return -1;                                                                                 \
    } while (0)
    if (!employee_id_ok(r->employee_id))
        DIR_FAIL("employee_id", "the employee id must be 1-%d printable characters",
                 EMPLOYEE_ID_MAX);
    if (!md_model_email(r->email, email, emaillen))
        DIR_FAIL("email", "'%s' is not a valid e-mail address", r->email);
    if (r->display_name[0] != '\0' && !md_model_name(r->display_name))
        DIR_FAIL("name", "the name must be 1-%d printable characters", TEXT_MAX);
    if (!md_model_text(r->department, TEXT_MAX) || strchr(r->department, '\n') != NULL)
        DIR_FAIL("department", "the department must be at most %d characters on one line",
                 TEXT_MAX);
    if (!md_model_text(r->title, TEXT_MAX) || strchr(r->title, '\n') != NULL)
        DIR_FAIL("title", "the title must be at most %d characters on one line", TEXT_MAX);
    if (r->manager_employee_id[0] != '\0' && !employee_id_ok(r->manager_employee_id))
        DIR_FAIL("manager_employee_id", "the employee id must be 1-%d printable characters",
                 EMPLOYEE_ID_MAX);
    if (r->status != MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_ACTIVE &&
        r->status != MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_LEAVE &&
        r->status != MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_TERMINATED)
        DIR_FAIL("status", "the status must be active, leave or terminated");
#undef DIR_FAIL
    return 0;
}

static int directory_checks(md_req_t *req, md_db_txn_t *txn)
{
    (void)req;
    (void)txn;
    return MD_OK; /* admins only, which the dispatch table enforces */
}

static int directory_stage(md_req_t *req, md_db_txn_t *txn, import_state_t *st, size_t i)
{
    Mentor__V1__UserImport *im = req->msg->user_import;
    Mentor__V1__DirectoryRow *r = im->rows[i];
    md_auth_t *a = md_req_auth(req);
    char email[256] = "", col[64] = "", msg[256] = "";
    int bad = directory_check(r, email, sizeof(email), col, sizeof(col), msg, sizeof(msg)) != 0;
    if (email[0] == '\0')
        snprintf(email, sizeof(email), "%s", r->email);
    if (bad && note_issue(req, st, r->row, col, msg) != MD_OK)
        return MD_ENOMEM;
    int status = bad ? MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_ACTIVE : (int)r->status;
    const char *params[13] = {md_req_u64(req, a->org_id),
                              im->import_id,
                              md_req_i64(req, r->row),
                              r->employee_id,
                              email,
                              r->display_name,
                              r->department,
                              r->title,
                              r->manager_employee_id,
                              md_req_i64(req, status),
                              bad ? col : NULL,
                              bad ? msg : NULL,
                              md_req_u64(req, a->user_id)};
    return md_db_txn_add(txn, SQL_STAGE_DIRECTORY, 13, params);
}

static int directory_apply(md_req_t *req, md_db_txn_t *first, md_db_txn_t *txn, const char *emails,
                           const char *hashes)
{
    (void)first;
    Mentor__V1__UserImport *im = req->msg->user_import;
    const char *params[5] = {im->import_id, im->skip_invalid ? "true" : "false",
                             im->dry_run ? "true" : "false", emails, hashes};
    return md_db_txn_add(txn, SQL_DIRECTORY_APPLY, 5, params);
}

static const import_kind_t directory_kind = {
    .field_import_id = "user_import.import_id",
    .field_rows = "user_import.rows",
    .result = MENTOR__V1__RESPONSE__RESULT_USER_IMPORT,
    .sql_count = SQL_DIRECTORY_STAGED,
    .sql_new_emails = SQL_DIRECTORY_NEW,
    .add_checks = directory_checks,
    .stage_row = directory_stage,
    .add_apply = directory_apply,
};

void md_h_user_import(md_req_t *req)
{
    Mentor__V1__UserImport *im = req->msg->user_import;
    import_start(req, &directory_kind, im->import_id, im->n_rows, im->finish, im->dry_run);
}
