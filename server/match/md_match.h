/* md_match.h: the matching engine of mentord. Pure computation: plain C
 * structs in, plain C structs out; no I/O, no database, no event loop.
 *
 * The engine scores every (mentor, mentee) pair of one program, applies the
 * program's hard rules, and assigns mentors to mentees with one of two
 * solvers: OPTIMAL (the assignment with the largest total score, proven
 * optimal for the whole problem) or STABLE (mentee-proposing deferred
 * acceptance). Every score can be explained factor by factor.
 *
 * Typical use by the server:
 *
 *   md_match_settings_t s;
 *   md_match_settings_init(&s);            program defaults
 *   s.weights[MD_MATCH_SKILLS] = 40; ...   from the programs row
 *   md_match_input_t in = {.settings = s, .mentors = ..., .mentees = ..., .facts = ...};
 *   md_match_t *m;
 *   if (md_match_create(&m, &in, err, sizeof(err)) != MD_OK) ...
 *   md_match_result_t *r;
 *   if (md_match_solve(m, MD_MATCH_OPTIMAL, &r) != MD_OK) ...
 *   ... r->pairs[i].mentee_id, mentor_id, score ...
 *   md_match_explain(m, mentee_id, mentor_id, &ex);   for "match explain"
 *   md_match_result_free(r);
 *   md_match_free(m);
 *
 * Identifiers. People are named by their user ids (non-zero uint64). Skills,
 * goals, interests, languages and departments are named by small integer ids
 * that the server assigns (e.g. a skill's row number in the organization's
 * vocabulary, a language's index in a table of ISO 639-1 codes); the engine
 * only compares them for equality. Id 0 means "not given" for a department.
 *
 * Scores. Every factor is a value from 0 to 10000 and the score of a pair is
 * the weighted average of the factors whose weight is not zero, also 0 to
 * 10000: hundredths of a point on the 0-100 scale people see (divide by 100
 * to show it). Integers throughout, so totals compare exactly; rounding is
 * always half up. The factor definitions, including the neutral value used
 * when a participant left something out, are given below next to
 * md_match_factor_t. Missing data never fails and never produces anything
 * but a defined integer.
 *
 * Ownership and threads. md_match_create copies everything it needs, so the
 * caller may free its rows as soon as it returns. An md_match_t is read-only
 * after creation: md_match_solve, md_match_explain and md_match_row may run
 * on it from several threads at once. md_match_solve itself uses
 * settings.threads threads; its results do not depend on that number, nor
 * on the order of the input arrays (people are sorted by user id inside).
 * Solving is CPU-heavy: the server runs it off the event loop. */
#ifndef MD_MATCH_H
#define MD_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "md_err.h"

/* ------------------------------------------------------------ factors */

/* The factors of a score, in the order of the programs.weights column.
 *
 * SKILLS: how well the mentor's offered skills cover the mentee's wanted
 *   skills. Each wanted skill at level W (1-5) earns a credit: 1 when the
 *   mentor offers it at level W or above, O/W when the mentor offers it at a
 *   lower level O, 0 when the mentor does not offer it. The value is 10000 x
 *   (sum of credits) / (number of wanted skills).
 * GOALS: 10000 x (career goals the mentee and the mentor share) / (the
 *   mentee's goals).
 * INTERESTS: Jaccard index of the interest tags, 10000 x |shared| / |union|.
 * SENIORITY: by gap = mentor level - mentee level: 0 for a gap below 0,
 *   2500 for 0, 6000 for 1, 10000 for 2 to 4, then 8000, 6000, 4000 for 5,
 *   6 and 7, and 2000 for 8 or more: a somewhat more senior mentor is best,
 *   a much more senior one less relatable.
 * DEPARTMENT: under the rule DEPT_ANY, 10000 for different departments (a
 *   fresh perspective, away from the mentee's line) and 5000 for the same
 *   one: a mild preference, as its default weight is small. Under DEPT_SAME
 *   and DEPT_DIFFERENT the rule is a hard rule and every allowed pair gets
 *   10000.
 * TIME_ZONE: 10000 x (720 - d) / 720, where d is the distance in minutes
 *   between the two UTC offsets around the clock (so +13:00 and -11:00 are
 *   0 apart), at most 720 (12 hours).
 * LANGUAGE: 10000 when the two share a language, 0 when they do not.
 * AVAILABILITY: common weekly hours h, relative to what the mentee offers,
 *   saturating at 4 hours: with a = min(4, the mentee's hours), the value is
 *   10000 x min(h, a) / a.
 * PREFERENCES: the mentee's ranking of mentors (MD_MATCH_FACT_RANK). The
 *   distinct rank values a mentee gave, in increasing order, are positions
 *   p = 1..P (equal ranks share a position); a ranked mentor gets
 *   10000 - 5000 x (p - 1) / P, so rank 1 gets 10000 and every ranked mentor
 *   more than 5000; an unranked mentor gets 5000. Avoids are hard rules.
 *
 * Missing data: when either person left a factor's data out (no wanted or no
 * offered skills, no goals, no interests, seniority level 0, department 0,
 * no time zone, no language, no availability), that factor takes its
 * neutral value: 5000 (halfway) for every factor except DEPARTMENT under
 * DEPT_ANY, whose neutral value is 7500 (halfway between its two values).
 * A neutral factor is flagged in md_match_explain_t.neutral.
 *
 * Score: with weights w (0-100) and values v, W = sum of w, the score is
 * (sum of w x v) / W rounded half up; 0 when every weight is 0. */
