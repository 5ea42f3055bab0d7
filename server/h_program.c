/* h_program.c: programs: create, list, show, update, lifecycle transitions
 * and coordinator assignment. Input is checked here field by field so
 * errors name the field; who may see or change which program is decided in
 * SQL (md_program_access and friends, sql/003_programs.sql) inside the
 * request's transaction, next to the rows it protects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md_dispatch.h"
#include "md_model.h"

#define MAX_OBJECTIVES 50
#define NWEIGHTS       9

/* Columns of a program row, in the order program_from_row reads them. */
#define PROGRAM_COLS                                                                               \
    "p.id, p.name, p.description, p.objectives, p.mentor_expectations, "                           \
    "p.mentee_expectations, p.checkin_cadence_days, COALESCE(p.start_date::text, ''), "            \
    "COALESCE(p.end_date::text, ''), p.default_mentor_capacity, "                                  \
    "array_to_string(p.weights, ','), p.department_rule, p.min_seniority_gap, "                    \
    "p.require_shared_language, p.require_mentor_training, p.state, "                              \
    "extract(epoch FROM p.created_at)::bigint, "                                                   \
    "(SELECT COALESCE(string_agg(c.user_id::text, ',' ORDER BY c.user_id), '') "                   \
    "   FROM program_coordinators c WHERE c.org_id = p.org_id AND c.program_id = p.id), "          \
    "(SELECT count(*) FROM participants x WHERE x.org_id = p.org_id AND x.program_id = p.id "      \
    "   AND x.role = 1 AND x.status = 'active'), "                                                 \
    "(SELECT count(*) FROM participants x WHERE x.org_id = p.org_id AND x.program_id = p.id "      \
    "   AND x.role = 2 AND x.status = 'active'), "                                                 \
    "p.mentors_per_mentee, p.objective, p.match_mode, p.response_window_days, p.auto_recalc, "     \
    "p.recalc_hours"

static const char SQL_PROGRAM_CREATE[] =
    "WITH p AS (INSERT INTO programs (org_id, name, description, objectives, "
    "mentor_expectations, mentee_expectations, checkin_cadence_days, start_date, end_date, "
    "default_mentor_capacity, weights, department_rule, min_seniority_gap, "
    "require_shared_language, require_mentor_training, created_by, mentors_per_mentee, objective, "
    "match_mode, response_window_days, auto_recalc, recalc_hours) "
    "VALUES ($1::bigint, $2, $3, $4::text[], $5, $6, $7::int, NULLIF($8, '')::date, "
    "NULLIF($9, '')::date, $10::int, $11::int[], $12::smallint, $13::int, $14::boolean, "
    "$15::boolean, $16::bigint, $17::int, $18::smallint, $19::smallint, $20::int, $21::boolean, "
    "$22::int) RETURNING *) "
    "SELECT " PROGRAM_COLS " FROM p";
static const char SQL_PROGRAM_BY_ID[] =
    "SELECT " PROGRAM_COLS " FROM programs p WHERE p.org_id = $1::bigint AND p.id = $2::bigint "
    "AND md_program_access(p.id) IS NOT NULL";
static const char SQL_PROGRAM_LIST[] =
    "SELECT " PROGRAM_COLS " FROM programs p WHERE p.org_id = $1::bigint "
    "AND ($2::smallint = 0 OR p.state = $2::smallint) AND md_program_access(p.id) IS NOT NULL "
    "ORDER BY p.id DESC";
