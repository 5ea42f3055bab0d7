/* test_client_matching.c: unit tests for matching as mentorctl shows it: the
 * names of solvers, statuses, objectives and modes (both ways), scores as
 * points, the "top factors" and flag summaries, and the tables, key/value
 * blocks and JSON of proposals, explanations, runs, preferences,
 * suggestions and pairs, byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "md_matching.h"

static char *table_text(const md_table_t *t, int kv)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(kv ? md_table_print_kv(t, f) : md_table_print(t, f), MD_OK);
    fclose(f);
    return text;
}

static char *json_text(md_json_t *j)
{
    const char *doc = md_json_finish(j);
    assert_non_null(doc);
    char *copy = strdup(doc);
    md_json_free(j);
    return copy;
}

static Mentor__V1__MatchFactor factor(const char *name, uint32_t weight, uint32_t value,
                                      uint32_t contribution)
{
    Mentor__V1__MatchFactor f = MENTOR__V1__MATCH_FACTOR__INIT;
    f.name = (char *)name;
    f.weight = weight;
    f.value = value;
    f.contribution = contribution;
    return f;
}

static void test_names(void **state)
{
    (void)state;
    int v = -1;
    assert_string_equal(md_solver_name(MENTOR__V1__MATCH_SOLVER__STABLE), "stable");
    /* The protocol runs an unspecified solver as the optimal one. */
    assert_string_equal(md_solver_name(MENTOR__V1__MATCH_SOLVER__MATCH_SOLVER_UNSPECIFIED),
                        "optimal");
    assert_int_equal(md_solver_parse("Optimal", &v), MD_OK);
    assert_int_equal(v, MENTOR__V1__MATCH_SOLVER__OPTIMAL);
    assert_int_equal(md_solver_parse("greedy", &v), MD_EINVAL);
    assert_int_equal(md_solver_parse(NULL, &v), MD_EINVAL);

    static const char *const statuses[] = {"proposed",   "paired",  "declined", "rejected",
                                           "superseded", "expired", "withdrawn"};
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        assert_int_equal(md_proposal_status_parse(statuses[i], &v), MD_OK);
        assert_int_equal(v, (int)i + 1);
        assert_string_equal(md_proposal_status_name(v), statuses[i]);
    }
    assert_int_equal(md_proposal_status_parse("open", &v), MD_EINVAL);
    assert_string_equal(md_proposal_status_name(0), "unspecified");

    assert_int_equal(md_matching_objective_parse("SCORE", &v), MD_OK);
    assert_int_equal(v, MENTOR__V1__MATCH_OBJECTIVE__SCORE);
    assert_string_equal(md_matching_objective_name(MENTOR__V1__MATCH_OBJECTIVE__PARTICIPATION),
                        "participation");
    assert_string_equal(md_matching_objective_name(0), "unspecified");
    assert_int_equal(md_matching_mode_parse("self", &v), MD_OK);
    assert_int_equal(v, MENTOR__V1__MATCH_MODE__SELF_MATCH);
    assert_int_equal(md_matching_mode_parse("admin", &v), MD_OK);
    assert_int_equal(v, MENTOR__V1__MATCH_MODE__ADMIN_LED);
    assert_int_equal(md_matching_mode_parse("self_match", &v), MD_EINVAL);
    assert_string_equal(md_matching_mode_name(MENTOR__V1__MATCH_MODE__SELF_MATCH), "self");
}

static void test_score_text(void **state)
{
    (void)state;
    char buf[MD_SCORE_LEN];
    assert_string_equal(md_score_text(8735, buf), "87.35");
    assert_string_equal(md_score_text(0, buf), "0.00");
    assert_string_equal(md_score_text(5, buf), "0.05");
    assert_string_equal(md_score_text(10000, buf), "100.00");
    assert_string_equal(md_score_text(-5, buf), "-0.05");
    assert_string_equal(md_score_text(123456789, buf), "1234567.89");
    assert_string_equal(md_score_text(INT64_MIN, buf), "-92233720368547758.08");
}

