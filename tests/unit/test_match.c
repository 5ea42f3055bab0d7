/* test_match.c: unit tests of the matching engine (server/match/).
 *
 * Scores: each factor against values worked out by hand, missing data,
 * rounding and the explanation's contributions; the fast scoring loop
 * against the plain computation of md_match_explain on random instances.
 * Hard rules: each one alone, against both solvers. Solvers: the optimal
 * solver against an exhaustive search (dynamic programming over the
 * mentors' remaining capacities) on many small random instances, for both
 * objectives and up to three mentors per mentee, also with the smallest
 * core so that the verification rounds do the work; every stable result
 * checked for blocking pairs; every result checked against the hard rules
 * and the capacities; the same result with one and two threads and with
 * the input shuffled; degenerate and invalid inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "md_match.h"

/* ------------------------------------------------------------ helpers */

static uint64_t rng_state;

static uint32_t rng(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return n ? (uint32_t)((rng_state >> 11) % n) : 0;
}

#define MAXP 16
#define MAXF 64

/* An instance and the storage its arrays point to. */
typedef struct {
    md_match_settings_t set;
    md_match_person_t mentors[MAXP], mentees[MAXP];
    size_t n_mentors, n_mentees;
    md_match_fact_t facts[MAXF];
    size_t n_facts;
    md_match_skill_t skills[2 * MAXP][6];
    uint32_t tags[2 * MAXP][3][6];
    uint64_t managers[2 * MAXP][3];
} inst_t;

static void inst_init(inst_t *in)
{
    memset(in, 0, sizeof(*in));
    md_match_settings_init(&in->set);
    in->set.threads = 1;
}

static md_match_person_t *add_mentor(inst_t *in, uint64_t id, uint32_t capacity)
{
    md_match_person_t *p = &in->mentors[in->n_mentors++];
    memset(p, 0, sizeof(*p));
    p->user_id = id;
    p->capacity = capacity;
    p->training_done = true;
    return p;
}

static md_match_person_t *add_mentee(inst_t *in, uint64_t id)
{
    md_match_person_t *p = &in->mentees[in->n_mentees++];
    memset(p, 0, sizeof(*p));
    p->user_id = id;
    return p;
}

static void add_fact(inst_t *in, md_match_fact_kind_t kind, uint64_t mentee, uint64_t mentor,
                     uint32_t value)
{
    in->facts[in->n_facts++] = (md_match_fact_t){mentee, mentor, kind, value};
}

static md_match_input_t input_of(const inst_t *in)
{
    return (md_match_input_t){in->set,       in->mentors, in->n_mentors, in->mentees,
                              in->n_mentees, in->facts,   in->n_facts};
}

static md_match_t *make(const inst_t *in)
{
    md_match_t *m = NULL;
    char err[256];
    md_match_input_t input = input_of(in);
    int rc = md_match_create(&m, &input, err, sizeof(err));
    if (rc != MD_OK)
        fail_msg("md_match_create: %s", err);
    return m;
}

static md_match_result_t *solve(const md_match_t *m, md_match_solver_t solver)
{
    md_match_result_t *r = NULL;
    assert_int_equal(md_match_solve(m, solver, &r), MD_OK);
    assert_non_null(r);
    return r;
}

static md_match_explain_t explain(const md_match_t *m, uint64_t mentee, uint64_t mentor)
{
    md_match_explain_t ex;
    assert_int_equal(md_match_explain(m, mentee, mentor, &ex), MD_OK);
    return ex;
}

/* Only factor f counts. */
static void only(inst_t *in, int f)
{
    memset(in->set.weights, 0, sizeof(in->set.weights));
    in->set.weights[f] = 50;
}

static bool has_pair(const md_match_result_t *r, uint64_t mentee, uint64_t mentor)
{
    for (size_t k = 0; k < r->n_pairs; k++) {
        if (r->pairs[k].mentee_id == mentee && r->pairs[k].mentor_id == mentor)
            return true;
    }
    return false;
}

/* The score of one pair with one factor on, and its value in the
 * explanation. */
static uint32_t factor_score(inst_t *in, int f)
{
    only(in, f);
    md_match_t *m = make(in);
    md_match_explain_t ex = explain(m, in->mentees[0].user_id, in->mentors[0].user_id);
    assert_int_equal(ex.score, ex.value[f]);
    md_match_free(m);
    return ex.score;
}

/* ------------------------------------------------------------ factors */

static void test_skills(void **state)
{
    (void)state;
    inst_t in;
    inst_init(&in);
    md_match_skill_t offered[] = {{1, 5}, {2, 2}, {3, 1}};
    md_match_skill_t wanted[] = {{1, 4}, {2, 4}, {4, 3}, {3, 5}};
    md_match_person_t *r = add_mentor(&in, 1, 1);
    md_match_person_t *e = add_mentee(&in, 2);
    r->skills = offered;
    r->n_skills = 3;
    e->skills = wanted;
    e->n_skills = 4;
    /* 1: covered (1), 2: 2 of 4 (0.5), 4: not offered (0), 3: 1 of 5 (0.2):
     * 1.7 / 4 = 42.50 */
    assert_int_equal(factor_score(&in, MD_MATCH_SKILLS), 4250);

    md_match_t *m = make(&in);
    md_match_explain_t ex = explain(m, 2, 1);
    assert_int_equal(ex.skills_wanted, 4);
    assert_int_equal(ex.skills_covered, 1);
    assert_int_equal(ex.skills_partial, 2);
    md_match_free(m);

    /* Missing on either side: neutral. */
    e->n_skills = 0;
    assert_int_equal(factor_score(&in, MD_MATCH_SKILLS), MD_MATCH_NEUTRAL);
    e->n_skills = 4;
    r->n_skills = 0;
    assert_int_equal(factor_score(&in, MD_MATCH_SKILLS), MD_MATCH_NEUTRAL);

    /* Duplicates count once, at the highest level; levels are clamped. */
    md_match_skill_t dup[] = {{7, 1}, {7, 9}};
    md_match_skill_t want7[] = {{7, 5}, {7, 0}};
    r->skills = dup;
    r->n_skills = 2;
    e->skills = want7;
    e->n_skills = 2;
    assert_int_equal(factor_score(&in, MD_MATCH_SKILLS), 10000);
}

static void test_goals_interests(void **state)
{
    (void)state;
    inst_t in;
    inst_init(&in);
    uint32_t rg[] = {1, 2, 3}, eg[] = {2, 3, 4};
    uint32_t ri[] = {10, 11}, ei[] = {11, 12, 13};
    md_match_person_t *r = add_mentor(&in, 1, 1);
    md_match_person_t *e = add_mentee(&in, 2);
    r->goals = rg;
    r->n_goals = 3;
    e->goals = eg;
    e->n_goals = 3;
    r->interests = ri;
    r->n_interests = 2;
    e->interests = ei;
    e->n_interests = 3;
    /* 2 of the mentee's 3 goals: 66.67 (rounded half up). */
    assert_int_equal(factor_score(&in, MD_MATCH_GOALS), 6667);
    /* Interests: 1 shared of 4 in the union. */
    assert_int_equal(factor_score(&in, MD_MATCH_INTERESTS), 2500);
    e->n_interests = 0;
    assert_int_equal(factor_score(&in, MD_MATCH_INTERESTS), MD_MATCH_NEUTRAL);
    r->n_goals = 0;
    assert_int_equal(factor_score(&in, MD_MATCH_GOALS), MD_MATCH_NEUTRAL);
}