static const char SQL_PROGRAM_REQUIRE_MANAGER[] = "SELECT md_program_require_manager($1::bigint)";
static const char SQL_PROGRAM_UPDATE[] =
    "UPDATE programs SET "
    "name = CASE WHEN $3::boolean THEN $4 ELSE name END, "
    "description = CASE WHEN $5::boolean THEN $6 ELSE description END, "
    "objectives = CASE WHEN $7::boolean THEN $8::text[] ELSE objectives END, "
    "mentor_expectations = CASE WHEN $9::boolean THEN $10 ELSE mentor_expectations END, "
    "mentee_expectations = CASE WHEN $11::boolean THEN $12 ELSE mentee_expectations END, "
    "checkin_cadence_days = CASE WHEN $13::boolean THEN $14::int ELSE checkin_cadence_days END, "
    "start_date = CASE WHEN $15::boolean THEN NULLIF($16, '')::date ELSE start_date END, "
    "end_date = CASE WHEN $17::boolean THEN NULLIF($18, '')::date ELSE end_date END, "
    "default_mentor_capacity = CASE WHEN $19::boolean THEN $20::int "
    "  ELSE default_mentor_capacity END, "
    "weights = CASE WHEN $21::boolean THEN $22::int[] ELSE weights END, "
    "department_rule = CASE WHEN $23::boolean THEN $24::smallint ELSE department_rule END, "
    "min_seniority_gap = CASE WHEN $23::boolean THEN $25::int ELSE min_seniority_gap END, "
    "require_shared_language = CASE WHEN $23::boolean THEN $26::boolean "
    "  ELSE require_shared_language END, "
    "require_mentor_training = CASE WHEN $23::boolean THEN $27::boolean "
    "  ELSE require_mentor_training END, "
    "mentors_per_mentee = CASE WHEN $28::boolean THEN $29::int ELSE mentors_per_mentee END, "
    "objective = CASE WHEN $30::boolean THEN $31::smallint ELSE objective END, "
    "match_mode = CASE WHEN $32::boolean THEN $33::smallint ELSE match_mode END, "
    "response_window_days = CASE WHEN $34::boolean THEN $35::int ELSE response_window_days END, "
    "auto_recalc = CASE WHEN $36::boolean THEN $37::boolean ELSE auto_recalc END, "
    "recalc_hours = CASE WHEN $38::boolean THEN $39::int ELSE recalc_hours END, "
    "updated_at = now() "
    "WHERE org_id = $1::bigint AND id = $2::bigint AND state <> 5 RETURNING id";
static const char SQL_PROGRAM_TRANSITION[] =
    "SELECT md_program_transition($1::bigint, $2::smallint)";
static const char SQL_PROGRAM_ASSIGN[] =
    "SELECT md_program_assign($1::bigint, $2::bigint, $3::boolean)";

static void fail_nomem(md_req_t *req)
{
    md_req_fail(req, MD_ENOMEM, NULL, NULL);
}

static int parse_u64_list(md_req_t *req, const char *s, uint64_t **out, size_t *n)
{
    size_t cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == ',';
    *out = md_req_alloc(req, cap * sizeof(uint64_t));
    *n = 0;
    if (*out == NULL)
        return -1;
    const char *p = s;
    while (*p != '\0') {
        char *end = NULL;
        (*out)[(*n)++] = strtoull(p, &end, 10);
        if (end == p)
            return -1;
        p = *end == ',' ? end + 1 : end;
    }
    return 0;
}

static Mentor__V1__Program *program_from_row(md_req_t *req, const PGresult *r, int row)
{
    Mentor__V1__Program *p = md_req_alloc(req, sizeof(*p));
    Mentor__V1__MatchingWeights *w = md_req_alloc(req, sizeof(*w));
    Mentor__V1__MatchingRules *ru = md_req_alloc(req, sizeof(*ru));
    if (p == NULL || w == NULL || ru == NULL)
        return NULL;
    mentor__v1__program__init(p);
    mentor__v1__matching_weights__init(w);
    mentor__v1__matching_rules__init(ru);
    p->id = md_res_u64(r, row, 0);
    p->name = md_res_str(req, r, row, 1);
    p->description = md_res_str(req, r, row, 2);
    if (md_model_parse_text_array(req, PQgetvalue(r, row, 3), &p->objectives, &p->n_objectives) !=
        0)
        return NULL;
    p->mentor_expectations = md_res_str(req, r, row, 4);
    p->mentee_expectations = md_res_str(req, r, row, 5);
    p->checkin_cadence_days = (uint32_t)md_res_i64(r, row, 6);
    p->start_date = md_res_str(req, r, row, 7);
    p->end_date = md_res_str(req, r, row, 8);
    p->default_mentor_capacity = (uint32_t)md_res_i64(r, row, 9);
    uint32_t wv[NWEIGHTS] = {0};
    const char *ws = PQgetvalue(r, row, 10);
    for (int i = 0; i < NWEIGHTS && *ws != '\0'; i++) {
        char *end = NULL;
        wv[i] = (uint32_t)strtoul(ws, &end, 10);
        ws = *end == ',' ? end + 1 : end;
    }
    w->skills = wv[0];
    w->goals = wv[1];
    w->interests = wv[2];
    w->seniority = wv[3];
    w->department = wv[4];
    w->time_zone = wv[5];
    w->language = wv[6];
    w->availability = wv[7];
    w->preferences = wv[8];
    p->weights = w;
    ru->department = (Mentor__V1__DepartmentRule)md_res_i64(r, row, 11);
    ru->min_seniority_gap = (uint32_t)md_res_i64(r, row, 12);
    ru->require_shared_language = md_res_bool(r, row, 13);
    ru->require_mentor_training = md_res_bool(r, row, 14);
    p->rules = ru;
    p->state = (Mentor__V1__ProgramState)md_res_i64(r, row, 15);
    p->created_at = md_res_i64(r, row, 16);
    if (parse_u64_list(req, PQgetvalue(r, row, 17), &p->coordinator_ids, &p->n_coordinator_ids) !=
        0)
        return NULL;
    p->mentor_count = (uint32_t)md_res_i64(r, row, 18);
    p->mentee_count = (uint32_t)md_res_i64(r, row, 19);
    p->mentors_per_mentee = (uint32_t)md_res_i64(r, row, 20);
    p->objective = (Mentor__V1__MatchObjective)md_res_i64(r, row, 21);
    p->match_mode = (Mentor__V1__MatchMode)md_res_i64(r, row, 22);
    p->response_window_days = (uint32_t)md_res_i64(r, row, 23);
    p->auto_recalc = md_res_bool(r, row, 24);
    p->recalc_hours = (uint32_t)md_res_i64(r, row, 25);
    return p;
}