static void test_factors_text(void **state)
{
    (void)state;
    Mentor__V1__MatchFactor f[] = {
        factor("goals", 15, 8000, 1200),     factor("skills", 30, 10000, 3010),
        factor("department", 0, 5000, 0),    factor("interests", 10, 2000, 200),
        factor("time_zone", 10, 9500, 950),  factor("language", 10, 9500, 950),
        factor("availability", 5, 10, 1015),
    };
    Mentor__V1__MatchFactor *fp[7];
    for (size_t i = 0; i < 7; i++)
        fp[i] = &f[i];
    md_str_t s;

    /* Largest first, rounded to a tenth of a point (1015 is 10.2). */
    md_str_init(&s);
    md_factors_text(fp, 7, 3, &s);
    assert_string_equal(md_str_get(&s), "skills 30.1, goals 12.0, availability 10.2");
    md_str_free(&s);

    /* Ties keep the order given; factors worth nothing never appear. */
    md_str_init(&s);
    md_factors_text(fp, 7, 7, &s);
    assert_string_equal(md_str_get(&s), "skills 30.1, goals 12.0, availability 10.2, "
                                        "time_zone 9.5, language 9.5, interests 2.0");
    md_str_free(&s);

    md_str_init(&s);
    md_factors_text(fp + 2, 1, 3, &s);
    assert_string_equal(md_str_get(&s), "");
    md_factors_text(NULL, 0, 3, &s);
    assert_string_equal(md_str_get(&s), "");
    md_str_free(&s);
}

static void test_flags_text(void **state)
{
    (void)state;
    Mentor__V1__MatchProposal p = MENTOR__V1__MATCH_PROPOSAL__INIT;
    md_str_t s;
    md_str_init(&s);
    md_proposal_flags_text(&p, &s);
    assert_string_equal(md_str_get(&s), "");
    md_str_free(&s);
    p.pinned = p.approved = p.mentee_accepted = p.mentor_accepted = p.requested = 1;
    md_str_init(&s);
    md_proposal_flags_text(&p, &s);
    assert_string_equal(md_str_get(&s), "pinned, approved, mentee ok, mentor ok, requested");
    md_str_free(&s);
    p.pinned = p.mentee_accepted = p.requested = 0;
    md_str_init(&s);
    md_proposal_flags_text(&p, &s);
    assert_string_equal(md_str_get(&s), "approved, mentor ok");
    md_str_free(&s);
}

/* Two proposals: a fresh one, and a paired one with a note. */
typedef struct {
    Mentor__V1__MatchFactor f[3];
    Mentor__V1__MatchFactor *fp[3];
    Mentor__V1__MatchProposal a;
    Mentor__V1__MatchProposal b;
} proposals_t;

static void make_proposals(proposals_t *p)
{
    p->f[0] = factor("skills", 30, 10000, 3010);
    p->f[1] = factor("goals", 15, 8000, 1200);
    p->f[2] = factor("time_zone", 10, 9500, 950);
    for (size_t i = 0; i < 3; i++)
        p->fp[i] = &p->f[i];
    p->a = (Mentor__V1__MatchProposal)MENTOR__V1__MATCH_PROPOSAL__INIT;
    p->a.id = 41;
    p->a.program_id = 3;
    p->a.mentee_id = 12;
    p->a.mentee_name = (char *)"Ann Lee";
    p->a.mentor_id = 9;
    p->a.mentor_name = (char *)"Bob";
    p->a.score = 8735;
    p->a.status = MENTOR__V1__PROPOSAL_STATUS__PROPOSED;
    p->a.top_factors = p->fp;
    p->a.n_top_factors = 3;
    p->a.run_id = 7;
    p->a.created_at = 1795428000;
    p->b = (Mentor__V1__MatchProposal)MENTOR__V1__MATCH_PROPOSAL__INIT;
    p->b.id = 42;
    p->b.program_id = 3;
    p->b.mentee_id = 13;
    p->b.mentee_name = (char *)"Cy";
    p->b.mentor_id = 10;
    p->b.mentor_name = (char *)"Dee Dee";
    p->b.score = 10000;
    p->b.status = MENTOR__V1__PROPOSAL_STATUS__PAIRED;
    p->b.pinned = p->b.approved = p->b.mentee_accepted = p->b.mentor_accepted = 1;
    p->b.note = (char *)"keep together";
    p->b.pair_id = 88;
    p->b.created_at = 1795428000;
}

