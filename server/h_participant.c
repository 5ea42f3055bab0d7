/* h_participant.c: enrollment and profiles. A profile is validated and
 * normalized here (skill and tag names, levels, languages, availability,
 * attributes) and stored whole as the protocol's Profile message; its
 * references (manager, time zone) and the enrollment rules are checked in
 * SQL within the same transaction. Self-identified attributes are returned
 * only to the participant themself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md_dispatch.h"
#include "md_model.h"
#include "md_profile_check.h"

#define MAX_SKILLS     50
#define MAX_TAGS       50
#define MAX_LANGUAGES  20
#define MAX_ATTRIBUTES 20
#define NAME_MAX_LEN   100
#define UPDATE_RETRIES 16

#define PARTICIPANT_COLS                                                                           \
    "pa.program_id, pa.user_id, u.email, u.display_name, pa.role, pa.status, pa.profile_pb, "      \
    "extract(epoch FROM pa.enrolled_at)::bigint, pa.updated_at::text, "                            \
    "coalesce(pa.manager_id, 0), pa.training_done AND pa.role = 1"

static const char SQL_PARTICIPANT_ONE[] =
    "SELECT " PARTICIPANT_COLS " FROM participants pa JOIN users u "
    "ON u.org_id = pa.org_id AND u.id = pa.user_id "
    "WHERE pa.org_id = $1::bigint AND pa.program_id = $2::bigint AND pa.user_id = $3::bigint";
static const char SQL_PARTICIPANT_LIST[] =
    "SELECT " PARTICIPANT_COLS " FROM participants pa JOIN users u "
    "ON u.org_id = pa.org_id AND u.id = pa.user_id "
    "WHERE pa.org_id = $1::bigint AND pa.program_id = $2::bigint "
    "AND ($3::smallint = 0 OR pa.role = $3::smallint) AND ($4::boolean OR pa.status = 'active') "
    "ORDER BY pa.role, u.id";
static const char SQL_REQUIRE_MANAGER[] = "SELECT md_program_require_manager($1::bigint)";
static const char SQL_REQUIRE_SELF_OR_MANAGER[] =
    "SELECT md_participant_require_self_or_manager($1::bigint, $2::bigint)";
static const char SQL_ENROLL[] =
    "SELECT md_participant_enroll($1::bigint, $2::bigint, $3::smallint, $4::bytea, "
    "$5::bigint, $6, $7, $8::int, $9::text[])";
static const char SQL_REQUIRE_OPEN[] = "SELECT md_program_require_open($1::bigint)";
static const char SQL_WITHDRAW[] =
    "UPDATE participants SET status = 'withdrawn', withdrawn_at = now(), updated_at = now() "
    "WHERE org_id = $1::bigint AND program_id = $2::bigint AND user_id = $3::bigint "
    "AND status = 'active' RETURNING user_id";
static const char SQL_PROFILE_WRITE[] =
    "SELECT md_profile_write($1::bigint, $2::bigint, $3::bytea, $4::bigint, $5, $6, $7::int, "
    "$8::text[], $9::timestamptz)";

typedef struct {
    uint64_t program_id;
    uint64_t user_id;
    int attempts;
} part_state_t;

static void fail_nomem(md_req_t *req)
{
    md_req_fail(req, MD_ENOMEM, NULL, NULL);
}

/* ---- profile validation ------------------------------------------------ */

static int name_ok(char *s)
{
    size_t n = md_model_normalize_name(s);
    return n >= 1 && n <= NAME_MAX_LEN && md_model_name(s);
}

/* Normalizes and checks the profile fields selected by `sel` (NULL: all).
 * On error fills field/msg and returns -1. */
typedef struct {
    const char *prefix;
    char field[128];
    char msg[256];
} check_t;

#define CHECK_FAIL(ck, name, ...)                                                                  \
    do {                                                                                           \
        snprintf((ck)->field, sizeof((ck)->field), "%s.%s", (ck)->prefix, name);                   \
        snprintf((ck)->msg, sizeof((ck)->msg), __VA_ARGS__);                                       \
        return -1;                                                                                 \
    } while (0)

