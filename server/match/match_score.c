/* match_score.c: the factor definitions of md_match.h as integer functions,
 * and the loop that scores one mentee against every mentor.
 *
 * Scoring all pairs is the floor of the engine's running time, so the loop
 * does per pair only what depends on the pair. Everything that depends on
 * the mentee alone is folded into small tables before the loop (the weighted
 * contribution of each possible skill credit, goal count, seniority level,
 * time zone of a mentor, ...). Shared skills, goals and interests are not
 * found by comparing lists pair by pair: the mentee's tags are looked up in
 * inverted lists (tag -> mentors who have it) and counted into one
 * accumulator word per mentor, so a pair costs a handful of table reads and
 * no branches but the loop's. md_match_explain computes the same values the
 * plain way (match.c); the unit tests check that both agree. */
#include "match_int.h"

#include <string.h>

uint32_t md_match__skill_credit60(uint32_t have, uint32_t want)
{
    if (have == 0)
        return 0;
    if (have >= want)
        return 60;
    return have * (60 / want); /* want is 1..5, each divides 60 */
}

uint32_t md_match__value_skills(uint32_t credit60_sum, uint32_t n_wanted)
{
    return match_div_round((uint64_t)credit60_sum * MD_MATCH_SCORE_MAX, 60ull * n_wanted);
}

uint32_t md_match__value_goals(uint32_t shared, uint32_t n_mentee)
{
    return match_div_round((uint64_t)shared * MD_MATCH_SCORE_MAX, n_mentee);
}

uint32_t md_match__value_interests(uint32_t shared, uint32_t n_union)
{
    if (n_union == 0)
        return 0;
    return match_div_round((uint64_t)shared * MD_MATCH_SCORE_MAX, n_union);
}

uint32_t md_match__value_seniority(int32_t gap)
{
    static const uint16_t curve[] = {2500, 6000, 10000, 10000, 10000, 8000, 6000, 4000};
    if (gap < 0)
        return 0;
    if (gap >= (int32_t)(sizeof(curve) / sizeof(curve[0])))
        return 2000;
    return curve[gap];
}

uint32_t md_match__tz_distance(int32_t a, int32_t b)
{
    int32_t d = a > b ? a - b : b - a;
    if (d > 720)
        d = 1440 - d;
    return (uint32_t)d;
}

uint32_t md_match__value_time_zone(uint32_t distance_min)
{
    if (distance_min > 720)
        distance_min = 720;
    return match_div_round((uint64_t)(720 - distance_min) * MD_MATCH_SCORE_MAX, 720);
}

uint32_t md_match__value_availability(uint32_t common, uint32_t mentee_hours)
{
    uint32_t target = mentee_hours < 4 ? mentee_hours : 4;
    if (target == 0)
        return 0;
    if (common > target)
        common = target;
    return match_div_round((uint64_t)common * MD_MATCH_SCORE_MAX, target);
}

uint32_t md_match__value_preference(uint32_t pos, uint32_t count)
{
    if (pos == 0 || count == 0)
        return MD_MATCH_NEUTRAL;
    return MD_MATCH_SCORE_MAX - match_div_round((uint64_t)(pos - 1) * 5000, count);
}

uint32_t md_match__combine(const match_t *m, const uint32_t value[MD_MATCH_NFACTORS])
{
    if (m->weight_sum == 0)
        return 0;
    uint64_t total = 0;
    for (int f = 0; f < MD_MATCH_NFACTORS; f++)
        total += (uint64_t)m->set.weights[f] * value[f];
    return match_div_round(total, m->weight_sum);
}

/* ------------------------------------------------------------------ */

/* A contribution that forbids the pair. Up to three of them may be added to
 * a total of real contributions (each at most 100 x 10000) without
 * overflowing 32 bits, and any sum holding one is at least this. */
#define BLOCK (1u << 30)

/* Bit fields of a mentor's accumulator word: the skill credit (sixtieths,
 * at most 63 x 60), shared goals and shared interests. */
#define ACC_SKILL_MASK 0xfffu
#define ACC_GOAL_SHIFT 12
#define ACC_INT_SHIFT  18
#define ACC_COUNT_MASK 0x3fu