/* Replies with the single program row of statement `stmt`. */
static void reply_program(md_req_t *req, md_db_txn_t *txn, int stmt)
{
    PGresult *r = md_db_txn_result(txn, stmt);
    if (r == NULL || PQntuples(r) != 1) {
        md_req_fail(req, MD_ENOTFOUND, NULL, "no such program in your organization");
        return;
    }
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    resp.result_case = MENTOR__V1__RESPONSE__RESULT_PROGRAM;
    resp.program = program_from_row(req, r, 0);
    if (resp.program == NULL) {
        md_req_fail(req, MD_EINTERNAL, NULL, NULL);
        return;
    }
    md_req_reply(req, &resp);
}

/* A unique violation on programs can only be the name. */
static int fail_duplicate_name(md_req_t *req, md_db_txn_t *txn, int err, const char *field)
{
    if (err != MD_EDB || strcmp(md_db_txn_sqlstate(txn), "23505") != 0)
        return 0;
    md_req_fail(req, MD_EEXISTS, field, "a program with this name already exists");
    return 1;
}

static void program_done(md_req_t *req, md_db_txn_t *txn, int err)
{
    if (fail_duplicate_name(req, txn, err, "program_create.program.name"))
        return;
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, NULL);
        return;
    }
    reply_program(req, txn, md_db_txn_count(txn) - 1);
}

/* ---- validation -------------------------------------------------------- */

/* Settings of a program in SQL parameter form, checked. */
typedef struct {
    const char *objectives;
    const char *weights;
    int cadence, capacity, dept, gap;
    int per_mentee, objective, mode, window, recalc_hours;
} program_params_t;

static const char *weights_param(md_req_t *req, const Mentor__V1__MatchingWeights *w)
{
    uint32_t v[NWEIGHTS] = {w->skills,    w->goals,        w->interests,
                            w->seniority, w->department,   w->time_zone,
                            w->language,  w->availability, w->preferences};
    char buf[128];
    size_t o = 0;
    buf[o++] = '{';
    for (int i = 0; i < NWEIGHTS; i++)
        o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%u", i ? "," : "", v[i]);
    snprintf(buf + o, sizeof(buf) - o, "}");
    return md_req_strdup(req, buf);
}

static int weights_valid(const Mentor__V1__MatchingWeights *w)
{
    return w->skills <= 100 && w->goals <= 100 && w->interests <= 100 && w->seniority <= 100 &&
           w->department <= 100 && w->time_zone <= 100 && w->language <= 100 &&
           w->availability <= 100 && w->preferences <= 100;
}

/* Checks the fields selected by `has` (a field name -> bool test). On error
 * answers the request and returns -1. prefix: "program_create.program". */