static void test_proposal_table(void **state)
{
    (void)state;
    proposals_t p;
    make_proposals(&p);
    md_table_t t;
    md_proposal_table_init(&t);
    md_proposal_table_add(&t, &p.a);
    md_proposal_table_add(&t, &p.b);
    char *out = table_text(&t, 0);
    /* Columns as wide as their widest cell; empty summaries read "-". */
    assert_string_equal(
        out, "ID  MENTEE   MENTOR   SCORE   STATUS    "
             "FLAGS                                   TOP FACTORS\n"
             "41  Ann Lee  Bob      87.35   proposed  "
             "-                                       skills 30.1, goals 12.0, time_zone 9.5\n"
             "42  Cy       Dee Dee  100.00  paired    "
             "pinned, approved, mentee ok, mentor ok  -\n");
    free(out);
    md_table_free(&t);
}

static void test_proposal_kv_and_json(void **state)
{
    (void)state;
    proposals_t p;
    make_proposals(&p);
    md_table_t t;
    md_table_init(&t, NULL, 2);
    md_kv_proposal(&t, &p.b);
    char *out = table_text(&t, 1);
    assert_string_equal(out, "id:           42\n"
                             "program:      3\n"
                             "mentee:       Cy (13)\n"
                             "mentor:       Dee Dee (10)\n"
                             "score:        100.00\n"
                             "status:       paired\n"
                             "pair:         88\n"
                             "flags:        pinned, approved, mentee ok, mentor ok\n"
                             "top factors:  -\n"
                             "note:         keep together\n"
                             "created:      2026-11-23T10:00:00Z\n");
    free(out);
    md_table_free(&t);

    /* A self-match request shows when it expires. */
    p.a.requested = 1;
    p.a.run_id = 0;
    p.a.expires_at = 1795428000 + 3 * 86400;
    md_table_init(&t, NULL, 2);
    md_kv_proposal(&t, &p.a);
    out = table_text(&t, 1);
    assert_non_null(strstr(out, "flags:        requested\n"
                                "top factors:  skills 30.1, goals 12.0, time_zone 9.5\n"
                                "created:      2026-11-23T10:00:00Z\n"
                                "expires:      2026-11-26T10:00:00Z\n"));
    assert_null(strstr(out, "run:"));
    free(out);
    md_table_free(&t);

    md_json_t j;
    md_json_init(&j);
    md_json_proposal(&j, NULL, &p.a);
    out = json_text(&j);
    assert_string_equal(
        out, "{\"id\":41,\"program_id\":3,\"mentee_id\":12,\"mentee_name\":\"Ann Lee\","
             "\"mentor_id\":9,\"mentor_name\":\"Bob\",\"score\":8735,\"status\":\"proposed\","
             "\"pinned\":false,\"approved\":false,\"mentee_accepted\":false,"
             "\"mentor_accepted\":false,\"top_factors\":["
             "{\"name\":\"skills\",\"weight\":30,\"value\":10000,\"contribution\":3010,"
             "\"neutral\":false,\"detail\":\"\"},"
             "{\"name\":\"goals\",\"weight\":15,\"value\":8000,\"contribution\":1200,"
             "\"neutral\":false,\"detail\":\"\"},"
             "{\"name\":\"time_zone\",\"weight\":10,\"value\":9500,\"contribution\":950,"
             "\"neutral\":false,\"detail\":\"\"}],"
             "\"run_id\":0,\"created_at\":\"2026-11-23T10:00:00Z\","
             "\"expires_at\":\"2026-11-26T10:00:00Z\",\"requested\":true,\"note\":\"\","
             "\"pair_id\":0}");
    free(out);
}