static void test_seniority(void **state)
{
    (void)state;
    static const struct {
        uint32_t mentor, mentee, value;
    } cases[] = {
        {3, 5, 0},     {4, 4, 2500},  {5, 4, 6000},  {6, 4, 10000}, {8, 4, 10000}, {9, 4, 8000},
        {10, 4, 6000}, {11, 4, 4000}, {12, 4, 2000}, {20, 1, 2000}, {0, 4, 5000},  {4, 0, 5000},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        inst_t in;
        inst_init(&in);
        add_mentor(&in, 1, 1)->seniority = cases[k].mentor;
        add_mentee(&in, 2)->seniority = cases[k].mentee;
        assert_int_equal(factor_score(&in, MD_MATCH_SENIORITY), cases[k].value);
    }
}

static void test_department(void **state)
{
    (void)state;
    inst_t in;
    inst_init(&in);
    md_match_person_t *r = add_mentor(&in, 1, 1);
    md_match_person_t *e = add_mentee(&in, 2);
    r->department = 7;
    e->department = 8;
    assert_int_equal(factor_score(&in, MD_MATCH_DEPARTMENT), 10000);
    e->department = 7;
    assert_int_equal(factor_score(&in, MD_MATCH_DEPARTMENT), 5000);
    e->department = 0;
    assert_int_equal(factor_score(&in, MD_MATCH_DEPARTMENT), 7500);
    /* Under a department rule every allowed pair has the full value. */
    in.set.department = MD_MATCH_DEPT_SAME;
    e->department = 7;
    assert_int_equal(factor_score(&in, MD_MATCH_DEPARTMENT), 10000);
}

static void test_time_zone(void **state)
{
    (void)state;
    static const struct {
        int32_t a, b;
        uint32_t value;
    } cases[] = {
        {60, 60, 10000}, {0, 360, 5000}, {-300, 60, 5000},   {780, -660, 10000},
        {0, 720, 0},     {330, 0, 5417}, {-720, 720, 10000},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        inst_t in;
        inst_init(&in);
        md_match_person_t *r = add_mentor(&in, 1, 1);
        md_match_person_t *e = add_mentee(&in, 2);
        r->has_time_zone = e->has_time_zone = true;
        r->utc_offset_min = cases[k].a;
        e->utc_offset_min = cases[k].b;
        assert_int_equal(factor_score(&in, MD_MATCH_TIME_ZONE), cases[k].value);
    }
    inst_t in;
    inst_init(&in);
    add_mentor(&in, 1, 1)->has_time_zone = true;
    add_mentee(&in, 2);
    assert_int_equal(factor_score(&in, MD_MATCH_TIME_ZONE), MD_MATCH_NEUTRAL);
}

static void test_language(void **state)
{
    (void)state;
    inst_t in;
    inst_init(&in);
    uint32_t rl[] = {1, 2}, el[] = {2}, other[] = {3};
    md_match_person_t *r = add_mentor(&in, 1, 1);
    md_match_person_t *e = add_mentee(&in, 2);
    r->languages = rl;
    r->n_languages = 2;
    e->languages = el;
    e->n_languages = 1;
    assert_int_equal(factor_score(&in, MD_MATCH_LANGUAGE), 10000);
    e->languages = other;
    assert_int_equal(factor_score(&in, MD_MATCH_LANGUAGE), 0);
    e->n_languages = 0;
    assert_int_equal(factor_score(&in, MD_MATCH_LANGUAGE), MD_MATCH_NEUTRAL);

    /* Many languages: sets wider than one word. */
    uint32_t many_r[70], many_e[] = {69};
    for (uint32_t k = 0; k < 70; k++)
        many_r[k] = 1000 + k;
    many_e[0] = 1069;
    inst_init(&in);
    r = add_mentor(&in, 1, 1);
    e = add_mentee(&in, 2);
    r->languages = many_r;
    r->n_languages = 63;
    md_match_person_t *r2 = add_mentor(&in, 3, 1);
    r2->languages = many_r + 7;
    r2->n_languages = 63;
    e->languages = many_e;
    e->n_languages = 1;
    only(&in, MD_MATCH_LANGUAGE);
    md_match_t *m = make(&in);
    assert_int_equal(explain(m, 2, 1).value[MD_MATCH_LANGUAGE], 0);
    assert_int_equal(explain(m, 2, 3).value[MD_MATCH_LANGUAGE], 10000);
    uint16_t row[2];
    assert_int_equal(md_match_row(m, 0, row), MD_OK);
    assert_int_equal(row[0], 0);
    assert_int_equal(row[1], 10000);
    md_match_free(m);
}

static void test_availability(void **state)
{
    (void)state;
    inst_t in;
    inst_init(&in);
    md_match_person_t *r = add_mentor(&in, 1, 1);
    md_match_person_t *e = add_mentee(&in, 2);
    for (uint32_t h = 9; h < 17; h++)
        r->availability[0] |= 1ull << h;
    e->availability[0] = (1ull << 15) | (1ull << 16) | (1ull << 20);
    /* 2 common hours of the mentee's 3: target 3 -> 66.67 */
    assert_int_equal(factor_score(&in, MD_MATCH_AVAILABILITY), 6667);
    for (uint32_t h = 8; h < 17; h++)
        e->availability[0] |= 1ull << h;
    /* 8 common, saturating at 4 */
    assert_int_equal(factor_score(&in, MD_MATCH_AVAILABILITY), 10000);
    e->availability[0] = 1ull << 30;
    assert_int_equal(factor_score(&in, MD_MATCH_AVAILABILITY), 0);
    memset(e->availability, 0, sizeof(e->availability));
    assert_int_equal(factor_score(&in, MD_MATCH_AVAILABILITY), MD_MATCH_NEUTRAL);
    /* Bits past hour 167 are ignored. */
    e->availability[2] = 1ull << 63;
    assert_int_equal(factor_score(&in, MD_MATCH_AVAILABILITY), MD_MATCH_NEUTRAL);
}

static void test_availability_add(void **state)
{
    (void)state;
    uint64_t a[3] = {0, 0, 0};
    /* Monday 09:00-10:00 at +05:30 is 03:30-04:30 UTC: hour 4. */
    md_match_availability_add(a, 9, 330);
    assert_true(a[0] == 1ull << 4);
    /* Monday 02:00 at +05:00 is Sunday 21:00 UTC: hour 165. */
    memset(a, 0, sizeof(a));
    md_match_availability_add(a, 2, 300);
    assert_true(a[2] == 1ull << (165 - 128));
    /* Sunday 23:00 at -01:00 wraps to Monday 00:00 UTC. */
    memset(a, 0, sizeof(a));
    md_match_availability_add(a, 167, -60);
    assert_true(a[0] == 1);
    md_match_availability_add(a, 168, 0); /* out of range: ignored */
    assert_true(a[0] == 1 && a[1] == 0 && a[2] == 0);
}

static void test_preferences(void **state)
{
    (void)state;
    inst_t in;
    inst_init(&in);
    for (uint64_t id = 1; id <= 5; id++)
        add_mentor(&in, id, 1);
    add_mentee(&in, 10);
    add_mentee(&in, 11);
    /* Ranks 1, 3, 3, 7: positions 1, 2, 2, 3 of P = 3. */
    add_fact(&in, MD_MATCH_FACT_RANK, 10, 1, 1);
    add_fact(&in, MD_MATCH_FACT_RANK, 10, 2, 3);
    add_fact(&in, MD_MATCH_FACT_RANK, 10, 3, 3);
    add_fact(&in, MD_MATCH_FACT_RANK, 10, 4, 7);
    add_fact(&in, MD_MATCH_FACT_RANK, 10, 99, 2); /* unknown mentor: ignored */
    only(&in, MD_MATCH_PREFERENCES);
    md_match_t *m = make(&in);
    assert_int_equal(explain(m, 10, 1).score, 10000);
    assert_int_equal(explain(m, 10, 2).score, 8333);
    assert_int_equal(explain(m, 10, 3).score, 8333);
    assert_int_equal(explain(m, 10, 4).score, 6667);
    assert_int_equal(explain(m, 10, 4).rank, 7);
    assert_int_equal(explain(m, 10, 5).score, MD_MATCH_NEUTRAL);
    assert_int_equal(explain(m, 11, 1).score, MD_MATCH_NEUTRAL);
    md_match_free(m);
}