static int check_skills(check_t *ck, const char *name, Mentor__V1__Skill **skills, size_t *n)
{
    if (*n > MAX_SKILLS)
        CHECK_FAIL(ck, name, "at most %d skills", MAX_SKILLS);
    size_t o = 0;
    for (size_t i = 0; i < *n; i++) {
        Mentor__V1__Skill *s = skills[i];
        if (!name_ok(s->name))
            CHECK_FAIL(ck, name, "skill %zu: a name of 1-%d printable characters is required",
                       i + 1, NAME_MAX_LEN);
        if (s->level < 1 || s->level > 5)
            CHECK_FAIL(ck, name, "skill '%s': level %u is not between 1 and 5", s->name, s->level);
        /* The same skill twice keeps its last level. */
        size_t j = 0;
        while (j < o && strcmp(skills[j]->name, s->name) != 0)
            j++;
        skills[j] = s;
        if (j == o)
            o++;
    }
    *n = o;
    return 0;
}

static int check_tags(check_t *ck, const char *name, char **tags, size_t *n)
{
    if (*n > MAX_TAGS)
        CHECK_FAIL(ck, name, "at most %d entries", MAX_TAGS);
    size_t o = 0;
    for (size_t i = 0; i < *n; i++) {
        if (!name_ok(tags[i]))
            CHECK_FAIL(ck, name, "entry %zu: 1-%d printable characters are required", i + 1,
                       NAME_MAX_LEN);
        size_t j = 0;
        while (j < o && strcmp(tags[j], tags[i]) != 0)
            j++;
        if (j == o)
            tags[o++] = tags[i];
    }
    *n = o;
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int sel_has(const char *const *sel, size_t nsel, const char *name)
{
    if (sel == NULL)
        return 1;
    for (size_t i = 0; i < nsel; i++) {
        if (strcmp(sel[i], name) == 0)
            return 1;
    }
    return 0;
}

static const char *const profile_fields[] = {
    "skills_offered",  "skills_wanted",   "career_goals", "interests", "department",
    "seniority_level", "seniority_years", "time_zone",    "languages", "availability",
    "manager_id",      "capacity",        "attributes",
};
#define NPROFILE_FIELDS (sizeof(profile_fields) / sizeof(profile_fields[0]))

static int profile_check(check_t *ck, Mentor__V1__Profile *p, const char *const *sel, size_t nsel)
{
    if (sel_has(sel, nsel, "skills_offered") &&
        check_skills(ck, "skills_offered", p->skills_offered, &p->n_skills_offered) != 0)
        return -1;
    if (sel_has(sel, nsel, "skills_wanted") &&
        check_skills(ck, "skills_wanted", p->skills_wanted, &p->n_skills_wanted) != 0)
        return -1;
    if (sel_has(sel, nsel, "career_goals") &&
        check_tags(ck, "career_goals", p->career_goals, &p->n_career_goals) != 0)
        return -1;
    if (sel_has(sel, nsel, "interests") &&
        check_tags(ck, "interests", p->interests, &p->n_interests) != 0)
        return -1;
    if (sel_has(sel, nsel, "department") && p->department[0] != '\0' &&
        !md_model_name(p->department))
        CHECK_FAIL(ck, "department", "the department must be 1-200 printable characters");
    if (sel_has(sel, nsel, "seniority_level") && p->seniority_level > 20)
        CHECK_FAIL(ck, "seniority_level", "seniority level %u is not between 1 and 20",
                   p->seniority_level);
    if (sel_has(sel, nsel, "seniority_years") && p->seniority_years > 60)
        CHECK_FAIL(ck, "seniority_years", "seniority years %u is not between 0 and 60",
                   p->seniority_years);
    if (sel_has(sel, nsel, "time_zone")) {
        size_t n = strlen(p->time_zone);
        if (n > 64)
            CHECK_FAIL(ck, "time_zone", "not a time zone name");
        for (size_t i = 0; i < n; i++) {
            char c = p->time_zone[i];
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '/' || c == '_' || c == '-' || c == '+'))
                CHECK_FAIL(ck, "time_zone", "'%s' is not a time zone name", p->time_zone);
        }
    }
    if (sel_has(sel, nsel, "languages")) {
        if (p->n_languages > MAX_LANGUAGES)
            CHECK_FAIL(ck, "languages", "at most %d languages", MAX_LANGUAGES);
        size_t o = 0;
        for (size_t i = 0; i < p->n_languages; i++) {
            char *l = p->languages[i];
            md_model_normalize_name(l);
            if (strlen(l) != 2 || l[0] < 'a' || l[0] > 'z' || l[1] < 'a' || l[1] > 'z')
                CHECK_FAIL(ck, "languages", "'%s' is not a two-letter ISO 639-1 code (e.g. en)", l);
            size_t j = 0;
            while (j < o && strcmp(p->languages[j], l) != 0)
                j++;
            if (j == o)
                p->languages[o++] = l;
        }
        p->n_languages = o;
    }
    if (sel_has(sel, nsel, "availability")) {
        for (size_t i = 0; i < p->n_availability; i++) {
            if (p->availability[i] >= 168)
                CHECK_FAIL(ck, "availability", "slot %u is not an hour of the week (0-167)",
                           p->availability[i]);
        }
        if (p->n_availability > 1)
            qsort(p->availability, p->n_availability, sizeof(uint32_t), cmp_u32);
        size_t o = 0;
        for (size_t i = 0; i < p->n_availability; i++) {
            if (o == 0 || p->availability[o - 1] != p->availability[i])
                p->availability[o++] = p->availability[i];
        }
        p->n_availability = o;
    }
    /* An explicit capacity must be usable; 0 at enrollment means "the
     * program's default". */
    if (sel_has(sel, nsel, "capacity") && (p->capacity > 10 || (sel != NULL && p->capacity == 0)))
        CHECK_FAIL(ck, "capacity", "capacity %u is not between 1 and 10", p->capacity);
    if (sel_has(sel, nsel, "attributes")) {
        if (p->n_attributes > MAX_ATTRIBUTES)
            CHECK_FAIL(ck, "attributes", "at most %d attributes", MAX_ATTRIBUTES);
        for (size_t i = 0; i < p->n_attributes; i++) {
            const char *k = p->attributes[i]->key;
            size_t kl = strlen(k);
            if (kl < 1 || kl > 64)
                CHECK_FAIL(ck, "attributes", "attribute names are 1-64 characters");
            for (size_t j = 0; j < kl; j++) {
                char c = k[j];
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
                    CHECK_FAIL(ck, "attributes", "attribute name '%s': use a-z, 0-9 and _", k);
            }
            if (!md_model_text(p->attributes[i]->value, 200))
                CHECK_FAIL(ck, "attributes", "attribute '%s': at most 200 characters", k);
        }
    }
    return 0;
}

