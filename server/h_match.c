/* h_match.c: matching as requests see it: runs (MatchRun, MatchRunList),
 * proposals and the decisions on them (MatchList, MatchDecide, MatchPin,
 * MatchExclude, MatchReassign), explanations (MatchExplain), preferences,
 * self-match suggestions and requests, pairs (PairList, RematchRequest) and
 * mentor training (ParticipantTraining). Who may do what to which program,
 * proposal or pair is decided in SQL (sql/009_matching.sql) inside the
 * request's transaction; input is checked here so errors name the field.
 *
 * DESIGN: what runs where. Statements run through the pool; their callbacks
 * run on the loop thread. Loading a whole program into the matching engine
 * and solving it (MatchRun, MatchSuggest, MatchRequest) run on the libuv
 * thread pool through md_req_work: the loop copies the three input results
 * (the pool frees its own after the callback), the pool job owns those
 * copies and the engine, frees them all before it returns, and leaves only
 * arena memory and plain numbers for the loop, so nothing of the engine
 * outlives the job whatever happens to the connection. Explaining one pair
 * loads just the two people (and the mentors the mentee ranked, so that the
 * preference factor is the one a run computes) and is small enough for the
 * loop thread. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "md_dispatch.h"
#include "md_log.h"
#include "md_match_data.h"
#include "md_model.h"

#define TEXT_MAX         1000
#define SUGGEST_DEFAULT  5
#define SUGGEST_MAX      50
#define RUN_LIST_DEFAULT 20
#define RUN_LIST_MAX     200
#define NO_FACTORS       "{0,0,0,0,0,0,0,0,0}"
#define CAPACITY_RULES   (MD_MATCH_RULE_MENTOR_FULL | MD_MATCH_RULE_MENTEE_FULL)
#define PROPOSAL_SETTING "mentord.proposal_id"
#define APPLY_ATTEMPTS   3 /* a run's write waits this many times for another run */

/* ------------------------------------------------------------ statements */

/* Columns of a proposal row, in the order proposal_from_row reads them.
 * Lists stop at 20,000 rows, so a reply stays within a few megabytes. */
enum {
    PC_ID,
    PC_PROGRAM,
    PC_MENTEE,
    PC_MENTEE_NAME,
    PC_MENTOR,
    PC_MENTOR_NAME,
    PC_SCORE,
    PC_STATUS,
    PC_PINNED,
    PC_APPROVED,
    PC_MENTEE_OK,
    PC_MENTOR_OK,
    PC_FACTORS,
    PC_WEIGHTS,
    PC_RUN,
    PC_CREATED,
    PC_EXPIRES,
    PC_REQUESTED,
    PC_NOTE,
    PC_PAIR,
};
#define PROPOSAL_SELECT                                                                            \
    "SELECT m.id, m.program_id, m.mentee_id, ue.display_name, m.mentor_id, ur.display_name, "      \
    "m.score, m.status, m.pinned, m.approved, m.mentee_accepted, m.mentor_accepted, "              \
    "array_to_string(m.factors, ','), array_to_string(g.weights, ','), coalesce(m.run_id, 0), "    \
    "extract(epoch FROM m.created_at)::bigint, "                                                   \
    "coalesce(extract(epoch FROM m.expires_at)::bigint, 0), m.requested, m.note, "                 \
    "coalesce(m.pair_id, 0) "                                                                      \
    "FROM match_proposals m "                                                                      \
    "JOIN users ue ON ue.org_id = m.org_id AND ue.id = m.mentee_id "                               \
    "JOIN users ur ON ur.org_id = m.org_id AND ur.id = m.mentor_id "                               \
    "JOIN programs g ON g.org_id = m.org_id AND g.id = m.program_id "

static const char SQL_PROPOSAL_BY_ID[] =
    PROPOSAL_SELECT "WHERE m.org_id = $1::bigint AND m.id = $2::bigint";
/* The proposal whose id the transaction's previous statement stored in
 * PROPOSAL_SETTING (the SQL functions that make or change one return its
 * id, which the same pipeline cannot pass on as a parameter). */
static const char SQL_PROPOSAL_SET[] =
    PROPOSAL_SELECT "WHERE m.org_id = $1::bigint "
                    "AND m.id = current_setting('" PROPOSAL_SETTING "')::bigint";
/* $3 status (0: any), $4 the caller may see the program's (managers not
 * asking for their own), $5 the caller. */
static const char SQL_PROPOSAL_LIST[] =
    PROPOSAL_SELECT "WHERE m.org_id = $1::bigint AND m.program_id = $2::bigint "
                    "AND ($3::smallint = 0 OR m.status = $3::smallint) "
                    "AND (($4::boolean AND coalesce((SELECT md_program_access($2::bigint)), '') "
                    "      IN ('admin', 'coordinator')) "
                    "     OR $5::bigint IN (m.mentee_id, m.mentor_id)) "
                    "ORDER BY ue.display_name, m.id LIMIT 20000";

static const char SQL_ACCESS[] = "SELECT md_program_access($1::bigint)";
static const char SQL_REQUIRE_MANAGER[] = "SELECT md_program_require_manager($1::bigint)";
static const char SQL_REQUIRE_RUNNER[] = "SELECT md_match_require_runner($1::bigint)";
/* How long a run's write waits for another run of the program. */
static const char SQL_LOCK_TIMEOUT[] = "SELECT set_config('lock_timeout', '30s', true)";
/* A big program's write may take longer than the pool's usual timeout. */
static const char SQL_LONG_STATEMENT[] = "SELECT set_config('statement_timeout', '120s', true), "
                                         "set_config('plan_cache_mode', 'force_custom_plan', true)";
#define RUN_WRITE_TIMEOUT_MS 125000

static const char SQL_DECIDE[] = "SELECT * FROM md_match_decide($1::bigint, $2::int, $3)";
static const char SQL_PIN[] =
    "SELECT set_config('" PROPOSAL_SETTING "', md_match_pin($1::bigint, $2::bigint, $3::bigint, "
    "$4::boolean, $5::int, $6::int[])::text, true)";
static const char SQL_EXCLUDE[] =
    "SELECT md_match_exclude($1::bigint, $2::bigint, $3::bigint, $4::boolean, $5)";
static const char SQL_REASSIGN[] =
    "SELECT set_config('" PROPOSAL_SETTING "', md_match_reassign($1::bigint, $2::bigint, "
    "$3::int, $4::int[])::text, true)";
static const char SQL_REQUEST[] =
    "SELECT set_config('" PROPOSAL_SETTING "', md_match_request($1::bigint, $2::bigint, $3, "
    "$4::int, $5::int[])::text, true)";

/* A pair to explain or score, from the ids or from a proposal. Columns:
 * program, mentee, mentor, the caller's access to the program, the mentors
 * the mentee ranked (a bigint[] literal), whether an open pinned proposal
 * holds the pair, and the proposal's own mentor (0 from ids). */
#define RANKED(prog, mentee)                                                                       \
    "(SELECT coalesce(array_agg(f.other_id ORDER BY f.other_id), '{}') FROM match_preferences f "  \
    "  WHERE f.org_id = md_current_org() AND f.program_id = " prog " AND f.user_id = " mentee      \
    "  AND f.rank > 0)::text"
#define PINNED(prog, mentee, mentor)                                                               \
    "EXISTS (SELECT 1 FROM match_proposals k WHERE k.org_id = md_current_org() "                   \
    "  AND k.program_id = " prog " AND k.mentee_id = " mentee " AND k.mentor_id = " mentor         \
    "  AND k.status = 1 AND k.pinned)"
enum { PK_PROGRAM, PK_MENTEE, PK_MENTOR, PK_ACCESS, PK_RANKED, PK_PINNED, PK_ORIG_MENTOR };
#define RANKED_BY_IDS      RANKED("$1::bigint", "$2::bigint")
#define PINNED_BY_IDS      PINNED("$1::bigint", "$2::bigint", "$3::bigint")
#define RANKED_BY_PROPOSAL RANKED("m.program_id", "m.mentee_id")
#define PINNED_BY_PROPOSAL                                                                         \
    PINNED("m.program_id", "m.mentee_id", "coalesce($3::bigint, m.mentor_id)")
static const char SQL_PAIR_BY_IDS[] =
    "SELECT $1::bigint, $2::bigint, $3::bigint, md_program_access($1::bigint), " RANKED_BY_IDS
    ", " PINNED_BY_IDS ", 0::bigint";
/* $3: the mentor to score instead of the proposal's (reassignment), or
 * NULL. */
static const char SQL_PAIR_BY_PROPOSAL[] =
    "SELECT m.program_id, m.mentee_id, coalesce($3::bigint, m.mentor_id), "
    "md_program_access(m.program_id), " RANKED_BY_PROPOSAL ", " PINNED_BY_PROPOSAL ", m.mentor_id "
    "FROM match_proposals m WHERE m.org_id = $1::bigint AND m.id = $2::bigint";

/* Self-match: the program's mode and state, the caller's role in it (0:
 * none) and access. */
static const char SQL_SELF_CHECK[] =
    "SELECT g.match_mode, g.state, coalesce((SELECT p.role FROM participants p "
    "  WHERE p.org_id = g.org_id AND p.program_id = g.id AND p.user_id = $3::bigint "
    "  AND p.status = 'active'), 0), md_program_access(g.id) "
    "FROM programs g WHERE g.org_id = $1::bigint AND g.id = $2::bigint";

static const char SQL_PREFERENCE_SET[] =
    "SELECT md_match_preference_set($1::bigint, $2::bigint, $3::int, $4::boolean)";
static const char SQL_PREFERENCE_LIST[] =
    "SELECT f.program_id, f.user_id, f.other_id, coalesce(u.display_name, ''), f.rank, f.avoid "
    "FROM match_preferences f LEFT JOIN users u ON u.org_id = f.org_id AND u.id = f.other_id "
    "WHERE f.org_id = $1::bigint AND f.program_id = $2::bigint AND f.user_id = $3::bigint "
    "ORDER BY f.rank = 0, f.rank, u.display_name, f.other_id";

static const char SQL_RUN_LIST[] =
    "SELECT id, program_id, extract(epoch FROM started_at)::bigint, duration_ms, reason, solver, "
    "objective, mentors, mentees, proposals, kept, unmatched, total_score, "
    "coalesce(requested_by, 0), status, error FROM match_runs "
    "WHERE org_id = $1::bigint AND program_id = $2::bigint ORDER BY id DESC LIMIT $3::int";

