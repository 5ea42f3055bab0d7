/* match.c: building an engine instance from the caller's rows (checks,
 * copies, sorted and de-duplicated lists, inverted lists, pair facts, pins
 * and capacities), and the plain, factor-by-factor computation of a pair's
 * score that md_match_explain returns. The fast scoring loop lives in
 * match_score.c and the solvers in match_solve.c, match_flow.c and
 * match_stable.c. */
#include "match_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const factor_names[MD_MATCH_NFACTORS] = {
    "skills",    "goals",    "interests",    "seniority",   "department",
    "time_zone", "language", "availability", "preferences",
};

static const char *const rule_names[MD_MATCH_NRULES] = {
    "self",          "reporting_line",  "history",         "excluded",    "mentee_avoids",
    "mentor_avoids", "current",         "training",        "language",    "department",
    "seniority",     "mentor_on_leave", "mentee_on_leave", "mentor_full", "mentee_full",
    "zero_score",
};

const char *md_match_factor_name(int factor)
{
    if (factor < 0 || factor >= MD_MATCH_NFACTORS)
        return NULL;
    return factor_names[factor];
}

const char *md_match_rule_name(uint32_t rule)
{
    for (int b = 0; b < MD_MATCH_NRULES; b++) {
        if (rule == (1u << b))
            return rule_names[b];
    }
    return NULL;
}

void md_match_settings_init(md_match_settings_t *s)
{
    static const uint8_t defaults[MD_MATCH_NFACTORS] = {30, 15, 10, 10, 5, 10, 10, 5, 5};
    memset(s, 0, sizeof(*s));
    memcpy(s->weights, defaults, sizeof(defaults));
    s->department = MD_MATCH_DEPT_ANY;
    s->min_seniority_gap = 0;
    s->require_language = false;
    s->require_training = false;
    s->mentors_per_mentee = 1;
    s->objective = MD_MATCH_PARTICIPATION;
    s->threads = 0;
    s->core_size = 0;
}

void md_match_availability_add(uint64_t availability[3], uint32_t local_slot,
                               int32_t utc_offset_min)
{
    if (local_slot >= MD_MATCH_WEEK_HOURS)
        return;
    /* The middle of the local hour, in minutes after Monday 00:00 UTC. */
    int64_t mid = (int64_t)local_slot * 60 + 30 - utc_offset_min;
    int64_t week = (int64_t)MD_MATCH_WEEK_HOURS * 60;
    mid %= week;
    if (mid < 0)
        mid += week;
    uint32_t h = (uint32_t)(mid / 60);
    availability[h / 64] |= 1ull << (h % 64);
}

uint32_t md_match__find_id(const uint64_t *ids, uint32_t n, uint64_t id)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (lo < n && ids[lo] == id) ? lo : UINT32_MAX;
}

size_t md_match_mentor_count(const md_match_t *m)
{
    return m->n_mentors;
}

size_t md_match_mentee_count(const md_match_t *m)
{
    return m->n_mentees;
}

uint64_t md_match_mentor_id(const md_match_t *m, size_t index)
{
    return index < m->n_mentors ? m->mentor_ids[index] : 0;
}

uint64_t md_match_mentee_id(const md_match_t *m, size_t index)
{
    return index < m->n_mentees ? m->mentee_ids[index] : 0;
}

void md_match_free(md_match_t *m)
{
    if (m == NULL)
        return;
    free(m->mentor_ids);
    free(m->mentee_ids);
    free(m->mentors);
    free(m->mentees);
    free(m->keys);
    free(m->skill_ids);
    free(m->skill_levels);
    free(m->tags);
    free(m->mentor_lang);
    free(m->mentee_lang);
    free(m->mentee_avail);
    free(m->jaccard);
    free(m->tz_offsets);
    const match_index_t *ix[3] = {&m->skill_index, &m->goal_index, &m->interest_index};
    for (int k = 0; k < 3; k++) {
        free(ix[k]->vocab);
        free(ix[k]->off);
        free(ix[k]->post);
    }
    free(m->special_off);
    free(m->specials);
    free(m->rank_count);
    free(m->pins);
    free(m->mentor_block);
    free(m->mentee_block);
    free(m->mentor_room);
    free(m->mentee_places);
    free(m->elig);
    free(m->elig_pos);
    free(m);
}

/* ------------------------------------------------------------ creation */

typedef struct {
    char *err;
    size_t errlen;
} errbuf_t;