typedef enum {
    MD_MATCH_SKILLS = 0,
    MD_MATCH_GOALS,
    MD_MATCH_INTERESTS,
    MD_MATCH_SENIORITY,
    MD_MATCH_DEPARTMENT,
    MD_MATCH_TIME_ZONE,
    MD_MATCH_LANGUAGE,
    MD_MATCH_AVAILABILITY,
    MD_MATCH_PREFERENCES,
    MD_MATCH_NFACTORS
} md_match_factor_t;

#define MD_MATCH_SCORE_MAX 10000u
#define MD_MATCH_NEUTRAL   5000u
/* At most this many skills, goals, interests or languages per person. */
#define MD_MATCH_MAX_TAGS 63u
/* Seniority levels above this are taken as this. */
#define MD_MATCH_MAX_LEVEL 20u
/* Hours of the week: bit h of an availability set is hour h after Monday
 * 00:00 UTC. */
#define MD_MATCH_WEEK_HOURS 168u

/* "skills", "goals", ... as in the weights column; NULL when out of range. */
const char *md_match_factor_name(int factor);

/* ------------------------------------------------------------ hard rules */

/* Why a pair cannot be proposed. md_match_explain reports the set of rules
 * that block a pair; the solvers never propose a pair with any of them. */
enum {
    MD_MATCH_RULE_SELF = 1u << 0,           /* the same user on both sides */
    MD_MATCH_RULE_REPORTING_LINE = 1u << 1, /* one is in the other's manager chain */
    MD_MATCH_RULE_HISTORY = 1u << 2,        /* declined, rejected or ended before */
    MD_MATCH_RULE_EXCLUDED = 1u << 3,       /* an admin excluded the pair */
    MD_MATCH_RULE_MENTEE_AVOIDS = 1u << 4,  /* the mentee asked not to get this mentor */
    MD_MATCH_RULE_MENTOR_AVOIDS = 1u << 5,  /* the mentor asked not to get this mentee */
    MD_MATCH_RULE_CURRENT = 1u << 6,        /* already paired in this program */
    MD_MATCH_RULE_TRAINING = 1u << 7,       /* required mentor training not done */
    MD_MATCH_RULE_LANGUAGE = 1u << 8,       /* no common language, and one is required */
    MD_MATCH_RULE_DEPARTMENT = 1u << 9,     /* DEPT_SAME / DEPT_DIFFERENT not met */
    MD_MATCH_RULE_SENIORITY = 1u << 10,     /* gap below min_seniority_gap */
    MD_MATCH_RULE_MENTOR_LEAVE = 1u << 11,  /* the mentor is on leave */
    MD_MATCH_RULE_MENTEE_LEAVE = 1u << 12,  /* the mentee is on leave */
    MD_MATCH_RULE_MENTOR_FULL = 1u << 13,   /* the mentor has no remaining capacity */
    MD_MATCH_RULE_MENTEE_FULL = 1u << 14,   /* the mentee has no open place */
    MD_MATCH_RULE_ZERO_SCORE = 1u << 15,    /* objective SCORE never proposes a 0 score */
};
#define MD_MATCH_NRULES 16