#define PAIR_SELECT                                                                                \
    "SELECT x.id, x.program_id, x.mentee_id, ue.display_name, x.mentor_id, ur.display_name, "      \
    "x.score, x.status, extract(epoch FROM x.started_at)::bigint, "                                \
    "coalesce(extract(epoch FROM x.ended_at)::bigint, 0), x.end_reason, "                          \
    "coalesce(extract(epoch FROM x.rematch_requested_at)::bigint, 0), x.rematch_reason, "          \
    "coalesce(x.proposal_id, 0) FROM pairs x "                                                     \
    "JOIN users ue ON ue.org_id = x.org_id AND ue.id = x.mentee_id "                               \
    "JOIN users ur ON ur.org_id = x.org_id AND ur.id = x.mentor_id "
static const char SQL_PAIR_BY_ID[] =
    PAIR_SELECT "WHERE x.org_id = $1::bigint AND x.id = $2::bigint";
/* $2 program (0: all), $3 include ended, $4 the caller may see the pairs
 * of programs they run (not asking for their own), $5 the caller. */
static const char SQL_PAIR_LIST[] =
    PAIR_SELECT "WHERE x.org_id = $1::bigint AND ($2::bigint = 0 OR x.program_id = $2::bigint) "
                "AND ($3::boolean OR x.status = 'active') "
                "AND ($5::bigint IN (x.mentee_id, x.mentor_id) OR ($4::boolean AND x.program_id "
                "     IN (SELECT g.id FROM programs g WHERE g.org_id = $1::bigint "
                "         AND ($2::bigint = 0 OR g.id = $2::bigint) "
                "         AND coalesce(md_program_access(g.id), '') IN ('admin', 'coordinator')))) "
                "ORDER BY x.program_id, ue.display_name, x.id LIMIT 20000";
static const char SQL_REMATCH[] = "SELECT md_rematch_request($1::bigint, $2)";

static const char SQL_TRAINING[] =
    "SELECT md_participant_training($1::bigint, $2::bigint, $3::boolean)";

/* ------------------------------------------------------------ state */

typedef struct match_state match_state_t;

/* Pair loads (explain, pin, reassign): what is done with the explanation. */
typedef void (*pair_next_fn)(md_req_t *req, match_state_t *st, const md_match_program_t *prog,
                             const md_match_explain_t *ex);

enum { PAIR_EXPLAIN, PAIR_PIN, PAIR_REASSIGN };

struct match_state {
    /* Set on the loop thread. */
    uint64_t program_id, mentee_id, mentor_id;
    int64_t started_ms; /* wall clock when the request came in */
    int solver;
    int dry_run;
    uint32_t limit;
    /* Pair loads. */
    int pair_mode;
    const char *program_field, *mentee_field, *mentor_field;
    int pinned;
    int manager; /* the caller runs the program */
    pair_next_fn next;
    /* The thread-pool job's input: copies it owns and frees. */
    PGresult *settings, *people, *facts;
    /* Its output. */
    int err; /* MD_OK, or the failure to answer with */
    const char *err_field;
    char err_msg[400];
    int internal; /* err_msg is for the log only */
    uint32_t duration_ms, mentors, mentees, unmatched, new_pairs, kept;
    int objective;
    int64_t new_score;
    md_match_apply_params_t apply;
    int have_apply;
    int apply_attempts;
    Mentor__V1__MatchProposal **proposals;
    size_t n_proposals;
    Mentor__V1__MatchSuggestion **suggestions;
    size_t n_suggestions;
    uint32_t score;
    char factors[160];
};

static void fail_nomem(md_req_t *req)
{
    md_req_fail(req, MD_ENOMEM, NULL, NULL);
}

static match_state_t *state_new(md_req_t *req)
{
    match_state_t *st = md_req_alloc(req, sizeof(*st));
    if (st == NULL) {
        fail_nomem(req);
        return NULL;
    }
    req->state = st;
    return st;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const char *org_param(md_req_t *req)
{
    return md_req_u64(req, md_req_auth(req)->org_id);
}

static uint64_t caller(md_req_t *req)
{
    return md_req_auth(req)->user_id;
}

/* One transaction of the given statements (each with its parameters),
 * submitted; on failure to build it answers the request. */
typedef struct {
    const char *sql;
    int n;
    const char *const *p;
} stmt_t;

static void submit(md_req_t *req, const stmt_t *stmts, size_t n, md_req_db_cb cb)
{
    md_db_txn_t *txn = md_req_txn(req);
    for (size_t i = 0; txn != NULL && i < n; i++) {
        if (md_db_txn_add(txn, stmts[i].sql, stmts[i].n, stmts[i].p) != MD_OK) {
            md_db_txn_free(txn);
            txn = NULL;
        }
    }
    if (txn == NULL) {
        fail_nomem(req);
        return;
    }
    md_req_submit(req, txn, cb);
}

/* The settings, people and facts of a program (users: a bigint[] literal to
 * restrict the people to, NULL for all). */
static void submit_load(md_req_t *req, uint64_t program_id, const char *users, md_req_db_cb cb)
{
    const char *prog = md_req_u64(req, program_id);
    const char *one[1] = {prog};
    const char *two[2] = {prog, users};
    const stmt_t s[3] = {{MD_MATCH_SQL_SETTINGS, 1, one},
                         {MD_MATCH_SQL_PEOPLE, 2, two},
                         {MD_MATCH_SQL_FACTS, 2, two}};
    submit(req, s, 3, cb);
}

static void drop_load(match_state_t *st)
{
    PQclear(st->settings);
    PQclear(st->people);
    PQclear(st->facts);
    st->settings = st->people = st->facts = NULL;
}

/* Copies the three results of submit_load (statements first..first+2) for
 * a thread-pool job, as the pool frees its own once the callback returns. */
static int copy_load(match_state_t *st, md_db_txn_t *txn, int first)
{
    const int flags = PG_COPYRES_ATTRS | PG_COPYRES_TUPLES;
    st->settings = PQcopyResult(md_db_txn_result(txn, first), flags);
    st->people = PQcopyResult(md_db_txn_result(txn, first + 1), flags);
    st->facts = PQcopyResult(md_db_txn_result(txn, first + 2), flags);
    if (st->settings == NULL || st->people == NULL || st->facts == NULL) {
        drop_load(st);
        return MD_ENOMEM;
    }
    return MD_OK;
}

/* Builds the engine from the copies, which it frees. On the thread pool. */
static int job_load(match_state_t *st, uint32_t threads, md_match_program_t **out)
{
    int rc = md_match_program_load(st->program_id, st->settings, st->people, st->facts, threads,
                                   out, st->err_msg, sizeof(st->err_msg));
    drop_load(st);
    if (rc != MD_OK) {
        st->err = rc == MD_ENOMEM ? MD_ENOMEM : MD_EINTERNAL;
        st->internal = 1;
    }
    return rc;
}

/* Answers a failed thread-pool job: with its message when it has one for
 * the user, else with the error's default (logging what went wrong). */
static void fail_job(md_req_t *req, match_state_t *st)
{
    if (st->internal || st->err_msg[0] == '\0') {
        char q[450];
        md_log_error("match_failed", "kind=%s program=%" PRIu64 " error=%s detail=%s",
                     req->entry->name, st->program_id, md_err_name(st->err),
                     md_log_quote(q, sizeof(q), st->err_msg));
        md_req_fail(req, st->err, NULL, NULL);
        return;
    }
    md_req_fail(req, st->err, st->err_field, "%s", st->err_msg);
}

static void job_fail(match_state_t *st, int err, const char *field, const char *msg)
{
    st->err = err;
    st->err_field = field;
    snprintf(st->err_msg, sizeof(st->err_msg), "%s", msg);
}

static const char *state_name(int state)
{
    static const char *const names[] = {"unspecified", "draft",  "enrolling",
                                        "matching",    "active", "closed"};
    return state >= 0 && state <= 5 ? names[state] : "unknown";
}

/* ------------------------------------------------------------ factors */

/* Indices of the (at most) three largest non-zero contributions, largest
 * first, ties to the earlier factor. A factor that added nothing is not a
 * reason for a match, so fewer than three may come back. */
static size_t top_three(const uint32_t c[MD_MATCH_NFACTORS], int out[3])
{
    size_t n = 0;
    unsigned used = 0;
    while (n < 3) {
        int best = -1;
        for (int f = 0; f < MD_MATCH_NFACTORS; f++) {
            if (!(used & (1u << f)) && c[f] > 0 && (best < 0 || c[f] > c[best]))
                best = f;
        }
        if (best < 0)
            break;
        used |= 1u << best;
        out[n++] = best;
    }
    return n;
}

static Mentor__V1__MatchFactor *factor_new(md_req_t *req, int f)
{
    Mentor__V1__MatchFactor *m = md_req_alloc(req, sizeof(*m));
    if (m == NULL)
        return NULL;
    mentor__v1__match_factor__init(m);
    m->name = (char *)md_match_factor_name(f);
    m->detail = "";
    return m;
}

/* A factor as an explanation gives it, with its words. */
static Mentor__V1__MatchFactor *factor_explained(md_req_t *req, const md_match_explain_t *ex, int f)
{
    Mentor__V1__MatchFactor *m = factor_new(req, f);
    char detail[200];
    if (m == NULL)
        return NULL;
    m->weight = ex->weight[f];
    m->value = ex->value[f];
    m->contribution = ex->contribution[f];
    m->neutral = (ex->neutral & (1u << f)) != 0;
    md_match_factor_detail(ex, f, detail, sizeof(detail));
    m->detail = md_req_strdup(req, detail);
    return m->detail != NULL ? m : NULL;
}

/* Every factor of an explanation, in the weights' order. */
static Mentor__V1__MatchFactor **factors_all(md_req_t *req, const md_match_explain_t *ex)
{
    Mentor__V1__MatchFactor **v = md_req_alloc(req, sizeof(*v) * MD_MATCH_NFACTORS);
    for (int f = 0; v != NULL && f < MD_MATCH_NFACTORS; f++) {
        v[f] = factor_explained(req, ex, f);
        if (v[f] == NULL)
            return NULL;
    }
    return v;
}

/* The top factors of an explanation. */
static int factors_top(md_req_t *req, const md_match_explain_t *ex, Mentor__V1__MatchFactor ***out,
                       size_t *n)
{
    uint32_t c[MD_MATCH_NFACTORS];
    int idx[3];
    for (int f = 0; f < MD_MATCH_NFACTORS; f++)
        c[f] = ex->contribution[f];
    *n = top_three(c, idx);
    *out = md_req_alloc(req, sizeof(**out) * 3);
    if (*out == NULL)
        return MD_ENOMEM;
    for (size_t i = 0; i < *n; i++) {
        (*out)[i] = factor_explained(req, ex, idx[i]);
        if ((*out)[i] == NULL)
            return MD_ENOMEM;
    }
    return MD_OK;
}

/* "1,2,3" into at most MD_MATCH_NFACTORS numbers (missing ones are 0). */
static void parse_nine(const char *s, uint32_t v[MD_MATCH_NFACTORS])
{
    memset(v, 0, sizeof(uint32_t) * MD_MATCH_NFACTORS);
    for (int i = 0; i < MD_MATCH_NFACTORS && *s != '\0'; i++) {
        char *end = NULL;
        unsigned long x = strtoul(s, &end, 10);
        if (end == s)
            break;
        v[i] = (uint32_t)x;
        s = *end == ',' ? end + 1 : end;
    }
}

/* The rules a viewer is told about: the other side's wish to avoid them is
 * theirs to keep (a mentee sees no "mentor_avoids", a mentor no
 * "mentee_avoids"); admins and coordinators see every rule. */
static uint32_t rules_for(md_req_t *req, uint32_t rules, uint64_t mentee, uint64_t mentor,
                          int manager)
{
    if (manager)
        return rules;
    if (caller(req) == mentee)
        rules &= ~(uint32_t)MD_MATCH_RULE_MENTOR_AVOIDS;
    if (caller(req) == mentor)
        rules &= ~(uint32_t)MD_MATCH_RULE_MENTEE_AVOIDS;
    return rules;
}

/* ------------------------------------------------------------ proposals */

static Mentor__V1__MatchProposal *proposal_from_row(md_req_t *req, const PGresult *r, int row)
{
    Mentor__V1__MatchProposal *p = md_req_alloc(req, sizeof(*p));
    if (p == NULL)
        return NULL;
    mentor__v1__match_proposal__init(p);
    p->id = md_res_u64(r, row, PC_ID);
    p->program_id = md_res_u64(r, row, PC_PROGRAM);
    p->mentee_id = md_res_u64(r, row, PC_MENTEE);
    p->mentee_name = md_res_str(req, r, row, PC_MENTEE_NAME);
    p->mentor_id = md_res_u64(r, row, PC_MENTOR);
    p->mentor_name = md_res_str(req, r, row, PC_MENTOR_NAME);
    p->score = (uint32_t)md_res_i64(r, row, PC_SCORE);
    p->status = (Mentor__V1__ProposalStatus)md_res_i64(r, row, PC_STATUS);
    p->pinned = md_res_bool(r, row, PC_PINNED);
    p->approved = md_res_bool(r, row, PC_APPROVED);
    p->mentee_accepted = md_res_bool(r, row, PC_MENTEE_OK);
    p->mentor_accepted = md_res_bool(r, row, PC_MENTOR_OK);
    p->run_id = md_res_u64(r, row, PC_RUN);
    p->created_at = md_res_i64(r, row, PC_CREATED);
    p->expires_at = md_res_i64(r, row, PC_EXPIRES);
    p->requested = md_res_bool(r, row, PC_REQUESTED);
    p->note = md_res_str(req, r, row, PC_NOTE);
    p->pair_id = md_res_u64(r, row, PC_PAIR);
    if (p->mentee_name == NULL || p->mentor_name == NULL || p->note == NULL)
        return NULL;
    /* Only the contributions are stored: the value of each factor is not
     * (MatchExplain recomputes it). */
    uint32_t contrib[MD_MATCH_NFACTORS], weights[MD_MATCH_NFACTORS];
    int idx[3];
    parse_nine(PQgetvalue(r, row, PC_FACTORS), contrib);
    parse_nine(PQgetvalue(r, row, PC_WEIGHTS), weights);
    size_t n = top_three(contrib, idx);
    p->top_factors = md_req_alloc(req, sizeof(*p->top_factors) * 3);
    if (p->top_factors == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        Mentor__V1__MatchFactor *f = factor_new(req, idx[i]);
        if (f == NULL)
            return NULL;
        f->weight = weights[idx[i]];
        f->contribution = contrib[idx[i]];
        p->top_factors[i] = f;
    }
    p->n_top_factors = n;
    return p;
}

static void reply_proposals(md_req_t *req, Mentor__V1__MatchProposal **items, size_t n)
{
    Mentor__V1__MatchListReply *l = md_req_alloc(req, sizeof(*l));
    if (l == NULL) {
        fail_nomem(req);
        return;
    }
    mentor__v1__match_list_reply__init(l);
    l->proposals = items;
    l->n_proposals = n;
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    resp.result_case = MENTOR__V1__RESPONSE__RESULT_MATCH_LIST;
    resp.match_list = l;
    md_req_reply(req, &resp);
}

/* Answers with the proposals of statement `stmt`. */
static void reply_proposal_rows(md_req_t *req, md_db_txn_t *txn, int stmt)
{
    PGresult *r = md_db_txn_result(txn, stmt);
    int n = r != NULL ? PQntuples(r) : 0;
    Mentor__V1__MatchProposal **items = md_req_alloc(req, sizeof(*items) * (size_t)(n ? n : 1));
    if (items == NULL) {
        fail_nomem(req);
        return;
    }
    for (int i = 0; i < n; i++) {
        items[i] = proposal_from_row(req, r, i);
        if (items[i] == NULL) {
            fail_nomem(req);
            return;
        }
    }
    reply_proposals(req, items, (size_t)n);
}

/* The callback of a transaction whose last statement reads the proposal it
 * made or changed. */
static void proposal_done(md_req_t *req, md_db_txn_t *txn, int err)
{
    match_state_t *st = req->state;
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, st != NULL ? st->program_field : NULL);
        return;
    }
    PGresult *r = md_db_txn_result(txn, md_db_txn_count(txn) - 1);
    if (r == NULL || PQntuples(r) != 1) {
        md_req_fail(req, MD_ENOTFOUND, NULL, "no such proposal");
        return;
    }
    reply_proposal_rows(req, txn, md_db_txn_count(txn) - 1);
}