static void test_combine_and_contributions(void **state)
{
    (void)state;
    inst_t in;
    inst_init(&in);
    add_mentor(&in, 1, 1);
    add_mentee(&in, 2);
    /* Everything missing: every factor neutral, department 7500. */
    md_match_t *m = make(&in);
    md_match_explain_t ex = explain(m, 2, 1);
    /* (95 * 5000 + 5 * 7500) / 100 = 5125 */
    assert_int_equal(ex.score, 5125);
    assert_int_equal(ex.neutral, (1u << MD_MATCH_NFACTORS) - 1 - (1u << MD_MATCH_PREFERENCES));
    uint32_t sum = 0;
    for (int f = 0; f < MD_MATCH_NFACTORS; f++)
        sum += ex.contribution[f];
    assert_int_equal(sum, ex.score);
    md_match_free(m);

    /* Rounding half up, and contributions that need the remainders:
     * weights 1,1,1 on values 10000, 0, 5000: 15000 / 3 = 5000 exactly;
     * weights 1,2 on 10000 and 6667 (2 goals of 3): 23334 / 3 = 7778. */
    uint32_t eg[] = {1, 2, 3}, rg[] = {1, 2};
    md_match_skill_t sk[] = {{1, 3}};
    inst_init(&in);
    md_match_person_t *r = add_mentor(&in, 1, 1);
    md_match_person_t *e = add_mentee(&in, 2);
    r->skills = sk;
    r->n_skills = 1;
    e->skills = sk;
    e->n_skills = 1;
    r->goals = rg;
    r->n_goals = 2;
    e->goals = eg;
    e->n_goals = 3;
    memset(in.set.weights, 0, sizeof(in.set.weights));
    in.set.weights[MD_MATCH_SKILLS] = 1;
    in.set.weights[MD_MATCH_GOALS] = 2;
    m = make(&in);
    ex = explain(m, 2, 1);
    assert_int_equal(ex.value[MD_MATCH_GOALS], 6667);
    assert_int_equal(ex.score, 7778);
    assert_int_equal(ex.contribution[MD_MATCH_SKILLS] + ex.contribution[MD_MATCH_GOALS], 7778);
    /* 10000/3 = 3333.33 and 13334/3 = 4444.67: the unit left goes to the
     * larger remainder (goals). */
    assert_int_equal(ex.contribution[MD_MATCH_SKILLS], 3333);
    assert_int_equal(ex.contribution[MD_MATCH_GOALS], 4445);
    md_match_free(m);

    /* All weights zero: every score 0. */
    memset(in.set.weights, 0, sizeof(in.set.weights));
    m = make(&in);
    assert_int_equal(explain(m, 2, 1).score, 0);
    md_match_free(m);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(md_match_factor_name(MD_MATCH_TIME_ZONE), "time_zone");
    assert_null(md_match_factor_name(MD_MATCH_NFACTORS));
    assert_string_equal(md_match_rule_name(MD_MATCH_RULE_REPORTING_LINE), "reporting_line");
    assert_null(md_match_rule_name(3));
    for (int b = 0; b < MD_MATCH_NRULES; b++)
        assert_non_null(md_match_rule_name(1u << b));
}

/* ------------------------------------------------------------ random instances */

/* A small random instance with every feature in play. */
static void random_instance(inst_t *in, size_t n_mentees, size_t n_mentors)
{
    inst_init(in);
    md_match_settings_t *s = &in->set;
    for (int f = 0; f < MD_MATCH_NFACTORS; f++)
        s->weights[f] = (uint8_t)(rng(4) == 0 ? 0 : rng(101));
    s->department = (md_match_dept_rule_t)(rng(5) < 3 ? 1 : 2 + rng(2));
    s->min_seniority_gap = rng(4) == 0 ? rng(3) : 0;
    s->require_language = rng(5) == 0;
    s->require_training = rng(4) == 0;
    s->mentors_per_mentee = 1 + rng(3);
    s->objective = rng(2) ? MD_MATCH_PARTICIPATION : MD_MATCH_SCORE;

    for (size_t k = 0; k < n_mentees + n_mentors; k++) {
        bool mentor = k < n_mentors;
        /* Ids overlap between the sides now and then (self pairs). */
        uint64_t id = mentor ? 100 + k * 3 : 100 + (k - n_mentors) * 5 + rng(2);
        bool dup = false;
        for (size_t q = 0; !mentor && q < in->n_mentees; q++)
            dup |= in->mentees[q].user_id == id;
        if (dup)
            id += 1000;
        md_match_person_t *p = mentor ? add_mentor(in, id, rng(4)) : add_mentee(in, id);
        uint32_t ns = rng(4);
        for (uint32_t q = 0; q < ns; q++)
            in->skills[k][q] = (md_match_skill_t){1 + rng(6), 1 + rng(5)};
        p->skills = in->skills[k];
        p->n_skills = ns;
        uint32_t *counts[3] = {&p->n_goals, &p->n_interests, &p->n_languages};
        const uint32_t **lists[3] = {&p->goals, &p->interests, &p->languages};
        const uint32_t vocab[3] = {4, 6, 3};
        for (int l = 0; l < 3; l++) {
            uint32_t n = rng(4);
            for (uint32_t q = 0; q < n; q++)
                in->tags[k][l][q] = 1 + rng(vocab[l]);
            *lists[l] = in->tags[k][l];
            *counts[l] = n;
        }
        p->department = rng(4);
        p->seniority = rng(7);
        p->has_time_zone = rng(4) != 0;
        p->utc_offset_min = (int32_t)rng(5) * 180 - 360;
        if (rng(4) != 0) {
            for (uint32_t q = 0; q < 4; q++)
                md_match_availability_add(p->availability, rng(24) + 24 * rng(2), 0);
        }
        uint32_t nmg = rng(3);
        for (uint32_t q = 0; q < nmg; q++)
            in->managers[k][q] = 100 + rng(40);
        p->managers = in->managers[k];
        p->n_managers = nmg;
        p->on_leave = rng(12) == 0;
        p->existing_pairs = rng(6) == 0;
        p->training_done = rng(5) != 0;
    }
    size_t nf = n_mentees ? rng(MAXF / 2) : 0;
    static const md_match_fact_kind_t kinds[] = {
        MD_MATCH_FACT_RANK,          MD_MATCH_FACT_RANK,          MD_MATCH_FACT_RANK,
        MD_MATCH_FACT_MENTEE_AVOIDS, MD_MATCH_FACT_MENTOR_AVOIDS, MD_MATCH_FACT_HISTORY,
        MD_MATCH_FACT_EXCLUDED,      MD_MATCH_FACT_CURRENT,       MD_MATCH_FACT_PINNED,
    };
    for (size_t f = 0; f < nf && n_mentors > 0; f++) {
        md_match_fact_kind_t kind = kinds[rng(sizeof(kinds) / sizeof(kinds[0]))];
        if (kind == MD_MATCH_FACT_PINNED && rng(4) != 0)
            kind = MD_MATCH_FACT_RANK;
        add_fact(in, kind, in->mentees[rng((uint32_t)n_mentees)].user_id,
                 in->mentors[rng((uint32_t)n_mentors)].user_id, 1 + rng(5));
    }
}