static int fail(errbuf_t *eb, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(errbuf_t *eb, int code, const char *fmt, ...)
{
    if (eb->err != NULL && eb->errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(eb->err, eb->errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Sorts and de-duplicates n tags in place; returns how many remain. */
static uint32_t tags_unique(uint32_t *t, uint32_t n)
{
    if (n == 0)
        return 0;
    qsort(t, n, sizeof(*t), cmp_u32);
    uint32_t k = 1;
    for (uint32_t i = 1; i < n; i++) {
        if (t[i] != t[k - 1])
            t[k++] = t[i];
    }
    return k;
}

typedef struct {
    uint32_t id;
    uint32_t level;
} skill_pair_t;

static int cmp_skill(const void *a, const void *b)
{
    const skill_pair_t *x = a, *y = b;
    if (x->id != y->id)
        return (x->id > y->id) - (x->id < y->id);
    return (x->level < y->level) - (x->level > y->level); /* highest level first */
}

/* Sort key for people: their position in the caller's array, ordered by id. */
typedef struct {
    uint64_t id;
    uint32_t pos;
} order_t;

static int cmp_order(const void *a, const void *b)
{
    const order_t *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

typedef struct {
    uint32_t mentee, mentor;
    uint32_t rules;
    uint32_t rank;
} fact_tuple_t;

static int cmp_tuple(const void *a, const void *b)
{
    const fact_tuple_t *x = a, *y = b;
    if (x->mentee != y->mentee)
        return (x->mentee > y->mentee) - (x->mentee < y->mentee);
    return (x->mentor > y->mentor) - (x->mentor < y->mentor);
}

static int cmp_pin_by_mentor(const void *a, const void *b)
{
    const match_pin_t *x = a, *y = b;
    if (x->mentor != y->mentor)
        return (x->mentor > y->mentor) - (x->mentor < y->mentor);
    return (x->mentee > y->mentee) - (x->mentee < y->mentee);
}

static int cmp_pin_by_mentee(const void *a, const void *b)
{
    const match_pin_t *x = a, *y = b;
    if (x->mentee != y->mentee)
        return (x->mentee > y->mentee) - (x->mentee < y->mentee);
    return (x->mentor > y->mentor) - (x->mentor < y->mentor);
}

/* A growable array of fact tuples. */
typedef struct {
    fact_tuple_t *v;
    size_t n, cap;
} tuples_t;

static int tuples_push(tuples_t *t, uint32_t mentee, uint32_t mentor, uint32_t rules, uint32_t rank)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        fact_tuple_t *v = realloc(t->v, cap * sizeof(*v));
        if (v == NULL)
            return MD_ENOMEM;
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n++] = (fact_tuple_t){mentee, mentor, rules, rank};
    return MD_OK;
}

static int check_settings(const md_match_settings_t *s, errbuf_t *eb)
{
    for (int f = 0; f < MD_MATCH_NFACTORS; f++) {
        if (s->weights[f] > 100)
            return fail(eb, MD_EINVAL, "weights.%s: %u is above 100", factor_names[f],
                        s->weights[f]);
    }
    if (s->department < MD_MATCH_DEPT_ANY || s->department > MD_MATCH_DEPT_DIFFERENT)
        return fail(eb, MD_EINVAL, "department rule: unknown value %d", (int)s->department);
    if (s->min_seniority_gap > MD_MATCH_MAX_LEVEL)
        return fail(eb, MD_EINVAL, "min_seniority_gap: %u is above %u", s->min_seniority_gap,
                    MD_MATCH_MAX_LEVEL);
    if (s->mentors_per_mentee < 1 || s->mentors_per_mentee > 3)
        return fail(eb, MD_EINVAL, "mentors_per_mentee: %u is not 1-3", s->mentors_per_mentee);
    if (s->objective != MD_MATCH_PARTICIPATION && s->objective != MD_MATCH_SCORE)
        return fail(eb, MD_EINVAL, "objective: unknown value %d", (int)s->objective);
    return MD_OK;
}

/* Sorts one side by user id into *order; rejects id 0 and duplicates. */
static int sort_people(const md_match_person_t *p, size_t n, const char *side, order_t **order,
                       errbuf_t *eb)
{
    *order = malloc((n ? n : 1) * sizeof(**order));
    if (*order == NULL)
        return MD_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (p[i].user_id == 0)
            return fail(eb, MD_EINVAL, "%s[%zu]: user id 0", side, i);
        (*order)[i] = (order_t){p[i].user_id, (uint32_t)i};
    }
    qsort(*order, n, sizeof(**order), cmp_order);
    for (size_t i = 1; i < n; i++) {
        if ((*order)[i].id == (*order)[i - 1].id)
            return fail(eb, MD_EINVAL, "%s: user %llu appears twice", side,
                        (unsigned long long)(*order)[i].id);
    }
    return MD_OK;
}

/* Space the lists of one side need, before de-duplication. */
static void count_lists(const md_match_person_t *p, size_t n, size_t *skills, size_t *tags)
{
    for (size_t i = 0; i < n; i++) {
        *skills += p[i].n_skills;
        *tags += (size_t)p[i].n_goals + p[i].n_interests;
    }
}

typedef struct {
    size_t skills, tags; /* fill positions */
    uint32_t *lang_vocab;
    uint32_t n_lang;
} fill_t;

/* Copies one person's data into the engine's form. */
static int fill_person(match_t *m, const md_match_person_t *src, const char *side, fill_t *f,
                       match_person_t *dst, uint64_t *lang, uint64_t avail[3], errbuf_t *eb)
{
    uint64_t uid = src->user_id;
    memset(dst, 0, sizeof(*dst));

    if (src->n_skills > 0 && src->skills == NULL)
        return fail(eb, MD_EINVAL, "%s %llu: skills missing", side, (unsigned long long)uid);
    skill_pair_t *sk = malloc((src->n_skills ? src->n_skills : 1) * sizeof(*sk));
    if (sk == NULL)
        return MD_ENOMEM;
    for (uint32_t k = 0; k < src->n_skills; k++) {
        uint32_t lv = src->skills[k].level;
        sk[k] = (skill_pair_t){src->skills[k].id, lv < 1 ? 1 : (lv > 5 ? 5 : lv)};
    }
    qsort(sk, src->n_skills, sizeof(*sk), cmp_skill);
    uint32_t ns = 0;
    for (uint32_t k = 0; k < src->n_skills; k++) {
        if (ns > 0 && m->skill_ids[f->skills + ns - 1] == sk[k].id)
            continue; /* the first of each id has the highest level */
        m->skill_ids[f->skills + ns] = sk[k].id;
        m->skill_levels[f->skills + ns] = (uint8_t)sk[k].level;
        ns++;
    }
    free(sk);
    if (ns > MD_MATCH_MAX_TAGS)
        return fail(eb, MD_EINVAL, "%s %llu: %u skills, at most %u", side, (unsigned long long)uid,
                    ns, MD_MATCH_MAX_TAGS);
    dst->skill_off = (uint32_t)f->skills;
    dst->n_skills = ns;
    f->skills += ns;

    const uint32_t *lists[2] = {src->goals, src->interests};
    const uint32_t counts[2] = {src->n_goals, src->n_interests};
    const char *names[2] = {"goals", "interests"};
    uint32_t offs[2], ns2[2];
    for (int l = 0; l < 2; l++) {
        if (counts[l] > 0 && lists[l] == NULL)
            return fail(eb, MD_EINVAL, "%s %llu: %s missing", side, (unsigned long long)uid,
                        names[l]);
        if (counts[l] > 0)
            memcpy(m->tags + f->tags, lists[l], counts[l] * sizeof(uint32_t));
        uint32_t k = tags_unique(m->tags + f->tags, counts[l]);
        if (k > MD_MATCH_MAX_TAGS)
            return fail(eb, MD_EINVAL, "%s %llu: %u %s, at most %u", side, (unsigned long long)uid,
                        k, names[l], MD_MATCH_MAX_TAGS);
        offs[l] = (uint32_t)f->tags;
        ns2[l] = k;
        f->tags += k;
    }
    dst->goal_off = offs[0];
    dst->n_goals = ns2[0];
    dst->int_off = offs[1];
    dst->n_interests = ns2[1];

    if (src->n_languages > 0 && src->languages == NULL)
        return fail(eb, MD_EINVAL, "%s %llu: languages missing", side, (unsigned long long)uid);
    uint32_t nl = 0;
    for (uint32_t k = 0; k < src->n_languages; k++) {
        uint32_t id = src->languages[k];
        uint32_t lo = 0, hi = f->n_lang;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (f->lang_vocab[mid] < id)
                lo = mid + 1;
            else
                hi = mid;
        }
        uint64_t bit = 1ull << (lo % 64);
        if (!(lang[lo / 64] & bit))
            nl++;
        lang[lo / 64] |= bit;
    }
    if (nl > MD_MATCH_MAX_TAGS)
        return fail(eb, MD_EINVAL, "%s %llu: %u languages, at most %u", side,
                    (unsigned long long)uid, nl, MD_MATCH_MAX_TAGS);
    dst->n_languages = nl;

    avail[0] = src->availability[0];
    avail[1] = src->availability[1];
    avail[2] = src->availability[2] & ((1ull << (MD_MATCH_WEEK_HOURS - 128)) - 1);
    dst->avail_hours = (uint32_t)(__builtin_popcountll(avail[0]) + __builtin_popcountll(avail[1]) +
                                  __builtin_popcountll(avail[2]));

    if (src->n_managers > 0 && src->managers == NULL)
        return fail(eb, MD_EINVAL, "%s %llu: managers missing", side, (unsigned long long)uid);

    int32_t tz = src->utc_offset_min % 1440;
    dst->tz_min = tz < 0 ? tz + 1440 : tz;
    dst->seniority =
        (uint8_t)(src->seniority > MD_MATCH_MAX_LEVEL ? MD_MATCH_MAX_LEVEL : src->seniority);
    dst->dept = src->department;
    dst->flags = (uint8_t)((ns ? MATCH_HAS_SKILLS : 0) | (ns2[0] ? MATCH_HAS_GOALS : 0) |
                           (ns2[1] ? MATCH_HAS_INTERESTS : 0) | (nl ? MATCH_HAS_LANGUAGE : 0) |
                           (dst->avail_hours ? MATCH_HAS_AVAIL : 0) |
                           (src->has_time_zone ? MATCH_HAS_TZ : 0));
    return MD_OK;
}

/* Builds the inverted list of one kind of mentor tag. */
static int build_index(match_t *m, match_index_t *ix, int kind)
{
    size_t total = 0;
    for (uint32_t j = 0; j < m->n_mentors; j++) {
        const match_person_t *p = &m->mentors[j];
        total += kind == 0 ? p->n_skills : (kind == 1 ? p->n_goals : p->n_interests);
    }
    uint32_t *all = malloc((total ? total : 1) * sizeof(*all));
    if (all == NULL)
        return MD_ENOMEM;
    size_t k = 0;
    for (uint32_t j = 0; j < m->n_mentors; j++) {
        const match_person_t *p = &m->mentors[j];
        if (kind == 0)
            memcpy(all + k, m->skill_ids + p->skill_off, p->n_skills * sizeof(uint32_t));
        else if (kind == 1)
            memcpy(all + k, m->tags + p->goal_off, p->n_goals * sizeof(uint32_t));
        else
            memcpy(all + k, m->tags + p->int_off, p->n_interests * sizeof(uint32_t));
        k += kind == 0 ? p->n_skills : (kind == 1 ? p->n_goals : p->n_interests);
    }
    ix->n = tags_unique(all, (uint32_t)total);
    ix->vocab = all;
    ix->off = calloc((size_t)ix->n + 1, sizeof(*ix->off));
    ix->post = malloc((total ? total : 1) * sizeof(*ix->post));
    if (ix->off == NULL || ix->post == NULL)
        return MD_ENOMEM;

    /* Two passes over the mentors: count per tag, then place; mentors come
     * in index order, so each list is sorted by mentor. */
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t j = 0; j < m->n_mentors; j++) {
            const match_person_t *p = &m->mentors[j];
            uint32_t n = kind == 0 ? p->n_skills : (kind == 1 ? p->n_goals : p->n_interests);
            const uint32_t *ids = kind == 0   ? m->skill_ids + p->skill_off
                                  : kind == 1 ? m->tags + p->goal_off
                                              : m->tags + p->int_off;
            for (uint32_t q = 0; q < n; q++) {
                uint32_t *hit = bsearch(&ids[q], ix->vocab, ix->n, sizeof(uint32_t), cmp_u32);
                uint32_t v = (uint32_t)(hit - ix->vocab);
                if (pass == 0) {
                    ix->off[v + 1]++;
                } else {
                    uint32_t level = kind == 0 ? m->skill_levels[p->skill_off + q] : 0;
                    ix->post[ix->off[v]++] = j << 3 | level;
                }
            }
        }
        if (pass == 0) {
            for (uint32_t v = 0; v < ix->n; v++)
                ix->off[v + 1] += ix->off[v];
        } else {
            /* Placing advanced each start to the next one's: shift back. */
            for (uint32_t v = ix->n; v > 0; v--)
                ix->off[v] = ix->off[v - 1];
            ix->off[0] = 0;
        }
    }
    return MD_OK;
}