/* "self", "reporting_line", ... for one rule bit; NULL for anything else. */
const char *md_match_rule_name(uint32_t rule);

/* ------------------------------------------------------------ settings */

typedef enum {
    MD_MATCH_DEPT_ANY = 1,       /* a mild preference for another department */
    MD_MATCH_DEPT_SAME = 2,      /* hard rule: both known and equal */
    MD_MATCH_DEPT_DIFFERENT = 3, /* hard rule: both known and different */
} md_match_dept_rule_t;

/* What the optimal solver maximizes.
 *
 * PARTICIPATION: first the number of new pairs (each mentee place filled
 *   counts one), then the total score among the assignments with that many
 *   pairs. A mentee stays unmatched only when no allowed mentor can make
 *   room for them in any assignment with the most pairs.
 * SCORE: the total score, even when fewer people are matched; among
 *   assignments with the largest total, the one with the most pairs. A pair
 *   scoring 0 adds nothing and is never proposed.
 *
 * The stable solver uses the objective only to decide whether pairs scoring
 * 0 are acceptable (PARTICIPATION: yes; SCORE: no). */
typedef enum {
    MD_MATCH_PARTICIPATION = 1,
    MD_MATCH_SCORE = 2,
} md_match_objective_t;

typedef enum {
    /* The assignment maximizing the objective, exactly. */
    MD_MATCH_OPTIMAL = 1,
    /* Mentee-proposing deferred acceptance with capacities. Each mentee
     * ranks allowed mentors by score (ties: lower user id first), each
     * mentor ranks mentees the same way. The result is stable: no mentee and
     * mentor outside a pair would both rather be together (each has a free
     * place or prefers the other to one of their current partners), and it
     * is the best stable result for every mentee. */
    MD_MATCH_STABLE = 2,
} md_match_solver_t;

typedef struct {
    uint8_t weights[MD_MATCH_NFACTORS]; /* 0-100 each; 0 switches a factor off */
    md_match_dept_rule_t department;
    uint32_t min_seniority_gap;  /* 0-20; when above 0, a hard rule */
    bool require_language;       /* a pair must share a language */
    bool require_training;       /* mentors must have done the training */
    uint32_t mentors_per_mentee; /* 1-3 distinct mentors per mentee */
    md_match_objective_t objective;
    /* Worker threads for md_match_solve; 0: one per online CPU. */
    uint32_t threads;
    /* Candidate mentors kept per mentee in the first pass of the optimal
     * solver; 0 picks it from the instance. Only a tuning and testing knob:
     * the result is optimal whatever it is. */
    uint32_t core_size;
} md_match_settings_t;

/* The defaults of a new program: weights 30,15,10,10,5,10,10,5,5, DEPT_ANY,
 * no minimum gap, nothing required, one mentor per mentee, PARTICIPATION,
 * threads 0, core_size 0. */
void md_match_settings_init(md_match_settings_t *s);

/* ------------------------------------------------------------ people */

typedef struct {
    uint32_t id;    /* the server's skill id */
    uint32_t level; /* 1 (beginner) to 5 (expert); others are clamped into 1-5 */
} md_match_skill_t;

/* One participant: a mentor (in md_match_input_t.mentors) or a mentee (in
 * .mentees). The arrays are read during md_match_create only. Duplicates in
 * a list are ignored (a skill listed twice counts once, at its highest
 * level). */
