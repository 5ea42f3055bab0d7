/* matching.c: matching as mentorctl shows it. The protocol carries scores as
 * hundredths of a point so that every party adds them up exactly; people
 * read points with two decimals, and the short factor lists of tables use
 * one. The names users type for solvers, statuses, objectives and modes
 * are the ones output shows, so what a table prints can be pasted back
 * into a command. */
#include "md_matching.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

typedef struct {
    const char *name;
    int value;
} named_t;

static const named_t solvers[] = {
    {"optimal", MENTOR__V1__MATCH_SOLVER__OPTIMAL},
    {"stable", MENTOR__V1__MATCH_SOLVER__STABLE},
};

static const named_t statuses[] = {
    {"proposed", MENTOR__V1__PROPOSAL_STATUS__PROPOSED},
    {"paired", MENTOR__V1__PROPOSAL_STATUS__PAIRED},
    {"declined", MENTOR__V1__PROPOSAL_STATUS__DECLINED},
    {"rejected", MENTOR__V1__PROPOSAL_STATUS__REJECTED},
    {"superseded", MENTOR__V1__PROPOSAL_STATUS__SUPERSEDED},
    {"expired", MENTOR__V1__PROPOSAL_STATUS__EXPIRED},
    {"withdrawn", MENTOR__V1__PROPOSAL_STATUS__WITHDRAWN},
};

static const named_t objectives[] = {
    {"participation", MENTOR__V1__MATCH_OBJECTIVE__PARTICIPATION},
    {"score", MENTOR__V1__MATCH_OBJECTIVE__SCORE},
};

static const named_t modes[] = {
    {"admin", MENTOR__V1__MATCH_MODE__ADMIN_LED},
    {"self", MENTOR__V1__MATCH_MODE__SELF_MATCH},
};

static const char *name_of(const named_t *t, size_t n, int value, const char *other)
{
    for (size_t i = 0; i < n; i++) {
        if (t[i].value == value)
            return t[i].name;
    }
    return other;
}

static int parse_named(const named_t *t, size_t n, const char *s, int *out)
{
    for (size_t i = 0; s != NULL && i < n; i++) {
        if (strcasecmp(s, t[i].name) == 0) {
            *out = t[i].value;
            return MD_OK;
        }
    }
    return MD_EINVAL;
}

const char *md_solver_name(int solver)
{
    return name_of(solvers, COUNT(solvers), solver, "optimal");
}

int md_solver_parse(const char *s, int *solver)
{
    return parse_named(solvers, COUNT(solvers), s, solver);
}

const char *md_proposal_status_name(int status)
{
    return name_of(statuses, COUNT(statuses), status, "unspecified");
}

int md_proposal_status_parse(const char *s, int *status)
{
    return parse_named(statuses, COUNT(statuses), s, status);
}

const char *md_matching_objective_name(int objective)
{
    return name_of(objectives, COUNT(objectives), objective, "unspecified");
}

int md_matching_objective_parse(const char *s, int *objective)
{
    return parse_named(objectives, COUNT(objectives), s, objective);
}

const char *md_matching_mode_name(int mode)
{
    return name_of(modes, COUNT(modes), mode, "unspecified");
}

int md_matching_mode_parse(const char *s, int *mode)
{
    return parse_named(modes, COUNT(modes), s, mode);
}

const char *md_score_text(int64_t hundredths, char buf[MD_SCORE_LEN])
{
    /* Unsigned arithmetic, so that even INT64_MIN has a magnitude. */
    uint64_t mag = hundredths < 0 ? 0 - (uint64_t)hundredths : (uint64_t)hundredths;
    snprintf(buf, MD_SCORE_LEN, "%s%" PRIu64 ".%02u", hundredths < 0 ? "-" : "", mag / 100,
             (unsigned)(mag % 100));
    return buf;
}