/* ------------------------------------------------------------ MatchRun */

static void run_work(md_req_t *req)
{
    match_state_t *st = req->state;
    uint64_t t0 = mono_ns();
    md_match_program_t *prog = NULL;
    md_match_result_t *res = NULL;
    if (job_load(st, 0, &prog) != MD_OK)
        return;
    int rc = md_match_solve(md_match_program_engine(prog), (md_match_solver_t)st->solver, &res);
    if (rc != MD_OK) {
        st->err = rc == MD_ENOMEM ? MD_ENOMEM : MD_EINTERNAL;
        st->internal = 1;
        snprintf(st->err_msg, sizeof(st->err_msg), "the solver failed (%s)", md_err_name(rc));
        goto cleanup;
    }
    uint64_t ns = mono_ns() - t0;
    st->duration_ms = (uint32_t)(ns / 1000000u);
    const md_match_program_info_t *info = md_match_program_info(prog);
    st->mentors = info->mentors;
    st->mentees = info->mentees;
    st->objective = info->objective;
    st->new_pairs = (uint32_t)res->new_pairs;
    st->new_score = res->new_score;
    for (size_t i = 0; i < res->n_mentees; i++)
        st->unmatched += res->mentees[i].places > res->mentees[i].matched;
    for (size_t i = 0; i < res->n_pairs; i++)
        st->kept += res->pairs[i].pinned;
    if (!st->dry_run) {
        rc = md_match_apply_params(prog, res, "manual", st->solver, st->started_ms, st->duration_ms,
                                   &st->apply);
        if (rc != MD_OK) {
            st->err = MD_ENOMEM;
            goto cleanup;
        }
        st->have_apply = 1;
        goto cleanup;
    }
    /* A dry run answers with what it would propose. */
    st->proposals = md_req_alloc(req, sizeof(*st->proposals) * (res->n_pairs ? res->n_pairs : 1));
    if (st->proposals == NULL) {
        st->err = MD_ENOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < res->n_pairs; i++) {
        const md_match_pair_t *pr = &res->pairs[i];
        if (pr->pinned)
            continue;
        Mentor__V1__MatchProposal *p = md_req_alloc(req, sizeof(*p));
        md_match_explain_t ex;
        if (p == NULL || md_match_explain(md_match_program_engine(prog), pr->mentee_id,
                                          pr->mentor_id, &ex) != MD_OK) {
            st->err = p == NULL ? MD_ENOMEM : MD_EINTERNAL;
            goto cleanup;
        }
        mentor__v1__match_proposal__init(p);
        p->program_id = st->program_id;
        p->mentee_id = pr->mentee_id;
        p->mentee_name = md_req_strdup(req, md_match_program_name(prog, pr->mentee_id));
        p->mentor_id = pr->mentor_id;
        p->mentor_name = md_req_strdup(req, md_match_program_name(prog, pr->mentor_id));
        p->score = pr->score;
        p->status = MENTOR__V1__PROPOSAL_STATUS__PROPOSED;
        p->note = "";
        if (p->mentee_name == NULL || p->mentor_name == NULL ||
            factors_top(req, &ex, &p->top_factors, &p->n_top_factors) != MD_OK) {
            st->err = MD_ENOMEM;
            goto cleanup;
        }
        st->proposals[st->n_proposals++] = p;
    }
cleanup:
    md_match_result_free(res);
    md_match_program_free(prog);
}

static Mentor__V1__MatchRunInfo *run_info(md_req_t *req, match_state_t *st)
{
    Mentor__V1__MatchRunInfo *ri = md_req_alloc(req, sizeof(*ri));
    if (ri == NULL)
        return NULL;
    mentor__v1__match_run_info__init(ri);
    ri->program_id = st->program_id;
    ri->started_at = st->started_ms / 1000;
    ri->duration_ms = st->duration_ms;
    ri->reason = st->dry_run ? "dry run" : "manual";
    ri->solver = (Mentor__V1__MatchSolver)st->solver;
    ri->objective = (Mentor__V1__MatchObjective)st->objective;
    ri->dry_run = st->dry_run;
    ri->mentors = st->mentors;
    ri->mentees = st->mentees;
    ri->proposals = st->new_pairs;
    ri->kept = st->kept;
    ri->unmatched = st->unmatched;
    ri->total_score = st->new_score;
    ri->requested_by = caller(req);
    ri->status = "done";
    ri->error = "";
    return ri;
}