int md_profile_check_all(Mentor__V1__Profile *p, char *field, size_t fieldlen, char *msg,
                         size_t msglen)
{
    check_t ck = {.prefix = "profile"};
    if (profile_check(&ck, p, NULL, 0) == 0)
        return 0;
    snprintf(field, fieldlen, "%s", ck.field + strlen("profile."));
    snprintf(msg, msglen, "%s", ck.msg);
    return -1;
}

/* Every skill name in the profile, for the organization's vocabulary. */
static const char *skill_names(md_req_t *req, const Mentor__V1__Profile *p)
{
    size_t n = p->n_skills_offered + p->n_skills_wanted;
    char **names = md_req_alloc(req, sizeof(char *) * (n ? n : 1));
    if (names == NULL)
        return NULL;
    for (size_t i = 0; i < p->n_skills_offered; i++)
        names[i] = p->skills_offered[i]->name;
    for (size_t i = 0; i < p->n_skills_wanted; i++)
        names[p->n_skills_offered + i] = p->skills_wanted[i]->name;
    return md_model_text_array(req, names, n);
}

int md_profile_copy_field(Mentor__V1__Profile *dst, const Mentor__V1__Profile *src, const char *f)
{
#define COPY_LIST(name)                                                                            \
    if (strcmp(f, #name) == 0) {                                                                   \
        dst->n_##name = src->n_##name;                                                             \
        dst->name = src->name;                                                                     \
        return 0;                                                                                  \
    }
#define COPY(name)                                                                                 \
    if (strcmp(f, #name) == 0) {                                                                   \
        dst->name = src->name;                                                                     \
        return 0;                                                                                  \
    }
    COPY_LIST(skills_offered)
    COPY_LIST(skills_wanted)
    COPY_LIST(career_goals)
    COPY_LIST(interests)
    COPY(department)
    COPY(seniority_level)
    COPY(seniority_years)
    COPY(time_zone)
    COPY_LIST(languages)
    COPY_LIST(availability)
    COPY(manager_id)
    COPY(capacity)
    COPY_LIST(attributes)
#undef COPY
#undef COPY_LIST
    return -1;
}

/* The stored profile leaves the manager out: participants.manager_id is the
 * one place it is kept (an import learns a new manager's id only when it
 * applies), and reads put it back (profile_from_row). */
static const char *profile_bytea(md_req_t *req, const Mentor__V1__Profile *p)
{
    Mentor__V1__Profile copy = *p;
    copy.manager_id = 0;
    size_t n = mentor__v1__profile__get_packed_size(&copy);
    uint8_t *buf = md_req_alloc(req, n ? n : 1);
    if (buf == NULL)
        return NULL;
    mentor__v1__profile__pack(&copy, buf);
    return md_model_bytea(req, buf, n);
}

/* The profile of a PARTICIPANT_COLS row: column 6 unpacked, the manager
 * from column 9. NULL when out of memory or the bytes are damaged. */
static Mentor__V1__Profile *profile_from_row(md_req_t *req, const PGresult *r, int row)
{
    size_t n = 0;
    unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, 6), &n);
    if (raw == NULL)
        return NULL;
    ProtobufCAllocator alloc;
    md_model_arena_allocator(req, &alloc);
    Mentor__V1__Profile *p = mentor__v1__profile__unpack(&alloc, n, raw);
    PQfreemem(raw);
    if (p != NULL)
        p->manager_id = md_res_u64(r, row, 9);
    return p;
}