/* The engine's view of capacities: what is left of each mentor's, after
 * existing pairs and pins, and whether it may take part at all. */
static uint32_t mentor_room(const inst_t *in, const md_match_person_t *p)
{
    if (p->on_leave || (in->set.require_training && !p->training_done))
        return 0;
    uint64_t used = p->existing_pairs;
    for (size_t f = 0; f < in->n_facts; f++) {
        if (in->facts[f].kind != MD_MATCH_FACT_PINNED || in->facts[f].mentor_id != p->user_id)
            continue;
        /* Count each pinned pair once, and only when its mentee exists. */
        bool first = true, known = false;
        for (size_t g = 0; g < f; g++)
            first &= !(in->facts[g].kind == MD_MATCH_FACT_PINNED &&
                       in->facts[g].mentor_id == p->user_id &&
                       in->facts[g].mentee_id == in->facts[f].mentee_id);
        for (size_t i = 0; i < in->n_mentees; i++)
            known |= in->mentees[i].user_id == in->facts[f].mentee_id;
        used += first && known;
    }
    return used >= p->capacity ? 0 : (uint32_t)(p->capacity - used);
}

/* Checks a result against everything it must respect: allowed pairs with
 * the scores the explanation gives, distinct mentors, places, capacities,
 * pins kept, totals. */
static void check_result(const inst_t *in, const md_match_t *m, const md_match_result_t *r)
{
    int64_t total = 0, new_score = 0;
    size_t new_pairs = 0;
    for (size_t k = 0; k < r->n_pairs; k++) {
        const md_match_pair_t *p = &r->pairs[k];
        md_match_explain_t ex = explain(m, p->mentee_id, p->mentor_id);
        assert_int_equal(p->score, ex.score);
        if (p->pinned) {
            assert_true(ex.pinned);
        } else {
            assert_int_equal(ex.blocked, 0);
            assert_false(ex.pinned);
            new_pairs++;
            new_score += p->score;
        }
        total += p->score;
        if (k > 0) {
            const md_match_pair_t *q = &r->pairs[k - 1];
            /* sorted, and no pair twice */
            assert_true(q->mentee_id < p->mentee_id ||
                        (q->mentee_id == p->mentee_id && q->mentor_id < p->mentor_id));
        }
    }
    assert_int_equal(total, r->total_score);
    assert_int_equal(new_score, r->new_score);
    assert_int_equal(new_pairs, r->new_pairs);
    for (size_t j = 0; j < in->n_mentors; j++) {
        uint32_t used = 0;
        for (size_t k = 0; k < r->n_pairs; k++)
            used += !r->pairs[k].pinned && r->pairs[k].mentor_id == in->mentors[j].user_id;
        assert_true(used <= mentor_room(in, &in->mentors[j]));
    }
    assert_int_equal(r->n_mentees, md_match_mentee_count(m));
    for (size_t i = 0; i < r->n_mentees; i++) {
        uint32_t used = 0;
        for (size_t k = 0; k < r->n_pairs; k++)
            used += !r->pairs[k].pinned && r->pairs[k].mentee_id == r->mentees[i].user_id;
        assert_int_equal(used, r->mentees[i].matched);
        assert_true(used <= r->mentees[i].places);
        assert_true(r->mentees[i].places <= in->set.mentors_per_mentee);
    }
    /* Every pin of known people is in the result. */
    for (size_t f = 0; f < in->n_facts; f++) {
        if (in->facts[f].kind == MD_MATCH_FACT_PINNED)
            assert_true(has_pair(r, in->facts[f].mentee_id, in->facts[f].mentor_id));
    }
}

/* The scores the solvers see: scores[i * M + j], MD_MATCH_NO_PAIR where not
 * allowed. */
static uint16_t *all_scores(const md_match_t *m)
{
    size_t ne = md_match_mentee_count(m), nm = md_match_mentor_count(m);
    uint16_t *s = malloc((ne * nm + 1) * sizeof(*s));
    assert_non_null(s);
    for (size_t i = 0; i < ne; i++)
        assert_int_equal(md_match_row(m, i, s + i * nm), MD_OK);
    return s;
}

/* Exhaustive optimum by dynamic programming over the mentors' remaining
 * capacities: for each mentee in turn, every subset of its allowed mentors
 * that fits its places. Values compare (first, second): participation:
 * (pairs, score); score: (score, pairs). */
typedef struct {
    int64_t first, second;
} value_t;

static bool better(value_t a, value_t b)
{
    return a.first > b.first || (a.first == b.first && a.second > b.second);
}

static value_t brute_force(const inst_t *in, const md_match_t *m, const md_match_result_t *r)
{
    size_t ne = md_match_mentee_count(m), nm = md_match_mentor_count(m);
    uint16_t *sc = all_scores(m);
    uint32_t room[MAXP], radix[MAXP + 1];
    size_t states = 1;
    for (size_t j = 0; j < nm; j++) {
        uint64_t id = md_match_mentor_id(m, j);
        for (size_t q = 0; q < in->n_mentors; q++) {
            if (in->mentors[q].user_id == id)
                room[j] = mentor_room(in, &in->mentors[q]);
        }
        if (room[j] > ne * 3)
            room[j] = (uint32_t)ne * 3;
        radix[j] = (uint32_t)states;
        states *= room[j] + 1;
    }
    assert_true(states <= 100000);
    value_t *cur = malloc(states * sizeof(*cur)), *next = malloc(states * sizeof(*next));
    assert_non_null(cur);
    assert_non_null(next);
    const value_t none = {INT64_MIN, INT64_MIN};
    for (size_t st = 0; st < states; st++)
        cur[st] = none;
    cur[0] = (value_t){0, 0};
    bool score_mode = in->set.objective == MD_MATCH_SCORE;
    for (size_t i = 0; i < ne; i++) {
        uint32_t places = r->mentees[i].places;
        for (size_t st = 0; st < states; st++)
            next[st] = none;
        for (size_t st = 0; st < states; st++) {
            if (cur[st].first == INT64_MIN)
                continue;
            for (uint32_t set = 0; set < (1u << nm); set++) {
                if ((uint32_t)__builtin_popcount(set) > places)
                    continue;
                size_t to = st;
                int64_t pairs = 0, score = 0;
                bool ok = true;
                for (size_t j = 0; j < nm && ok; j++) {
                    if (!(set & (1u << j)))
                        continue;
                    uint16_t s = sc[i * nm + j];
                    uint32_t used = (uint32_t)(st / radix[j] % (room[j] + 1));
                    ok = s != MD_MATCH_NO_PAIR && used < room[j];
                    to += radix[j];
                    pairs++;
                    score += s;
                }
                if (!ok)
                    continue;
                value_t v = score_mode ? (value_t){cur[st].first + score, cur[st].second + pairs}
                                       : (value_t){cur[st].first + pairs, cur[st].second + score};
                if (better(v, next[to]))
                    next[to] = v;
            }
        }
        value_t *t = cur;
        cur = next;
        next = t;
    }
    value_t best = none;
    for (size_t st = 0; st < states; st++) {
        if (better(cur[st], best))
            best = cur[st];
    }
    free(cur);
    free(next);
    free(sc);
    return best;
}

static value_t value_of(const inst_t *in, const md_match_result_t *r)
{
    if (in->set.objective == MD_MATCH_SCORE)
        return (value_t){r->new_score, (int64_t)r->new_pairs};
    return (value_t){(int64_t)r->new_pairs, r->new_score};
}

/* No allowed pair outside the result whose mentee and mentor would both
 * rather have each other. Preferences: score, then the lower user id. */