static void reply_run(md_req_t *req, Mentor__V1__MatchRunInfo *ri,
                      Mentor__V1__MatchProposal **proposals, size_t n)
{
    Mentor__V1__MatchRunReply *rep = md_req_alloc(req, sizeof(*rep));
    if (rep == NULL || ri == NULL) {
        fail_nomem(req);
        return;
    }
    mentor__v1__match_run_reply__init(rep);
    rep->run = ri;
    rep->proposals = proposals;
    rep->n_proposals = n;
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    resp.result_case = MENTOR__V1__RESPONSE__RESULT_MATCH_RUN;
    resp.match_run = rep;
    md_req_reply(req, &resp);
}

static void run_apply(md_req_t *req);

static void run_applied(md_req_t *req, md_db_txn_t *txn, int err)
{
    match_state_t *st = req->state;
    if (err == MD_EDB && strcmp(md_db_txn_sqlstate(txn), "55P03") == 0 &&
        ++st->apply_attempts < APPLY_ATTEMPTS) {
        /* Another run of the program (the background worker's, or another
         * instance's) holds its lock: write ours once it is done. */
        run_apply(req);
        return;
    }
    md_match_apply_params_free(&st->apply);
    if (err == MD_EDB && strcmp(md_db_txn_sqlstate(txn), "55P03") == 0) {
        md_req_fail(req, MD_EDBTIMEOUT, NULL,
                    "another match run of this program is still writing its proposals; try "
                    "again in a moment");
        return;
    }
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, "match_run.program_id");
        return;
    }
    PGresult *r = md_db_txn_result(txn, MD_REQ_FIRST + 2);
    if (PQntuples(r) != 1) {
        md_req_fail(req, MD_EINTERNAL, NULL, NULL);
        return;
    }
    Mentor__V1__MatchRunInfo *ri = run_info(req, st);
    if (ri != NULL) {
        ri->id = md_res_u64(r, 0, 0);
        ri->proposals = (uint32_t)md_res_i64(r, 0, 1);
        ri->kept = (uint32_t)md_res_i64(r, 0, 2);
        ri->total_score = md_res_i64(r, 0, 3);
    }
    md_auth_t *a = md_req_auth(req);
    md_log_info("match_run",
                "org=%" PRIu64 " program=%" PRIu64 " run=%" PRIu64
                " solver=%d proposals=%u kept=%u unmatched=%u ms=%u",
                a->org_id, st->program_id, ri ? ri->id : 0, st->solver, ri ? ri->proposals : 0,
                ri ? ri->kept : 0, st->unmatched, st->duration_ms);
    reply_run(req, ri, NULL, 0);
}

/* Writes the run (st->apply, freed by run_applied whatever happens). The
 * lock md_match_apply takes is held by a background recalculation for as
 * long as it runs, so the wait for it is bounded below the pool's timeout
 * and tried again. */
static void run_apply(md_req_t *req)
{
    match_state_t *st = req->state;
    md_db_txn_t *txn = md_req_txn(req);
    if (txn != NULL)
        md_db_txn_set_timeout(txn, RUN_WRITE_TIMEOUT_MS);
    if (txn == NULL || md_db_txn_add(txn, SQL_LONG_STATEMENT, 0, NULL) != MD_OK ||
        md_db_txn_add(txn, SQL_LOCK_TIMEOUT, 0, NULL) != MD_OK ||
        md_db_txn_add(txn, MD_MATCH_SQL_APPLY, MD_MATCH_APPLY_NPARAMS,
                      (const char *const *)st->apply.values) != MD_OK) {
        md_db_txn_free(txn);
        md_match_apply_params_free(&st->apply);
        fail_nomem(req);
        return;
    }
    md_req_submit(req, txn, run_applied);
}

static void run_solved(md_req_t *req)
{
    match_state_t *st = req->state;
    if (st->err != MD_OK) {
        if (st->have_apply)
            md_match_apply_params_free(&st->apply);
        fail_job(req, st);
        return;
    }
    if (st->dry_run) {
        reply_run(req, run_info(req, st), st->proposals, st->n_proposals);
        return;
    }
    run_apply(req);
}

static void run_loaded(md_req_t *req, md_db_txn_t *txn, int err)
{
    match_state_t *st = req->state;
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, "match_run.program_id");
        return;
    }
    PGresult *s = md_db_txn_result(txn, MD_REQ_FIRST + 1);
    int col = PQfnumber(s, "state");
    if (PQntuples(s) != 1 || col < 0) {
        md_req_fail(req, MD_ENOTFOUND, "match_run.program_id",
                    "no such program in your organization");
        return;
    }
    int state = (int)md_res_i64(s, 0, col);
    if (st->dry_run && (state < MENTOR__V1__PROGRAM_STATE__ENROLLING ||
                        state > MENTOR__V1__PROGRAM_STATE__ACTIVE)) {
        md_req_fail(req, MD_ESTATE, "match_run.program_id",
                    "a dry run needs the program to be enrolling, matching or active (it is %s)",
                    state_name(state));
        return;
    }
    if (!st->dry_run && state != MENTOR__V1__PROGRAM_STATE__MATCHING &&
        state != MENTOR__V1__PROGRAM_STATE__ACTIVE) {
        md_req_fail(req, MD_ESTATE, "match_run.program_id",
                    "the program must be matching or active to make proposals (it is %s); "
                    "a dry run shows what would be proposed",
                    state_name(state));
        return;
    }
    if (copy_load(st, txn, MD_REQ_FIRST + 1) != MD_OK) {
        fail_nomem(req);
        return;
    }
    if (md_req_work(req, run_work, run_solved) != MD_OK) {
        drop_load(st);
        md_req_fail(req, MD_EINTERNAL, NULL, NULL);
    }
}

void md_h_match_run(md_req_t *req)
{
    const Mentor__V1__MatchRun *m = req->msg->match_run;
    if (m->program_id == 0) {
        md_req_fail(req, MD_EINVAL, "match_run.program_id", "a program id is required");
        return;
    }
    int solver = m->solver == MENTOR__V1__MATCH_SOLVER__MATCH_SOLVER_UNSPECIFIED
                     ? MENTOR__V1__MATCH_SOLVER__OPTIMAL
                     : (int)m->solver;
    if (solver != MENTOR__V1__MATCH_SOLVER__OPTIMAL && solver != MENTOR__V1__MATCH_SOLVER__STABLE) {
        md_req_fail(req, MD_EINVAL, "match_run.solver", "the solver must be optimal or stable");
        return;
    }
    match_state_t *st = state_new(req);
    if (st == NULL)
        return;
    st->program_id = m->program_id;
    st->solver = solver;
    st->dry_run = m->dry_run;
    st->started_ms = wall_ms();
    const char *prog = md_req_u64(req, m->program_id);
    const char *one[1] = {prog};
    const char *two[2] = {prog, NULL};
    const stmt_t s[4] = {{SQL_REQUIRE_RUNNER, 1, one},
                         {MD_MATCH_SQL_SETTINGS, 1, one},
                         {MD_MATCH_SQL_PEOPLE, 2, two},
                         {MD_MATCH_SQL_FACTS, 2, two}};
    submit(req, s, 4, run_loaded);
}

/* ------------------------------------------------------------ MatchList */

static void list_done(md_req_t *req, md_db_txn_t *txn, int err)
{
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, "match_list.program_id");
        return;
    }
    PGresult *a = md_db_txn_result(txn, MD_REQ_FIRST);
    if (PQgetisnull(a, 0, 0)) {
        md_req_fail(req, MD_ENOTFOUND, "match_list.program_id",
                    "no such program in your organization");
        return;
    }
    const char *access = PQgetvalue(a, 0, 0);
    if (strcmp(access, "admin") != 0 && strcmp(access, "coordinator") != 0 &&
        strcmp(access, "participant") != 0) {
        md_req_fail(req, MD_ENOTFOUND, "match_list.program_id",
                    "you do not take part in this program");
        return;
    }
    reply_proposal_rows(req, txn, MD_REQ_FIRST + 1);
}

void md_h_match_list(md_req_t *req)
{
    const Mentor__V1__MatchList *m = req->msg->match_list;
    if (m->program_id == 0) {
        md_req_fail(req, MD_EINVAL, "match_list.program_id", "a program id is required");
        return;
    }
    if (m->status < 0 || m->status > MENTOR__V1__PROPOSAL_STATUS__WITHDRAWN) {
        md_req_fail(req, MD_EINVAL, "match_list.status", "unknown proposal status %d",
                    (int)m->status);
        return;
    }
    int status = m->all           ? 0
                 : m->status != 0 ? (int)m->status
                                  : MENTOR__V1__PROPOSAL_STATUS__PROPOSED;
    const char *prog = md_req_u64(req, m->program_id);
    const char *one[1] = {prog};
    const char *p[5] = {org_param(req), prog, md_req_i64(req, status), m->mine ? "false" : "true",
                        md_req_u64(req, caller(req))};
    const stmt_t s[2] = {{SQL_ACCESS, 1, one}, {SQL_PROPOSAL_LIST, 5, p}};
    submit(req, s, 2, list_done);
}

/* ------------------------------------------------------------ pair loads */

/* Explain, pin and reassign score one pair: (1) find the pair and the
 * caller's access, (2) read the two people (and the mentors the mentee
 * ranked, so the preference factor counts the mentee's whole ranking),
 * (3) explain it on the loop and hand the explanation to st->next. */