/* Rules a pair breaks that do not come from facts: the department,
 * seniority and language rules. */
static uint32_t pair_profile_rules(const match_t *m, uint32_t i, uint32_t j)
{
    const match_person_t *e = &m->mentees[i], *r = &m->mentors[j];
    uint32_t rules = 0;
    bool known = e->dept != 0 && r->dept != 0;
    if (m->set.department == MD_MATCH_DEPT_SAME && !(known && e->dept == r->dept))
        rules |= MD_MATCH_RULE_DEPARTMENT;
    if (m->set.department == MD_MATCH_DEPT_DIFFERENT && !(known && e->dept != r->dept))
        rules |= MD_MATCH_RULE_DEPARTMENT;
    if (m->set.min_seniority_gap > 0) {
        if (e->seniority == 0 || r->seniority == 0 ||
            (int32_t)r->seniority - (int32_t)e->seniority < (int32_t)m->set.min_seniority_gap)
            rules |= MD_MATCH_RULE_SENIORITY;
    }
    if (m->set.require_language) {
        uint64_t common = 0;
        for (uint32_t x = 0; x < m->lang_words; x++)
            common |= m->mentee_lang[(size_t)i * m->lang_words + x] &
                      m->mentor_lang[(size_t)j * m->lang_words + x];
        if (common == 0)
            rules |= MD_MATCH_RULE_LANGUAGE;
    }
    return rules;
}