static void check_stable(const md_match_t *m, const md_match_result_t *r, const inst_t *in)
{
    size_t ne = md_match_mentee_count(m), nm = md_match_mentor_count(m);
    uint16_t *sc = all_scores(m);
    for (size_t i = 0; i < ne; i++) {
        uint64_t eid = md_match_mentee_id(m, i);
        for (size_t j = 0; j < nm; j++) {
            uint64_t rid = md_match_mentor_id(m, j);
            uint16_t s = sc[i * nm + j];
            if (s == MD_MATCH_NO_PAIR || has_pair(r, eid, rid))
                continue;
            /* The mentee: a free place, or a worse current mentor. */
            bool mentee_wants = r->mentees[i].matched < r->mentees[i].places;
            /* The mentor: room left, or a worse current mentee. */
            uint32_t room = 0, used = 0;
            for (size_t q = 0; q < in->n_mentors; q++) {
                if (in->mentors[q].user_id == rid)
                    room = mentor_room(in, &in->mentors[q]);
            }
            bool mentor_wants = false;
            for (size_t k = 0; k < r->n_pairs; k++) {
                const md_match_pair_t *p = &r->pairs[k];
                if (p->pinned)
                    continue;
                if (p->mentee_id == eid && (p->score < s || (p->score == s && p->mentor_id > rid)))
                    mentee_wants = true;
                if (p->mentor_id == rid) {
                    used++;
                    if (p->score < s || (p->score == s && p->mentee_id > eid))
                        mentor_wants = true;
                }
            }
            mentor_wants |= used < room;
            if (mentee_wants && mentor_wants)
                fail_msg("blocking pair (%llu, %llu)", (unsigned long long)eid,
                         (unsigned long long)rid);
        }
    }
    free(sc);
}

static void test_random_against_brute_force(void **state)
{
    (void)state;
    rng_state = 0x5eed5eed12345ull;
    for (int round = 0; round < 1500; round++) {
        inst_t in;
        random_instance(&in, 1 + rng(7), 1 + rng(4));
        in.set.core_size = round % 3 == 0 ? 1 : 0;
        md_match_t *m = make(&in);
        md_match_result_t *r = solve(m, MD_MATCH_OPTIMAL);
        check_result(&in, m, r);
        value_t best = brute_force(&in, m, r);
        value_t got = value_of(&in, r);
        if (best.first != got.first || best.second != got.second)
            fail_msg("round %d: engine (%lld, %lld), exhaustive (%lld, %lld)", round,
                     (long long)got.first, (long long)got.second, (long long)best.first,
                     (long long)best.second);
        md_match_result_t *st = solve(m, MD_MATCH_STABLE);
        check_result(&in, m, st);
        check_stable(m, st, &in);
        /* The optimum is never worse than the stable result. */
        assert_false(better(value_of(&in, st), got));
        md_match_result_free(st);
        md_match_result_free(r);
        md_match_free(m);
    }
}

/* The scoring loop and md_match_explain agree on every pair. */
static void test_row_matches_explain(void **state)
{
    (void)state;
    rng_state = 0xfeedface1ull;
    for (int round = 0; round < 150; round++) {
        inst_t in;
        random_instance(&in, 1 + rng(MAXP), 1 + rng(MAXP));
        md_match_t *m = make(&in);
        size_t ne = md_match_mentee_count(m), nm = md_match_mentor_count(m);
        uint16_t row[MAXP];
        for (size_t i = 0; i < ne; i++) {
            assert_int_equal(md_match_row(m, i, row), MD_OK);
            for (size_t j = 0; j < nm; j++) {
                md_match_explain_t ex =
                    explain(m, md_match_mentee_id(m, i), md_match_mentor_id(m, j));
                bool allowed = ex.blocked == 0 && !ex.pinned;
                if (allowed)
                    assert_int_equal(row[j], ex.score);
                else
                    assert_int_equal(row[j], MD_MATCH_NO_PAIR);
            }
        }
        md_match_free(m);
    }
}

/* The same pairs with one thread or two, and whatever the input order. */
static void test_determinism(void **state)
{
    (void)state;
    rng_state = 0xabcdef01ull;
    for (int round = 0; round < 40; round++) {
        inst_t in;
        random_instance(&in, MAXP, 2 + rng(MAXP - 2));
        in.set.mentors_per_mentee = 1;
        for (int solver = MD_MATCH_OPTIMAL; solver <= MD_MATCH_STABLE; solver++) {
            in.set.threads = 1;
            md_match_t *m1 = make(&in);
            md_match_result_t *r1 = solve(m1, (md_match_solver_t)solver);
            in.set.threads = 2;
            md_match_t *m2 = make(&in);
            md_match_result_t *r2 = solve(m2, (md_match_solver_t)solver);
            inst_t sh = in;
            for (size_t k = sh.n_mentees; k > 1; k--) {
                size_t q = rng((uint32_t)k);
                md_match_person_t t = sh.mentees[k - 1];
                sh.mentees[k - 1] = sh.mentees[q];
                sh.mentees[q] = t;
            }
            for (size_t k = sh.n_mentors; k > 1; k--) {
                size_t q = rng((uint32_t)k);
                md_match_person_t t = sh.mentors[k - 1];
                sh.mentors[k - 1] = sh.mentors[q];
                sh.mentors[q] = t;
            }
            for (size_t k = sh.n_facts; k > 1; k--) {
                size_t q = rng((uint32_t)k);
                md_match_fact_t t = sh.facts[k - 1];
                sh.facts[k - 1] = sh.facts[q];
                sh.facts[q] = t;
            }
            md_match_t *m3 = make(&sh);
            md_match_result_t *r3 = solve(m3, (md_match_solver_t)solver);
            assert_int_equal(r1->n_pairs, r2->n_pairs);
            assert_int_equal(r1->n_pairs, r3->n_pairs);
            for (size_t k = 0; k < r1->n_pairs; k++) {
                const md_match_pair_t *a = &r1->pairs[k], *b = &r2->pairs[k], *c = &r3->pairs[k];
                assert_true(a->mentee_id == b->mentee_id && a->mentee_id == c->mentee_id);
                assert_true(a->mentor_id == b->mentor_id && a->mentor_id == c->mentor_id);
                assert_true(a->score == b->score && a->score == c->score);
                assert_true(a->pinned == b->pinned && a->pinned == c->pinned);
                assert_true(a->pin_rules == b->pin_rules && a->pin_rules == c->pin_rules);
            }
            md_match_result_free(r1);
            md_match_result_free(r2);
            md_match_result_free(r3);
            md_match_free(m1);
            md_match_free(m2);
            md_match_free(m3);
        }
    }
}

/* ------------------------------------------------------------ hard rules */

/* Mentee 10 and mentors 1 (the best by far) and 2; each rule, applied to
 * the pair (10, 1) alone, must send mentee 10 to mentor 2 under both
 * solvers, and the explanation must name it. */
typedef void (*rule_setup_t)(inst_t *in);

static void base_pair(inst_t *in)
{
    static md_match_skill_t good[] = {{1, 5}}, want[] = {{1, 5}};
    static uint32_t lang[] = {1};
    inst_init(in);
    md_match_person_t *r1 = add_mentor(in, 1, 1);
    md_match_person_t *r2 = add_mentor(in, 2, 1);
    md_match_person_t *e = add_mentee(in, 10);
    r1->skills = good;
    r1->n_skills = 1;
    e->skills = want;
    e->n_skills = 1;
    r1->languages = r2->languages = e->languages = lang;
    r1->n_languages = r2->n_languages = e->n_languages = 1;
    r1->department = r2->department = e->department = 3;
    r1->seniority = r2->seniority = 6;
    e->seniority = 3;
}