static void pair_loaded(md_req_t *req, md_db_txn_t *txn, int err)
{
    match_state_t *st = req->state;
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, st->program_field);
        return;
    }
    char msg[256];
    md_match_program_t *prog = NULL;
    int rc =
        md_match_program_load(st->program_id, md_db_txn_result(txn, MD_REQ_FIRST),
                              md_db_txn_result(txn, MD_REQ_FIRST + 1),
                              md_db_txn_result(txn, MD_REQ_FIRST + 2), 1, &prog, msg, sizeof(msg));
    if (rc != MD_OK) {
        char q[300];
        md_log_error("match_failed", "kind=%s program=%" PRIu64 " error=%s", req->entry->name,
                     st->program_id, md_log_quote(q, sizeof(q), msg));
        md_req_fail(req, rc == MD_ENOMEM ? MD_ENOMEM : MD_EINTERNAL, NULL, NULL);
        return;
    }
    md_match_explain_t ex;
    if (md_match_program_role(prog, st->mentee_id) != 2) {
        md_match_program_free(prog);
        md_req_fail(req, MD_ENOTFOUND, st->mentee_field,
                    "user %" PRIu64 " is not an active mentee of the program", st->mentee_id);
        return;
    }
    if (md_match_program_role(prog, st->mentor_id) != 1) {
        md_match_program_free(prog);
        md_req_fail(req, MD_ENOTFOUND, st->mentor_field,
                    "user %" PRIu64 " is not an active mentor of the program", st->mentor_id);
        return;
    }
    if (md_match_explain(md_match_program_engine(prog), st->mentee_id, st->mentor_id, &ex) !=
        MD_OK) {
        md_match_program_free(prog);
        md_req_fail(req, MD_EINTERNAL, NULL, NULL);
        return;
    }
    /* next answers the request (which frees st); prog is not in its arena. */
    st->next(req, st, prog, &ex);
    md_match_program_free(prog);
}

static int is_manager(const char *access)
{
    return strcmp(access, "admin") == 0 || strcmp(access, "coordinator") == 0;
}

static void pair_found(md_req_t *req, md_db_txn_t *txn, int err)
{
    match_state_t *st = req->state;
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, st->program_field);
        return;
    }
    PGresult *r = md_db_txn_result(txn, md_db_txn_count(txn) - 1);
    if (PQntuples(r) != 1) {
        md_req_fail(req, MD_ENOTFOUND, st->program_field, "no such proposal");
        return;
    }
    st->program_id = md_res_u64(r, 0, PK_PROGRAM);
    st->mentee_id = md_res_u64(r, 0, PK_MENTEE);
    st->mentor_id = md_res_u64(r, 0, PK_MENTOR);
    st->pinned = md_res_bool(r, 0, PK_PINNED);
    uint64_t orig = md_res_u64(r, 0, PK_ORIG_MENTOR);
    int by_proposal = orig != 0;
    const char *access = PQgetisnull(r, 0, PK_ACCESS) ? "" : PQgetvalue(r, 0, PK_ACCESS);
    st->manager = is_manager(access);
    uint64_t me = caller(req);
    int in_pair = me == st->mentee_id || me == (by_proposal ? orig : st->mentor_id);
    if (!st->manager) {
        if (access[0] == '\0' || !in_pair) {
            if (by_proposal)
                md_req_fail(req, MD_ENOTFOUND, st->program_field, "no such proposal");
            else if (access[0] == '\0')
                md_req_fail(req, MD_ENOTFOUND, st->program_field,
                            "no such program in your organization");
            else
                md_req_fail(req, MD_ENOTFOUND, st->mentee_field,
                            "you may see only the explanations of pairs you are in");
            return;
        }
        if (st->pair_mode != PAIR_EXPLAIN) {
            md_req_fail(req, MD_EPERM, NULL,
                        "only admins and the program's coordinators may do this");
            return;
        }
    }
    if (st->pair_mode == PAIR_REASSIGN && orig == st->mentor_id) {
        md_req_fail(req, MD_EINVAL, "match_reassign.mentor_id",
                    "the proposal already has this mentor");
        return;
    }
    /* {mentee,mentor[,ranked mentors]} */
    const char *ranked = PQgetvalue(r, 0, PK_RANKED);
    size_t rl = strlen(ranked);
    size_t cap = rl + 64;
    char *users = md_req_alloc(req, cap);
    if (users == NULL) {
        fail_nomem(req);
        return;
    }
    int w = snprintf(users, cap, "{%" PRIu64 ",%" PRIu64, st->mentee_id, st->mentor_id);
    if (rl > 2 && ranked[0] == '{' && ranked[rl - 1] == '}')
        snprintf(users + w, cap - (size_t)w, ",%.*s}", (int)(rl - 2), ranked + 1);
    else
        snprintf(users + w, cap - (size_t)w, "}");
    submit_load(req, st->program_id, users, pair_loaded);
}

static match_state_t *pair_state(md_req_t *req, int mode, const char *program_field,
                                 const char *mentee_field, const char *mentor_field,
                                 pair_next_fn next)
{
    match_state_t *st = state_new(req);
    if (st == NULL)
        return NULL;
    st->pair_mode = mode;
    st->program_field = program_field;
    st->mentee_field = mentee_field;
    st->mentor_field = mentor_field;
    st->next = next;
    return st;
}

/* ------------------------------------------------------------ MatchExplain */

static void explain_reply(md_req_t *req, match_state_t *st, const md_match_program_t *prog,
                          const md_match_explain_t *ex)
{
    Mentor__V1__MatchExplainReply *e = md_req_alloc(req, sizeof(*e));
    if (e == NULL) {
        fail_nomem(req);
        return;
    }
    mentor__v1__match_explain_reply__init(e);
    e->program_id = st->program_id;
    e->mentee_id = st->mentee_id;
    e->mentee_name = md_req_strdup(req, md_match_program_name(prog, st->mentee_id));
    e->mentor_id = st->mentor_id;
    e->mentor_name = md_req_strdup(req, md_match_program_name(prog, st->mentor_id));
    e->score = ex->score;
    e->factors = factors_all(req, ex);
    e->n_factors = MD_MATCH_NFACTORS;
    e->pinned = st->pinned;
    /* Capacity is left out: a load of two people cannot judge it. */
    uint32_t rules = rules_for(req, ex->blocked & ~(uint32_t)CAPACITY_RULES, st->mentee_id,
                               st->mentor_id, st->manager);
    e->blocked_by = md_req_alloc(req, sizeof(char *) * MD_MATCH_NRULES);
    if (e->mentee_name == NULL || e->mentor_name == NULL || e->factors == NULL ||
        e->blocked_by == NULL) {
        fail_nomem(req);
        return;
    }
    for (int b = 0; b < MD_MATCH_NRULES; b++) {
        const char *name = md_match_rule_name(1u << b);
        if ((rules & (1u << b)) && name != NULL)
            e->blocked_by[e->n_blocked_by++] = (char *)name;
    }
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    resp.result_case = MENTOR__V1__RESPONSE__RESULT_MATCH_EXPLAIN;
    resp.match_explain = e;
    md_req_reply(req, &resp);
}

void md_h_match_explain(md_req_t *req)
{
    const Mentor__V1__MatchExplain *m = req->msg->match_explain;
    if (m->proposal_id == 0 && (m->program_id == 0 || m->mentee_id == 0 || m->mentor_id == 0)) {
        md_req_fail(req, MD_EINVAL,
                    m->program_id == 0  ? "match_explain.program_id"
                    : m->mentee_id == 0 ? "match_explain.mentee_id"
                                        : "match_explain.mentor_id",
                    "give a proposal id, or the program, mentee and mentor ids");
        return;
    }
    if (m->proposal_id != 0) {
        match_state_t *st =
            pair_state(req, PAIR_EXPLAIN, "match_explain.proposal_id", "match_explain.proposal_id",
                       "match_explain.proposal_id", explain_reply);
        if (st == NULL)
            return;
        const char *p[3] = {org_param(req), md_req_u64(req, m->proposal_id), NULL};
        const stmt_t s[1] = {{SQL_PAIR_BY_PROPOSAL, 3, p}};
        submit(req, s, 1, pair_found);
        return;
    }
    match_state_t *st =
        pair_state(req, PAIR_EXPLAIN, "match_explain.program_id", "match_explain.mentee_id",
                   "match_explain.mentor_id", explain_reply);
    if (st == NULL)
        return;
    const char *p[3] = {md_req_u64(req, m->program_id), md_req_u64(req, m->mentee_id),
                        md_req_u64(req, m->mentor_id)};
    const stmt_t s[1] = {{SQL_PAIR_BY_IDS, 3, p}};
    submit(req, s, 1, pair_found);
}

/* ------------------------------------------------------------ MatchDecide */

void md_h_match_decide(md_req_t *req)
{
    const Mentor__V1__MatchDecide *m = req->msg->match_decide;
    if (m->proposal_id == 0) {
        md_req_fail(req, MD_EINVAL, "match_decide.proposal_id", "a proposal id is required");
        return;
    }
    if (m->decision < MENTOR__V1__MATCH_DECISION__APPROVE ||
        m->decision > MENTOR__V1__MATCH_DECISION__DECLINE) {
        md_req_fail(req, MD_EINVAL, "match_decide.decision",
                    "the decision must be approve, reject, accept or decline");
        return;
    }
    if (!md_model_text(m->note, TEXT_MAX)) {
        md_req_fail(req, MD_EINVAL, "match_decide.note",
                    "the note is at most %d characters of text", TEXT_MAX);
        return;
    }
    match_state_t *st = state_new(req);
    if (st == NULL)
        return;
    st->program_field = "match_decide.proposal_id";
    const char *id = md_req_u64(req, m->proposal_id);
    const char *dp[3] = {id, md_req_i64(req, m->decision), m->note};
    const char *pp[2] = {org_param(req), id};
    const stmt_t s[2] = {{SQL_DECIDE, 3, dp}, {SQL_PROPOSAL_BY_ID, 2, pp}};
    submit(req, s, 2, proposal_done);
}

/* ------------------------------------------------------------ MatchPin */

/* Checks a (program, mentee, mentor) triple; answers and returns -1 when
 * one is missing. */
static int check_triple(md_req_t *req, const char *kind, uint64_t program, uint64_t mentee,
                        uint64_t mentor)
{
    char field[64];
    const char *what = program == 0 ? "program_id" : mentee == 0 ? "mentee_id" : "mentor_id";
    if (program == 0 || mentee == 0 || mentor == 0) {
        snprintf(field, sizeof(field), "%s.%s", kind, what);
        md_req_fail(req, MD_EINVAL, field, "%s is required", what);
        return -1;
    }
    if (mentee == mentor) {
        snprintf(field, sizeof(field), "%s.mentor_id", kind);
        md_req_fail(req, MD_EINVAL, field, "the mentee and the mentor must be two people");
        return -1;
    }
    return 0;
}