static void test_explain(void **state)
{
    (void)state;
    Mentor__V1__MatchFactor f[] = {
        factor("skills", 30, 7500, 2250),
        factor("time_zone", 10, 5000, 500),
        factor("department", 0, 10000, 0),
    };
    Mentor__V1__MatchFactor *fp[] = {&f[0], &f[1], &f[2]};
    f[0].detail = (char *)"covers 3 of 4 wanted skills";
    f[1].neutral = 1;
    f[2].detail = (char *)"different departments";
    char *blocked[] = {(char *)"reporting_line", (char *)"capacity"};
    Mentor__V1__MatchExplainReply e = MENTOR__V1__MATCH_EXPLAIN_REPLY__INIT;
    e.program_id = 3;
    e.mentee_id = 12;
    e.mentee_name = (char *)"Ann";
    e.mentor_id = 9;
    e.mentor_name = (char *)"Bob";
    e.score = 2750;
    e.factors = fp;
    e.n_factors = 3;

    md_table_t t;
    md_table_init(&t, NULL, 2);
    md_kv_explanation(&t, &e);
    char *out = table_text(&t, 1);
    assert_string_equal(out, "program:  3\n"
                             "mentee:   Ann (12)\n"
                             "mentor:   Bob (9)\n"
                             "score:    27.50\n");
    free(out);
    md_table_free(&t);

    e.blocked_by = blocked;
    e.n_blocked_by = 2;
    e.pinned = 1;
    md_table_init(&t, NULL, 2);
    md_kv_explanation(&t, &e);
    out = table_text(&t, 1);
    assert_string_equal(out, "program:     3\n"
                             "mentee:      Ann (12)\n"
                             "mentor:      Bob (9)\n"
                             "score:       27.50\n"
                             "pinned:      yes\n"
                             "blocked by:  reporting_line, capacity\n");
    free(out);
    md_table_free(&t);

    md_factor_table_init(&t);
    for (size_t i = 0; i < 3; i++)
        md_factor_table_add(&t, fp[i]);
    out = table_text(&t, 0);
    assert_string_equal(out, "FACTOR      WEIGHT  VALUE   POINTS  DETAIL\n"
                             "skills      30      75.00   22.50   covers 3 of 4 wanted skills\n"
                             "time_zone   10      50.00   5.00    (neutral: data missing)\n"
                             "department  0       100.00  0.00    different departments\n");
    free(out);
    md_table_free(&t);

    /* A neutral factor with a detail keeps both. */
    f[0].neutral = 1;
    md_factor_table_init(&t);
    md_factor_table_add(&t, fp[0]);
    out = table_text(&t, 0);
    assert_non_null(strstr(out, "covers 3 of 4 wanted skills (neutral: data missing)\n"));
    free(out);
    md_table_free(&t);

    md_json_t j;
    md_json_init(&j);
    md_json_explanation(&j, NULL, &e);
    out = json_text(&j);
    assert_string_equal(
        out, "{\"program_id\":3,\"mentee_id\":12,\"mentee_name\":\"Ann\",\"mentor_id\":9,"
             "\"mentor_name\":\"Bob\",\"score\":2750,\"factors\":["
             "{\"name\":\"skills\",\"weight\":30,\"value\":7500,\"contribution\":2250,"
             "\"neutral\":true,\"detail\":\"covers 3 of 4 wanted skills\"},"
             "{\"name\":\"time_zone\",\"weight\":10,\"value\":5000,\"contribution\":500,"
             "\"neutral\":true,\"detail\":\"\"},"
             "{\"name\":\"department\",\"weight\":0,\"value\":10000,\"contribution\":0,"
             "\"neutral\":false,\"detail\":\"different departments\"}],"
             "\"blocked_by\":[\"reporting_line\",\"capacity\"],\"pinned\":true}");
    free(out);
}