void md_factors_text(Mentor__V1__MatchFactor *const *factors, size_t n, size_t k, md_str_t *out)
{
    /* A selection by repeated maximum: n is nine factors, and unlike a
     * sort it needs no scratch space and keeps ties in the given order. */
    unsigned char used[64] = {0};
    size_t shown = 0;
    if (n > sizeof(used))
        n = sizeof(used);
    while (shown < k) {
        size_t best = n;
        for (size_t i = 0; i < n; i++) {
            if (used[i] || factors[i] == NULL || factors[i]->contribution == 0)
                continue;
            if (best == n || factors[i]->contribution > factors[best]->contribution)
                best = i;
        }
        if (best == n)
            break;
        used[best] = 1;
        uint32_t tenths = (uint32_t)(((uint64_t)factors[best]->contribution + 5) / 10);
        md_str_add(out, "%s%s %u.%u", shown > 0 ? ", " : "", factors[best]->name, tenths / 10,
                   tenths % 10);
        shown++;
    }
}

void md_proposal_flags_text(const Mentor__V1__MatchProposal *p, md_str_t *out)
{
    const struct {
        int set;
        const char *name;
    } flags[] = {
        {p->pinned, "pinned"},
        {p->approved, "approved"},
        {p->mentee_accepted, "mentee ok"},
        {p->mentor_accepted, "mentor ok"},
        {p->requested, "requested"},
    };
    int any = 0;
    for (size_t i = 0; i < COUNT(flags); i++) {
        if (!flags[i].set)
            continue;
        md_str_add(out, "%s%s", any ? ", " : "", flags[i].name);
        any = 1;
    }
}

/* ------------------------------------------------------------------ */
/* JSON */

static void json_factors(md_json_t *j, const char *key, Mentor__V1__MatchFactor *const *f, size_t n)
{
    md_json_begin_array(j, key);
    for (size_t i = 0; i < n; i++)
        md_json_factor(j, NULL, f[i]);
    md_json_end_array(j);
}

void md_json_factor(md_json_t *j, const char *key, const Mentor__V1__MatchFactor *f)
{
    if (f == NULL) {
        md_json_null(j, key);
        return;
    }
    md_json_begin_object(j, key);
    md_json_string(j, "name", f->name);
    md_json_uint(j, "weight", f->weight);
    md_json_uint(j, "value", f->value);
    md_json_uint(j, "contribution", f->contribution);
    md_json_bool(j, "neutral", f->neutral);
    md_json_string(j, "detail", f->detail);
    md_json_end_object(j);
}

void md_json_proposal(md_json_t *j, const char *key, const Mentor__V1__MatchProposal *p)
{
    if (p == NULL) {
        md_json_null(j, key);
        return;
    }
    md_json_begin_object(j, key);
    md_json_uint(j, "id", p->id);
    md_json_uint(j, "program_id", p->program_id);
    md_json_uint(j, "mentee_id", p->mentee_id);
    md_json_string(j, "mentee_name", p->mentee_name);
    md_json_uint(j, "mentor_id", p->mentor_id);
    md_json_string(j, "mentor_name", p->mentor_name);
    md_json_uint(j, "score", p->score);
    md_json_string(j, "status", md_proposal_status_name(p->status));
    md_json_bool(j, "pinned", p->pinned);
    md_json_bool(j, "approved", p->approved);
    md_json_bool(j, "mentee_accepted", p->mentee_accepted);
    md_json_bool(j, "mentor_accepted", p->mentor_accepted);
    json_factors(j, "top_factors", p->top_factors, p->n_top_factors);
    md_json_uint(j, "run_id", p->run_id);
    md_json_time(j, "created_at", p->created_at);
    md_json_time(j, "expires_at", p->expires_at);
    md_json_bool(j, "requested", p->requested);
    md_json_string(j, "note", p->note);
    md_json_uint(j, "pair_id", p->pair_id);
    md_json_end_object(j);
}