static void pin_scored(md_req_t *req, match_state_t *st, const md_match_program_t *prog,
                       const md_match_explain_t *ex)
{
    (void)prog;
    char factors[160];
    md_match_factors_literal(ex, factors, sizeof(factors));
    const char *p[6] = {md_req_u64(req, st->program_id), md_req_u64(req, st->mentee_id),
                        md_req_u64(req, st->mentor_id),  "false",
                        md_req_i64(req, ex->score),      factors};
    const char *pp[1] = {org_param(req)};
    const stmt_t s[2] = {{SQL_PIN, 6, p}, {SQL_PROPOSAL_SET, 1, pp}};
    submit(req, s, 2, proposal_done);
}

void md_h_match_pin(md_req_t *req)
{
    const Mentor__V1__MatchPin *m = req->msg->match_pin;
    if (check_triple(req, "match_pin", m->program_id, m->mentee_id, m->mentor_id) != 0)
        return;
    match_state_t *st = pair_state(req, PAIR_PIN, "match_pin.program_id", "match_pin.mentee_id",
                                   "match_pin.mentor_id", pin_scored);
    if (st == NULL)
        return;
    const char *prog = md_req_u64(req, m->program_id);
    const char *mentee = md_req_u64(req, m->mentee_id);
    const char *mentor = md_req_u64(req, m->mentor_id);
    if (m->remove) {
        const char *p[6] = {prog, mentee, mentor, "true", "0", NO_FACTORS};
        const char *pp[1] = {org_param(req)};
        const stmt_t s[2] = {{SQL_PIN, 6, p}, {SQL_PROPOSAL_SET, 1, pp}};
        submit(req, s, 2, proposal_done);
        return;
    }
    /* Managers only, before anything about the two is read. */
    const char *one[1] = {prog};
    const char *p[3] = {prog, mentee, mentor};
    const stmt_t s[2] = {{SQL_REQUIRE_MANAGER, 1, one}, {SQL_PAIR_BY_IDS, 3, p}};
    submit(req, s, 2, pair_found);
}

/* ------------------------------------------------------------ MatchReassign */

static void reassign_scored(md_req_t *req, match_state_t *st, const md_match_program_t *prog,
                            const md_match_explain_t *ex)
{
    (void)prog;
    char factors[160];
    md_match_factors_literal(ex, factors, sizeof(factors));
    const Mentor__V1__MatchReassign *m = req->msg->match_reassign;
    const char *p[4] = {md_req_u64(req, m->proposal_id), md_req_u64(req, st->mentor_id),
                        md_req_i64(req, ex->score), factors};
    const char *pp[1] = {org_param(req)};
    const stmt_t s[2] = {{SQL_REASSIGN, 4, p}, {SQL_PROPOSAL_SET, 1, pp}};
    submit(req, s, 2, proposal_done);
}

void md_h_match_reassign(md_req_t *req)
{
    const Mentor__V1__MatchReassign *m = req->msg->match_reassign;
    if (m->proposal_id == 0) {
        md_req_fail(req, MD_EINVAL, "match_reassign.proposal_id", "a proposal id is required");
        return;
    }
    if (m->mentor_id == 0) {
        md_req_fail(req, MD_EINVAL, "match_reassign.mentor_id", "the new mentor's id is required");
        return;
    }
    match_state_t *st =
        pair_state(req, PAIR_REASSIGN, "match_reassign.proposal_id", "match_reassign.proposal_id",
                   "match_reassign.mentor_id", reassign_scored);
    if (st == NULL)
        return;
    const char *p[3] = {org_param(req), md_req_u64(req, m->proposal_id),
                        md_req_u64(req, m->mentor_id)};
    const stmt_t s[1] = {{SQL_PAIR_BY_PROPOSAL, 3, p}};
    submit(req, s, 1, pair_found);
}

/* ------------------------------------------------------------ MatchExclude */

static void exclude_done(md_req_t *req, md_db_txn_t *txn, int err)
{
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, "match_exclude.program_id");
        return;
    }
    md_req_reply_empty(req);
}

void md_h_match_exclude(md_req_t *req)
{
    const Mentor__V1__MatchExclude *m = req->msg->match_exclude;
    if (check_triple(req, "match_exclude", m->program_id, m->mentee_id, m->mentor_id) != 0)
        return;
    if (!md_model_text(m->reason, TEXT_MAX)) {
        md_req_fail(req, MD_EINVAL, "match_exclude.reason",
                    "the reason is at most %d characters of text", TEXT_MAX);
        return;
    }
    const char *p[5] = {md_req_u64(req, m->program_id), md_req_u64(req, m->mentee_id),
                        md_req_u64(req, m->mentor_id), m->remove ? "true" : "false", m->reason};
    const stmt_t s[1] = {{SQL_EXCLUDE, 5, p}};
    submit(req, s, 1, exclude_done);
}

/* ------------------------------------------------------------ preferences */

static void preferences_done(md_req_t *req, md_db_txn_t *txn, int err)
{
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err,
                       req->msg->kind_case == MENTOR__V1__REQUEST__KIND_MATCH_PREFERENCE_SET
                           ? "match_preference_set.program_id"
                           : "match_preference_list.program_id");
        return;
    }
    if (req->msg->kind_case == MENTOR__V1__REQUEST__KIND_MATCH_PREFERENCE_LIST &&
        PQgetisnull(md_db_txn_result(txn, MD_REQ_FIRST), 0, 0)) {
        md_req_fail(req, MD_ENOTFOUND, "match_preference_list.program_id",
                    "no such program in your organization");
        return;
    }
    PGresult *r = md_db_txn_result(txn, md_db_txn_count(txn) - 1);
    int n = PQntuples(r);
    Mentor__V1__MatchPreferenceListReply *l = md_req_alloc(req, sizeof(*l));
    Mentor__V1__MatchPreference **items = md_req_alloc(req, sizeof(*items) * (size_t)(n ? n : 1));
    if (l == NULL || items == NULL) {
        fail_nomem(req);
        return;
    }
    mentor__v1__match_preference_list_reply__init(l);
    for (int i = 0; i < n; i++) {
        Mentor__V1__MatchPreference *p = md_req_alloc(req, sizeof(*p));
        if (p == NULL) {
            fail_nomem(req);
            return;
        }
        mentor__v1__match_preference__init(p);
        p->program_id = md_res_u64(r, i, 0);
        p->user_id = md_res_u64(r, i, 1);
        p->other_id = md_res_u64(r, i, 2);
        p->other_name = md_res_str(req, r, i, 3);
        p->rank = (uint32_t)md_res_i64(r, i, 4);
        p->avoid = md_res_bool(r, i, 5);
        if (p->other_name == NULL) {
            fail_nomem(req);
            return;
        }
        items[i] = p;
    }
    l->preferences = items;
    l->n_preferences = (size_t)n;
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    resp.result_case = MENTOR__V1__RESPONSE__RESULT_MATCH_PREFERENCE_LIST;
    resp.match_preference_list = l;
    md_req_reply(req, &resp);
}

void md_h_match_preference_set(md_req_t *req)
{
    const Mentor__V1__MatchPreferenceSet *m = req->msg->match_preference_set;
    if (m->program_id == 0) {
        md_req_fail(req, MD_EINVAL, "match_preference_set.program_id", "a program id is required");
        return;
    }
    if (m->other_id == 0) {
        md_req_fail(req, MD_EINVAL, "match_preference_set.other_id",
                    "the other participant's user id is required");
        return;
    }
    if (m->rank > 100) {
        md_req_fail(req, MD_EINVAL, "match_preference_set.rank",
                    "a rank is 1 (most wanted) to 100, or 0 for none");
        return;
    }
    const char *prog = md_req_u64(req, m->program_id);
    const char *sp[4] = {prog, md_req_u64(req, m->other_id), md_req_i64(req, m->rank),
                         m->avoid ? "true" : "false"};
    const char *lp[3] = {org_param(req), prog, md_req_u64(req, caller(req))};
    const stmt_t s[2] = {{SQL_PREFERENCE_SET, 4, sp}, {SQL_PREFERENCE_LIST, 3, lp}};
    submit(req, s, 2, preferences_done);
}

void md_h_match_preference_list(md_req_t *req)
{
    const Mentor__V1__MatchPreferenceList *m = req->msg->match_preference_list;
    if (m->program_id == 0) {
        md_req_fail(req, MD_EINVAL, "match_preference_list.program_id", "a program id is required");
        return;
    }
    const char *prog = md_req_u64(req, m->program_id);
    const char *one[1] = {prog};
    const char *lp[3] = {org_param(req), prog, md_req_u64(req, caller(req))};
    const stmt_t s[2] = {{SQL_ACCESS, 1, one}, {SQL_PREFERENCE_LIST, 3, lp}};
    submit(req, s, 2, preferences_done);
}

/* ------------------------------------------------------------ self-match */

/* MatchSuggest and MatchRequest: (1) the caller must be an active mentee of
 * a self-match program that is matching or active, (2) read the whole
 * program, (3) score the caller's row on the thread pool. */

static int is_request(md_req_t *req)
{
    return req->msg->kind_case == MENTOR__V1__REQUEST__KIND_MATCH_REQUEST;
}

/* Finds the caller's row; answers through st on failure. */
static long self_row(md_req_t *req, match_state_t *st, const md_match_t *m)
{
    uint64_t me = caller(req);
    size_t lo = 0, hi = md_match_mentee_count(m);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (md_match_mentee_id(m, mid) < me)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < md_match_mentee_count(m) && md_match_mentee_id(m, lo) == me)
        return (long)lo;
    job_fail(st, MD_ESTATE,
             is_request(req) ? "match_request.program_id" : "match_suggest.program_id",
             "you are not an active mentee of this program");
    return -1;
}

