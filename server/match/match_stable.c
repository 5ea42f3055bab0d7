/* match_stable.c: the stable solver, mentee-proposing deferred acceptance
 * with capacities and several mentors per mentee.
 *
 * Each mentee proposes to mentors in its order of preference (score
 * descending, then user id ascending) while it has an open place; each
 * mentor keeps the best proposals it has received, up to its remaining
 * capacity (score descending, then mentee user id ascending), and lets the
 * worst one go when a better one arrives. A mentee never proposes twice to
 * the same mentor: a mentor who let it go, or turned it down, never takes
 * it back, because the worst proposal a full mentor holds only improves.
 * The outcome is the mentee-optimal stable assignment, whatever the order
 * in which proposals are made.
 *
 * Preference lists are not stored whole: a mentee starts with its
 * candidates from the first scoring pass and, when it has proposed to all
 * of them, its row is scored again for the next mentors after the last one
 * (in batches that double each time). */
#include "match_int.h"

#include <stdlib.h>
#include <string.h>

/* Keys compare preferences with one integer comparison: larger is better. */
static inline uint64_t mentee_key(uint32_t score, uint32_t mentor)
{
    return (uint64_t)score << 32 | (UINT32_MAX - mentor);
}

static inline uint64_t mentor_key(uint32_t score, uint32_t mentee)
{
    return (uint64_t)score << 32 | (UINT32_MAX - mentee);
}

typedef struct {
    const uint32_t *mentor; /* current batch */
    const uint16_t *score;
    uint32_t n, pos;
    uint32_t listed; /* mentors listed so far, all batches */
    uint32_t *own_m; /* batch fetched here (NULL: the candidate list) */
    uint16_t *own_s;
    uint32_t next_size; /* size of the next batch */
} pref_t;

static void heap_down(uint64_t *h, uint32_t n, uint32_t k)
{
    uint64_t x = h[k];
    for (;;) {
        uint32_t c = 2 * k + 1;
        if (c >= n)
            break;
        if (c + 1 < n && h[c + 1] < h[c])
            c++;
        if (x <= h[c])
            break;
        h[k] = h[c];
        k = c;
    }
    h[k] = x;
}

static void heap_up(uint64_t *h, uint32_t k)
{
    uint64_t x = h[k];
    while (k > 0) {
        uint32_t p = (k - 1) / 2;
        if (h[p] <= x)
            break;
        h[k] = h[p];
        k = p;
    }
    h[k] = x;
}

static int cmp_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x < y) - (x > y);
}

/* Scores mentee i's row again and lists the next mentors after the last
 * one proposed to. */
static int fetch_more(const match_t *m, match_scratch_t *s, uint32_t i, pref_t *p,
                      md_match_stats_t *st)
{
    uint64_t cursor = mentee_key(p->score[p->n - 1], p->mentor[p->n - 1]);
    uint32_t want = p->next_size;
    uint64_t *h = malloc(want * sizeof(*h));
    if (h == NULL)
        return MD_ENOMEM;
    uint32_t hn = 0;

    md_match__score_row(m, i, s->acc, s->row);
    st->pairs_scored += m->n_elig;
    st->rows_rescored++;
    for (uint32_t t = 0; t < m->n_elig; t++) {
        if (s->row[t] == MD_MATCH_NO_PAIR)
            continue;
        uint64_t key = mentee_key(s->row[t], m->elig[t]);
        if (key >= cursor)
            continue;
        if (hn < want) {
            h[hn++] = key;
            heap_up(h, hn - 1);
        } else if (key > h[0]) {
            h[0] = key;
            heap_down(h, hn, 0);
        }
    }
    qsort(h, hn, sizeof(*h), cmp_desc);

    free(p->own_m);
    free(p->own_s);
    p->own_m = malloc((hn ? hn : 1) * sizeof(uint32_t));
    p->own_s = malloc((hn ? hn : 1) * sizeof(uint16_t));
    if (p->own_m == NULL || p->own_s == NULL) {
        free(h);
        return MD_ENOMEM;
    }
    for (uint32_t k = 0; k < hn; k++) {
        p->own_m[k] = UINT32_MAX - (uint32_t)h[k];
        p->own_s[k] = (uint16_t)(h[k] >> 32);
    }
    free(h);
    p->mentor = p->own_m;
    p->score = p->own_s;
    p->n = hn;
    p->pos = 0;
    p->listed += hn;
    p->next_size = want > UINT32_MAX / 2 ? want : want * 2;
    return MD_OK;
}

