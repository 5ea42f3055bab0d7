/* match_int.h (private to the matching engine): the engine's internal form
 * of an instance, shared by the files of server/match/.
 *
 * md_match_create turns the caller's rows into arrays indexed by person
 * (mentors and mentees each sorted by user id), with tag lists sorted and
 * without duplicates, inverted lists from tags to the mentors who have them,
 * and per-mentee lists of the pair facts that concern them. Everything here
 * is read-only once created; per-solve state lives in the solver files.
 *
 * Functions shared between the engine's files are named md_match__* (two
 * underscores: internal, not part of md_match.h); types shared between them
 * are named match_*_t and never leave the engine. */
#ifndef MD_MATCH_INT_H
#define MD_MATCH_INT_H

#include <stdint.h>

#include "md_match.h"

/* A rule bit for internal use only: the pair is pinned, so the solvers must
 * not propose it a second time. Never reported. */
#define MATCH_RULE_PINNED (1u << 24)
/* The pair rules that facts and the reporting line produce. */
#define MATCH_PAIR_RULES                                                                           \
    (MD_MATCH_RULE_SELF | MD_MATCH_RULE_REPORTING_LINE | MD_MATCH_RULE_HISTORY |                   \
     MD_MATCH_RULE_EXCLUDED | MD_MATCH_RULE_MENTEE_AVOIDS | MD_MATCH_RULE_MENTOR_AVOIDS |          \
     MD_MATCH_RULE_CURRENT | MATCH_RULE_PINNED)

/* What a person gave, as bits of match_key_t.flags and person flags. */
enum {
    MATCH_HAS_SKILLS = 1u << 0,
    MATCH_HAS_GOALS = 1u << 1,
    MATCH_HAS_INTERESTS = 1u << 2,
    MATCH_HAS_LANGUAGE = 1u << 3,
    MATCH_HAS_AVAIL = 1u << 4,
    MATCH_HAS_TZ = 1u << 5,
};

/* The per-mentor data the scoring loop reads for every pair, packed so one
 * mentor is one cache line or less. */
typedef struct {
    uint64_t avail[3];
    uint64_t lang; /* first word of the language set */
    uint32_t dept;
    uint16_t tz_class; /* index into match_t.tz_offsets; unused without MATCH_HAS_TZ */
    uint8_t seniority; /* 0-20 */
    uint8_t flags;     /* MATCH_HAS_* */
    uint8_t n_interests;
    uint8_t pad[7];
} match_key_t;

/* A pair fact as the engine keeps it: per mentee, sorted by mentor. */
typedef struct {
    uint32_t mentor;
    uint32_t rules;    /* MATCH_PAIR_RULES bits */
    uint32_t rank;     /* the mentee's rank value; 0: unranked */
    uint32_t rank_pos; /* position 1..P of that rank; 0: unranked */
} match_special_t;

/* One person's lists (mentor or mentee): offsets into the shared arrays. */
typedef struct {
    uint32_t skill_off, n_skills; /* into skill_ids / skill_levels */
    uint32_t goal_off, n_goals;   /* into tag arrays */
    uint32_t int_off, n_interests;
    uint32_t n_languages;
    uint32_t avail_hours;
    int32_t tz_min; /* offset normalized to 0..1439 */
    uint8_t seniority;
    uint8_t flags; /* MATCH_HAS_* */
    uint32_t dept;
} match_person_t;

/* An inverted list: for each distinct tag (vocab[v], sorted), the mentors
 * who have it in post[off[v]..off[v+1]), as mentor index << 3 | level (the
 * level only for skills). */
typedef struct {
    uint32_t n;
    uint32_t *vocab;
    uint32_t *off;
    uint32_t *post;
} match_index_t;

typedef struct {
    uint32_t mentee, mentor;
    uint32_t rules; /* rules the pin breaks, capacity bits included */
} match_pin_t;

struct md_match {
    md_match_settings_t set;
    uint32_t weight_sum;
    /* Division by 2 x weight_sum for numerators below 2^25, as a
     * multiplication and a shift (Granlund and Montgomery). */
    uint64_t div_magic;
    uint32_t div_shift;
    uint32_t n_mentors, n_mentees;