const char *md_profile_bytea(md_req_t *req, const Mentor__V1__Profile *p)
{
    return profile_bytea(req, p);
}

const char *md_profile_skill_names(md_req_t *req, const Mentor__V1__Profile *p)
{
    return skill_names(req, p);
}

/* ---- rows to messages ---------------------------------------------------- */

static Mentor__V1__Participant *participant_from_row(md_req_t *req, const PGresult *r, int row)
{
    Mentor__V1__Participant *pa = md_req_alloc(req, sizeof(*pa));
    if (pa == NULL)
        return NULL;
    mentor__v1__participant__init(pa);
    pa->program_id = md_res_u64(r, row, 0);
    pa->user_id = md_res_u64(r, row, 1);
    pa->email = md_res_str(req, r, row, 2);
    pa->display_name = md_res_str(req, r, row, 3);
    pa->role = (Mentor__V1__ParticipantRole)md_res_i64(r, row, 4);
    pa->status = md_res_str(req, r, row, 5);
    pa->enrolled_at = md_res_i64(r, row, 7);
    pa->training_done = md_res_bool(r, row, 10);
    pa->profile = profile_from_row(req, r, row);
    if (pa->profile == NULL)
        return NULL;
    /* Self-identified attributes are for the participant's eyes only. */
    if (pa->user_id != md_req_auth(req)->user_id) {
        pa->profile->n_attributes = 0;
        pa->profile->attributes = NULL;
    }
    return pa;
}

static void reply_participant(md_req_t *req, const PGresult *r)
{
    if (r == NULL || PQntuples(r) != 1) {
        md_req_fail(req, MD_ENOTFOUND, NULL, "that user is not enrolled in this program");
        return;
    }
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    resp.result_case = MENTOR__V1__RESPONSE__RESULT_PARTICIPANT;
    resp.participant = participant_from_row(req, r, 0);
    if (resp.participant == NULL) {
        md_req_fail(req, MD_EINTERNAL, NULL, NULL);
        return;
    }
    md_req_reply(req, &resp);
}

static void participant_done(md_req_t *req, md_db_txn_t *txn, int err)
{
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, NULL);
        return;
    }
    reply_participant(req, md_db_txn_result(txn, md_db_txn_count(txn) - 1));
}

int md_participant_add_read(md_req_t *req, md_db_txn_t *txn, uint64_t program_id, uint64_t user_id)
{
    const char *p[3] = {md_req_u64(req, md_req_auth(req)->org_id), md_req_u64(req, program_id),
                        md_req_u64(req, user_id)};
    return md_db_txn_add(txn, SQL_PARTICIPANT_ONE, 3, p);
}

void md_participant_reply_db(md_req_t *req, md_db_txn_t *txn, int err)
{
    participant_done(req, txn, err);
}

static uint64_t target_user(md_req_t *req, uint64_t given)
{
    return given ? given : md_req_auth(req)->user_id;
}