static long mentor_index(const md_match_t *m, uint64_t id)
{
    size_t lo = 0, hi = md_match_mentor_count(m);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (md_match_mentor_id(m, mid) < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < md_match_mentor_count(m) && md_match_mentor_id(m, lo) == id ? (long)lo : -1;
}

/* Why a mentee cannot ask anyone: no place left, or on leave; 0 when the
 * row being empty has other reasons. */
static int mentee_blocked(match_state_t *st, const md_match_program_t *prog, uint64_t me,
                          const char *field)
{
    const md_match_t *m = md_match_program_engine(prog);
    md_match_explain_t ex;
    /* Any mentor tells, except one the mentee is kept with (an open request
     * or a pin), whose explanation leaves the capacity rules out. */
    size_t j = 0, n = md_match_mentor_count(m);
    for (; j < n; j++) {
        if (md_match_explain(m, me, md_match_mentor_id(m, j), &ex) != MD_OK)
            return 0;
        if (!ex.pinned)
            break;
    }
    if (j == n)
        return 0;
    if (ex.blocked & MD_MATCH_RULE_MENTEE_LEAVE) {
        job_fail(st, MD_ESTATE, field, "you are on leave, so you cannot be matched now");
        return 1;
    }
    if (ex.blocked & MD_MATCH_RULE_MENTEE_FULL) {
        st->err = MD_ESTATE;
        st->err_field = field;
        snprintf(st->err_msg, sizeof(st->err_msg),
                 "you already have %u mentor(s) or open request(s), the program's limit; wait "
                 "for an answer",
                 md_match_program_info(prog)->mentors_per_mentee);
        return 1;
    }
    return 0;
}

typedef struct {
    uint32_t index;
    uint16_t score;
} candidate_t;

static int cmp_candidate(const void *a, const void *b)
{
    const candidate_t *x = a, *y = b;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static void suggest_work(md_req_t *req)
{
    match_state_t *st = req->state;
    md_match_program_t *prog = NULL;
    uint16_t *row = NULL;
    candidate_t *cand = NULL;
    if (job_load(st, 1, &prog) != MD_OK)
        return;
    const md_match_t *m = md_match_program_engine(prog);
    long me = self_row(req, st, m);
    if (me < 0)
        goto cleanup;
    size_t nm = md_match_mentor_count(m);
    row = malloc(sizeof(*row) * (nm ? nm : 1));
    cand = malloc(sizeof(*cand) * (nm ? nm : 1));
    if (row == NULL || cand == NULL) {
        st->err = MD_ENOMEM;
        goto cleanup;
    }
    if (md_match_row(m, (size_t)me, row) != MD_OK) {
        st->err = MD_EINTERNAL;
        goto cleanup;
    }
    size_t nc = 0;
    for (size_t j = 0; j < nm; j++) {
        if (row[j] != MD_MATCH_NO_PAIR)
            cand[nc++] = (candidate_t){(uint32_t)j, row[j]};
    }
    if (nc == 0 && mentee_blocked(st, prog, caller(req), "match_suggest.program_id"))
        goto cleanup;
    qsort(cand, nc, sizeof(*cand), cmp_candidate);
    if (nc > st->limit)
        nc = st->limit;
    st->suggestions = md_req_alloc(req, sizeof(*st->suggestions) * (nc ? nc : 1));
    if (st->suggestions == NULL) {
        st->err = MD_ENOMEM;
        goto cleanup;
    }
    for (size_t i = 0; i < nc; i++) {
        uint64_t mentor = md_match_mentor_id(m, cand[i].index);
        md_match_explain_t ex;
        Mentor__V1__MatchSuggestion *s = md_req_alloc(req, sizeof(*s));
        if (s == NULL || md_match_explain(m, caller(req), mentor, &ex) != MD_OK) {
            st->err = s == NULL ? MD_ENOMEM : MD_EINTERNAL;
            goto cleanup;
        }
        mentor__v1__match_suggestion__init(s);
        s->mentor_id = mentor;
        s->mentor_name = md_req_strdup(req, md_match_program_name(prog, mentor));
        s->score = ex.score;
        s->factors = factors_all(req, &ex);
        s->n_factors = MD_MATCH_NFACTORS;
        s->open_places = md_match_program_room(prog, mentor);
        if (s->mentor_name == NULL || s->factors == NULL) {
            st->err = MD_ENOMEM;
            goto cleanup;
        }
        st->suggestions[st->n_suggestions++] = s;
    }
cleanup:
    free(cand);
    free(row);
    md_match_program_free(prog);
}

static void suggest_done(md_req_t *req)
{
    match_state_t *st = req->state;
    if (st->err != MD_OK) {
        fail_job(req, st);
        return;
    }
    Mentor__V1__MatchSuggestReply *rep = md_req_alloc(req, sizeof(*rep));
    if (rep == NULL) {
        fail_nomem(req);
        return;
    }
    mentor__v1__match_suggest_reply__init(rep);
    rep->suggestions = st->suggestions;
    rep->n_suggestions = st->n_suggestions;
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    resp.result_case = MENTOR__V1__RESPONSE__RESULT_MATCH_SUGGEST;
    resp.match_suggest = rep;
    md_req_reply(req, &resp);
}

static void request_work(md_req_t *req)
{
    match_state_t *st = req->state;
    md_match_program_t *prog = NULL;
    uint16_t *row = NULL;
    if (job_load(st, 1, &prog) != MD_OK)
        return;
    const md_match_t *m = md_match_program_engine(prog);
    long me = self_row(req, st, m);
    if (me < 0)
        goto cleanup;
    long j = mentor_index(m, st->mentor_id);
    if (j < 0) {
        st->err = MD_ENOTFOUND;
        st->err_field = "match_request.mentor_id";
        snprintf(st->err_msg, sizeof(st->err_msg),
                 "user %" PRIu64 " is not an active mentor of the program", st->mentor_id);
        goto cleanup;
    }
    size_t nm = md_match_mentor_count(m);
    row = malloc(sizeof(*row) * nm);
    md_match_explain_t ex;
    if (row == NULL) {
        st->err = MD_ENOMEM;
        goto cleanup;
    }
    if (md_match_row(m, (size_t)me, row) != MD_OK ||
        md_match_explain(m, caller(req), st->mentor_id, &ex) != MD_OK) {
        st->err = MD_EINTERNAL;
        goto cleanup;
    }
    if (row[j] == MD_MATCH_NO_PAIR) {
        if (mentee_blocked(st, prog, caller(req), "match_request.program_id"))
            goto cleanup;
        uint32_t rules = rules_for(req, ex.blocked, caller(req), st->mentor_id, 0);
        char text[300];
        md_match_rules_text(rules, text, sizeof(text));
        st->err = MD_ESTATE;
        st->err_field = "match_request.mentor_id";
        if (rules == 0)
            snprintf(st->err_msg, sizeof(st->err_msg), "this mentor cannot take you");
        else if (rules & MD_MATCH_RULE_MENTOR_FULL)
            snprintf(st->err_msg, sizeof(st->err_msg),
                     "this mentor has no room left; blocked by: %s", text);
        else
            snprintf(st->err_msg, sizeof(st->err_msg),
                     "you cannot request this mentor; blocked by: %s", text);
        goto cleanup;
    }
    st->score = ex.score;
    md_match_factors_literal(&ex, st->factors, sizeof(st->factors));
cleanup:
    free(row);
    md_match_program_free(prog);
}

static void request_done(md_req_t *req)
{
    match_state_t *st = req->state;
    if (st->err != MD_OK) {
        fail_job(req, st);
        return;
    }
    const Mentor__V1__MatchRequest *m = req->msg->match_request;
    const char *p[5] = {md_req_u64(req, st->program_id), md_req_u64(req, st->mentor_id), m->message,
                        md_req_i64(req, st->score), st->factors};
    const char *pp[1] = {org_param(req)};
    const stmt_t s[2] = {{SQL_REQUEST, 5, p}, {SQL_PROPOSAL_SET, 1, pp}};
    st->program_field = "match_request.program_id";
    submit(req, s, 2, proposal_done);
}

static void self_loaded(md_req_t *req, md_db_txn_t *txn, int err)
{
    match_state_t *st = req->state;
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, st->program_field);
        return;
    }
    if (copy_load(st, txn, MD_REQ_FIRST) != MD_OK) {
        fail_nomem(req);
        return;
    }
    int rc = is_request(req) ? md_req_work(req, request_work, request_done)
                             : md_req_work(req, suggest_work, suggest_done);
    if (rc != MD_OK) {
        drop_load(st);
        md_req_fail(req, MD_EINTERNAL, NULL, NULL);
    }
}

static void self_checked(md_req_t *req, md_db_txn_t *txn, int err)
{
    match_state_t *st = req->state;
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, st->program_field);
        return;
    }
    PGresult *r = md_db_txn_result(txn, MD_REQ_FIRST);
    if (PQntuples(r) != 1 || PQgetisnull(r, 0, 3)) {
        md_req_fail(req, MD_ENOTFOUND, st->program_field, "no such program in your organization");
        return;
    }
    int mode = (int)md_res_i64(r, 0, 0), state = (int)md_res_i64(r, 0, 1);
    int role = (int)md_res_i64(r, 0, 2);
    if (mode != MENTOR__V1__MATCH_MODE__SELF_MATCH) {
        md_req_fail(req, MD_ESTATE, st->program_field,
                    "the program is not in self-match mode; its coordinators make the matches");
        return;
    }
    if (state != MENTOR__V1__PROGRAM_STATE__MATCHING &&
        state != MENTOR__V1__PROGRAM_STATE__ACTIVE) {
        md_req_fail(req, MD_ESTATE, st->program_field,
                    "the program must be matching or active (it is %s)", state_name(state));
        return;
    }
    if (role != MENTOR__V1__PARTICIPANT_ROLE__MENTEE) {
        md_req_fail(req, MD_ESTATE, st->program_field, "only the program's active mentees %s",
                    is_request(req) ? "request mentors" : "ask for suggestions");
        return;
    }
    submit_load(req, st->program_id, NULL, self_loaded);
}

static void submit_self_check(md_req_t *req, match_state_t *st)
{
    const char *p[3] = {org_param(req), md_req_u64(req, st->program_id),
                        md_req_u64(req, caller(req))};
    const stmt_t s[1] = {{SQL_SELF_CHECK, 3, p}};
    submit(req, s, 1, self_checked);
}

void md_h_match_suggest(md_req_t *req)
{
    const Mentor__V1__MatchSuggest *m = req->msg->match_suggest;
    if (m->program_id == 0) {
        md_req_fail(req, MD_EINVAL, "match_suggest.program_id", "a program id is required");
        return;
    }
    if (m->limit > SUGGEST_MAX) {
        md_req_fail(req, MD_EINVAL, "match_suggest.limit", "the limit is 1-%d", SUGGEST_MAX);
        return;
    }
    match_state_t *st = state_new(req);
    if (st == NULL)
        return;
    st->program_id = m->program_id;
    st->limit = m->limit ? m->limit : SUGGEST_DEFAULT;
    st->program_field = "match_suggest.program_id";
    submit_self_check(req, st);
}