static int program_check(md_req_t *req, const Mentor__V1__Program *p, const char *prefix,
                         int (*has)(md_req_t *, const char *), program_params_t *out)
{
    char field[96];
#define BAD(name, ...)                                                                             \
    do {                                                                                           \
        snprintf(field, sizeof(field), "%s.%s", prefix, name);                                     \
        md_req_fail(req, MD_EINVAL, field, __VA_ARGS__);                                           \
        return -1;                                                                                 \
    } while (0)
    if (has(req, "name") && !md_model_name(p->name))
        BAD("name", "the name must be 1-200 printable characters");
    if (has(req, "description") && !md_model_text(p->description, 10000))
        BAD("description", "the description must be at most 10000 characters of text");
    if (has(req, "objectives")) {
        if (p->n_objectives > MAX_OBJECTIVES)
            BAD("objectives", "at most %d objectives", MAX_OBJECTIVES);
        for (size_t i = 0; i < p->n_objectives; i++) {
            if (p->objectives[i][0] == '\0' || !md_model_text(p->objectives[i], 500))
                BAD("objectives", "objective %zu must be 1-500 characters of text", i + 1);
        }
    }
    out->objectives = md_model_text_array(req, p->objectives, p->n_objectives);
    if (has(req, "mentor_expectations") && !md_model_text(p->mentor_expectations, 10000))
        BAD("mentor_expectations", "at most 10000 characters of text");
    if (has(req, "mentee_expectations") && !md_model_text(p->mentee_expectations, 10000))
        BAD("mentee_expectations", "at most 10000 characters of text");
    out->cadence = (int)p->checkin_cadence_days;
    if (has(req, "checkin_cadence_days") &&
        (p->checkin_cadence_days > 365 || (p->checkin_cadence_days == 0 && has(req, "*mask"))))
        BAD("checkin_cadence_days", "the check-in cadence must be 1-365 days");
    if (out->cadence == 0)
        out->cadence = 14;
    if (has(req, "start_date") && !md_model_date(p->start_date, 1))
        BAD("start_date", "'%s' is not a date (YYYY-MM-DD)", p->start_date);
    if (has(req, "end_date") && !md_model_date(p->end_date, 1))
        BAD("end_date", "'%s' is not a date (YYYY-MM-DD)", p->end_date);
    if (has(req, "start_date") && has(req, "end_date") && p->start_date[0] && p->end_date[0] &&
        strcmp(p->end_date, p->start_date) < 0)
        BAD("end_date", "the end date is before the start date");
    out->capacity = (int)p->default_mentor_capacity;
    if (has(req, "default_mentor_capacity") &&
        (p->default_mentor_capacity > 10 || (p->default_mentor_capacity == 0 && has(req, "*mask"))))
        BAD("default_mentor_capacity", "the default mentor capacity must be 1-10");
    if (out->capacity == 0)
        out->capacity = 2;
    static const Mentor__V1__MatchingWeights defaults = {
        PROTOBUF_C_MESSAGE_INIT(&mentor__v1__matching_weights__descriptor),
        30,
        15,
        10,
        10,
        5,
        10,
        10,
        5,
        5};
    const Mentor__V1__MatchingWeights *w = p->weights ? p->weights : &defaults;
    if (has(req, "weights") && !weights_valid(w))
        BAD("weights", "each matching weight must be 0-100");
    out->weights = weights_param(req, w);
    static const Mentor__V1__MatchingRules no_rules = {
        PROTOBUF_C_MESSAGE_INIT(&mentor__v1__matching_rules__descriptor), 0, 0, 0, 0};
    const Mentor__V1__MatchingRules *ru = p->rules ? p->rules : &no_rules;
    out->dept = ru->department == 0 ? 1 : (int)ru->department;
    out->gap = (int)ru->min_seniority_gap;
    if (has(req, "rules") && (out->dept < 1 || out->dept > 3))
        BAD("rules.department", "unknown department rule %d", out->dept);
    if (has(req, "rules") && out->gap > 10)
        BAD("rules.min_seniority_gap", "the minimum seniority gap must be 0-10");
    /* Matching settings: 0 (unset) takes the default at creation and is
     * refused in an update that names the field. */
    int strict = has(req, "*mask");
    out->per_mentee = p->mentors_per_mentee ? (int)p->mentors_per_mentee : 1;
    if (has(req, "mentors_per_mentee") &&
        (p->mentors_per_mentee > 3 || (p->mentors_per_mentee == 0 && strict)))
        BAD("mentors_per_mentee", "a mentee has 1-3 mentors (mentors_per_mentee %u)",
            p->mentors_per_mentee);
    out->objective = p->objective ? (int)p->objective : MENTOR__V1__MATCH_OBJECTIVE__PARTICIPATION;
    if (has(req, "objective") &&
        (out->objective < MENTOR__V1__MATCH_OBJECTIVE__PARTICIPATION ||
         out->objective > MENTOR__V1__MATCH_OBJECTIVE__SCORE || (p->objective == 0 && strict)))
        BAD("objective", "the objective must be participation or score");
    out->mode = p->match_mode ? (int)p->match_mode : MENTOR__V1__MATCH_MODE__ADMIN_LED;
    if (has(req, "match_mode") &&
        (out->mode < MENTOR__V1__MATCH_MODE__ADMIN_LED ||
         out->mode > MENTOR__V1__MATCH_MODE__SELF_MATCH || (p->match_mode == 0 && strict)))
        BAD("match_mode", "the match mode must be admin-led or self-match");
    out->window = p->response_window_days ? (int)p->response_window_days : 3;
    if (has(req, "response_window_days") &&
        (p->response_window_days > 30 || (p->response_window_days == 0 && strict)))
        BAD("response_window_days", "the response window must be 1-30 days");
    out->recalc_hours = (int)p->recalc_hours;
    if (has(req, "recalc_hours") && p->recalc_hours > 720)
        BAD("recalc_hours", "recalculate every 0 (only after changes) to 720 hours");
    if (out->objectives == NULL || out->weights == NULL) {
        fail_nomem(req);
        return -1;
    }
    return 0;
#undef BAD
}