    uint64_t *mentor_ids, *mentee_ids;
    match_person_t *mentors, *mentees;
    match_key_t *keys; /* per mentor */

    /* Tag lists of everyone: skills (ids and levels), goals and interests. */
    uint32_t *skill_ids;
    uint8_t *skill_levels;
    uint32_t *tags;

    /* Languages as bit sets over the distinct language ids of the input:
     * lang_words words per person. */
    uint32_t lang_words;
    uint64_t *mentor_lang, *mentee_lang;
    /* Availability sets of the mentees, three words each (the mentors' are
     * in their keys). */
    uint64_t *mentee_avail;
    /* Jaccard values by shared count s and union size u: [s * 128 + u]. */
    uint16_t *jaccard;

    /* Distinct UTC offsets of the mentors (minutes, 0..1439). */
    uint32_t n_tz;
    int32_t *tz_offsets;

    match_index_t skill_index, goal_index, interest_index;

    /* Pair facts per mentee: specials[special_off[i]..special_off[i+1]). */
    uint32_t *special_off;
    match_special_t *specials;
    uint32_t *rank_count; /* P per mentee */

    match_pin_t *pins;
    uint32_t n_pins;

    /* Per person: rules that block every pair of theirs (leave, training,
     * full), remaining capacity (mentors) or places (mentees). */
    uint32_t *mentor_block, *mentee_block;
    uint32_t *mentor_room, *mentee_places;

    /* Mentors the solvers may use (mentor_block == 0), by index. */
    uint32_t *elig;
    uint32_t n_elig;
    /* elig_pos[j]: position of mentor j in elig, or UINT32_MAX. */
    uint32_t *elig_pos;

    /* The scoring loop, picked for the CPU at creation. */
    void (*row_fn)(const struct md_match *m, uint32_t mentee, uint32_t *acc,
                   const uint32_t *mentors, uint32_t n, uint16_t *out);
};

typedef struct md_match match_t;

/* ---- factor values (match_score.c), each 0..10000 ---- */

/* a / b rounded half up, for b > 0. */
static inline uint32_t match_div_round(uint64_t a, uint64_t b)
{
    return (uint32_t)((2 * a + b) / (2 * b));
}

/* Credit of a wanted skill at level want offered at level have (0: not
 * offered), in sixtieths: 60 is full coverage. */
uint32_t md_match__skill_credit60(uint32_t have, uint32_t want);
uint32_t md_match__value_skills(uint32_t credit60_sum, uint32_t n_wanted);
uint32_t md_match__value_goals(uint32_t shared, uint32_t n_mentee);
uint32_t md_match__value_interests(uint32_t shared, uint32_t n_union);
uint32_t md_match__value_seniority(int32_t gap);
uint32_t md_match__value_time_zone(uint32_t distance_min);
uint32_t md_match__value_availability(uint32_t common, uint32_t mentee_hours);
uint32_t md_match__value_preference(uint32_t pos, uint32_t count);
/* Circular distance between two offsets normalized to 0..1439, 0..720. */
uint32_t md_match__tz_distance(int32_t a, int32_t b);
/* The weighted average of the values of the factors with non-zero weight. */
uint32_t md_match__combine(const match_t *m, const uint32_t value[MD_MATCH_NFACTORS]);

/* Scores mentee `mentee` against every eligible mentor: out[t] is the score
 * with mentor elig[t], or MD_MATCH_NO_PAIR. acc is scratch of n_mentors
 * entries, zero on entry and on return. The mentee must be eligible
 * (mentee_block == 0). */
void md_match__score_row(const match_t *m, uint32_t mentee, uint32_t *acc, uint16_t *out);
/* The same for some eligible mentors only (indices, ascending): out[k] is
 * the score with mentors[k]. */
void md_match__score_some(const match_t *m, uint32_t mentee, uint32_t *acc, const uint32_t *mentors,
                          uint32_t n, uint16_t *out);
/* One pair's score as the scoring loop would give it (MD_MATCH_NO_PAIR
 * when blocked), computed the plain way: for a few pairs of a row. */