void md_json_run(md_json_t *j, const char *key, const Mentor__V1__MatchRunInfo *r)
{
    if (r == NULL) {
        md_json_null(j, key);
        return;
    }
    md_json_begin_object(j, key);
    md_json_uint(j, "id", r->id);
    md_json_uint(j, "program_id", r->program_id);
    md_json_time(j, "started_at", r->started_at);
    md_json_uint(j, "duration_ms", r->duration_ms);
    md_json_string(j, "reason", r->reason);
    md_json_string(j, "solver", md_solver_name(r->solver));
    md_json_string(j, "objective", md_matching_objective_name(r->objective));
    md_json_bool(j, "dry_run", r->dry_run);
    md_json_uint(j, "mentors", r->mentors);
    md_json_uint(j, "mentees", r->mentees);
    md_json_uint(j, "proposals", r->proposals);
    md_json_uint(j, "kept", r->kept);
    md_json_uint(j, "unmatched", r->unmatched);
    md_json_int(j, "total_score", r->total_score);
    md_json_uint(j, "requested_by", r->requested_by);
    md_json_string(j, "status", r->status);
    md_json_string(j, "error", r->error);
    md_json_end_object(j);
}

void md_json_explanation(md_json_t *j, const char *key, const Mentor__V1__MatchExplainReply *e)
{
    if (e == NULL) {
        md_json_null(j, key);
        return;
    }
    md_json_begin_object(j, key);
    md_json_uint(j, "program_id", e->program_id);
    md_json_uint(j, "mentee_id", e->mentee_id);
    md_json_string(j, "mentee_name", e->mentee_name);
    md_json_uint(j, "mentor_id", e->mentor_id);
    md_json_string(j, "mentor_name", e->mentor_name);
    md_json_uint(j, "score", e->score);
    json_factors(j, "factors", e->factors, e->n_factors);
    md_json_begin_array(j, "blocked_by");
    for (size_t i = 0; i < e->n_blocked_by; i++)
        md_json_string(j, NULL, e->blocked_by[i]);
    md_json_end_array(j);
    md_json_bool(j, "pinned", e->pinned);
    md_json_end_object(j);
}

void md_json_preference(md_json_t *j, const char *key, const Mentor__V1__MatchPreference *p)
{
    if (p == NULL) {
        md_json_null(j, key);
        return;
    }
    md_json_begin_object(j, key);
    md_json_uint(j, "program_id", p->program_id);
    md_json_uint(j, "user_id", p->user_id);
    md_json_uint(j, "other_id", p->other_id);
    md_json_string(j, "other_name", p->other_name);
    md_json_uint(j, "rank", p->rank);
    md_json_bool(j, "avoid", p->avoid);
    md_json_end_object(j);
}

void md_json_suggestion(md_json_t *j, const char *key, const Mentor__V1__MatchSuggestion *s)
{
    if (s == NULL) {
        md_json_null(j, key);
        return;
    }
    md_json_begin_object(j, key);
    md_json_uint(j, "mentor_id", s->mentor_id);
    md_json_string(j, "mentor_name", s->mentor_name);
    md_json_uint(j, "score", s->score);
    json_factors(j, "factors", s->factors, s->n_factors);
    md_json_uint(j, "open_places", s->open_places);
    md_json_end_object(j);
}

void md_json_pair(md_json_t *j, const char *key, const Mentor__V1__Pair *p)
{
    if (p == NULL) {
        md_json_null(j, key);
        return;
    }
    md_json_begin_object(j, key);
    md_json_uint(j, "id", p->id);
    md_json_uint(j, "program_id", p->program_id);
    md_json_uint(j, "mentee_id", p->mentee_id);
    md_json_string(j, "mentee_name", p->mentee_name);
    md_json_uint(j, "mentor_id", p->mentor_id);
    md_json_string(j, "mentor_name", p->mentor_name);
    md_json_uint(j, "score", p->score);
    md_json_string(j, "status", p->status);
    md_json_time(j, "started_at", p->started_at);
    md_json_time(j, "ended_at", p->ended_at);
    md_json_string(j, "end_reason", p->end_reason);
    md_json_time(j, "rematch_requested_at", p->rematch_requested_at);
    md_json_string(j, "rematch_reason", p->rematch_reason);
    md_json_uint(j, "proposal_id", p->proposal_id);
    md_json_end_object(j);
}