/* The mentee's side of the scoring, as weighted contributions. */
typedef struct {
    uint32_t skill[MD_MATCH_MAX_TAGS * 60 + 2]; /* by credit sum; [miss] for a mentor without */
    uint32_t skill_miss;                        /* index of the "mentor has none" entry */
    uint32_t goal[MD_MATCH_MAX_TAGS + 2];       /* by shared count; [64]: mentor has none */
    uint32_t int_neutral;                       /* either side has no interests */
    uint32_t seniority[MD_MATCH_MAX_LEVEL + 1]; /* by the mentor's level */
    uint32_t dept[3];                           /* unknown, same, different */
    uint32_t lang[3];                           /* unknown, shared, none shared */
    uint32_t avail[6];                          /* by min(common hours, 4); [5]: unknown */
    uint32_t tz[1441];                          /* by the mentor's time zone class */
    uint32_t pref_default;
} row_ctx_t;

static void row_ctx_build(const match_t *m, uint32_t i, row_ctx_t *c)
{
    const match_person_t *e = &m->mentees[i];
    const uint8_t *w = m->set.weights;
    const uint32_t neutral = MD_MATCH_NEUTRAL;

    /* Skills: entries 0..60n by credit sum. Without wanted skills every
     * mentor gets the neutral value (the sum is always 0). */
    uint32_t n = e->n_skills;
    if (n == 0) {
        c->skill[0] = c->skill[1] = w[MD_MATCH_SKILLS] * neutral;
        c->skill_miss = 1;
    } else {
        for (uint32_t s = 0; s <= 60 * n; s++)
            c->skill[s] = w[MD_MATCH_SKILLS] * md_match__value_skills(s, n);
        c->skill_miss = 60 * n + 1;
        c->skill[c->skill_miss] = w[MD_MATCH_SKILLS] * neutral;
    }

    for (uint32_t s = 0; s <= MD_MATCH_MAX_TAGS; s++)
        c->goal[s] = e->n_goals ? w[MD_MATCH_GOALS] * md_match__value_goals(s, e->n_goals)
                                : w[MD_MATCH_GOALS] * neutral;
    c->goal[MD_MATCH_MAX_TAGS + 1] = w[MD_MATCH_GOALS] * neutral;
    c->int_neutral = w[MD_MATCH_INTERESTS] * neutral;

    uint32_t gap_min = m->set.min_seniority_gap;
    for (uint32_t lv = 0; lv <= MD_MATCH_MAX_LEVEL; lv++) {
        if (e->seniority == 0 || lv == 0) {
            c->seniority[lv] = gap_min > 0 ? BLOCK : w[MD_MATCH_SENIORITY] * neutral;
        } else {
            int32_t gap = (int32_t)lv - (int32_t)e->seniority;
            c->seniority[lv] = (gap_min > 0 && gap < (int32_t)gap_min)
                                   ? BLOCK
                                   : w[MD_MATCH_SENIORITY] * md_match__value_seniority(gap);
        }
    }

    uint32_t wd = w[MD_MATCH_DEPARTMENT];
    switch (m->set.department) {
    case MD_MATCH_DEPT_SAME:
        c->dept[0] = BLOCK;
        c->dept[1] = wd * MD_MATCH_SCORE_MAX;
        c->dept[2] = BLOCK;
        break;
    case MD_MATCH_DEPT_DIFFERENT:
        c->dept[0] = BLOCK;
        c->dept[1] = BLOCK;
        c->dept[2] = wd * MD_MATCH_SCORE_MAX;
        break;
    default:
        c->dept[0] = wd * 7500;
        c->dept[1] = wd * 5000;
        c->dept[2] = wd * MD_MATCH_SCORE_MAX;
        break;
    }

    uint32_t wl = w[MD_MATCH_LANGUAGE];
    c->lang[0] = m->set.require_language ? BLOCK : wl * neutral;
    c->lang[1] = wl * MD_MATCH_SCORE_MAX;
    c->lang[2] = m->set.require_language ? BLOCK : 0;

    uint32_t wa = w[MD_MATCH_AVAILABILITY];
    for (uint32_t h = 0; h <= 4; h++)
        c->avail[h] = (e->flags & MATCH_HAS_AVAIL)
                          ? wa * md_match__value_availability(h, e->avail_hours)
                          : wa * neutral;
    c->avail[5] = wa * neutral;

    uint32_t wt = w[MD_MATCH_TIME_ZONE];
    for (uint32_t k = 0; k < m->n_tz; k++)
        c->tz[k] =
            (e->flags & MATCH_HAS_TZ)
                ? wt * md_match__value_time_zone(md_match__tz_distance(e->tz_min, m->tz_offsets[k]))
                : wt * neutral;
    c->tz[m->n_tz] = wt * neutral;

    c->pref_default = w[MD_MATCH_PREFERENCES] * neutral;
}