void md_h_match_request(md_req_t *req)
{
    const Mentor__V1__MatchRequest *m = req->msg->match_request;
    if (m->program_id == 0) {
        md_req_fail(req, MD_EINVAL, "match_request.program_id", "a program id is required");
        return;
    }
    if (m->mentor_id == 0) {
        md_req_fail(req, MD_EINVAL, "match_request.mentor_id", "the mentor's user id is required");
        return;
    }
    if (m->mentor_id == caller(req)) {
        md_req_fail(req, MD_EINVAL, "match_request.mentor_id", "you cannot be your own mentor");
        return;
    }
    if (!md_model_text(m->message, TEXT_MAX)) {
        md_req_fail(req, MD_EINVAL, "match_request.message",
                    "the message is at most %d characters of text", TEXT_MAX);
        return;
    }
    match_state_t *st = state_new(req);
    if (st == NULL)
        return;
    st->program_id = m->program_id;
    st->mentor_id = m->mentor_id;
    st->program_field = "match_request.program_id";
    submit_self_check(req, st);
}

/* ------------------------------------------------------------ MatchRunList */

static void run_list_done(md_req_t *req, md_db_txn_t *txn, int err)
{
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, "match_run_list.program_id");
        return;
    }
    PGresult *r = md_db_txn_result(txn, MD_REQ_FIRST + 1);
    int n = PQntuples(r);
    Mentor__V1__MatchRunListReply *l = md_req_alloc(req, sizeof(*l));
    Mentor__V1__MatchRunInfo **items = md_req_alloc(req, sizeof(*items) * (size_t)(n ? n : 1));
    if (l == NULL || items == NULL) {
        fail_nomem(req);
        return;
    }
    mentor__v1__match_run_list_reply__init(l);
    for (int i = 0; i < n; i++) {
        Mentor__V1__MatchRunInfo *ri = md_req_alloc(req, sizeof(*ri));
        if (ri == NULL) {
            fail_nomem(req);
            return;
        }
        mentor__v1__match_run_info__init(ri);
        ri->id = md_res_u64(r, i, 0);
        ri->program_id = md_res_u64(r, i, 1);
        ri->started_at = md_res_i64(r, i, 2);
        ri->duration_ms = (uint32_t)md_res_i64(r, i, 3);
        ri->reason = md_res_str(req, r, i, 4);
        ri->solver = (Mentor__V1__MatchSolver)md_res_i64(r, i, 5);
        ri->objective = (Mentor__V1__MatchObjective)md_res_i64(r, i, 6);
        ri->mentors = (uint32_t)md_res_i64(r, i, 7);
        ri->mentees = (uint32_t)md_res_i64(r, i, 8);
        ri->proposals = (uint32_t)md_res_i64(r, i, 9);
        ri->kept = (uint32_t)md_res_i64(r, i, 10);
        ri->unmatched = (uint32_t)md_res_i64(r, i, 11);
        ri->total_score = md_res_i64(r, i, 12);
        ri->requested_by = md_res_u64(r, i, 13);
        ri->status = md_res_str(req, r, i, 14);
        ri->error = md_res_str(req, r, i, 15);
        if (ri->reason == NULL || ri->status == NULL || ri->error == NULL) {
            fail_nomem(req);
            return;
        }
        items[i] = ri;
    }
    l->runs = items;
    l->n_runs = (size_t)n;
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    resp.result_case = MENTOR__V1__RESPONSE__RESULT_MATCH_RUN_LIST;
    resp.match_run_list = l;
    md_req_reply(req, &resp);
}

void md_h_match_run_list(md_req_t *req)
{
    const Mentor__V1__MatchRunList *m = req->msg->match_run_list;
    if (m->program_id == 0) {
        md_req_fail(req, MD_EINVAL, "match_run_list.program_id", "a program id is required");
        return;
    }
    if (m->limit > RUN_LIST_MAX) {
        md_req_fail(req, MD_EINVAL, "match_run_list.limit", "the limit is 1-%d", RUN_LIST_MAX);
        return;
    }
    const char *prog = md_req_u64(req, m->program_id);
    const char *one[1] = {prog};
    const char *p[3] = {org_param(req), prog,
                        md_req_i64(req, m->limit ? m->limit : RUN_LIST_DEFAULT)};
    const stmt_t s[2] = {{SQL_REQUIRE_MANAGER, 1, one}, {SQL_RUN_LIST, 3, p}};
    submit(req, s, 2, run_list_done);
}

/* ------------------------------------------------------------ pairs */

static Mentor__V1__Pair *pair_from_row(md_req_t *req, const PGresult *r, int row)
{
    Mentor__V1__Pair *p = md_req_alloc(req, sizeof(*p));
    if (p == NULL)
        return NULL;
    mentor__v1__pair__init(p);
    p->id = md_res_u64(r, row, 0);
    p->program_id = md_res_u64(r, row, 1);
    p->mentee_id = md_res_u64(r, row, 2);
    p->mentee_name = md_res_str(req, r, row, 3);
    p->mentor_id = md_res_u64(r, row, 4);
    p->mentor_name = md_res_str(req, r, row, 5);
    p->score = (uint32_t)md_res_i64(r, row, 6);
    p->status = md_res_str(req, r, row, 7);
    p->started_at = md_res_i64(r, row, 8);
    p->ended_at = md_res_i64(r, row, 9);
    p->end_reason = md_res_str(req, r, row, 10);
    p->rematch_requested_at = md_res_i64(r, row, 11);
    p->rematch_reason = md_res_str(req, r, row, 12);
    p->proposal_id = md_res_u64(r, row, 13);
    if (p->mentee_name == NULL || p->mentor_name == NULL || p->status == NULL ||
        p->end_reason == NULL || p->rematch_reason == NULL)
        return NULL;
    return p;
}

/* Answers with the pairs of the transaction's last statement. */
static void reply_pairs(md_req_t *req, md_db_txn_t *txn)
{
    PGresult *r = md_db_txn_result(txn, md_db_txn_count(txn) - 1);
    int n = PQntuples(r);
    Mentor__V1__PairListReply *l = md_req_alloc(req, sizeof(*l));
    Mentor__V1__Pair **items = md_req_alloc(req, sizeof(*items) * (size_t)(n ? n : 1));
    if (l == NULL || items == NULL) {
        fail_nomem(req);
        return;
    }
    mentor__v1__pair_list_reply__init(l);
    for (int i = 0; i < n; i++) {
        items[i] = pair_from_row(req, r, i);
        if (items[i] == NULL) {
            fail_nomem(req);
            return;
        }
    }
    l->pairs = items;
    l->n_pairs = (size_t)n;
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    resp.result_case = MENTOR__V1__RESPONSE__RESULT_PAIR_LIST;
    resp.pair_list = l;
    md_req_reply(req, &resp);
}

static void pair_list_done(md_req_t *req, md_db_txn_t *txn, int err)
{
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, "pair_list.program_id");
        return;
    }
    if (md_db_txn_count(txn) > MD_REQ_FIRST + 1 &&
        PQgetisnull(md_db_txn_result(txn, MD_REQ_FIRST), 0, 0)) {
        md_req_fail(req, MD_ENOTFOUND, "pair_list.program_id",
                    "no such program in your organization");
        return;
    }
    reply_pairs(req, txn);
}

void md_h_pair_list(md_req_t *req)
{
    const Mentor__V1__PairList *m = req->msg->pair_list;
    const char *prog = md_req_u64(req, m->program_id);
    const char *one[1] = {prog};
    const char *p[5] = {org_param(req), prog, m->include_ended ? "true" : "false",
                        m->mine ? "false" : "true", md_req_u64(req, caller(req))};
    if (m->program_id == 0) {
        const stmt_t s[1] = {{SQL_PAIR_LIST, 5, p}};
        submit(req, s, 1, pair_list_done);
        return;
    }
    const stmt_t s[2] = {{SQL_ACCESS, 1, one}, {SQL_PAIR_LIST, 5, p}};
    submit(req, s, 2, pair_list_done);
}

static void rematch_done(md_req_t *req, md_db_txn_t *txn, int err)
{
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, "rematch_request.pair_id");
        return;
    }
    reply_pairs(req, txn);
}

void md_h_rematch_request(md_req_t *req)
{
    const Mentor__V1__RematchRequest *m = req->msg->rematch_request;
    if (m->pair_id == 0) {
        md_req_fail(req, MD_EINVAL, "rematch_request.pair_id", "a pair id is required");
        return;
    }
    size_t blank = strspn(m->reason, " \t\r\n");
    if (m->reason[blank] == '\0' || !md_model_text(m->reason, TEXT_MAX)) {
        md_req_fail(req, MD_EINVAL, "rematch_request.reason",
                    "say why you ask for a rematch: 1-%d characters of text", TEXT_MAX);
        return;
    }
    const char *id = md_req_u64(req, m->pair_id);
    const char *rp[2] = {id, m->reason};
    const char *pp[2] = {org_param(req), id};
    const stmt_t s[2] = {{SQL_REMATCH, 2, rp}, {SQL_PAIR_BY_ID, 2, pp}};
    submit(req, s, 2, rematch_done);
}

/* ------------------------------------------------------------ training */

static void training_done(md_req_t *req, md_db_txn_t *txn, int err)
{
    if (err != MD_OK) {
        md_req_fail_db(req, txn, err, "participant_training.program_id");
        return;
    }
    md_participant_reply_db(req, txn, err);
}

void md_h_participant_training(md_req_t *req)
{
    const Mentor__V1__ParticipantTraining *m = req->msg->participant_training;
    if (m->program_id == 0) {
        md_req_fail(req, MD_EINVAL, "participant_training.program_id", "a program id is required");
        return;
    }
    if (m->user_id == 0) {
        md_req_fail(req, MD_EINVAL, "participant_training.user_id", "a user id is required");
        return;
    }
    const char *p[3] = {md_req_u64(req, m->program_id), md_req_u64(req, m->user_id),
                        m->done ? "true" : "false"};
    md_db_txn_t *txn = md_req_txn(req);
    if (txn == NULL || md_db_txn_add(txn, SQL_TRAINING, 3, p) != MD_OK ||
        md_participant_add_read(req, txn, m->program_id, m->user_id) != MD_OK) {
        md_db_txn_free(txn);
        fail_nomem(req);
        return;
    }
    md_req_submit(req, txn, training_done);
}