/* ---- enroll ---------------------------------------------------------------- */

void md_h_participant_enroll(md_req_t *req)
{
    Mentor__V1__ParticipantEnroll *e = req->msg->participant_enroll;
    if (e->role != MENTOR__V1__PARTICIPANT_ROLE__MENTOR &&
        e->role != MENTOR__V1__PARTICIPANT_ROLE__MENTEE) {
        md_req_fail(req, MD_EINVAL, "participant_enroll.role", "the role must be mentor or mentee");
        return;
    }
    Mentor__V1__Profile empty = MENTOR__V1__PROFILE__INIT;
    Mentor__V1__Profile *p = e->profile ? e->profile : &empty;
    check_t ck = {.prefix = "participant_enroll.profile"};
    if (profile_check(&ck, p, NULL, 0) != 0) {
        md_req_fail(req, MD_EINVAL, ck.field, "%s", ck.msg);
        return;
    }
    md_auth_t *a = md_req_auth(req);
    uint64_t user = target_user(req, e->user_id);
    if (p->n_attributes > 0 && user != a->user_id) {
        md_req_fail(req, MD_EPERM, "participant_enroll.profile.attributes",
                    "self-identified attributes can be set only by the participant themself");
        return;
    }
    const char *org = md_req_u64(req, a->org_id);
    const char *prog = md_req_u64(req, e->program_id);
    const char *uid = md_req_u64(req, user);
    const char *params[9] = {prog,
                             uid,
                             md_req_i64(req, e->role),
                             profile_bytea(req, p),
                             p->manager_id ? md_req_u64(req, p->manager_id) : NULL,
                             p->department,
                             p->time_zone,
                             md_req_i64(req, p->capacity),
                             skill_names(req, p)};
    const char *one[3] = {org, prog, uid};
    if (params[3] == NULL || params[8] == NULL) {
        fail_nomem(req);
        return;
    }
    md_db_txn_t *txn = md_req_txn(req);
    if (txn == NULL || md_db_txn_add(txn, SQL_ENROLL, 9, params) != MD_OK ||
        md_db_txn_add(txn, SQL_PARTICIPANT_ONE, 3, one) != MD_OK) {
        md_db_txn_free(txn);
        fail_nomem(req);
        return;
    }
    md_req_submit(req, txn, participant_done);
}

/* ---- list, show, withdraw ------------------------------------------------ */

static void list_done(md_req_t *req, md_db_txn_t *txn, int err)
{
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, NULL);
        return;
    }
    PGresult *r = md_db_txn_result(txn, MD_REQ_FIRST + 1);
    int n = PQntuples(r);
    Mentor__V1__ParticipantListReply *l = md_req_alloc(req, sizeof(*l));
    Mentor__V1__Participant **items = md_req_alloc(req, sizeof(*items) * (size_t)(n ? n : 1));
    if (l == NULL || items == NULL) {
        fail_nomem(req);
        return;
    }
    mentor__v1__participant_list_reply__init(l);
    for (int i = 0; i < n; i++) {
        items[i] = participant_from_row(req, r, i);
        if (items[i] == NULL) {
            md_req_fail(req, MD_EINTERNAL, NULL, NULL);
            return;
        }
        /* Lists never carry attributes, not even the caller's own. */
        items[i]->profile->n_attributes = 0;
        items[i]->profile->attributes = NULL;
    }
    l->participants = items;
    l->n_participants = (size_t)n;
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    resp.result_case = MENTOR__V1__RESPONSE__RESULT_PARTICIPANT_LIST;
    resp.participant_list = l;
    md_req_reply(req, &resp);
}

void md_h_participant_list(md_req_t *req)
{
    Mentor__V1__ParticipantList *pl = req->msg->participant_list;
    if (pl->role > MENTOR__V1__PARTICIPANT_ROLE__MENTEE) {
        md_req_fail(req, MD_EINVAL, "participant_list.role", "unknown participant role");
        return;
    }
    const char *prog = md_req_u64(req, pl->program_id);
    const char *p[4] = {md_req_u64(req, md_req_auth(req)->org_id), prog, md_req_i64(req, pl->role),
                        pl->include_withdrawn ? "true" : "false"};
    const char *mp[1] = {prog};
    md_db_txn_t *txn = md_req_txn(req);
    if (txn == NULL || md_db_txn_add(txn, SQL_REQUIRE_MANAGER, 1, mp) != MD_OK ||
        md_db_txn_add(txn, SQL_PARTICIPANT_LIST, 4, p) != MD_OK) {
        md_db_txn_free(txn);
        fail_nomem(req);
        return;
    }
    md_req_submit(req, txn, list_done);
}