static int has_all(md_req_t *req, const char *name)
{
    (void)req;
    return name[0] != '*';
}

/* ---- create, show, list ------------------------------------------------ */

void md_h_program_create(md_req_t *req)
{
    const Mentor__V1__Program *p = req->msg->program_create->program;
    if (p == NULL) {
        md_req_fail(req, MD_EINVAL, "program_create.program", "the program is required");
        return;
    }
    program_params_t pp;
    if (program_check(req, p, "program_create.program", has_all, &pp) != 0)
        return;
    md_auth_t *a = md_req_auth(req);
    const char *params[22] = {md_req_u64(req, a->org_id),
                              p->name,
                              p->description,
                              pp.objectives,
                              p->mentor_expectations,
                              p->mentee_expectations,
                              md_req_i64(req, pp.cadence),
                              p->start_date,
                              p->end_date,
                              md_req_i64(req, pp.capacity),
                              pp.weights,
                              md_req_i64(req, pp.dept),
                              md_req_i64(req, pp.gap),
                              p->rules && p->rules->require_shared_language ? "true" : "false",
                              p->rules && p->rules->require_mentor_training ? "true" : "false",
                              md_req_u64(req, a->user_id),
                              md_req_i64(req, pp.per_mentee),
                              md_req_i64(req, pp.objective),
                              md_req_i64(req, pp.mode),
                              md_req_i64(req, pp.window),
                              p->auto_recalc_off ? "false" : "true",
                              md_req_i64(req, pp.recalc_hours)};
    md_db_txn_t *txn = md_req_txn(req);
    if (txn == NULL || md_db_txn_add(txn, SQL_PROGRAM_CREATE, 22, params) != MD_OK) {
        md_db_txn_free(txn);
        fail_nomem(req);
        return;
    }
    md_req_submit(req, txn, program_done);
}

static void submit_program_query(md_req_t *req, const char *sql, uint64_t id)
{
    const char *p[2] = {md_req_u64(req, md_req_auth(req)->org_id), md_req_u64(req, id)};
    md_db_txn_t *txn = md_req_txn(req);
    if (txn == NULL || md_db_txn_add(txn, sql, 2, p) != MD_OK) {
        md_db_txn_free(txn);
        fail_nomem(req);
        return;
    }
    md_req_submit(req, txn, program_done);
}

void md_h_program_show(md_req_t *req)
{
    submit_program_query(req, SQL_PROGRAM_BY_ID, req->msg->program_show->id);
}