uint32_t md_match__score_pair(const match_t *m, uint32_t mentee, uint32_t mentor);
/* Picks the scoring loop for this CPU. */
void md_match__score_init(match_t *m);

/* Index of a user id in a sorted array, or UINT32_MAX. */
uint32_t md_match__find_id(const uint64_t *ids, uint32_t n, uint64_t id);

/* ---- solving (match_solve.c, match_flow.c, match_stable.c) ---- */

/* A new pair chosen by a solver. */
typedef struct {
    uint32_t mentee, mentor;
    uint32_t score;
} match_assign_t;

/* Each eligible mentee's best allowed mentors from the first scoring pass,
 * best first (score descending, then mentor index ascending). */
typedef struct {
    uint32_t stride;  /* entries reserved per mentee */
    uint32_t *mentor; /* [i * stride + r] */
    uint16_t *score;
    uint32_t *n;       /* entries per mentee */
    int32_t *ub;       /* best score of an allowed pair not in the list; -1: none */
    uint32_t *allowed; /* allowed pairs per mentee */
} match_cands_t;

/* Scratch memory of one scoring thread. */
typedef struct {
    uint32_t *acc;  /* n_mentors, kept zero between rows */
    uint16_t *row;  /* n_elig */
    uint8_t *mark;  /* n_mentors, kept zero between uses */
    uint32_t *list; /* n_elig: mentor indices for a partial row */
} match_scratch_t;

/* Deferred acceptance over the candidate lists, fetching further mentors
 * of a mentee with the scoring loop when its list runs out. Appends the
 * pairs to *out (a malloc'd array of *n_out entries). */
int md_match__stable(const match_t *m, const match_cands_t *c, match_scratch_t *s,
                     match_assign_t **out, size_t *n_out, md_match_stats_t *st);

/* Minimum-cost flow over a sparse set of candidate pairs ("the core"),
 * by cost scaling (match_flow.c). */
typedef struct match_flow match_flow_t;

/* Costs: participation objective: 10000 - score per pair and a dummy
 * ("unmatched") arc costing more than any set of pairs can gain; score
 * objective: (P + 1)(10000 - score) - 1 per pair, P the places to fill, and
 * (P + 1) x 10000 for the dummy, so the total score decides first and the
 * number of pairs second. All multiplied by the number of nodes plus one. */
match_flow_t *md_match__flow_new(const match_t *m);
void md_match__flow_free(match_flow_t *f);
/* The scaled cost of a pair with this score. */
int64_t md_match__flow_cost(const match_flow_t *f, uint32_t score);
/* The flow is optimal when every residual arc's reduced cost, cost +
 * price(tail) - price(head), is at least minus this. */
int64_t md_match__flow_slack(const match_flow_t *f);
/* The first core, as edges by mentee (mentee i's in off[i]..off[i+1]). */
int md_match__flow_init(match_flow_t *f, const uint32_t *off, const uint32_t *mentor,
                        const uint16_t *score);
/* More candidate pairs (sorted by mentee, then mentor, none already in the
 * core). */
int md_match__flow_add(match_flow_t *f, const match_assign_t *e, size_t n);
/* Makes the flow optimal for the core; the prices prove it. */
int md_match__flow_run(match_flow_t *f);
uint64_t md_match__flow_edges(const match_flow_t *f);
/* All prices: mentees 0..n-1, then mentors, then T. */
const int64_t *md_match__flow_potentials(const match_flow_t *f);
/* Once the flow is optimal: moves each mentor's price as low, and then each
 * mentee's as high, as the core allows. The flow stays optimal and the
 * prices valid; pairs outside the core then fail the reduced cost test
 * only when they really could improve the assignment. */
void md_match__flow_tighten(match_flow_t *f);
/* Core edges of mentee i: *mentor and *score arrays, their count, and
 * whether each carries flow (*used). */
uint32_t md_match__flow_row(const match_flow_t *f, uint32_t i, const uint32_t **mentor,
                            const uint16_t **score, const uint8_t **used);

#endif