/* Finds a tag's inverted list; returns its length and sets *post. */
static uint32_t index_lookup(const match_index_t *ix, uint32_t tag, const uint32_t **post)
{
    uint32_t lo = 0, hi = ix->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ix->vocab[mid] < tag)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == ix->n || ix->vocab[lo] != tag)
        return 0;
    *post = ix->post + ix->off[lo];
    return ix->off[lo + 1] - ix->off[lo];
}

/* Adds the mentee's shared skills, goals and interests into acc. */
static void row_accumulate(const match_t *m, const match_person_t *e, uint32_t *acc)
{
    for (uint32_t k = 0; k < e->n_skills; k++) {
        const uint32_t *post;
        uint32_t want = m->skill_levels[e->skill_off + k];
        uint32_t len = index_lookup(&m->skill_index, m->skill_ids[e->skill_off + k], &post);
        uint32_t credit[8];
        for (uint32_t lv = 0; lv < 8; lv++)
            credit[lv] = md_match__skill_credit60(lv > 5 ? 5 : lv, want);
        for (uint32_t p = 0; p < len; p++)
            acc[post[p] >> 3] += credit[post[p] & 7];
    }
    for (uint32_t k = 0; k < e->n_goals; k++) {
        const uint32_t *post;
        uint32_t len = index_lookup(&m->goal_index, m->tags[e->goal_off + k], &post);
        for (uint32_t p = 0; p < len; p++)
            acc[post[p] >> 3] += 1u << ACC_GOAL_SHIFT;
    }
    for (uint32_t k = 0; k < e->n_interests; k++) {
        const uint32_t *post;
        uint32_t len = index_lookup(&m->interest_index, m->tags[e->int_off + k], &post);
        for (uint32_t p = 0; p < len; p++)
            acc[post[p] >> 3] += 1u << ACC_INT_SHIFT;
    }
}

#if defined(__GNUC__) || defined(__clang__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