static const match_special_t *find_special(const match_t *m, uint32_t i, uint32_t j)
{
    uint32_t lo = m->special_off[i], hi = m->special_off[i + 1];
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m->specials[mid].mentor < j)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < m->special_off[i + 1] && m->specials[lo].mentor == j)
        return &m->specials[lo];
    return NULL;
}

/* Pair facts, the reporting line and self pairs, as per-mentee lists. */
static int build_specials(match_t *m, const md_match_input_t *in, const order_t *r_order,
                          const order_t *e_order, errbuf_t *eb)
{
    tuples_t t = {0};
    int rc = MD_OK;

    for (size_t f = 0; f < in->n_facts; f++) {
        const md_match_fact_t *fa = &in->facts[f];
        uint32_t rules = 0, rank = 0;
        switch (fa->kind) {
        case MD_MATCH_FACT_RANK:
            if (fa->value == 0) {
                rc = fail(eb, MD_EINVAL, "facts[%zu]: rank 0 (ranks start at 1)", f);
                goto cleanup;
            }
            rank = fa->value;
            break;
        case MD_MATCH_FACT_MENTEE_AVOIDS:
            rules = MD_MATCH_RULE_MENTEE_AVOIDS;
            break;
        case MD_MATCH_FACT_MENTOR_AVOIDS:
            rules = MD_MATCH_RULE_MENTOR_AVOIDS;
            break;
        case MD_MATCH_FACT_HISTORY:
            rules = MD_MATCH_RULE_HISTORY;
            break;
        case MD_MATCH_FACT_EXCLUDED:
            rules = MD_MATCH_RULE_EXCLUDED;
            break;
        case MD_MATCH_FACT_PINNED:
            rules = MATCH_RULE_PINNED;
            break;
        case MD_MATCH_FACT_CURRENT:
            rules = MD_MATCH_RULE_CURRENT;
            break;
        default:
            rc = fail(eb, MD_EINVAL, "facts[%zu]: unknown kind %d", f, (int)fa->kind);
            goto cleanup;
        }
        uint32_t i = md_match__find_id(m->mentee_ids, m->n_mentees, fa->mentee_id);
        uint32_t j = md_match__find_id(m->mentor_ids, m->n_mentors, fa->mentor_id);
        if (i == UINT32_MAX || j == UINT32_MAX) {
            if (fa->kind == MD_MATCH_FACT_PINNED) {
                rc = fail(eb, MD_EINVAL,
                          "facts[%zu]: pinned pair (%llu, %llu) names a %s "
                          "not in the input",
                          f, (unsigned long long)fa->mentee_id, (unsigned long long)fa->mentor_id,
                          i == UINT32_MAX ? "mentee" : "mentor");
                goto cleanup;
            }
            continue;
        }
        rc = tuples_push(&t, i, j, rules, rank);
        if (rc != MD_OK)
            goto cleanup;
    }

    /* The reporting line, both ways, and the same user on both sides. */
    for (uint32_t i = 0; i < m->n_mentees; i++) {
        const md_match_person_t *p = &in->mentees[e_order[i].pos];
        for (uint32_t k = 0; k < p->n_managers; k++) {
            uint32_t j = md_match__find_id(m->mentor_ids, m->n_mentors, p->managers[k]);
            if (j != UINT32_MAX && (rc = tuples_push(&t, i, j, MD_MATCH_RULE_REPORTING_LINE, 0)))
                goto cleanup;
        }
        uint32_t j = md_match__find_id(m->mentor_ids, m->n_mentors, m->mentee_ids[i]);
        if (j != UINT32_MAX && (rc = tuples_push(&t, i, j, MD_MATCH_RULE_SELF, 0)))
            goto cleanup;
    }
    for (uint32_t j = 0; j < m->n_mentors; j++) {
        const md_match_person_t *p = &in->mentors[r_order[j].pos];
        for (uint32_t k = 0; k < p->n_managers; k++) {
            uint32_t i = md_match__find_id(m->mentee_ids, m->n_mentees, p->managers[k]);
            if (i != UINT32_MAX && (rc = tuples_push(&t, i, j, MD_MATCH_RULE_REPORTING_LINE, 0)))
                goto cleanup;
        }
    }

    if (t.n > 0)
        qsort(t.v, t.n, sizeof(*t.v), cmp_tuple);
    size_t n = 0;
    for (size_t k = 0; k < t.n; k++) {
        if (n > 0 && t.v[n - 1].mentee == t.v[k].mentee && t.v[n - 1].mentor == t.v[k].mentor) {
            t.v[n - 1].rules |= t.v[k].rules;
            if (t.v[k].rank && (t.v[n - 1].rank == 0 || t.v[k].rank < t.v[n - 1].rank))
                t.v[n - 1].rank = t.v[k].rank;
        } else {
            t.v[n++] = t.v[k];
        }
    }

    m->special_off = calloc((size_t)m->n_mentees + 1, sizeof(*m->special_off));
    m->specials = malloc((n ? n : 1) * sizeof(*m->specials));
    m->rank_count = calloc(m->n_mentees ? m->n_mentees : 1, sizeof(*m->rank_count));
    if (m->special_off == NULL || m->specials == NULL || m->rank_count == NULL) {
        rc = MD_ENOMEM;
        goto cleanup;
    }
    for (size_t k = 0; k < n; k++) {
        m->specials[k] = (match_special_t){t.v[k].mentor, t.v[k].rules, t.v[k].rank, 0};
        m->special_off[t.v[k].mentee + 1]++;
    }
    for (uint32_t i = 0; i < m->n_mentees; i++)
        m->special_off[i + 1] += m->special_off[i];

    /* Rank positions: the distinct rank values of each mentee, in order. */
    uint32_t ranks[1024];
    for (uint32_t i = 0; i < m->n_mentees; i++) {
        uint32_t lo = m->special_off[i], hi = m->special_off[i + 1];
        uint32_t *buf = ranks, nr = 0;
        if (hi - lo > sizeof(ranks) / sizeof(ranks[0])) {
            buf = malloc((hi - lo) * sizeof(*buf));
            if (buf == NULL) {
                rc = MD_ENOMEM;
                goto cleanup;
            }
        }
        for (uint32_t k = lo; k < hi; k++) {
            if (m->specials[k].rank)
                buf[nr++] = m->specials[k].rank;
        }
        nr = tags_unique(buf, nr);
        m->rank_count[i] = nr;
        for (uint32_t k = lo; k < hi; k++) {
            if (m->specials[k].rank) {
                uint32_t *hit = bsearch(&m->specials[k].rank, buf, nr, sizeof(*buf), cmp_u32);
                m->specials[k].rank_pos = (uint32_t)(hit - buf) + 1;
            }
        }
        if (buf != ranks)
            free(buf);
    }

cleanup:
    free(t.v);
    return rc;
}