int md_match__stable(const match_t *m, const match_cands_t *c, match_scratch_t *s,
                     match_assign_t **out, size_t *n_out, md_match_stats_t *st)
{
    uint32_t n = m->n_mentees, nm = m->n_mentors;
    pref_t *pref = calloc(n ? n : 1, sizeof(*pref));
    uint32_t *open = calloc(n ? n : 1, sizeof(uint32_t));
    uint32_t *stack = malloc((n ? n : 1) * sizeof(uint32_t));
    uint8_t *stacked = calloc(n ? n : 1, 1);
    uint32_t *hoff = calloc((size_t)nm + 1, sizeof(uint32_t));
    uint32_t *hn = calloc(nm ? nm : 1, sizeof(uint32_t));
    uint64_t *held = NULL;
    uint32_t top = 0;
    int rc = MD_OK;

    *out = NULL;
    *n_out = 0;
    if (!pref || !open || !stack || !stacked || !hoff || !hn) {
        rc = MD_ENOMEM;
        goto cleanup;
    }
    uint64_t places = 0;
    for (uint32_t i = 0; i < n; i++)
        places += m->mentee_block[i] ? 0 : m->mentee_places[i];
    for (uint32_t j = 0; j < nm; j++) {
        uint64_t r = m->mentor_block[j] ? 0 : m->mentor_room[j];
        hoff[j + 1] = hoff[j] + (uint32_t)(r < places ? r : places);
    }
    held = malloc(((size_t)hoff[nm] + 1) * sizeof(*held));
    if (held == NULL) {
        rc = MD_ENOMEM;
        goto cleanup;
    }

    for (uint32_t i = n; i-- > 0;) {
        if (m->mentee_block[i] != 0)
            continue;
        pref_t *p = &pref[i];
        p->mentor = c->mentor + (size_t)i * c->stride;
        p->score = c->score + (size_t)i * c->stride;
        p->n = c->n[i];
        p->listed = c->n[i];
        p->next_size = 2 * c->stride;
        open[i] = m->mentee_places[i];
        stack[top++] = i; /* lowest index on top: proposals start there */
        stacked[i] = 1;
    }

    while (top > 0) {
        uint32_t i = stack[--top];
        stacked[i] = 0;
        pref_t *p = &pref[i];
        while (open[i] > 0) {
            if (p->pos == p->n) {
                if (p->listed >= c->allowed[i] || p->n == 0)
                    break; /* proposed to every allowed mentor */
                if ((rc = fetch_more(m, s, i, p, st)) != MD_OK)
                    goto cleanup;
                if (p->n == 0)
                    break;
            }
            uint32_t j = p->mentor[p->pos];
            uint32_t score = p->score[p->pos];
            p->pos++;
            uint64_t key = mentor_key(score, i);
            uint64_t *h = held + hoff[j];
            uint32_t cap = hoff[j + 1] - hoff[j];
            if (hn[j] < cap) {
                h[hn[j]++] = key;
                heap_up(h, hn[j] - 1);
                open[i]--;
            } else if (cap > 0 && key > h[0]) {
                uint32_t out_i = UINT32_MAX - (uint32_t)h[0];
                h[0] = key;
                heap_down(h, cap, 0);
                open[i]--;
                open[out_i]++;
                if (!stacked[out_i]) {
                    stack[top++] = out_i;
                    stacked[out_i] = 1;
                }
            }
        }
    }

    size_t total = 0;
    for (uint32_t j = 0; j < nm; j++)
        total += hn[j];
    *out = malloc((total ? total : 1) * sizeof(**out));
    if (*out == NULL) {
        rc = MD_ENOMEM;
        goto cleanup;
    }
    for (uint32_t j = 0; j < nm; j++) {
        const uint64_t *h = held + hoff[j];
        for (uint32_t k = 0; k < hn[j]; k++)
            (*out)[(*n_out)++] =
                (match_assign_t){UINT32_MAX - (uint32_t)h[k], j, (uint32_t)(h[k] >> 32)};
    }

cleanup:
    if (pref) {
        for (uint32_t i = 0; i < n; i++) {
            free(pref[i].own_m);
            free(pref[i].own_s);
        }
    }
    free(pref);
    free(open);
    free(stack);
    free(stacked);
    free(hoff);
    free(hn);
    free(held);
    return rc;
}