static ALWAYS_INLINE void score_row_impl(const match_t *m, uint32_t i, uint32_t *acc,
                                         const uint32_t *list, uint32_t n, uint16_t *out)
{
    row_ctx_t c;
    const match_person_t *e = &m->mentees[i];
    row_ctx_build(m, i, &c);
    row_accumulate(m, e, acc);

    /* total / W rounded half up is (2 total + W) / (2 W), computed as a
     * multiplication by a precomputed reciprocal (match.c). */
    const uint32_t W = m->weight_sum ? m->weight_sum : 1;
    const uint64_t magic = m->div_magic;
    const uint32_t shift = m->div_shift;
    const uint32_t w_int = m->set.weights[MD_MATCH_INTERESTS];
    const uint32_t w_pref = m->set.weights[MD_MATCH_PREFERENCES];
    const bool score_mode = m->set.objective == MD_MATCH_SCORE;
    const uint32_t e_dept = e->dept;
    const bool e_has_lang = (e->flags & MATCH_HAS_LANGUAGE) != 0;
    const bool e_has_int = (e->flags & MATCH_HAS_INTERESTS) != 0;
    const bool e_has_avail = (e->flags & MATCH_HAS_AVAIL) != 0;
    const uint32_t e_nint = e->n_interests;
    const uint32_t lw = m->lang_words;
    const uint64_t *e_lang = m->mentee_lang + (size_t)i * lw;
    const match_key_t *keys = m->keys;
    const uint16_t *jac = m->jaccard;

    /* The mentee's availability, kept in registers for the loop. */
    uint64_t av0 = m->mentee_avail[3 * (size_t)i];
    uint64_t av1 = m->mentee_avail[3 * (size_t)i + 1];
    uint64_t av2 = m->mentee_avail[3 * (size_t)i + 2];

    const match_special_t *sp = m->specials + m->special_off[i];
    const match_special_t *sp_end = m->specials + m->special_off[i + 1];
    const uint32_t *elig = list;

    for (uint32_t t = 0; t < n; t++) {
        uint32_t j = elig[t];
        const match_key_t *k = &keys[j];
        uint32_t total;

        /* Pair facts, merged in mentor order. */
        uint32_t pref = c.pref_default;
        while (sp < sp_end && sp->mentor < j)
            sp++;
        if (sp < sp_end && sp->mentor == j) {
            if (sp->rules) {
                out[t] = MD_MATCH_NO_PAIR;
                continue;
            }
            pref = w_pref * md_match__value_preference(sp->rank_pos, m->rank_count[i]);
        }
        total = pref;

        uint32_t a = acc[j];
        uint32_t kf = k->flags;
        total += c.skill[(kf & MATCH_HAS_SKILLS) ? (a & ACC_SKILL_MASK) : c.skill_miss];
        total += c.goal[(kf & MATCH_HAS_GOALS) ? ((a >> ACC_GOAL_SHIFT) & ACC_COUNT_MASK)
                                               : MD_MATCH_MAX_TAGS + 1];
        uint32_t shared = (a >> ACC_INT_SHIFT) & ACC_COUNT_MASK;
        total += (e_has_int && (kf & MATCH_HAS_INTERESTS))
                     ? w_int * jac[shared * 128 + (e_nint + k->n_interests - shared)]
                     : c.int_neutral;
        total += c.seniority[k->seniority];
        uint32_t rel = (e_dept == 0 || k->dept == 0) ? 0 : (e_dept == k->dept ? 1 : 2);
        total += c.dept[rel];
        total += c.tz[k->tz_class];

        uint64_t common_lang = e_lang[0] & k->lang;
        if (lw > 1 && common_lang == 0) {
            const uint64_t *r_lang = m->mentor_lang + (size_t)j * lw;
            for (uint32_t x = 1; x < lw; x++)
                common_lang |= e_lang[x] & r_lang[x];
        }
        uint32_t lrel = (e_has_lang && (kf & MATCH_HAS_LANGUAGE)) ? (common_lang ? 1u : 2u) : 0u;
        total += c.lang[lrel];

        uint32_t h = (uint32_t)(__builtin_popcountll(av0 & k->avail[0]) +
                                __builtin_popcountll(av1 & k->avail[1]) +
                                __builtin_popcountll(av2 & k->avail[2]));
        h = h > 4 ? 4 : h;
        total += c.avail[(e_has_avail && (kf & MATCH_HAS_AVAIL)) ? h : 5];

        if (total >= BLOCK) {
            out[t] = MD_MATCH_NO_PAIR;
            continue;
        }
        uint32_t score = (uint32_t)(((uint64_t)(2 * total + W) * magic) >> shift);
        out[t] = (score_mode && score == 0) ? MD_MATCH_NO_PAIR : (uint16_t)score;
    }

    memset(acc, 0, sizeof(*acc) * m->n_mentors);
}

static void score_row_generic(const match_t *m, uint32_t i, uint32_t *acc, const uint32_t *list,
                              uint32_t n, uint16_t *out)
{
    score_row_impl(m, i, acc, list, n, out);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* The same loop built for CPUs with the popcnt instruction, which counts the
 * common hours of a pair in three instructions instead of a libgcc call. */
__attribute__((target("popcnt"))) static void score_row_popcnt(const match_t *m, uint32_t i,
                                                               uint32_t *acc, const uint32_t *list,
                                                               uint32_t n, uint16_t *out)
{
    score_row_impl(m, i, acc, list, n, out);
}
#define HAVE_POPCNT_VARIANT 1
#endif

void md_match__score_init(match_t *m)
{
    m->row_fn = score_row_generic;
#ifdef HAVE_POPCNT_VARIANT
    __builtin_cpu_init();
    if (__builtin_cpu_supports("popcnt"))
        m->row_fn = score_row_popcnt;
#endif
}

void md_match__score_row(const match_t *m, uint32_t mentee, uint32_t *acc, uint16_t *out)
{
    m->row_fn(m, mentee, acc, m->elig, m->n_elig, out);
}

void md_match__score_some(const match_t *m, uint32_t mentee, uint32_t *acc, const uint32_t *mentors,
                          uint32_t n, uint16_t *out)
{
    m->row_fn(m, mentee, acc, mentors, n, out);
}