/* Pins, capacities, places and who may take part at all. */
static int build_capacity(match_t *m, const md_match_input_t *in, const order_t *r_order,
                          const order_t *e_order)
{
    uint32_t k = m->set.mentors_per_mentee;
    m->mentor_block = calloc(m->n_mentors ? m->n_mentors : 1, sizeof(uint32_t));
    m->mentee_block = calloc(m->n_mentees ? m->n_mentees : 1, sizeof(uint32_t));
    m->mentor_room = calloc(m->n_mentors ? m->n_mentors : 1, sizeof(uint32_t));
    m->mentee_places = calloc(m->n_mentees ? m->n_mentees : 1, sizeof(uint32_t));
    m->elig = malloc((m->n_mentors ? m->n_mentors : 1) * sizeof(uint32_t));
    m->elig_pos = malloc((m->n_mentors ? m->n_mentors : 1) * sizeof(uint32_t));
    if (!m->mentor_block || !m->mentee_block || !m->mentor_room || !m->mentee_places || !m->elig ||
        !m->elig_pos)
        return MD_ENOMEM;

    size_t n_pins = 0;
    for (uint32_t i = 0; i < m->n_mentees; i++) {
        for (uint32_t s = m->special_off[i]; s < m->special_off[i + 1]; s++)
            n_pins += (m->specials[s].rules & MATCH_RULE_PINNED) != 0;
    }
    m->pins = malloc((n_pins ? n_pins : 1) * sizeof(*m->pins));
    if (m->pins == NULL)
        return MD_ENOMEM;
    for (uint32_t i = 0; i < m->n_mentees; i++) {
        for (uint32_t s = m->special_off[i]; s < m->special_off[i + 1]; s++) {
            const match_special_t *sp = &m->specials[s];
            if (sp->rules & MATCH_RULE_PINNED)
                m->pins[m->n_pins++] = (match_pin_t){i, sp->mentor, sp->rules & ~MATCH_RULE_PINNED};
        }
    }

    /* Mentors: capacity left after existing pairs and pins. Pins beyond the
     * capacity are kept and flagged (the later mentee ids). */
    qsort(m->pins, m->n_pins, sizeof(*m->pins), cmp_pin_by_mentor);
    for (uint32_t p = 0, j_prev = UINT32_MAX, seen = 0; p < m->n_pins; p++) {
        uint32_t j = m->pins[p].mentor;
        seen = j == j_prev ? seen + 1 : 1;
        j_prev = j;
        const md_match_person_t *src = &in->mentors[r_order[j].pos];
        if ((uint64_t)src->existing_pairs + seen > src->capacity)
            m->pins[p].rules |= MD_MATCH_RULE_MENTOR_FULL;
    }
    /* Pins per mentor and per mentee. */
    uint32_t *pins_of = calloc(m->n_mentors ? m->n_mentors : 1, sizeof(uint32_t));
    uint32_t *pins_for = calloc(m->n_mentees ? m->n_mentees : 1, sizeof(uint32_t));
    if (pins_of == NULL || pins_for == NULL) {
        free(pins_of);
        free(pins_for);
        return MD_ENOMEM;
    }
    for (uint32_t p = 0; p < m->n_pins; p++) {
        pins_of[m->pins[p].mentor]++;
        pins_for[m->pins[p].mentee]++;
    }

    m->n_elig = 0;
    for (uint32_t j = 0; j < m->n_mentors; j++) {
        const md_match_person_t *src = &in->mentors[r_order[j].pos];
        uint64_t used = (uint64_t)src->existing_pairs + pins_of[j];
        m->mentor_room[j] = used >= src->capacity ? 0 : (uint32_t)(src->capacity - used);
        uint32_t b = 0;
        if (src->on_leave)
            b |= MD_MATCH_RULE_MENTOR_LEAVE;
        if (m->set.require_training && !src->training_done)
            b |= MD_MATCH_RULE_TRAINING;
        if (m->mentor_room[j] == 0)
            b |= MD_MATCH_RULE_MENTOR_FULL;
        m->mentor_block[j] = b;
        m->elig_pos[j] = UINT32_MAX;
        if (b == 0) {
            m->elig_pos[j] = m->n_elig;
            m->elig[m->n_elig++] = j;
        }
    }
    for (uint32_t i = 0; i < m->n_mentees; i++) {
        const md_match_person_t *src = &in->mentees[e_order[i].pos];
        uint64_t used = (uint64_t)src->existing_pairs + pins_for[i];
        uint32_t b = 0;
        m->mentee_places[i] = used >= k ? 0 : (uint32_t)(k - used);
        if (src->on_leave) {
            b |= MD_MATCH_RULE_MENTEE_LEAVE;
            m->mentee_places[i] = 0;
        }
        if (m->mentee_places[i] == 0)
            b |= MD_MATCH_RULE_MENTEE_FULL;
        m->mentee_block[i] = b;
    }
    free(pins_of);
    free(pins_for);

    /* Mentees: pins beyond the places, then every pin's other rules. */
    qsort(m->pins, m->n_pins, sizeof(*m->pins), cmp_pin_by_mentee);
    for (uint32_t p = 0, i_prev = UINT32_MAX, seen = 0; p < m->n_pins; p++) {
        match_pin_t *pin = &m->pins[p];
        seen = pin->mentee == i_prev ? seen + 1 : 1;
        i_prev = pin->mentee;
        const md_match_person_t *src = &in->mentees[e_order[pin->mentee].pos];
        if ((uint64_t)src->existing_pairs + seen > k)
            pin->rules |= MD_MATCH_RULE_MENTEE_FULL;
        pin->rules |= pair_profile_rules(m, pin->mentee, pin->mentor);
        pin->rules |= m->mentor_block[pin->mentor] & ~MD_MATCH_RULE_MENTOR_FULL;
        pin->rules |= m->mentee_block[pin->mentee] & ~MD_MATCH_RULE_MENTEE_FULL;
    }
    return MD_OK;
}