/* ------------------------------------------------------------------ */
/* Key/value blocks */

static void kv_u64(md_table_t *t, const char *key, uint64_t v)
{
    char num[24];
    snprintf(num, sizeof(num), "%" PRIu64, v);
    md_table_add(t, key, num);
}

static void kv_score(md_table_t *t, const char *key, int64_t v)
{
    char score[MD_SCORE_LEN];
    md_table_add(t, key, md_score_text(v, score));
}

/* "Ann (12)": a person as one cell, the id being what commands take. */
static void kv_person(md_table_t *t, const char *key, const char *name, uint64_t id)
{
    char text[256];
    snprintf(text, sizeof(text), "%s (%" PRIu64 ")", name != NULL ? name : "", id);
    md_table_add(t, key, text);
}

static void kv_str(md_table_t *t, const char *key, md_str_t *s)
{
    const char *text = md_str_get(s);
    if (text == NULL)
        t->err = MD_ENOMEM;
    else
        md_table_add(t, key, text[0] != '\0' ? text : "-");
}

void md_kv_proposal(md_table_t *t, const Mentor__V1__MatchProposal *p)
{
    char when[MD_TIME_LEN];
    md_str_t s;
    if (p == NULL)
        return;
    kv_u64(t, "id", p->id);
    kv_u64(t, "program", p->program_id);
    kv_person(t, "mentee", p->mentee_name, p->mentee_id);
    kv_person(t, "mentor", p->mentor_name, p->mentor_id);
    kv_score(t, "score", p->score);
    md_table_add(t, "status", md_proposal_status_name(p->status));
    if (p->pair_id != 0)
        kv_u64(t, "pair", p->pair_id);
    md_str_init(&s);
    md_proposal_flags_text(p, &s);
    kv_str(t, "flags", &s);
    md_str_free(&s);
    md_str_init(&s);
    md_factors_text(p->top_factors, p->n_top_factors, 3, &s);
    kv_str(t, "top factors", &s);
    md_str_free(&s);
    if (p->note[0] != '\0')
        md_table_add(t, "note", p->note);
    if (p->run_id != 0)
        kv_u64(t, "run", p->run_id);
    md_table_add(t, "created", md_time_text(p->created_at, when));
    if (p->expires_at != 0)
        md_table_add(t, "expires", md_time_text(p->expires_at, when));
}

void md_kv_run(md_table_t *t, const Mentor__V1__MatchRunInfo *r)
{
    char when[MD_TIME_LEN];
    char num[32];
    if (r == NULL)
        return;
    kv_u64(t, "run", r->id);
    kv_u64(t, "program", r->program_id);
    md_table_add(t, "solver", md_solver_name(r->solver));
    /* The objective steers only the optimal solver. */
    if (r->solver != MENTOR__V1__MATCH_SOLVER__STABLE &&
        r->objective != MENTOR__V1__MATCH_OBJECTIVE__MATCH_OBJECTIVE_UNSPECIFIED)
        md_table_add(t, "objective", md_matching_objective_name(r->objective));
    md_table_add(t, "reason", r->reason[0] != '\0' ? r->reason : "-");
    if (r->dry_run)
        md_table_add(t, "dry run", "yes: nothing was changed");
    md_table_add(t, "started", md_time_text(r->started_at, when));
    kv_u64(t, "mentors", r->mentors);
    kv_u64(t, "mentees", r->mentees);
    kv_u64(t, "proposals", r->proposals);
    kv_u64(t, "kept", r->kept);
    kv_u64(t, "unmatched", r->unmatched);
    kv_score(t, "total score", r->total_score);
    snprintf(num, sizeof(num), "%u ms", r->duration_ms);
    md_table_add(t, "duration", num);
    md_table_add(t, "status", r->status[0] != '\0' ? r->status : "-");
    if (r->error[0] != '\0')
        md_table_add(t, "error", r->error);
}