static void rule_history(inst_t *in)
{
    add_fact(in, MD_MATCH_FACT_HISTORY, 10, 1, 0);
}
static void rule_excluded(inst_t *in)
{
    add_fact(in, MD_MATCH_FACT_EXCLUDED, 10, 1, 0);
}
static void rule_mentee_avoids(inst_t *in)
{
    add_fact(in, MD_MATCH_FACT_MENTEE_AVOIDS, 10, 1, 0);
}
static void rule_mentor_avoids(inst_t *in)
{
    add_fact(in, MD_MATCH_FACT_MENTOR_AVOIDS, 10, 1, 0);
}
static void rule_current(inst_t *in)
{
    add_fact(in, MD_MATCH_FACT_CURRENT, 10, 1, 0);
    in->set.mentors_per_mentee = 2;
    in->mentees[0].existing_pairs = 1;
}
static void rule_reporting_up(inst_t *in)
{
    static uint64_t chain[] = {55, 1, 77};
    in->mentees[0].managers = chain;
    in->mentees[0].n_managers = 3;
}
static void rule_reporting_down(inst_t *in)
{
    static uint64_t chain[] = {10};
    in->mentors[0].managers = chain;
    in->mentors[0].n_managers = 1;
}
static void rule_self(inst_t *in)
{
    in->mentees[0].user_id = 1;
}
static void rule_training(inst_t *in)
{
    in->set.require_training = true;
    in->mentors[0].training_done = false;
}
static void rule_language(inst_t *in)
{
    static uint32_t other[] = {2};
    in->set.require_language = true;
    in->mentors[0].languages = other;
}
static void rule_dept_same(inst_t *in)
{
    in->set.department = MD_MATCH_DEPT_SAME;
    in->mentors[0].department = 4;
}
static void rule_dept_different(inst_t *in)
{
    in->set.department = MD_MATCH_DEPT_DIFFERENT;
    in->mentors[1].department = 4;
}
static void rule_seniority(inst_t *in)
{
    in->set.min_seniority_gap = 3;
    in->mentors[0].seniority = 5;
}
static void rule_mentor_leave(inst_t *in)
{
    in->mentors[0].on_leave = true;
}
static void rule_mentor_full(inst_t *in)
{
    in->mentors[0].existing_pairs = 1;
}

static void test_hard_rules(void **state)
{
    (void)state;
    static const struct {
        rule_setup_t setup;
        uint32_t rule;
        uint64_t mentee;
    } rules[] = {
        {rule_history, MD_MATCH_RULE_HISTORY, 10},
        {rule_excluded, MD_MATCH_RULE_EXCLUDED, 10},
        {rule_mentee_avoids, MD_MATCH_RULE_MENTEE_AVOIDS, 10},
        {rule_mentor_avoids, MD_MATCH_RULE_MENTOR_AVOIDS, 10},
        {rule_current, MD_MATCH_RULE_CURRENT, 10},
        {rule_reporting_up, MD_MATCH_RULE_REPORTING_LINE, 10},
        {rule_reporting_down, MD_MATCH_RULE_REPORTING_LINE, 10},
        {rule_self, MD_MATCH_RULE_SELF, 1},
        {rule_training, MD_MATCH_RULE_TRAINING, 10},
        {rule_language, MD_MATCH_RULE_LANGUAGE, 10},
        {rule_dept_same, MD_MATCH_RULE_DEPARTMENT, 10},
        {rule_dept_different, MD_MATCH_RULE_DEPARTMENT, 10},
        {rule_seniority, MD_MATCH_RULE_SENIORITY, 10},
        {rule_mentor_leave, MD_MATCH_RULE_MENTOR_LEAVE, 10},
        {rule_mentor_full, MD_MATCH_RULE_MENTOR_FULL, 10},
    };
    for (size_t k = 0; k < sizeof(rules) / sizeof(rules[0]); k++) {
        inst_t in;
        base_pair(&in);
        /* Without the rule, mentor 1 wins. */
        md_match_t *m = make(&in);
        for (int solver = MD_MATCH_OPTIMAL; solver <= MD_MATCH_STABLE; solver++) {
            md_match_result_t *r = solve(m, (md_match_solver_t)solver);
            assert_true(has_pair(r, 10, 1));
            md_match_result_free(r);
        }
        md_match_free(m);

        rules[k].setup(&in);
        m = make(&in);
        md_match_explain_t ex = explain(m, rules[k].mentee, 1);
        if (!(ex.blocked & rules[k].rule))
            fail_msg("rule %s not reported (blocked = %#x)", md_match_rule_name(rules[k].rule),
                     ex.blocked);
        assert_int_equal(explain(m, rules[k].mentee, 2).blocked, 0);
        for (int solver = MD_MATCH_OPTIMAL; solver <= MD_MATCH_STABLE; solver++) {
            md_match_result_t *r = solve(m, (md_match_solver_t)solver);
            if (has_pair(r, rules[k].mentee, 1))
                fail_msg("rule %s broken by solver %d", md_match_rule_name(rules[k].rule), solver);
            assert_true(has_pair(r, rules[k].mentee, 2));
            check_result(&in, m, r);
            md_match_result_free(r);
        }
        md_match_free(m);
    }
}

static void test_mentee_rules(void **state)
{
    (void)state;
    inst_t in;
    base_pair(&in);
    in.mentees[0].on_leave = true;
    add_mentee(&in, 11);
    md_match_t *m = make(&in);
    assert_true(explain(m, 10, 1).blocked & MD_MATCH_RULE_MENTEE_LEAVE);
    for (int solver = MD_MATCH_OPTIMAL; solver <= MD_MATCH_STABLE; solver++) {
        md_match_result_t *r = solve(m, (md_match_solver_t)solver);
        assert_int_equal(r->mentees[0].places, 0);
        assert_int_equal(r->mentees[0].matched, 0);
        assert_int_equal(r->mentees[1].matched, 1);
        md_match_result_free(r);
    }
    md_match_free(m);

    base_pair(&in);
    in.mentees[0].existing_pairs = 1;
    m = make(&in);
    assert_true(explain(m, 10, 1).blocked & MD_MATCH_RULE_MENTEE_FULL);
    md_match_result_t *r = solve(m, MD_MATCH_OPTIMAL);
    assert_int_equal(r->n_pairs, 0);
    md_match_result_free(r);
    md_match_free(m);
}

/* Pins stay whatever the rules, use capacity, and say what they break. */
static void test_pins(void **state)
{
    (void)state;
    inst_t in;
    base_pair(&in);
    add_mentee(&in, 11);
    in.mentees[1].skills = in.mentees[0].skills;
    in.mentees[1].n_skills = 1;
    add_fact(&in, MD_MATCH_FACT_PINNED, 11, 1, 0);
    add_fact(&in, MD_MATCH_FACT_PINNED, 11, 1, 0); /* twice: counts once */
    md_match_t *m = make(&in);
    for (int solver = MD_MATCH_OPTIMAL; solver <= MD_MATCH_STABLE; solver++) {
        md_match_result_t *r = solve(m, (md_match_solver_t)solver);
        check_result(&in, m, r);
        assert_true(has_pair(r, 11, 1));
        assert_true(has_pair(r, 10, 2)); /* mentor 1 is full with the pin */
        assert_int_equal(r->n_pairs, 2);
        assert_int_equal(r->new_pairs, 1);
        for (size_t k = 0; k < r->n_pairs; k++) {
            if (r->pairs[k].mentee_id == 11) {
                assert_true(r->pairs[k].pinned);
                assert_int_equal(r->pairs[k].pin_rules, 0);
            }
        }
        md_match_result_free(r);
    }
    md_match_free(m);

    /* A pin over history and beyond the capacity: kept, flagged. */
    add_fact(&in, MD_MATCH_FACT_HISTORY, 11, 1, 0);
    add_fact(&in, MD_MATCH_FACT_PINNED, 10, 1, 0);
    m = make(&in);
    md_match_result_t *r = solve(m, MD_MATCH_OPTIMAL);
    check_result(&in, m, r);
    assert_int_equal(r->n_pairs, 2);
    assert_int_equal(r->new_pairs, 0);
    assert_int_equal(r->pairs[0].pin_rules, 0);
    assert_int_equal(r->pairs[1].pin_rules, MD_MATCH_RULE_HISTORY | MD_MATCH_RULE_MENTOR_FULL);
    md_match_result_free(r);
    md_match_free(m);

    /* A pin naming nobody is an error. */
    base_pair(&in);
    add_fact(&in, MD_MATCH_FACT_PINNED, 10, 99, 0);
    md_match_input_t input = input_of(&in);
    char err[128];
    assert_int_equal(md_match_create(&m, &input, err, sizeof(err)), MD_EINVAL);
    assert_non_null(strstr(err, "mentor"));
}