int md_match_create(md_match_t **out, const md_match_input_t *in, char *err, size_t errlen)
{
    errbuf_t eb = {err, errlen};
    order_t *r_order = NULL, *e_order = NULL;
    fill_t fill = {0};
    int rc;

    *out = NULL;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    rc = check_settings(&in->settings, &eb);
    if (rc != MD_OK)
        return rc;
    if ((in->n_mentors > 0 && in->mentors == NULL) || (in->n_mentees > 0 && in->mentees == NULL) ||
        (in->n_facts > 0 && in->facts == NULL))
        return fail(&eb, MD_EINVAL, "input: an array is NULL but its count is not 0");
    /* Mentor indices share a word with a 3-bit level in the inverted lists. */
    if (in->n_mentors >= (1u << 28) || in->n_mentees >= (1u << 28))
        return fail(&eb, MD_EINVAL, "input: too many people");

    match_t *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return MD_ENOMEM;
    m->set = in->settings;
    for (int f = 0; f < MD_MATCH_NFACTORS; f++)
        m->weight_sum += m->set.weights[f];
    {
        /* With l = ceil(log2 d) and k = 25 + l, floor(n / d) equals
         * (n * ceil(2^k / d)) >> k for every n below 2^25. */
        uint64_t d = 2ull * (m->weight_sum ? m->weight_sum : 1);
        uint32_t l = 0;
        while ((1ull << l) < d)
            l++;
        m->div_shift = 25 + l;
        m->div_magic = ((1ull << m->div_shift) + d - 1) / d;
    }
    m->n_mentors = (uint32_t)in->n_mentors;
    m->n_mentees = (uint32_t)in->n_mentees;

    rc = sort_people(in->mentors, in->n_mentors, "mentors", &r_order, &eb);
    if (rc != MD_OK)
        goto cleanup;
    rc = sort_people(in->mentees, in->n_mentees, "mentees", &e_order, &eb);
    if (rc != MD_OK)
        goto cleanup;

    size_t n_skills = 0, n_tags = 0, n_lang = 0;
    count_lists(in->mentors, in->n_mentors, &n_skills, &n_tags);
    count_lists(in->mentees, in->n_mentees, &n_skills, &n_tags);
    for (size_t i = 0; i < in->n_mentors; i++)
        n_lang += in->mentors[i].languages ? in->mentors[i].n_languages : 0;
    for (size_t i = 0; i < in->n_mentees; i++)
        n_lang += in->mentees[i].languages ? in->mentees[i].n_languages : 0;

    /* The languages of the input, as bit positions. */
    fill.lang_vocab = malloc((n_lang ? n_lang : 1) * sizeof(uint32_t));
    if (fill.lang_vocab == NULL) {
        rc = MD_ENOMEM;
        goto cleanup;
    }
    size_t nl = 0;
    for (int side = 0; side < 2; side++) {
        const md_match_person_t *p = side ? in->mentees : in->mentors;
        size_t n = side ? in->n_mentees : in->n_mentors;
        for (size_t i = 0; i < n; i++) {
            if (p[i].languages == NULL)
                continue;
            memcpy(fill.lang_vocab + nl, p[i].languages, p[i].n_languages * sizeof(uint32_t));
            nl += p[i].n_languages;
        }
    }
    fill.n_lang = tags_unique(fill.lang_vocab, (uint32_t)nl);
    m->lang_words = fill.n_lang > 64 ? (fill.n_lang + 63) / 64 : 1;

    m->mentor_ids = malloc((m->n_mentors ? m->n_mentors : 1) * sizeof(uint64_t));
    m->mentee_ids = malloc((m->n_mentees ? m->n_mentees : 1) * sizeof(uint64_t));
    m->mentors = malloc((m->n_mentors ? m->n_mentors : 1) * sizeof(match_person_t));
    m->mentees = malloc((m->n_mentees ? m->n_mentees : 1) * sizeof(match_person_t));
    m->keys = calloc(m->n_mentors ? m->n_mentors : 1, sizeof(match_key_t));
    m->skill_ids = malloc((n_skills ? n_skills : 1) * sizeof(uint32_t));
    m->skill_levels = malloc(n_skills ? n_skills : 1);
    m->tags = malloc((n_tags ? n_tags : 1) * sizeof(uint32_t));
    m->mentor_lang = calloc((size_t)(m->n_mentors ? m->n_mentors : 1) * m->lang_words, 8);
    m->mentee_lang = calloc((size_t)(m->n_mentees ? m->n_mentees : 1) * m->lang_words, 8);
    m->mentee_avail = calloc((size_t)(m->n_mentees ? m->n_mentees : 1) * 3, 8);
    m->jaccard = malloc(64 * 128 * sizeof(uint16_t));
    m->tz_offsets = malloc((m->n_mentors ? m->n_mentors : 1) * sizeof(int32_t));
    if (!m->mentor_ids || !m->mentee_ids || !m->mentors || !m->mentees || !m->keys ||
        !m->skill_ids || !m->skill_levels || !m->tags || !m->mentor_lang || !m->mentee_lang ||
        !m->mentee_avail || !m->jaccard || !m->tz_offsets) {
        rc = MD_ENOMEM;
        goto cleanup;
    }

    for (uint32_t j = 0; j < m->n_mentors; j++) {
        uint64_t av[3];
        m->mentor_ids[j] = r_order[j].id;
        rc = fill_person(m, &in->mentors[r_order[j].pos], "mentor", &fill, &m->mentors[j],
                         m->mentor_lang + (size_t)j * m->lang_words, av, &eb);
        if (rc != MD_OK)
            goto cleanup;
        match_key_t *k = &m->keys[j];
        memcpy(k->avail, av, sizeof(av));
        k->lang = m->mentor_lang[(size_t)j * m->lang_words];
        k->dept = m->mentors[j].dept;
        k->seniority = m->mentors[j].seniority;
        k->flags = m->mentors[j].flags;
        k->n_interests = (uint8_t)m->mentors[j].n_interests;
    }
    for (uint32_t i = 0; i < m->n_mentees; i++) {
        m->mentee_ids[i] = e_order[i].id;
        rc = fill_person(m, &in->mentees[e_order[i].pos], "mentee", &fill, &m->mentees[i],
                         m->mentee_lang + (size_t)i * m->lang_words, m->mentee_avail + 3 * i, &eb);
        if (rc != MD_OK)
            goto cleanup;
    }

    /* Time zone classes of the mentors. */
    uint32_t ntz = 0;
    for (uint32_t j = 0; j < m->n_mentors; j++) {
        if (m->mentors[j].flags & MATCH_HAS_TZ)
            m->tz_offsets[ntz++] = m->mentors[j].tz_min;
    }
    if (ntz > 0) {
        qsort(m->tz_offsets, ntz, sizeof(int32_t), cmp_i32);
        uint32_t k = 1;
        for (uint32_t x = 1; x < ntz; x++) {
            if (m->tz_offsets[x] != m->tz_offsets[k - 1])
                m->tz_offsets[k++] = m->tz_offsets[x];
        }
        ntz = k;
    }
    m->n_tz = ntz;
    for (uint32_t j = 0; j < m->n_mentors; j++) {
        m->keys[j].tz_class = (uint16_t)ntz;
        if (m->mentors[j].flags & MATCH_HAS_TZ) {
            int32_t *hit =
                bsearch(&m->mentors[j].tz_min, m->tz_offsets, ntz, sizeof(int32_t), cmp_i32);
            m->keys[j].tz_class = (uint16_t)(hit - m->tz_offsets);
        }
    }

    for (uint32_t s = 0; s < 64; s++) {
        for (uint32_t u = 0; u < 128; u++)
            m->jaccard[s * 128 + u] = (uint16_t)(s <= u ? md_match__value_interests(s, u) : 0);
    }

    if ((rc = build_index(m, &m->skill_index, 0)) != MD_OK ||
        (rc = build_index(m, &m->goal_index, 1)) != MD_OK ||
        (rc = build_index(m, &m->interest_index, 2)) != MD_OK)
        goto cleanup;
    rc = build_specials(m, in, r_order, e_order, &eb);
    if (rc != MD_OK)
        goto cleanup;
    rc = build_capacity(m, in, r_order, e_order);
    if (rc != MD_OK)
        goto cleanup;

    md_match__score_init(m);
    *out = m;
    m = NULL;

cleanup:
    if (rc == MD_ENOMEM)
        fail(&eb, MD_ENOMEM, "out of memory");
    free(fill.lang_vocab);
    free(r_order);
    free(e_order);
    md_match_free(m);
    return rc;
}