void md_kv_explanation(md_table_t *t, const Mentor__V1__MatchExplainReply *e)
{
    md_str_t s;
    if (e == NULL)
        return;
    kv_u64(t, "program", e->program_id);
    kv_person(t, "mentee", e->mentee_name, e->mentee_id);
    kv_person(t, "mentor", e->mentor_name, e->mentor_id);
    kv_score(t, "score", e->score);
    if (e->pinned)
        md_table_add(t, "pinned", "yes");
    if (e->n_blocked_by > 0) {
        md_str_init(&s);
        for (size_t i = 0; i < e->n_blocked_by; i++)
            md_str_add(&s, "%s%s", i > 0 ? ", " : "", e->blocked_by[i]);
        kv_str(t, "blocked by", &s);
        md_str_free(&s);
    }
}

void md_kv_pair(md_table_t *t, const Mentor__V1__Pair *p)
{
    char when[MD_TIME_LEN];
    if (p == NULL)
        return;
    kv_u64(t, "id", p->id);
    kv_u64(t, "program", p->program_id);
    kv_person(t, "mentee", p->mentee_name, p->mentee_id);
    kv_person(t, "mentor", p->mentor_name, p->mentor_id);
    kv_score(t, "score", p->score);
    md_table_add(t, "status", p->status);
    md_table_add(t, "started", md_time_text(p->started_at, when));
    if (p->ended_at != 0) {
        md_table_add(t, "ended", md_time_text(p->ended_at, when));
        md_table_add(t, "end reason", p->end_reason[0] != '\0' ? p->end_reason : "-");
    }
    if (p->rematch_requested_at != 0) {
        md_table_add(t, "rematch requested", md_time_text(p->rematch_requested_at, when));
        md_table_add(t, "rematch reason", p->rematch_reason[0] != '\0' ? p->rematch_reason : "-");
    }
    if (p->proposal_id != 0)
        kv_u64(t, "proposal", p->proposal_id);
}

/* ------------------------------------------------------------------ */
/* Tables */

static const char *const proposal_headers[] = {"ID",     "MENTEE", "MENTOR",     "SCORE",
                                               "STATUS", "FLAGS",  "TOP FACTORS"};
static const char *const factor_headers[] = {"FACTOR", "WEIGHT", "VALUE", "POINTS", "DETAIL"};
static const char *const run_headers[] = {"ID",          "STARTED", "REASON",    "SOLVER",
                                          "PROPOSALS",   "KEPT",    "UNMATCHED", "TOTAL SCORE",
                                          "DURATION MS", "STATUS"};
static const char *const preference_headers[] = {"USER", "NAME", "RANK", "AVOID"};
static const char *const suggestion_headers[] = {"MENTOR", "NAME", "SCORE", "OPEN PLACES",
                                                 "TOP FACTORS"};
static const char *const pair_headers[] = {"ID",    "PROGRAM", "MENTEE",  "MENTOR",
                                           "SCORE", "STATUS",  "STARTED", "REMATCH"};

/* The text of s for a cell: "-" when empty; NULL (and t->err set) when
 * building it ran out of memory. */
static const char *cell(md_table_t *t, md_str_t *s)
{
    const char *text = md_str_get(s);
    if (text == NULL) {
        t->err = MD_ENOMEM;
        return NULL;
    }
    return text[0] != '\0' ? text : "-";
}

void md_proposal_table_init(md_table_t *t)
{
    md_table_init(t, proposal_headers, COUNT(proposal_headers));
}

void md_proposal_table_add(md_table_t *t, const Mentor__V1__MatchProposal *p)
{
    char id[24];
    char score[MD_SCORE_LEN];
    md_str_t flags;
    md_str_t factors;
    snprintf(id, sizeof(id), "%" PRIu64, p->id);
    md_str_init(&flags);
    md_str_init(&factors);
    md_proposal_flags_text(p, &flags);
    md_factors_text(p->top_factors, p->n_top_factors, 3, &factors);
    md_table_add(t, id, p->mentee_name, p->mentor_name, md_score_text(p->score, score),
                 md_proposal_status_name(p->status), cell(t, &flags), cell(t, &factors));
    md_str_free(&flags);
    md_str_free(&factors);
}