/* Several mentors per mentee: distinct, up to the count. */
static void test_mentors_per_mentee(void **state)
{
    (void)state;
    inst_t in;
    inst_init(&in);
    in.set.mentors_per_mentee = 3;
    for (uint64_t id = 1; id <= 4; id++)
        add_mentor(&in, id, 5);
    add_mentee(&in, 10);
    add_mentee(&in, 11)->existing_pairs = 2;
    md_match_t *m = make(&in);
    for (int solver = MD_MATCH_OPTIMAL; solver <= MD_MATCH_STABLE; solver++) {
        md_match_result_t *r = solve(m, (md_match_solver_t)solver);
        check_result(&in, m, r);
        assert_int_equal(r->mentees[0].places, 3);
        assert_int_equal(r->mentees[0].matched, 3);
        assert_int_equal(r->mentees[1].places, 1);
        assert_int_equal(r->mentees[1].matched, 1);
        md_match_result_free(r);
    }
    md_match_free(m);
}

/* The two objectives differ: mentor 1 suits both mentees, mentor 2 only
 * mentee 11, poorly. Participation matches both; score matches one to the
 * best pair when that gives more in total. */
static void test_objectives(void **state)
{
    (void)state;
    static md_match_skill_t s1[] = {{1, 5}}, s2[] = {{2, 5}}, want1[] = {{1, 5}};
    static md_match_skill_t want12[] = {{1, 5}, {2, 1}};
    inst_t in;
    inst_init(&in);
    only(&in, MD_MATCH_SKILLS);
    md_match_person_t *r1 = add_mentor(&in, 1, 1);
    md_match_person_t *r2 = add_mentor(&in, 2, 1);
    md_match_person_t *a = add_mentee(&in, 10);
    md_match_person_t *b = add_mentee(&in, 11);
    r1->skills = s1;
    r1->n_skills = 1;
    r2->skills = s2;
    r2->n_skills = 1;
    a->skills = want1;
    a->n_skills = 1;
    b->skills = want12;
    b->n_skills = 2;
    /* (10,1) = 100, (10,2) = 0, (11,1) = 50, (11,2) = 50. */
    in.set.objective = MD_MATCH_PARTICIPATION;
    md_match_t *m = make(&in);
    md_match_result_t *r = solve(m, MD_MATCH_OPTIMAL);
    assert_int_equal(r->new_pairs, 2);
    assert_true(has_pair(r, 10, 1) && has_pair(r, 11, 2));
    assert_int_equal(r->new_score, 15000);
    md_match_result_free(r);
    md_match_free(m);

    /* Score: a zero pair is never proposed. Mentor 2 takes nobody scoring 0. */
    b->n_skills = 1;
    in.set.objective = MD_MATCH_SCORE;
    m = make(&in);
    assert_true(explain(m, 10, 2).blocked & MD_MATCH_RULE_ZERO_SCORE);
    r = solve(m, MD_MATCH_OPTIMAL);
    assert_int_equal(r->new_pairs, 1);
    assert_int_equal(r->new_score, 10000);
    md_match_result_free(r);
    r = solve(m, MD_MATCH_STABLE);
    assert_int_equal(r->new_pairs, 1);
    md_match_result_free(r);
    md_match_free(m);

    /* Participation matches mentee 10 with the zero pair to have two. */
    in.set.objective = MD_MATCH_PARTICIPATION;
    m = make(&in);
    r = solve(m, MD_MATCH_OPTIMAL);
    assert_int_equal(r->new_pairs, 2);
    md_match_result_free(r);
    md_match_free(m);
}

/* ------------------------------------------------------------ edge cases */

/* Every pair scoring the same (profiles left empty) with capacity exactly
 * equal to the places: every mentee is matched, each pair at the one
 * score, and the optimal and stable totals agree. */
static void test_equal_scores_tight(void **state)
{
    (void)state;
    enum { NE = 600, NM = 120 };
    md_match_person_t *mentees = calloc(NE, sizeof(*mentees));
    md_match_person_t *mentors = calloc(NM, sizeof(*mentors));
    assert_non_null(mentees);
    assert_non_null(mentors);
    for (uint64_t i = 0; i < NM; i++) {
        mentors[i].user_id = 1 + i;
        mentors[i].capacity = NE / NM;
    }
    for (uint64_t i = 0; i < NE; i++)
        mentees[i].user_id = 10000 + i;
    md_match_input_t in = {0};
    md_match_settings_init(&in.settings);
    in.settings.threads = 2;
    in.mentors = mentors;
    in.n_mentors = NM;
    in.mentees = mentees;
    in.n_mentees = NE;
    md_match_t *m;
    assert_int_equal(md_match_create(&m, &in, NULL, 0), MD_OK);
    md_match_explain_t ex;
    assert_int_equal(md_match_explain(m, 10000, 1, &ex), MD_OK);
    for (int solver = MD_MATCH_OPTIMAL; solver <= MD_MATCH_STABLE; solver++) {
        md_match_result_t *r;
        assert_int_equal(md_match_solve(m, (md_match_solver_t)solver, &r), MD_OK);
        assert_int_equal(r->new_pairs, NE);
        assert_int_equal(r->new_score, (int64_t)NE * ex.score);
        md_match_result_free(r);
    }
    md_match_free(m);
    free(mentees);
    free(mentors);
}