/* A transaction: the self-or-manager check, then `sql` on (org, program,
 * user), then the participant row. */
static void submit_self_or_manager(md_req_t *req, uint64_t program, uint64_t user, const char *sql)
{
    const char *prog = md_req_u64(req, program);
    const char *uid = md_req_u64(req, target_user(req, user));
    const char *p[3] = {md_req_u64(req, md_req_auth(req)->org_id), prog, uid};
    const char *cp[2] = {prog, uid};
    md_db_txn_t *txn = md_req_txn(req);
    if (txn == NULL || md_db_txn_add(txn, SQL_REQUIRE_SELF_OR_MANAGER, 2, cp) != MD_OK ||
        (sql != NULL && md_db_txn_add(txn, sql, 3, p) != MD_OK) ||
        md_db_txn_add(txn, SQL_PARTICIPANT_ONE, 3, p) != MD_OK) {
        md_db_txn_free(txn);
        fail_nomem(req);
        return;
    }
    md_req_submit(req, txn, participant_done);
}

void md_h_participant_show(md_req_t *req)
{
    Mentor__V1__ParticipantShow *s = req->msg->participant_show;
    submit_self_or_manager(req, s->program_id, s->user_id, NULL);
}

static void withdraw_done(md_req_t *req, md_db_txn_t *txn, int err)
{
    if (err == MD_OK && PQntuples(md_db_txn_result(txn, MD_REQ_FIRST + 2)) != 1) {
        md_req_fail(req, MD_ESTATE, "participant_withdraw.user_id",
                    "that user is not an active participant of this program");
        return;
    }
    participant_done(req, txn, err);
}

void md_h_participant_withdraw(md_req_t *req)
{
    Mentor__V1__ParticipantWithdraw *w = req->msg->participant_withdraw;
    const char *prog = md_req_u64(req, w->program_id);
    const char *uid = md_req_u64(req, target_user(req, w->user_id));
    const char *p[3] = {md_req_u64(req, md_req_auth(req)->org_id), prog, uid};
    const char *cp[2] = {prog, uid};
    md_db_txn_t *txn = md_req_txn(req);
    if (txn == NULL || md_db_txn_add(txn, SQL_REQUIRE_SELF_OR_MANAGER, 2, cp) != MD_OK ||
        md_db_txn_add(txn, SQL_REQUIRE_OPEN, 1, cp) != MD_OK ||
        md_db_txn_add(txn, SQL_WITHDRAW, 3, p) != MD_OK ||
        md_db_txn_add(txn, SQL_PARTICIPANT_ONE, 3, p) != MD_OK) {
        md_db_txn_free(txn);
        fail_nomem(req);
        return;
    }
    md_req_submit(req, txn, withdraw_done);
}

/* ---- profile update: read, merge, write if unchanged meanwhile ---------- */

static void profile_read_done(md_req_t *req, md_db_txn_t *txn, int err);

/* Reads the current profile (after the access check) to merge into. */
static void profile_read(md_req_t *req)
{
    part_state_t *st = req->state;
    const char *prog = md_req_u64(req, st->program_id);
    const char *uid = md_req_u64(req, st->user_id);
    const char *p[3] = {md_req_u64(req, md_req_auth(req)->org_id), prog, uid};
    const char *cp[2] = {prog, uid};
    md_db_txn_t *t = md_req_txn(req);
    if (t == NULL || md_db_txn_add(t, SQL_REQUIRE_SELF_OR_MANAGER, 2, cp) != MD_OK ||
        md_db_txn_add(t, SQL_PARTICIPANT_ONE, 3, p) != MD_OK) {
        md_db_txn_free(t);
        fail_nomem(req);
        return;
    }
    md_req_submit(req, t, profile_read_done);
}