static void test_runs(void **state)
{
    (void)state;
    Mentor__V1__MatchRunInfo r = MENTOR__V1__MATCH_RUN_INFO__INIT;
    r.id = 7;
    r.program_id = 3;
    r.started_at = 1795428000;
    r.duration_ms = 85;
    r.reason = (char *)"dry run";
    r.solver = MENTOR__V1__MATCH_SOLVER__OPTIMAL;
    r.objective = MENTOR__V1__MATCH_OBJECTIVE__PARTICIPATION;
    r.dry_run = 1;
    r.mentors = 10;
    r.mentees = 14;
    r.proposals = 12;
    r.kept = 2;
    r.unmatched = 0;
    r.total_score = 103455;
    r.requested_by = 4;
    r.status = (char *)"done";

    md_table_t t;
    md_table_init(&t, NULL, 2);
    md_kv_run(&t, &r);
    char *out = table_text(&t, 1);
    assert_string_equal(out, "run:          7\n"
                             "program:      3\n"
                             "solver:       optimal\n"
                             "objective:    participation\n"
                             "reason:       dry run\n"
                             "dry run:      yes: nothing was changed\n"
                             "started:      2026-11-23T10:00:00Z\n"
                             "mentors:      10\n"
                             "mentees:      14\n"
                             "proposals:    12\n"
                             "kept:         2\n"
                             "unmatched:    0\n"
                             "total score:  1034.55\n"
                             "duration:     85 ms\n"
                             "status:       done\n");
    free(out);
    md_table_free(&t);

    /* The stable solver has no objective; a failed run says why. */
    r.solver = MENTOR__V1__MATCH_SOLVER__STABLE;
    r.dry_run = 0;
    r.status = (char *)"failed";
    r.error = (char *)"no mentors";
    md_table_init(&t, NULL, 2);
    md_kv_run(&t, &r);
    out = table_text(&t, 1);
    assert_null(strstr(out, "objective"));
    assert_null(strstr(out, "dry run:"));
    assert_non_null(strstr(out, "solver:       stable\n"));
    assert_non_null(strstr(out, "status:       failed\nerror:        no mentors\n"));
    free(out);
    md_table_free(&t);

    md_run_table_init(&t);
    md_run_table_add(&t, &r);
    out = table_text(&t, 0);
    assert_string_equal(out, "ID  STARTED               REASON   SOLVER  PROPOSALS  KEPT  UNMATCHED"
                             "  TOTAL SCORE  DURATION MS  STATUS\n"
                             "7   2026-11-23T10:00:00Z  dry run  stable  12         2     0"
                             "          1034.55      85           failed\n");
    free(out);
    md_table_free(&t);

    md_json_t j;
    md_json_init(&j);
    md_json_run(&j, NULL, &r);
    out = json_text(&j);
    assert_string_equal(out, "{\"id\":7,\"program_id\":3,\"started_at\":\"2026-11-23T10:00:00Z\","
                             "\"duration_ms\":85,\"reason\":\"dry run\",\"solver\":\"stable\","
                             "\"objective\":\"participation\",\"dry_run\":false,\"mentors\":10,"
                             "\"mentees\":14,\"proposals\":12,\"kept\":2,\"unmatched\":0,"
                             "\"total_score\":103455,\"requested_by\":4,\"status\":\"failed\","
                             "\"error\":\"no mentors\"}");
    free(out);
}

static void test_preferences_and_suggestions(void **state)
{
    (void)state;
    Mentor__V1__MatchPreference p = MENTOR__V1__MATCH_PREFERENCE__INIT;
    Mentor__V1__MatchPreference q = MENTOR__V1__MATCH_PREFERENCE__INIT;
    p.program_id = q.program_id = 3;
    p.user_id = q.user_id = 12;
    p.other_id = 9;
    p.other_name = (char *)"Bob";
    p.rank = 1;
    q.other_id = 10;
    q.other_name = (char *)"Dee";
    q.avoid = 1;
    md_table_t t;
    md_preference_table_init(&t);
    md_preference_table_add(&t, &p);
    md_preference_table_add(&t, &q);
    char *out = table_text(&t, 0);
    assert_string_equal(out, "USER  NAME  RANK  AVOID\n"
                             "9     Bob   1     -\n"
                             "10    Dee   -     yes\n");
    free(out);
    md_table_free(&t);
    md_json_t j;
    md_json_init(&j);
    md_json_preference(&j, NULL, &q);
    out = json_text(&j);
    assert_string_equal(out, "{\"program_id\":3,\"user_id\":12,\"other_id\":10,"
                             "\"other_name\":\"Dee\",\"rank\":0,\"avoid\":true}");
    free(out);

    /* Suggestions carry every factor; the table shows the three best. */
    Mentor__V1__MatchFactor f[] = {
        factor("skills", 30, 5000, 1500),     factor("goals", 15, 10000, 1500),
        factor("interests", 10, 0, 0),        factor("language", 10, 10000, 1000),
        factor("time_zone", 10, 10000, 1000),
    };
    Mentor__V1__MatchFactor *fp[] = {&f[0], &f[1], &f[2], &f[3], &f[4]};
    Mentor__V1__MatchSuggestion s = MENTOR__V1__MATCH_SUGGESTION__INIT;
    s.mentor_id = 9;
    s.mentor_name = (char *)"Bob";
    s.score = 5000;
    s.factors = fp;
    s.n_factors = 5;
    s.open_places = 2;
    md_suggestion_table_init(&t);
    md_suggestion_table_add(&t, &s);
    out = table_text(&t, 0);
    assert_string_equal(out, "MENTOR  NAME  SCORE  OPEN PLACES  TOP FACTORS\n"
                             "9       Bob   50.00  2            "
                             "skills 15.0, goals 15.0, language 10.0\n");
    free(out);
    md_table_free(&t);
    md_json_init(&j);
    s.n_factors = 1;
    md_json_suggestion(&j, NULL, &s);
    out = json_text(&j);
    assert_string_equal(out, "{\"mentor_id\":9,\"mentor_name\":\"Bob\",\"score\":5000,"
                             "\"factors\":[{\"name\":\"skills\",\"weight\":30,\"value\":5000,"
                             "\"contribution\":1500,\"neutral\":false,\"detail\":\"\"}],"
                             "\"open_places\":2}");
    free(out);
}