/* ------------------------------------------------------------ explanations */

static void explain_index(const match_t *m, uint32_t i, uint32_t j, md_match_explain_t *out);

int md_match_explain(const md_match_t *m, uint64_t mentee_id, uint64_t mentor_id,
                     md_match_explain_t *out)
{
    uint32_t i = md_match__find_id(m->mentee_ids, m->n_mentees, mentee_id);
    uint32_t j = md_match__find_id(m->mentor_ids, m->n_mentors, mentor_id);
    if (i == UINT32_MAX || j == UINT32_MAX)
        return MD_ENOTFOUND;
    explain_index(m, i, j, out);
    return MD_OK;
}

uint32_t md_match__score_pair(const match_t *m, uint32_t i, uint32_t j)
{
    md_match_explain_t ex;
    if (m->mentor_block[j] || m->mentee_block[i])
        return MD_MATCH_NO_PAIR;
    explain_index(m, i, j, &ex);
    return (ex.blocked || ex.pinned) ? MD_MATCH_NO_PAIR : ex.score;
}

static void explain_index(const match_t *m, uint32_t i, uint32_t j, md_match_explain_t *out)
{
    const match_person_t *e = &m->mentees[i], *r = &m->mentors[j];
    const match_special_t *sp = find_special(m, i, j);
    uint32_t v[MD_MATCH_NFACTORS];
    uint32_t neutral = 0;

    memset(out, 0, sizeof(*out));
    out->mentee_id = m->mentee_ids[i];
    out->mentor_id = m->mentor_ids[j];

    /* Skills: merge the two sorted lists. */
    out->skills_wanted = e->n_skills;
    uint32_t credit = 0;
    for (uint32_t a = 0, b = 0; a < e->n_skills; a++) {
        uint32_t id = m->skill_ids[e->skill_off + a];
        while (b < r->n_skills && m->skill_ids[r->skill_off + b] < id)
            b++;
        uint32_t have = 0;
        if (b < r->n_skills && m->skill_ids[r->skill_off + b] == id)
            have = m->skill_levels[r->skill_off + b];
        uint32_t want = m->skill_levels[e->skill_off + a];
        credit += md_match__skill_credit60(have, want);
        if (have >= want)
            out->skills_covered++;
        else if (have > 0)
            out->skills_partial++;
    }
    if (e->n_skills == 0 || r->n_skills == 0) {
        v[MD_MATCH_SKILLS] = MD_MATCH_NEUTRAL;
        neutral |= 1u << MD_MATCH_SKILLS;
    } else {
        v[MD_MATCH_SKILLS] = md_match__value_skills(credit, e->n_skills);
    }

    /* Goals and interests: sorted tag lists. */
    uint32_t shared[2] = {0, 0};
    const uint32_t *ea[2] = {m->tags + e->goal_off, m->tags + e->int_off};
    const uint32_t *ra[2] = {m->tags + r->goal_off, m->tags + r->int_off};
    uint32_t en[2] = {e->n_goals, e->n_interests}, rn[2] = {r->n_goals, r->n_interests};
    for (int l = 0; l < 2; l++) {
        for (uint32_t a = 0, b = 0; a < en[l] && b < rn[l];) {
            if (ea[l][a] == ra[l][b]) {
                shared[l]++;
                a++;
                b++;
            } else if (ea[l][a] < ra[l][b]) {
                a++;
            } else {
                b++;
            }
        }
    }
    out->goals_mentee = e->n_goals;
    out->goals_shared = shared[0];
    if (e->n_goals == 0 || r->n_goals == 0) {
        v[MD_MATCH_GOALS] = MD_MATCH_NEUTRAL;
        neutral |= 1u << MD_MATCH_GOALS;
    } else {
        v[MD_MATCH_GOALS] = md_match__value_goals(shared[0], e->n_goals);
    }
    out->interests_shared = shared[1];
    out->interests_union = e->n_interests + r->n_interests - shared[1];
    if (e->n_interests == 0 || r->n_interests == 0) {
        v[MD_MATCH_INTERESTS] = MD_MATCH_NEUTRAL;
        neutral |= 1u << MD_MATCH_INTERESTS;
    } else {
        v[MD_MATCH_INTERESTS] = md_match__value_interests(shared[1], out->interests_union);
    }

    if (e->seniority == 0 || r->seniority == 0) {
        v[MD_MATCH_SENIORITY] = MD_MATCH_NEUTRAL;
        neutral |= 1u << MD_MATCH_SENIORITY;
    } else {
        out->seniority_gap = (int32_t)r->seniority - (int32_t)e->seniority;
        v[MD_MATCH_SENIORITY] = md_match__value_seniority(out->seniority_gap);
    }

    if (e->dept == 0 || r->dept == 0)
        out->department = MD_MATCH_REL_UNKNOWN;
    else
        out->department = e->dept == r->dept ? MD_MATCH_REL_SAME : MD_MATCH_REL_DIFFERENT;
    if (m->set.department != MD_MATCH_DEPT_ANY) {
        v[MD_MATCH_DEPARTMENT] = MD_MATCH_SCORE_MAX;
    } else if (out->department == MD_MATCH_REL_UNKNOWN) {
        v[MD_MATCH_DEPARTMENT] = 7500;
        neutral |= 1u << MD_MATCH_DEPARTMENT;
    } else {
        v[MD_MATCH_DEPARTMENT] = out->department == MD_MATCH_REL_SAME ? 5000 : 10000;
    }

    if (!(e->flags & MATCH_HAS_TZ) || !(r->flags & MATCH_HAS_TZ)) {
        v[MD_MATCH_TIME_ZONE] = MD_MATCH_NEUTRAL;
        neutral |= 1u << MD_MATCH_TIME_ZONE;
    } else {
        out->tz_distance_min = md_match__tz_distance(e->tz_min, r->tz_min);
        v[MD_MATCH_TIME_ZONE] = md_match__value_time_zone(out->tz_distance_min);
    }

    for (uint32_t x = 0; x < m->lang_words; x++)
        out->languages_shared +=
            (uint32_t)__builtin_popcountll(m->mentee_lang[(size_t)i * m->lang_words + x] &
                                           m->mentor_lang[(size_t)j * m->lang_words + x]);
    if (e->n_languages == 0 || r->n_languages == 0) {
        v[MD_MATCH_LANGUAGE] = MD_MATCH_NEUTRAL;
        neutral |= 1u << MD_MATCH_LANGUAGE;
    } else {
        v[MD_MATCH_LANGUAGE] = out->languages_shared ? MD_MATCH_SCORE_MAX : 0;
    }

    const uint64_t *ev = m->mentee_avail + 3 * (size_t)i, *rv = m->keys[j].avail;
    out->availability_hours =
        (uint32_t)(__builtin_popcountll(ev[0] & rv[0]) + __builtin_popcountll(ev[1] & rv[1]) +
                   __builtin_popcountll(ev[2] & rv[2]));
    out->availability_mentee_hours = e->avail_hours;
    if (e->avail_hours == 0 || r->avail_hours == 0) {
        v[MD_MATCH_AVAILABILITY] = MD_MATCH_NEUTRAL;
        neutral |= 1u << MD_MATCH_AVAILABILITY;
    } else {
        v[MD_MATCH_AVAILABILITY] =
            md_match__value_availability(out->availability_hours, e->avail_hours);
    }

    out->rank = sp ? sp->rank : 0;
    v[MD_MATCH_PREFERENCES] = md_match__value_preference(sp ? sp->rank_pos : 0, m->rank_count[i]);

    /* The score and its apportionment. */
    out->score = md_match__combine(m, v);
    out->neutral = neutral;
    uint32_t W = m->weight_sum, given = 0;
    uint64_t rem[MD_MATCH_NFACTORS];
    for (int f = 0; f < MD_MATCH_NFACTORS; f++) {
        out->weight[f] = m->set.weights[f];
        out->value[f] = (uint16_t)v[f];
        uint64_t x = (uint64_t)m->set.weights[f] * v[f];
        out->contribution[f] = W ? (uint16_t)(x / W) : 0;
        rem[f] = W ? x % W : 0;
        given += out->contribution[f];
    }
    while (given < out->score) {
        int best = -1;
        for (int f = 0; f < MD_MATCH_NFACTORS; f++) {
            if (rem[f] > 0 && (best < 0 || rem[f] > rem[best]))
                best = f;
        }
        if (best < 0)
            break; /* cannot happen: the rounding leaves at most one unit per remainder */
        out->contribution[best]++;
        rem[best] = 0;
        given++;
    }

    /* Rules. */
    uint32_t blocked = sp ? (sp->rules & MATCH_PAIR_RULES & ~MATCH_RULE_PINNED) : 0;
    blocked |= pair_profile_rules(m, i, j);
    blocked |= m->mentor_block[j] | m->mentee_block[i];
    if (m->set.objective == MD_MATCH_SCORE && out->score == 0)
        blocked |= MD_MATCH_RULE_ZERO_SCORE;
    out->pinned = sp && (sp->rules & MATCH_RULE_PINNED);
    if (out->pinned)
        blocked &= ~(MD_MATCH_RULE_MENTOR_FULL | MD_MATCH_RULE_MENTEE_FULL);
    out->blocked = blocked;
}

int md_match_row(const md_match_t *m, size_t mentee_index, uint16_t *scores)
{
    if (mentee_index >= m->n_mentees)
        return MD_EINVAL;
    for (uint32_t j = 0; j < m->n_mentors; j++)
        scores[j] = MD_MATCH_NO_PAIR;
    if (m->mentee_block[mentee_index] != 0 || m->n_elig == 0)
        return MD_OK;
    uint32_t *acc = calloc(m->n_mentors, sizeof(*acc));
    uint16_t *row = malloc(m->n_elig * sizeof(*row));
    if (acc == NULL || row == NULL) {
        free(acc);
        free(row);
        return MD_ENOMEM;
    }
    md_match__score_row(m, (uint32_t)mentee_index, acc, row);
    for (uint32_t t = 0; t < m->n_elig; t++)
        scores[m->elig[t]] = row[t];
    free(acc);
    free(row);
    return MD_OK;
}