typedef struct {
    uint64_t user_id; /* non-zero, unique within its list */

    /* Mentors: the skills they offer; mentees: the skills they want. */
    const md_match_skill_t *skills;
    uint32_t n_skills;
    const uint32_t *goals; /* career goal tag ids */
    uint32_t n_goals;
    const uint32_t *interests; /* interest tag ids */
    uint32_t n_interests;
    const uint32_t *languages; /* language ids */
    uint32_t n_languages;

    uint32_t department; /* department id; 0: not given */
    uint32_t seniority;  /* level 1-20; 0: not given */
    bool has_time_zone;
    int32_t utc_offset_min; /* minutes east of UTC, e.g. 330 for India */
    /* Weekly availability in UTC hours (see md_match_availability_add);
     * all zero: not given. Bits 168 and up are ignored. */
    uint64_t availability[3];

    /* The user ids of this person's managers, nearest first, up to the top
     * of the organization: a pair is refused when either person appears in
     * the other's chain. */
    const uint64_t *managers;
    uint32_t n_managers;

    bool on_leave; /* kept out of new pairs */
    /* Pairs this person already has in the program and keeps (accepted or
     * active), outside this run: they use up capacity (mentors) or places
     * (mentees). List those pairs as MD_MATCH_FACT_CURRENT too, so the
     * engine does not propose them again. */
    uint32_t existing_pairs;

    /* Mentors only: how many mentees they take in this program (the
     * program default already applied), and whether they have done the
     * required training. Ignored for mentees. */
    uint32_t capacity;
    bool training_done;
} md_match_person_t;

/* Sets the bit of a local hour-of-week slot (0 = Monday 00:00-01:00 in the
 * person's time zone, up to 167), converted to UTC with the person's offset.
 * With an offset that is not a whole number of hours, the slot goes to the
 * UTC hour that holds its middle (so 09:00-10:00 at +05:30, which is
 * 03:30-04:30 UTC, goes to 04:00 UTC). Slots outside 0-167 are ignored. For
 * a person without a time zone, pass offset 0. */
void md_match_availability_add(uint64_t availability[3], uint32_t local_slot,
                               int32_t utc_offset_min);

/* ------------------------------------------------------------ pair facts */

/* Facts about one (mentee, mentor) pair, one record each. Facts naming a
 * user who is not in the input are ignored, except pins (MD_EINVAL). */
typedef enum {
    MD_MATCH_FACT_RANK = 1,          /* the mentee ranks the mentor; value = rank, 1 best */
    MD_MATCH_FACT_MENTEE_AVOIDS = 2, /* hard rule */
    MD_MATCH_FACT_MENTOR_AVOIDS = 3, /* hard rule */
    MD_MATCH_FACT_HISTORY = 4,       /* declined, rejected or ended before: hard rule */
    MD_MATCH_FACT_EXCLUDED = 5,      /* excluded by an admin: hard rule */
    /* Pinned by an admin: always in the result, counted against the
     * mentor's capacity and the mentee's places. A pin is kept even when it
     * breaks a hard rule (the admin decided); md_match_pair_t.pin_rules
     * says which. */
    MD_MATCH_FACT_PINNED = 6,
    MD_MATCH_FACT_CURRENT = 7, /* the pair exists already; never proposed again */
} md_match_fact_kind_t;

typedef struct {
    uint64_t mentee_id;
    uint64_t mentor_id;
    md_match_fact_kind_t kind;
    uint32_t value; /* MD_MATCH_FACT_RANK: the rank, 1 or more; else unused */
} md_match_fact_t;

typedef struct {
    md_match_settings_t settings;
    const md_match_person_t *mentors;
    size_t n_mentors;
    const md_match_person_t *mentees;
    size_t n_mentees;
    const md_match_fact_t *facts;
    size_t n_facts;
} md_match_input_t;

/* ------------------------------------------------------------ engine */

typedef struct md_match md_match_t;

/* Checks and copies the input. Fails with MD_EINVAL (a message naming the
 * offending field in err, when err is not NULL) or MD_ENOMEM. */
MD_WUR int md_match_create(md_match_t **out, const md_match_input_t *in, char *err, size_t errlen);
void md_match_free(md_match_t *m);

size_t md_match_mentor_count(const md_match_t *m);
size_t md_match_mentee_count(const md_match_t *m);
/* The engine's order: by user id. */
uint64_t md_match_mentor_id(const md_match_t *m, size_t index);
uint64_t md_match_mentee_id(const md_match_t *m, size_t index);

/* ------------------------------------------------------------ results */

typedef struct {
    uint64_t mentee_id;
    uint64_t mentor_id;
    uint32_t score; /* 0-10000 */
    bool pinned;
    /* For a pin: the hard rules it breaks (the capacity rules when it goes
     * beyond the mentor's capacity or the mentee's places); else 0. */
    uint32_t pin_rules;
} md_match_pair_t;