void md_factor_table_init(md_table_t *t)
{
    md_table_init(t, factor_headers, COUNT(factor_headers));
}

void md_factor_table_add(md_table_t *t, const Mentor__V1__MatchFactor *f)
{
    char weight[16];
    char value[MD_SCORE_LEN];
    char points[MD_SCORE_LEN];
    md_str_t detail;
    snprintf(weight, sizeof(weight), "%u", f->weight);
    md_str_init(&detail);
    md_str_add(&detail, "%s", f->detail);
    if (f->neutral)
        md_str_add(&detail, "%s(neutral: data missing)", f->detail[0] != '\0' ? " " : "");
    md_table_add(t, f->name, weight, md_score_text(f->value, value),
                 md_score_text(f->contribution, points), cell(t, &detail));
    md_str_free(&detail);
}

void md_run_table_init(md_table_t *t)
{
    md_table_init(t, run_headers, COUNT(run_headers));
}

void md_run_table_add(md_table_t *t, const Mentor__V1__MatchRunInfo *r)
{
    char id[24], started[MD_TIME_LEN], proposals[16], kept[16], unmatched[16];
    char total[MD_SCORE_LEN], duration[16];
    snprintf(id, sizeof(id), "%" PRIu64, r->id);
    snprintf(proposals, sizeof(proposals), "%u", r->proposals);
    snprintf(kept, sizeof(kept), "%u", r->kept);
    snprintf(unmatched, sizeof(unmatched), "%u", r->unmatched);
    snprintf(duration, sizeof(duration), "%u", r->duration_ms);
    md_table_add(t, id, md_time_text(r->started_at, started),
                 r->reason[0] != '\0' ? r->reason : "-", md_solver_name(r->solver), proposals, kept,
                 unmatched, md_score_text(r->total_score, total), duration,
                 r->status[0] != '\0' ? r->status : "-");
}

void md_preference_table_init(md_table_t *t)
{
    md_table_init(t, preference_headers, COUNT(preference_headers));
}

void md_preference_table_add(md_table_t *t, const Mentor__V1__MatchPreference *p)
{
    char id[24];
    char rank[16] = "-";
    snprintf(id, sizeof(id), "%" PRIu64, p->other_id);
    if (p->rank != 0)
        snprintf(rank, sizeof(rank), "%u", p->rank);
    md_table_add(t, id, p->other_name, rank, p->avoid ? "yes" : "-");
}

void md_suggestion_table_init(md_table_t *t)
{
    md_table_init(t, suggestion_headers, COUNT(suggestion_headers));
}

void md_suggestion_table_add(md_table_t *t, const Mentor__V1__MatchSuggestion *s)
{
    char id[24];
    char score[MD_SCORE_LEN];
    char places[16];
    md_str_t factors;
    snprintf(id, sizeof(id), "%" PRIu64, s->mentor_id);
    snprintf(places, sizeof(places), "%u", s->open_places);
    md_str_init(&factors);
    md_factors_text(s->factors, s->n_factors, 3, &factors);
    md_table_add(t, id, s->mentor_name, md_score_text(s->score, score), places, cell(t, &factors));
    md_str_free(&factors);
}

void md_pair_table_init(md_table_t *t)
{
    md_table_init(t, pair_headers, COUNT(pair_headers));
}

void md_pair_table_add(md_table_t *t, const Mentor__V1__Pair *p)
{
    char id[24], program[24], score[MD_SCORE_LEN], started[MD_TIME_LEN];
    snprintf(id, sizeof(id), "%" PRIu64, p->id);
    snprintf(program, sizeof(program), "%" PRIu64, p->program_id);
    md_table_add(t, id, program, p->mentee_name, p->mentor_name, md_score_text(p->score, score),
                 p->status, md_time_text(p->started_at, started),
                 p->rematch_requested_at != 0 ? "requested" : "-");
}