static void program_list_done(md_req_t *req, md_db_txn_t *txn, int err)
{
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, NULL);
        return;
    }
    PGresult *r = md_db_txn_result(txn, MD_REQ_FIRST);
    int n = PQntuples(r);
    Mentor__V1__ProgramListReply *l = md_req_alloc(req, sizeof(*l));
    Mentor__V1__Program **items = md_req_alloc(req, sizeof(*items) * (size_t)(n ? n : 1));
    if (l == NULL || items == NULL) {
        fail_nomem(req);
        return;
    }
    mentor__v1__program_list_reply__init(l);
    for (int i = 0; i < n; i++) {
        items[i] = program_from_row(req, r, i);
        if (items[i] == NULL) {
            md_req_fail(req, MD_EINTERNAL, NULL, NULL);
            return;
        }
    }
    l->programs = items;
    l->n_programs = (size_t)n;
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    resp.result_case = MENTOR__V1__RESPONSE__RESULT_PROGRAM_LIST;
    resp.program_list = l;
    md_req_reply(req, &resp);
}

void md_h_program_list(md_req_t *req)
{
    int state = (int)req->msg->program_list->state;
    if (state < 0 || state > 5) {
        md_req_fail(req, MD_EINVAL, "program_list.state", "unknown program state %d", state);
        return;
    }
    const char *p[2] = {md_req_u64(req, md_req_auth(req)->org_id), md_req_i64(req, state)};
    md_db_txn_t *txn = md_req_txn(req);
    if (txn == NULL || md_db_txn_add(txn, SQL_PROGRAM_LIST, 2, p) != MD_OK) {
        md_db_txn_free(txn);
        fail_nomem(req);
        return;
    }
    md_req_submit(req, txn, program_list_done);
}

/* ---- update -------------------------------------------------------------- */

static const char *const program_fields[] = {
    "name",
    "description",
    "objectives",
    "mentor_expectations",
    "mentee_expectations",
    "checkin_cadence_days",
    "start_date",
    "end_date",
    "default_mentor_capacity",
    "weights",
    "rules",
    "mentors_per_mentee",
    "objective",
    "match_mode",
    "response_window_days",
    "auto_recalc",
    "recalc_hours",
};
#define NFIELDS (sizeof(program_fields) / sizeof(program_fields[0]))

static int in_mask(md_req_t *req, const char *name)
{
    const Mentor__V1__ProgramUpdate *u = req->msg->program_update;
    if (strcmp(name, "*mask") == 0)
        return 1;
    for (size_t i = 0; i < u->n_update_mask; i++) {
        if (strcmp(u->update_mask[i], name) == 0)
            return 1;
    }
    return 0;
}

static void program_update_done(md_req_t *req, md_db_txn_t *txn, int err)
{
    if (fail_duplicate_name(req, txn, err, "program_update.program.name"))
        return;
    if (err == MD_EDB && strcmp(md_db_txn_sqlstate(txn), "23514") == 0) {
        /* The only check that spans two fields: the dates' order. */
        md_req_fail(req, MD_EINVAL,
                    in_mask(req, "end_date") ? "program_update.program.end_date"
                                             : "program_update.program.start_date",
                    "the end date would be before the start date");
        return;
    }
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, "program_update");
        return;
    }
    PGresult *r = md_db_txn_result(txn, MD_REQ_FIRST + 1);
    if (PQntuples(r) != 1) {
        md_req_fail(req, MD_ESTATE, "program_update.id", "a closed program cannot be changed");
        return;
    }
    reply_program(req, txn, MD_REQ_FIRST + 2);
}