static void test_degenerate(void **state)
{
    (void)state;
    inst_t in;
    md_match_t *m;
    md_match_result_t *r;

    inst_init(&in); /* nobody */
    m = make(&in);
    for (int solver = MD_MATCH_OPTIMAL; solver <= MD_MATCH_STABLE; solver++) {
        r = solve(m, (md_match_solver_t)solver);
        assert_int_equal(r->n_pairs, 0);
        assert_int_equal(r->n_mentees, 0);
        md_match_result_free(r);
    }
    md_match_free(m);

    inst_init(&in); /* no mentors */
    add_mentee(&in, 1);
    add_mentee(&in, 2);
    m = make(&in);
    r = solve(m, MD_MATCH_OPTIMAL);
    assert_int_equal(r->n_pairs, 0);
    assert_int_equal(r->n_mentees, 2);
    assert_int_equal(r->mentees[0].allowed, 0);
    md_match_result_free(r);
    md_match_free(m);

    inst_init(&in); /* no mentees */
    add_mentor(&in, 1, 3);
    m = make(&in);
    r = solve(m, MD_MATCH_STABLE);
    assert_int_equal(r->n_pairs, 0);
    md_match_result_free(r);
    md_match_free(m);

    inst_init(&in); /* all capacities 0 */
    add_mentor(&in, 1, 0);
    add_mentor(&in, 2, 0);
    add_mentee(&in, 3);
    m = make(&in);
    assert_true(explain(m, 3, 1).blocked & MD_MATCH_RULE_MENTOR_FULL);
    for (int solver = MD_MATCH_OPTIMAL; solver <= MD_MATCH_STABLE; solver++) {
        r = solve(m, (md_match_solver_t)solver);
        assert_int_equal(r->n_pairs, 0);
        md_match_result_free(r);
    }
    md_match_free(m);

    inst_init(&in); /* everything excluded */
    for (uint64_t id = 1; id <= 3; id++)
        add_mentor(&in, id, 2);
    for (uint64_t e = 10; e <= 12; e++) {
        add_mentee(&in, e);
        for (uint64_t id = 1; id <= 3; id++)
            add_fact(&in, MD_MATCH_FACT_EXCLUDED, e, id, 0);
    }
    m = make(&in);
    for (int solver = MD_MATCH_OPTIMAL; solver <= MD_MATCH_STABLE; solver++) {
        r = solve(m, (md_match_solver_t)solver);
        assert_int_equal(r->n_pairs, 0);
        assert_int_equal(r->mentees[0].places, 1);
        assert_int_equal(r->mentees[0].allowed, 0);
        md_match_result_free(r);
    }
    md_match_free(m);

    /* All weights 0, score objective: every pair scores 0, none proposed. */
    inst_init(&in);
    memset(in.set.weights, 0, sizeof(in.set.weights));
    in.set.objective = MD_MATCH_SCORE;
    add_mentor(&in, 1, 1);
    add_mentee(&in, 2);
    m = make(&in);
    r = solve(m, MD_MATCH_OPTIMAL);
    assert_int_equal(r->n_pairs, 0);
    md_match_result_free(r);
    md_match_free(m);

    /* Unknown people in explain. */
    inst_init(&in);
    add_mentor(&in, 1, 1);
    add_mentee(&in, 2);
    m = make(&in);
    md_match_explain_t ex;
    assert_int_equal(md_match_explain(m, 3, 1, &ex), MD_ENOTFOUND);
    uint16_t row[1];
    assert_int_equal(md_match_row(m, 5, row), MD_EINVAL);
    assert_int_equal(md_match_mentor_id(m, 7), 0);
    md_match_free(m);
    md_match_free(NULL);
    md_match_result_free(NULL);
}

static void test_invalid(void **state)
{
    (void)state;
    inst_t in;
    md_match_t *m = NULL;
    char err[128];
    md_match_input_t input;

    base_pair(&in);
    in.set.weights[2] = 101;
    input = input_of(&in);
    assert_int_equal(md_match_create(&m, &input, err, sizeof(err)), MD_EINVAL);
    assert_non_null(strstr(err, "interests"));
    assert_null(m);

    base_pair(&in);
    in.set.mentors_per_mentee = 4;
    input = input_of(&in);
    assert_int_equal(md_match_create(&m, &input, err, sizeof(err)), MD_EINVAL);

    base_pair(&in);
    in.set.objective = (md_match_objective_t)7;
    input = input_of(&in);
    assert_int_equal(md_match_create(&m, &input, NULL, 0), MD_EINVAL);

    base_pair(&in);
    in.mentors[1].user_id = 1;
    input = input_of(&in);
    assert_int_equal(md_match_create(&m, &input, err, sizeof(err)), MD_EINVAL);
    assert_non_null(strstr(err, "twice"));

    base_pair(&in);
    in.mentees[0].user_id = 0;
    input = input_of(&in);
    assert_int_equal(md_match_create(&m, &input, err, sizeof(err)), MD_EINVAL);

    base_pair(&in);
    add_fact(&in, MD_MATCH_FACT_RANK, 10, 1, 0);
    input = input_of(&in);
    assert_int_equal(md_match_create(&m, &input, err, sizeof(err)), MD_EINVAL);

    base_pair(&in);
    uint32_t many[64];
    for (uint32_t k = 0; k < 64; k++)
        many[k] = k;
    in.mentees[0].goals = many;
    in.mentees[0].n_goals = 64;
    input = input_of(&in);
    assert_int_equal(md_match_create(&m, &input, err, sizeof(err)), MD_EINVAL);

    base_pair(&in);
    in.mentees[0].n_interests = 2; /* with a NULL array */
    input = input_of(&in);
    assert_int_equal(md_match_create(&m, &input, err, sizeof(err)), MD_EINVAL);

    base_pair(&in);
    m = make(&in);
    md_match_result_t *r;
    assert_int_equal(md_match_solve(m, (md_match_solver_t)9, &r), MD_EINVAL);
    md_match_free(m);
}

/* A mid-size instance: the optimal solver's verification rounds and the
 * stable solver's refetching, with a tiny core. */
static void test_medium(void **state)
{
    (void)state;
    rng_state = 0x77aa55ull;
    enum { NE = 160, NR = 40 };
    static md_match_person_t mentors[NR], mentees[NE];
    static md_match_skill_t skills[NE + NR][4];
    md_match_settings_t set;
    md_match_settings_init(&set);
    set.core_size = 2;
    set.threads = 2;
    for (size_t k = 0; k < NE + NR; k++) {
        md_match_person_t *p = k < NR ? &mentors[k] : &mentees[k - NR];
        memset(p, 0, sizeof(*p));
        p->user_id = 1 + k;
        p->capacity = 1 + rng(4);
        p->seniority = 1 + rng(8);
        for (int q = 0; q < 4; q++)
            skills[k][q] = (md_match_skill_t){1 + rng(12), 1 + rng(5)};
        p->skills = skills[k];
        p->n_skills = 4;
        p->has_time_zone = true;
        p->utc_offset_min = (int32_t)rng(4) * 60;
    }
    for (int obj = MD_MATCH_PARTICIPATION; obj <= MD_MATCH_SCORE; obj++) {
        set.objective = (md_match_objective_t)obj;
        md_match_input_t input = {set, mentors, NR, mentees, NE, NULL, 0};
        md_match_t *m;
        assert_int_equal(md_match_create(&m, &input, NULL, 0), MD_OK);
        md_match_result_t *small = solve(m, MD_MATCH_OPTIMAL);
        md_match_free(m);
        input.settings.core_size = 0;
        assert_int_equal(md_match_create(&m, &input, NULL, 0), MD_OK);
        md_match_result_t *big = solve(m, MD_MATCH_OPTIMAL);
        /* Whatever the core, the same optimum. */
        assert_int_equal(small->new_pairs, big->new_pairs);
        assert_int_equal(small->new_score, big->new_score);
        assert_true(small->stats.rounds >= 2);
        md_match_result_t *st = solve(m, MD_MATCH_STABLE);
        assert_true(st->new_pairs <= big->new_pairs || obj == MD_MATCH_SCORE);
        assert_true(st->new_score <= big->new_score || obj == MD_MATCH_PARTICIPATION);
        md_match_result_free(st);
        md_match_result_free(small);
        md_match_result_free(big);
        md_match_free(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_skills),
        cmocka_unit_test(test_goals_interests),
        cmocka_unit_test(test_seniority),
        cmocka_unit_test(test_department),
        cmocka_unit_test(test_time_zone),
        cmocka_unit_test(test_language),
        cmocka_unit_test(test_availability),
        cmocka_unit_test(test_availability_add),
        cmocka_unit_test(test_preferences),
        cmocka_unit_test(test_combine_and_contributions),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_hard_rules),
        cmocka_unit_test(test_mentee_rules),
        cmocka_unit_test(test_pins),
        cmocka_unit_test(test_mentors_per_mentee),
        cmocka_unit_test(test_objectives),
        cmocka_unit_test(test_degenerate),
        cmocka_unit_test(test_equal_scores_tight),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_row_matches_explain),
        cmocka_unit_test(test_random_against_brute_force),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_medium),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