static void test_pairs(void **state)
{
    (void)state;
    Mentor__V1__Pair p = MENTOR__V1__PAIR__INIT;
    p.id = 88;
    p.program_id = 3;
    p.mentee_id = 12;
    p.mentee_name = (char *)"Ann";
    p.mentor_id = 9;
    p.mentor_name = (char *)"Bob";
    p.score = 8735;
    p.status = (char *)"active";
    p.started_at = 1795428000;
    p.proposal_id = 41;
    md_table_t t;
    md_pair_table_init(&t);
    md_pair_table_add(&t, &p);
    p.rematch_requested_at = 1795428000 + 86400;
    p.rematch_reason = (char *)"different goals";
    md_pair_table_add(&t, &p);
    char *out = table_text(&t, 0);
    assert_string_equal(out, "ID  PROGRAM  MENTEE  MENTOR  SCORE  STATUS  STARTED"
                             "               REMATCH\n"
                             "88  3        Ann     Bob     87.35  active  2026-11-23T10:00:00Z  -\n"
                             "88  3        Ann     Bob     87.35  active  2026-11-23T10:00:00Z"
                             "  requested\n");
    free(out);
    md_table_free(&t);

    md_table_init(&t, NULL, 2);
    md_kv_pair(&t, &p);
    out = table_text(&t, 1);
    assert_string_equal(out, "id:                 88\n"
                             "program:            3\n"
                             "mentee:             Ann (12)\n"
                             "mentor:             Bob (9)\n"
                             "score:              87.35\n"
                             "status:             active\n"
                             "started:            2026-11-23T10:00:00Z\n"
                             "rematch requested:  2026-11-24T10:00:00Z\n"
                             "rematch reason:     different goals\n"
                             "proposal:           41\n");
    free(out);
    md_table_free(&t);

    md_json_t j;
    md_json_init(&j);
    md_json_pair(&j, NULL, &p);
    out = json_text(&j);
    assert_string_equal(out, "{\"id\":88,\"program_id\":3,\"mentee_id\":12,\"mentee_name\":\"Ann\","
                             "\"mentor_id\":9,\"mentor_name\":\"Bob\",\"score\":8735,"
                             "\"status\":\"active\",\"started_at\":\"2026-11-23T10:00:00Z\","
                             "\"ended_at\":null,\"end_reason\":\"\","
                             "\"rematch_requested_at\":\"2026-11-24T10:00:00Z\","
                             "\"rematch_reason\":\"different goals\",\"proposal_id\":41}");
    free(out);

    /* Missing objects are null in JSON and add no rows. */
    md_json_init(&j);
    md_json_begin_object(&j, NULL);
    md_json_pair(&j, "pair", NULL);
    md_json_proposal(&j, "proposal", NULL);
    md_json_run(&j, "run", NULL);
    md_json_end_object(&j);
    out = json_text(&j);
    assert_string_equal(out, "{\"pair\":null,\"proposal\":null,\"run\":null}");
    free(out);
    md_table_init(&t, NULL, 2);
    md_kv_pair(&t, NULL);
    md_kv_proposal(&t, NULL);
    md_kv_run(&t, NULL);
    md_kv_explanation(&t, NULL);
    assert_int_equal(t.nrows, 0);
    md_table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_score_text),
        cmocka_unit_test(test_factors_text),
        cmocka_unit_test(test_flags_text),
        cmocka_unit_test(test_proposal_table),
        cmocka_unit_test(test_proposal_kv_and_json),
        cmocka_unit_test(test_explain),
        cmocka_unit_test(test_runs),
        cmocka_unit_test(test_preferences_and_suggestions),
        cmocka_unit_test(test_pairs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