void md_h_program_update(md_req_t *req)
{
    const Mentor__V1__ProgramUpdate *u = req->msg->program_update;
    static const Mentor__V1__Program empty = MENTOR__V1__PROGRAM__INIT;
    const Mentor__V1__Program *p = u->program ? u->program : &empty;
    if (u->n_update_mask == 0) {
        md_req_fail(req, MD_EINVAL, "program_update.update_mask",
                    "name the fields to change in update_mask");
        return;
    }
    for (size_t i = 0; i < u->n_update_mask; i++) {
        size_t j = 0;
        while (j < NFIELDS && strcmp(u->update_mask[i], program_fields[j]) != 0)
            j++;
        if (j == NFIELDS) {
            md_req_fail(req, MD_EINVAL, "program_update.update_mask",
                        "'%s' is not a field that can be changed", u->update_mask[i]);
            return;
        }
    }
    program_params_t pp;
    if (program_check(req, p, "program_update.program", in_mask, &pp) != 0)
        return;
    md_auth_t *a = md_req_auth(req);
#define FLAG(name) (in_mask(req, name) ? "true" : "false")
    const char *params[39] = {md_req_u64(req, a->org_id),
                              md_req_u64(req, u->id),
                              FLAG("name"),
                              p->name,
                              FLAG("description"),
                              p->description,
                              FLAG("objectives"),
                              pp.objectives,
                              FLAG("mentor_expectations"),
                              p->mentor_expectations,
                              FLAG("mentee_expectations"),
                              p->mentee_expectations,
                              FLAG("checkin_cadence_days"),
                              md_req_i64(req, pp.cadence),
                              FLAG("start_date"),
                              p->start_date,
                              FLAG("end_date"),
                              p->end_date,
                              FLAG("default_mentor_capacity"),
                              md_req_i64(req, pp.capacity),
                              FLAG("weights"),
                              pp.weights,
                              FLAG("rules"),
                              md_req_i64(req, pp.dept),
                              md_req_i64(req, pp.gap),
                              p->rules && p->rules->require_shared_language ? "true" : "false",
                              p->rules && p->rules->require_mentor_training ? "true" : "false",
                              FLAG("mentors_per_mentee"),
                              md_req_i64(req, pp.per_mentee),
                              FLAG("objective"),
                              md_req_i64(req, pp.objective),
                              FLAG("match_mode"),
                              md_req_i64(req, pp.mode),
                              FLAG("response_window_days"),
                              md_req_i64(req, pp.window),
                              FLAG("auto_recalc"),
                              p->auto_recalc ? "true" : "false",
                              FLAG("recalc_hours"),
                              md_req_i64(req, pp.recalc_hours)};
#undef FLAG
    const char *idp[1] = {params[1]};
    md_db_txn_t *txn = md_req_txn(req);
    if (txn == NULL || md_db_txn_add(txn, SQL_PROGRAM_REQUIRE_MANAGER, 1, idp) != MD_OK ||
        md_db_txn_add(txn, SQL_PROGRAM_UPDATE, 39, params) != MD_OK ||
        md_db_txn_add(txn, SQL_PROGRAM_BY_ID, 2, params) != MD_OK) {
        md_db_txn_free(txn);
        fail_nomem(req);
        return;
    }
    md_req_submit(req, txn, program_update_done);
}

/* ---- transition, coordinators ---------------------------------------- */

void md_h_program_transition(md_req_t *req)
{
    const Mentor__V1__ProgramTransition *t = req->msg->program_transition;
    if (t->to < MENTOR__V1__PROGRAM_STATE__DRAFT || t->to > MENTOR__V1__PROGRAM_STATE__CLOSED) {
        md_req_fail(req, MD_EINVAL, "program_transition.to", "unknown program state %d",
                    (int)t->to);
        return;
    }
    const char *p[2] = {md_req_u64(req, md_req_auth(req)->org_id), md_req_u64(req, t->id)};
    const char *tp[2] = {p[1], md_req_i64(req, t->to)};
    md_db_txn_t *txn = md_req_txn(req);
    if (txn == NULL || md_db_txn_add(txn, SQL_PROGRAM_TRANSITION, 2, tp) != MD_OK ||
        md_db_txn_add(txn, SQL_PROGRAM_BY_ID, 2, p) != MD_OK) {
        md_db_txn_free(txn);
        fail_nomem(req);
        return;
    }
    md_req_submit(req, txn, program_done);
}

void md_h_program_assign_coordinator(md_req_t *req)
{
    const Mentor__V1__ProgramAssignCoordinator *c = req->msg->program_assign_coordinator;
    if (c->user_id == 0) {
        md_req_fail(req, MD_EINVAL, "program_assign_coordinator.user_id", "a user id is required");
        return;
    }
    const char *p[2] = {md_req_u64(req, md_req_auth(req)->org_id), md_req_u64(req, c->program_id)};
    const char *ap[3] = {p[1], md_req_u64(req, c->user_id), c->remove ? "true" : "false"};
    md_db_txn_t *txn = md_req_txn(req);
    if (txn == NULL || md_db_txn_add(txn, SQL_PROGRAM_ASSIGN, 3, ap) != MD_OK ||
        md_db_txn_add(txn, SQL_PROGRAM_BY_ID, 2, p) != MD_OK) {
        md_db_txn_free(txn);
        fail_nomem(req);
        return;
    }
    md_req_submit(req, txn, program_done);
}