typedef struct {
    uint64_t user_id;
    uint32_t places;  /* mentors wanted in this run: per-mentee count minus
                         existing pairs and pins (0 when on leave) */
    uint32_t matched; /* new pairs in the result (pins not counted) */
    uint32_t allowed; /* mentors with room that pass every hard rule */
} md_match_mentee_status_t;

typedef struct {
    uint32_t rounds;        /* optimal: solve-and-verify rounds; stable: 1 */
    uint64_t core_edges;    /* optimal: candidate pairs in the final core */
    uint64_t pairs_scored;  /* pair scores computed, all passes together */
    uint64_t rows_rescored; /* whole mentee rows scored again after the first
                               pass (parts of rows count in pairs_scored) */
    uint64_t scoring_ns;    /* wall time spent scoring */
    uint64_t solving_ns;    /* wall time spent in the solver proper */
} md_match_stats_t;

typedef struct {
    /* Pins and new pairs, by mentee id then mentor id. */
    md_match_pair_t *pairs;
    size_t n_pairs;
    /* Every mentee, by user id. */
    md_match_mentee_status_t *mentees;
    size_t n_mentees;
    size_t new_pairs;    /* pairs made by the solver */
    int64_t new_score;   /* total score of those */
    int64_t total_score; /* total score of every pair, pins included */
    md_match_stats_t stats;
} md_match_result_t;

/* Runs a solver over the whole input. The result is deterministic. */
MD_WUR int md_match_solve(const md_match_t *m, md_match_solver_t solver, md_match_result_t **out);
void md_match_result_free(md_match_result_t *r);

/* ------------------------------------------------------------ explanations */

typedef enum {
    MD_MATCH_REL_UNKNOWN = 0, /* one side did not give it */
    MD_MATCH_REL_SAME = 1,
    MD_MATCH_REL_DIFFERENT = 2,
} md_match_relation_t;

typedef struct {
    uint64_t mentee_id;
    uint64_t mentor_id;
    /* The score the pair has (computed even when blocked), 0-10000. */
    uint32_t score;
    /* MD_MATCH_RULE_* bits forbidding the pair (0: it may be proposed).
     * The capacity bits describe the input before solving (for a pinned
     * pair they are left out). */
    uint32_t blocked;
    bool pinned;
    /* Per factor: the weight, the value (0-10000), and the contribution to
     * the score in hundredths of a point. Contributions add up to the score
     * exactly: each is w x v / W rounded down, and the few hundredths left
     * by the rounding go to the factors with the largest remainders (ties:
     * the earlier factor). */
    uint8_t weight[MD_MATCH_NFACTORS];
    uint16_t value[MD_MATCH_NFACTORS];
    uint16_t contribution[MD_MATCH_NFACTORS];
    /* Bit f set: factor f took its neutral value for missing data. */
    uint32_t neutral;

    /* The figures behind the values, for the words of an explanation. */
    uint32_t skills_wanted;  /* the mentee's wanted skills */
    uint32_t skills_covered; /* offered at the wanted level or above */
    uint32_t skills_partial; /* offered below the wanted level */
    uint32_t goals_mentee;   /* the mentee's goals */
    uint32_t goals_shared;
    uint32_t interests_shared;
    uint32_t interests_union;
    int32_t seniority_gap; /* mentor level - mentee level (0 if unknown) */
    md_match_relation_t department;
    uint32_t tz_distance_min; /* 0-720 */
    uint32_t languages_shared;
    uint32_t availability_hours; /* common weekly hours */
    uint32_t availability_mentee_hours;
    uint32_t rank; /* the mentee's rank of the mentor; 0: unranked */
} md_match_explain_t;

/* Explains one pair. MD_ENOTFOUND when either user is not in the input. */
MD_WUR int md_match_explain(const md_match_t *m, uint64_t mentee_id, uint64_t mentor_id,
                            md_match_explain_t *out);

/* The scores of one mentee (by index) against every mentor, in the engine's
 * mentor order: scores[j] is the score with mentor j when the solvers may
 * propose the pair, or MD_MATCH_NO_PAIR when any rule blocks it (capacity
 * and the SCORE objective's zero scores included). scores holds
 * md_match_mentor_count(m) entries. For tools, tests and candidate lists. */
#define MD_MATCH_NO_PAIR 0xffffu
MD_WUR int md_match_row(const md_match_t *m, size_t mentee_index, uint16_t *scores);

#endif