static void profile_written(md_req_t *req, md_db_txn_t *txn, int err)
{
    part_state_t *st = req->state;
    if (err == MD_EDB && strcmp(md_db_txn_sqlstate(txn), "MDA40") == 0 &&
        ++st->attempts < UPDATE_RETRIES) {
        /* Someone changed the profile between our read and our write:
         * merge again on top of their version. */
        profile_read(req);
        return;
    }
    if (err == MD_EDB && strcmp(md_db_txn_sqlstate(txn), "MDA40") == 0) {
        md_req_fail(req, MD_EDBTIMEOUT, NULL,
                    "the profile is being changed by others right now; try again");
        return;
    }
    participant_done(req, txn, err);
}

static void profile_read_done(md_req_t *req, md_db_txn_t *txn, int err)
{
    part_state_t *st = req->state;
    Mentor__V1__ProfileUpdate *u = req->msg->profile_update;
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, NULL);
        return;
    }
    PGresult *r = md_db_txn_result(txn, MD_REQ_FIRST + 1);
    if (PQntuples(r) != 1) {
        md_req_fail(req, MD_ENOTFOUND, "profile_update.user_id",
                    "that user is not enrolled in this program");
        return;
    }
    const char *seen = md_res_str(req, r, 0, 8);
    Mentor__V1__Profile *cur = profile_from_row(req, r, 0);
    if (cur == NULL) {
        md_req_fail(req, MD_EINTERNAL, NULL, NULL);
        return;
    }
    for (size_t i = 0; i < u->n_update_mask; i++)
        md_profile_copy_field(cur, u->profile, u->update_mask[i]);
    const char *params[9] = {md_req_u64(req, st->program_id),
                             md_req_u64(req, st->user_id),
                             profile_bytea(req, cur),
                             cur->manager_id ? md_req_u64(req, cur->manager_id) : NULL,
                             cur->department,
                             cur->time_zone,
                             md_req_i64(req, cur->capacity),
                             skill_names(req, cur),
                             seen};
    const char *one[3] = {md_req_u64(req, md_req_auth(req)->org_id), params[0], params[1]};
    if (params[2] == NULL || params[7] == NULL) {
        fail_nomem(req);
        return;
    }
    md_db_txn_t *t = md_req_txn(req);
    if (t == NULL || md_db_txn_add(t, SQL_PROFILE_WRITE, 9, params) != MD_OK ||
        md_db_txn_add(t, SQL_PARTICIPANT_ONE, 3, one) != MD_OK) {
        md_db_txn_free(t);
        fail_nomem(req);
        return;
    }
    md_req_submit(req, t, profile_written);
}

void md_h_profile_update(md_req_t *req)
{
    Mentor__V1__ProfileUpdate *u = req->msg->profile_update;
    if (u->n_update_mask == 0) {
        md_req_fail(req, MD_EINVAL, "profile_update.update_mask",
                    "name the profile fields to change in update_mask");
        return;
    }
    for (size_t i = 0; i < u->n_update_mask; i++) {
        size_t j = 0;
        while (j < NPROFILE_FIELDS && strcmp(u->update_mask[i], profile_fields[j]) != 0)
            j++;
        if (j == NPROFILE_FIELDS) {
            md_req_fail(req, MD_EINVAL, "profile_update.update_mask", "'%s' is not a profile field",
                        u->update_mask[i]);
            return;
        }
    }
    if (u->profile == NULL) {
        static Mentor__V1__Profile empty = MENTOR__V1__PROFILE__INIT;
        u->profile = md_req_alloc(req, sizeof(empty));
        if (u->profile == NULL) {
            fail_nomem(req);
            return;
        }
        *u->profile = empty;
    }
    check_t ck = {.prefix = "profile_update.profile"};
    if (profile_check(&ck, u->profile, (const char *const *)u->update_mask, u->n_update_mask) !=
        0) {
        md_req_fail(req, MD_EINVAL, ck.field, "%s", ck.msg);
        return;
    }
    part_state_t *st = md_req_alloc(req, sizeof(*st));
    if (st == NULL) {
        fail_nomem(req);
        return;
    }
    st->program_id = u->program_id;
    st->user_id = target_user(req, u->user_id);
    if (st->user_id != md_req_auth(req)->user_id &&
        sel_has((const char *const *)u->update_mask, u->n_update_mask, "attributes")) {
        md_req_fail(req, MD_EPERM, "profile_update.profile.attributes",
                    "self-identified attributes can be set only by the participant themself");
        return;
    }
    req->state = st;
    profile_read(req);
}
