/* match_solve.c: md_match_solve. Scores every pair once, keeps each
 * mentee's best candidates, runs a solver, and for the optimal solver proves
 * the result optimal for the whole problem, not only for the candidates.
 *
 * DESIGN (threads). md_match_solve runs on the caller's thread and starts
 * worker threads (pthreads) only for the scoring passes: the first pass over
 * every pair and the rows scored again while verifying. Work is handed out
 * in chunks of mentees through an atomic counter. Each mentee's results go
 * to slots of its own (candidate lists, counts), and violating pairs go to
 * per-thread lists that are sorted once the threads have joined, so nothing
 * depends on the number of threads or on their timing. Each thread owns its
 * scratch memory; the engine instance and, while verifying, the flow are
 * only read. The solvers proper run on the calling thread.
 *
 * Optimality for the whole problem (the technique of solving a sparse core
 * and pricing out the rest, as for large dense assignment problems, Lee and
 * Orlin 1993): the minimum-cost flow over the core comes with prices under
 * which every core arc has a non-negative reduced cost. If every pair
 * outside the core also has one under the same prices, the flow is optimal
 * for the full problem. Pairs that fail join the core (the most negative
 * first, at most violator_cap per mentee and round) and the flow is repaired
 * from where it was, until none fails.
 *
 * Most rows need no scoring again for that test. The first pass remembers
 * each mentee's best L candidates (checked pair by pair, cheaply) and the
 * best score beyond them; a row scored again remembers the least cost plus
 * mentor price of its pairs outside the core, and the prices of that round.
 * A pair can fail later only if its mentor's price has fallen since by more
 * than the row's margin; the mentors sorted by that fall say how many could:
 * none, and the row is clear; a few, and those pairs are scored alone; many,
 * and the row is scored again. */
#include "match_int.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------ threads */

typedef struct {
    atomic_uint next;
    atomic_int err;
    const uint32_t *items; /* mentee indices */
    uint32_t n_items;
    uint32_t chunk;
    int (*fn)(void *ctx, uint32_t tid, uint32_t mentee);
    void *ctx;
} par_t;

typedef struct {
    par_t *p;
    uint32_t tid;
} par_arg_t;

static void *par_worker(void *arg)
{
    par_arg_t *a = arg;
    par_t *p = a->p;
    for (;;) {
        if (atomic_load(&p->err) != MD_OK)
            break;
        uint32_t begin = atomic_fetch_add(&p->next, p->chunk);
        if (begin >= p->n_items)
            break;
        uint32_t end = begin + p->chunk < p->n_items ? begin + p->chunk : p->n_items;
        for (uint32_t k = begin; k < end; k++) {
            int rc = p->fn(p->ctx, a->tid, p->items[k]);
            if (rc != MD_OK) {
                int expected = MD_OK;
                atomic_compare_exchange_strong(&p->err, &expected, rc);
                break;
            }
        }
    }
    return NULL;
}

/* Runs fn over items on up to `threads` threads (the caller's included). */
static int par_run(uint32_t threads, const uint32_t *items, uint32_t n_items,
                   int (*fn)(void *, uint32_t, uint32_t), void *ctx)
{
    par_t p;
    atomic_init(&p.next, 0);
    atomic_init(&p.err, MD_OK);
    p.items = items;
    p.n_items = n_items;
    p.chunk = 16;
    p.fn = fn;
    p.ctx = ctx;
    if (threads > 64)
        threads = 64;
    if (threads > (n_items + p.chunk - 1) / p.chunk)
        threads = (n_items + p.chunk - 1) / p.chunk;
    if (threads == 0)
        threads = 1;

    pthread_t tids[64];
    par_arg_t args[64];
    uint32_t started = 0;
    for (uint32_t t = 1; t < threads; t++) {
        args[t] = (par_arg_t){&p, t};
        if (pthread_create(&tids[t], NULL, par_worker, &args[t]) != 0)
            break; /* fewer threads: same result, only slower */
        started = t;
    }
    args[0] = (par_arg_t){&p, 0};
    par_worker(&args[0]);
    for (uint32_t t = 1; t <= started; t++)
        pthread_join(tids[t], NULL);
    return atomic_load(&p.err);
}

static uint32_t thread_count(const match_t *m)
{
    if (m->set.threads > 0)
        return m->set.threads > 64 ? 64 : m->set.threads;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    return n > 64 ? 64 : (uint32_t)n;
}

/* ------------------------------------------------------------ solve state */

typedef struct {
    match_assign_t *v;
    size_t n, cap;
} assign_vec_t;

static int assign_push(assign_vec_t *a, uint32_t mentee, uint32_t mentor, uint32_t score)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 256;
        match_assign_t *v = realloc(a->v, cap * sizeof(*v));
        if (v == NULL)
            return MD_ENOMEM;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = (match_assign_t){mentee, mentor, score};
    return MD_OK;
}

typedef struct {
    const match_t *m;
    uint32_t threads;
    match_scratch_t *scratch; /* per thread */
    uint64_t **sel;           /* per thread: selection heap, stride entries */
    uint64_t *scored;         /* per thread: pairs scored */
    uint64_t *rescored;       /* per thread: rows scored again */
    match_cands_t cands;      /* stride: the list length L */
    uint32_t core_k;          /* list entries that start in the core */
    bool spread_ties;         /* optimal: ties at a list's cut start per mentee */
    /* Per thread, per mentor: the best mentees seen, as a min-heap of
     * mentor_x selection keys (score, then lower mentee index). */
    uint64_t **mbest;
    uint64_t **mlow;
    uint32_t **mbest_n;
    uint32_t mentor_x;

    /* Verification. Prices of the mentors, v = p(T) - p(mentor), as they
     * were in each round (round 0: all zero, before any solve), and how far
     * each set has since fallen at most (delta). Per mentee, the round its
     * row was last scored (snap) and the least cost plus price among its
     * pairs outside the core then (emin); for round 0, the cost of the
     * best score left out of its list. */
    const match_flow_t *flow;
    int64_t **vsnap;
    int64_t *delta;
    /* Per snapshot: the eligible mentors by how far their price fell
     * since, most first (drop, mentor). */
    struct drop **drops;
    uint32_t n_snaps, round;
    int64_t *cost_of;       /* the flow's cost of each score 0..10000 */
    struct violator **viol; /* per thread: room for violator_cap pairs */
    uint32_t *snap;
    int64_t *emin;
    assign_vec_t *found; /* per thread */
    uint32_t violator_cap;
} solve_t;

static void solve_free(solve_t *s)
{
    if (s->scratch) {
        for (uint32_t t = 0; t < s->threads; t++) {
            free(s->scratch[t].acc);
            free(s->scratch[t].row);
            free(s->scratch[t].mark);
            free(s->scratch[t].list);
        }
    }
    if (s->sel) {
        for (uint32_t t = 0; t < s->threads; t++)
            free(s->sel[t]);
    }
    if (s->found) {
        for (uint32_t t = 0; t < s->threads; t++)
            free(s->found[t].v);
    }
    if (s->mbest) {
        for (uint32_t t = 0; t < s->threads; t++) {
            free(s->mbest[t]);
            free(s->mlow[t]);
            free(s->mbest_n[t]);
        }
    }
    free(s->mbest);
    free(s->mlow);
    free(s->mbest_n);
    if (s->vsnap) {
        for (uint32_t r = 0; r < s->n_snaps; r++)
            free(s->vsnap[r]);
    }
    free(s->vsnap);
    free(s->delta);
    if (s->drops) {
        for (uint32_t r = 0; r < s->n_snaps; r++)
            free(s->drops[r]);
    }
    free(s->drops);
    free(s->snap);
    free(s->emin);
    free(s->cost_of);
    if (s->viol) {
        for (uint32_t t = 0; t < s->threads; t++)
            free(s->viol[t]);
    }
    free(s->viol);
    free(s->scratch);
    free(s->sel);
    free(s->scored);
    free(s->rescored);
    free(s->found);
    free(s->cands.mentor);
    free(s->cands.score);
    free(s->cands.n);
    free(s->cands.ub);
    free(s->cands.allowed);
}

/* Sizes of the first pass's lists. The core starts with each mentee's best
 * K mentors: enough for its places several times over, more when mentors
 * are scarce compared to the places to fill. The list keeps L >= K, so that
 * most pairs the verification needs are at hand without scoring a row
 * again. */
static void list_sizes(const match_t *m, uint32_t *k_out, uint32_t *l_out)
{
    uint32_t k = m->set.core_size;
    if (k == 0) {
        uint64_t places = 0, room = 0;
        for (uint32_t i = 0; i < m->n_mentees; i++)
            places += m->mentee_block[i] ? 0 : m->mentee_places[i];
        for (uint32_t t = 0; t < m->n_elig; t++)
            room += m->mentor_room[m->elig[t]];
        k = 8 + 6 * m->set.mentors_per_mentee;
        if (room > 0 && places * 10 > room * 9)
            k += 8; /* tight: most mentors will be full */
        /* With more mentors, more of them score close to the best, and the
         * optimum reaches further down each mentee's list. */
        k += m->n_elig / 400 < 12 ? m->n_elig / 400 : 12;
    }
    uint32_t l = 3 * k > 48 ? 3 * k : 48;
    if (m->set.core_size > 0)
        l = k; /* the knob tests the verification: keep it bare */
    if (l > m->n_elig)
        l = m->n_elig;
    if (k > l)
        k = l;
    *k_out = k ? k : 1;
    *l_out = l ? l : 1;
}

static int solve_init(solve_t *s, const match_t *m)
{
    memset(s, 0, sizeof(*s));
    s->m = m;
    s->threads = thread_count(m);
    uint32_t stride;
    list_sizes(m, &s->core_k, &stride);
    s->cands.stride = stride;

    size_t n = m->n_mentees ? m->n_mentees : 1;
    s->scratch = calloc(s->threads, sizeof(*s->scratch));
    s->sel = calloc(s->threads, sizeof(*s->sel));
    s->scored = calloc(s->threads, sizeof(*s->scored));
    s->rescored = calloc(s->threads, sizeof(*s->rescored));
    s->found = calloc(s->threads, sizeof(*s->found));
    s->cands.mentor = malloc(n * stride * sizeof(uint32_t));
    s->cands.score = malloc(n * stride * sizeof(uint16_t));
    s->cands.n = calloc(n, sizeof(uint32_t));
    s->cands.ub = malloc(n * sizeof(int32_t));
    s->cands.allowed = calloc(n, sizeof(uint32_t));
    if (!s->scratch || !s->sel || !s->scored || !s->rescored || !s->found || !s->cands.mentor ||
        !s->cands.score || !s->cands.n || !s->cands.ub || !s->cands.allowed)
        return MD_ENOMEM;
    for (size_t i = 0; i < n; i++)
        s->cands.ub[i] = -1;
    /* Mentor-side lists: about twice the largest capacity. */
    uint32_t max_room = 1;
    for (uint32_t t = 0; t < m->n_elig; t++)
        max_room = m->mentor_room[m->elig[t]] > max_room ? m->mentor_room[m->elig[t]] : max_room;
    s->mentor_x = 2 * max_room + 2 < 24 ? 2 * max_room + 2 : 24;
    s->mbest = calloc(s->threads, sizeof(*s->mbest));
    s->mbest_n = calloc(s->threads, sizeof(*s->mbest_n));
    s->mlow = calloc(s->threads, sizeof(*s->mlow));
    if (!s->mbest || !s->mbest_n || !s->mlow)
        return MD_ENOMEM;
    for (uint32_t t = 0; t < s->threads; t++) {
        s->mbest[t] = malloc((size_t)(m->n_elig ? m->n_elig : 1) * s->mentor_x * sizeof(uint64_t));
        s->mbest_n[t] = calloc(m->n_elig ? m->n_elig : 1, sizeof(uint32_t));
        s->mlow[t] = calloc(m->n_elig ? m->n_elig : 1, sizeof(uint64_t));
        if (!s->mbest[t] || !s->mbest_n[t] || !s->mlow[t])
            return MD_ENOMEM;
    }
    for (uint32_t t = 0; t < s->threads; t++) {
        s->scratch[t].acc = calloc(m->n_mentors ? m->n_mentors : 1, sizeof(uint32_t));
        s->scratch[t].row = malloc((m->n_elig ? m->n_elig : 1) * sizeof(uint16_t));
        s->scratch[t].mark = calloc(m->n_mentors ? m->n_mentors : 1, 1);
        s->scratch[t].list = malloc((m->n_elig ? m->n_elig : 1) * sizeof(uint32_t));
        s->sel[t] = malloc((m->n_elig > stride ? m->n_elig : stride) * sizeof(uint64_t));
        if (!s->scratch[t].acc || !s->scratch[t].row || !s->scratch[t].mark ||
            !s->scratch[t].list || !s->sel[t])
            return MD_ENOMEM;
    }
    return MD_OK;
}

/* ------------------------------------------------------------ first pass */

/* Selection keys: larger is better (higher score, then lower mentor). */
static inline uint64_t sel_key(uint32_t score, uint32_t j)
{
    return (uint64_t)score << 32 | (UINT32_MAX - j);
}

static void sift_down(uint64_t *h, uint32_t n, uint32_t k)
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

static void sift_up(uint64_t *h, uint32_t k)
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

static int cmp_key_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x < y) - (x > y);
}

/* Sorts selection keys, largest first: short lists by insertion (inline,
 * far cheaper than qsort's calls for the few dozen keys of a row). */
static void sort_keys_desc(uint64_t *a, uint32_t n)
{
    if (n > 128) {
        qsort(a, n, sizeof(*a), cmp_key_desc);
        return;
    }
    for (uint32_t k = 1; k < n; k++) {
        uint64_t x = a[k];
        uint32_t q = k;
        while (q > 0 && a[q - 1] < x) {
            a[q] = a[q - 1];
            q--;
        }
        a[q] = x;
    }
}

/* Keeps the best L allowed mentors of a scored row in mentee i's list, the
 * best score beyond them in ub, and the number of allowed pairs. */
/* Keeps the best L allowed mentors of a scored row in mentee i's list, the
 * best score beyond them in ub, and the number of allowed pairs. hi is the
 * histogram of the row's allowed scores by 64ths (scores >> 6), allowed
 * their number. The L-th best score is found from it (and, within its
 * 64th, from a second histogram); every pair above is taken, and of the
 * pairs at it, those of the lowest mentor indices: no sort of the row. */
static void select_top(solve_t *s, uint32_t tid, uint32_t i, const uint16_t *row,
                       const uint32_t *hi, uint32_t allowed)
{
    const match_t *m = s->m;
    uint64_t *buf = s->sel[tid];
    const uint32_t L = s->cands.stride;
    uint32_t n = 0;
    int32_t ub = -1;

    if (allowed <= L) {
        for (uint32_t t = 0; t < m->n_elig; t++) {
            if (row[t] != MD_MATCH_NO_PAIR)
                buf[n++] = sel_key(row[t], m->elig[t]);
        }
    } else {
        uint32_t b = MD_MATCH_SCORE_MAX / 64 + 1, above = 0;
        while (b-- > 0 && above + hi[b] < L)
            above += hi[b];
        /* One pass: above the cut's 64th to the list, at it to the end of
         * the buffer (its positions in row order), below it only the best. */
        uint32_t at = m->n_elig, lo[64] = {0};
        for (uint32_t t = 0; t < m->n_elig; t++) {
            uint32_t sc = row[t];
            if (sc == MD_MATCH_NO_PAIR)
                continue;
            if ((sc >> 6) > b) {
                buf[n++] = sel_key(sc, m->elig[t]);
            } else if ((sc >> 6) == b) {
                buf[--at] = sel_key(sc, m->elig[t]);
                lo[sc & 63]++;
            } else if ((int32_t)sc > ub) {
                ub = (int32_t)sc;
            }
        }
        uint32_t l = 64;
        while (l-- > 0 && above + lo[l] < L)
            above += lo[l];
        uint32_t cut = b * 64 + l, at_cut = L - above;
        /* The cut's 64th was stored backwards (row order from the end).
         * Ties at the cut are taken from a starting point that depends on
         * the mentee, walking round: when many mentors score the same (as
         * with sparse profiles), mentees' lists then spread over all of
         * them instead of all naming the same lowest-index mentors, whose
         * capacity cannot hold everyone, which made the core grow a few
         * pairs per mentee and round up to the whole matrix. The stable
         * solver's preferences need the lowest indices (its tie rule), so
         * only the optimal solver spreads. */
        uint32_t cnt = m->n_elig - at;
        uint32_t start = cnt && s->spread_ties ? (uint32_t)(((uint64_t)i * 2654435761u) % cnt) : 0;
        for (uint32_t q = 0; q < cnt; q++) {
            uint32_t k = m->n_elig - 1 - (start + q) % cnt;
            uint32_t sc = (uint32_t)(buf[k] >> 32);
            if (sc > cut || (sc == cut && at_cut > 0)) {
                at_cut -= sc == cut;
                buf[n++] = buf[k];
            } else if ((int32_t)sc > ub) {
                ub = (int32_t)sc;
            }
        }
    }
    sort_keys_desc(buf, n);
    for (uint32_t r = 0; r < n; r++) {
        s->cands.mentor[(size_t)i * L + r] = UINT32_MAX - (uint32_t)buf[r];
        s->cands.score[(size_t)i * L + r] = (uint16_t)(buf[r] >> 32);
    }
    s->cands.n[i] = n;
    s->cands.ub[i] = ub;
    s->cands.allowed[i] = allowed;
}

static int first_pass_row(void *ctx, uint32_t tid, uint32_t i)
{
    solve_t *s = ctx;
    match_scratch_t *sc = &s->scratch[tid];
    const uint32_t X = s->mentor_x;
    uint64_t *mb = s->mbest[tid];
    uint64_t *low = s->mlow[tid];
    uint32_t *mn = s->mbest_n[tid];
    uint32_t hi[MD_MATCH_SCORE_MAX / 64 + 1] = {0}, allowed = 0;
    md_match__score_row(s->m, i, sc->acc, sc->row);
    s->scored[tid] += s->m->n_elig;
    /* The mentor side (each mentor's best mentees, as min-heaps whose least
     * key is also kept in a dense array, low, for a cheap test) and the
     * histogram select_top needs, in one pass. */
    for (uint32_t t = 0; t < s->m->n_elig; t++) {
        uint32_t score = sc->row[t];
        if (score == MD_MATCH_NO_PAIR)
            continue;
        hi[score >> 6]++;
        allowed++;
        uint64_t key = sel_key(score, i);
        if (key <= low[t])
            continue;
        uint64_t *h = mb + (size_t)t * X;
        if (mn[t] < X) {
            h[mn[t]++] = key;
            sift_up(h, mn[t] - 1);
            if (mn[t] == X)
                low[t] = h[0];
        } else {
            h[0] = key;
            sift_down(h, X, 0);
            low[t] = h[0];
        }
    }
    select_top(s, tid, i, sc->row, hi, allowed);
    return MD_OK;
}

/* ------------------------------------------------------------ verification */

typedef struct drop {
    int64_t d;
    uint32_t mentor;
} drop_t;

static int cmp_drop(const void *a, const void *b)
{
    const drop_t *x = a, *y = b;
    if (x->d != y->d)
        return (x->d < y->d) - (x->d > y->d);
    return (x->mentor > y->mentor) - (x->mentor < y->mentor);
}

typedef struct violator {
    int64_t rc;
    uint32_t mentor;
    uint32_t score;
} violator_t;

static int cmp_assign(const void *a, const void *b)
{
    const match_assign_t *x = a, *y = b;
    if (x->mentee != y->mentee)
        return (x->mentee > y->mentee) - (x->mentee < y->mentee);
    return (x->mentor > y->mentor) - (x->mentor < y->mentor);
}

/* The violating pairs of one row, at most cap of them: the most negative
 * first, kept as a max-heap on (reduced cost, mentor) while scanning. */
static inline bool violator_before(const violator_t *a, const violator_t *b)
{
    return a->rc < b->rc || (a->rc == b->rc && a->mentor < b->mentor);
}

static void violator_push(violator_t *v, uint32_t *nv, uint32_t cap, int64_t rc, uint32_t j,
                          uint32_t score)
{
    violator_t x = {rc, j, score};
    uint32_t k;
    if (*nv < cap) {
        k = (*nv)++;
        while (k > 0 && violator_before(&v[(k - 1) / 2], &x)) {
            v[k] = v[(k - 1) / 2];
            k = (k - 1) / 2;
        }
        v[k] = x;
        return;
    }
    if (cap == 0 || !violator_before(&x, &v[0]))
        return;
    k = 0;
    for (;;) {
        uint32_t c = 2 * k + 1;
        if (c >= cap)
            break;
        if (c + 1 < cap && violator_before(&v[c], &v[c + 1]))
            c++;
        if (!violator_before(&x, &v[c]))
            break;
        v[k] = v[c];
        k = c;
    }
    v[k] = x;
}

/* Prices out mentee i's pairs outside the core: those in its list exactly,
 * the rest with the list's bound, scoring the row again only when the
 * bound cannot clear them. Violating pairs, the most negative first, go to
 * the thread's list. */
static int verify_row(void *ctx, uint32_t tid, uint32_t i)
{
    solve_t *s = ctx;
    const match_t *m = s->m;
    match_scratch_t *sc = &s->scratch[tid];
    const int64_t *pi = md_match__flow_potentials(s->flow);
    const int64_t *v_now = s->vsnap[s->round];
    const uint32_t L = s->cands.stride;
    const int64_t slack = md_match__flow_slack(s->flow);
    const uint32_t *cm;
    const uint16_t *cs;
    const uint8_t *cu;
    uint32_t deg = md_match__flow_row(s->flow, i, &cm, &cs, &cu);
    /* A pair (i, j) outside the core fails when cost + v_j < u_i - slack. */
    int64_t u_i = pi[m->n_mentees + m->n_mentors] - pi[i] - slack;

    violator_t *v = s->viol[tid];
    uint32_t nv = 0;
    const uint32_t capv = s->violator_cap;
    int rc = MD_OK;

    for (uint32_t e = 0; e < deg; e++)
        sc->mark[cm[e]] = 1;

    /* Pairs outside the core and (round 0) the list had cost + v >= emin
     * at snapshot q; one can fail now only if its mentor's price fell by
     * more than emin - u since. Few such mentors: score those pairs alone;
     * many: score the row again. */
    uint32_t q = s->snap[i];
    const uint32_t L0 = q == 0 ? s->cands.n[i] : 0;
    const uint32_t *lm = s->cands.mentor + (size_t)i * L;
    const uint16_t *ls = s->cands.score + (size_t)i * L;
    uint32_t n_cand = 0;
    if (s->emin[i] != INT64_MAX && s->emin[i] - s->delta[q] < u_i) {
        int64_t margin = s->emin[i] - u_i;
        uint32_t lo = 0, hi = m->n_elig; /* first drop <= margin */
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (s->drops[q][mid].d > margin)
                lo = mid + 1;
            else
                hi = mid;
        }
        n_cand = lo;
    }
    bool rescore = n_cand > m->n_elig / 2;
    if (!rescore && n_cand > m->n_elig / 32 + 2) {
        /* Many, but not most: the scoring loop over those mentors only,
         * listed in index order by marking them (bit 4) and one sweep. */
        uint32_t nl = 0;
        for (uint32_t r = 0; r < L0; r++)
            sc->mark[lm[r]] |= 2;
        for (uint32_t k = 0; k < n_cand; k++) {
            uint32_t j = s->drops[q][k].mentor;
            if (!sc->mark[j])
                sc->mark[j] = 4;
        }
        for (uint32_t t = 0; t < m->n_elig; t++) {
            uint32_t j = m->elig[t];
            if (sc->mark[j] == 4) {
                sc->list[nl++] = j;
                sc->mark[j] = 0;
            }
        }
        for (uint32_t r = 0; r < L0; r++)
            sc->mark[lm[r]] &= 1;
        md_match__score_some(m, i, sc->acc, sc->list, nl, sc->row);
        s->scored[tid] += nl;
        for (uint32_t k = 0; k < nl; k++) {
            uint32_t score = sc->row[k], j = sc->list[k];
            if (score == MD_MATCH_NO_PAIR)
                continue;
            int64_t x = s->cost_of[score] + v_now[j];
            if (x < u_i)
                violator_push(v, &nv, capv, x - u_i, j, score);
        }
    } else if (!rescore && n_cand > 0) {
        for (uint32_t r = 0; r < L0; r++)
            sc->mark[lm[r]] |= 2;
        for (uint32_t k = 0; k < n_cand; k++) {
            uint32_t j = s->drops[q][k].mentor;
            if (sc->mark[j])
                continue;
            uint32_t score = md_match__score_pair(m, i, j);
            s->scored[tid]++;
            if (score == MD_MATCH_NO_PAIR)
                continue;
            int64_t x = s->cost_of[score] + v_now[j];
            if (x < u_i)
                violator_push(v, &nv, capv, x - u_i, j, score);
        }
        for (uint32_t r = 0; r < L0; r++)
            sc->mark[lm[r]] &= 1;
    }
    if (rescore) {
        md_match__score_row(m, i, sc->acc, sc->row);
        s->scored[tid] += m->n_elig;
        s->rescored[tid]++;
        for (uint32_t t = 0; t < m->n_elig; t++) {
            uint32_t score = sc->row[t], j = m->elig[t];
            if (score == MD_MATCH_NO_PAIR || sc->mark[j])
                continue;
            int64_t x = s->cost_of[score] + v_now[j];
            if (x < u_i)
                violator_push(v, &nv, capv, x - u_i, j, score);
        }
    } else {
        /* The list, scored in the first pass, is checked pair by pair. */
        for (uint32_t r = 0; r < L0; r++) {
            uint32_t j = lm[r];
            if (sc->mark[j])
                continue;
            int64_t x = s->cost_of[ls[r]] + v_now[j];
            if (x < u_i)
                violator_push(v, &nv, capv, x - u_i, j, ls[r]);
        }
    }
    uint32_t take = nv;
    for (uint32_t k = 0; k < take; k++) {
        if ((rc = assign_push(&s->found[tid], i, v[k].mentor, v[k].score)) != MD_OK)
            goto cleanup;
        sc->mark[v[k].mentor] = 1;
    }
    if (rescore) {
        /* The new bound: the least cost plus price still outside. */
        int64_t e_min = INT64_MAX;
        for (uint32_t t = 0; t < m->n_elig; t++) {
            uint32_t score = sc->row[t], j = m->elig[t];
            if (score == MD_MATCH_NO_PAIR || sc->mark[j])
                continue;
            int64_t x = s->cost_of[score] + v_now[j];
            e_min = x < e_min ? x : e_min;
        }
        s->emin[i] = e_min;
        s->snap[i] = s->round;
    }

cleanup:
    for (uint32_t e = 0; e < deg; e++)
        sc->mark[cm[e]] = 0;
    for (uint32_t k = 0; k < nv; k++)
        sc->mark[v[k].mentor] = 0;
    return rc;
}

/* The first core: each mentee's best K mentors, and each mentor's best few
 * mentees. The mentor side matters when mentors are scarce: the popular
 * ones fill up, and a mentor nobody has among their best K would otherwise
 * sit empty in the first round while mentees go without, which sends the
 * first round's prices far off and makes every later round long. */
/* Mentor-side pairs by mentee, then score descending, then mentor. */
static int cmp_side(const void *a, const void *b)
{
    const match_assign_t *x = a, *y = b;
    if (x->mentee != y->mentee)
        return (x->mentee > y->mentee) - (x->mentee < y->mentee);
    if (x->score != y->score)
        return (x->score < y->score) - (x->score > y->score);
    return (x->mentor > y->mentor) - (x->mentor < y->mentor);
}

static int initial_core(solve_t *s, match_flow_t *f)
{
    const match_t *m = s->m;
    const uint32_t L = s->cands.stride, K = s->core_k, X = s->mentor_x;
    match_assign_t *side = NULL;
    uint64_t *merged = malloc((size_t)(s->threads * X + 1) * sizeof(uint64_t));
    uint32_t *off = calloc((size_t)m->n_mentees + 1, sizeof(uint32_t));
    uint32_t *em = NULL;
    uint16_t *es = NULL;
    size_t n_side = 0;
    int rc = MD_ENOMEM;
    if (merged == NULL || off == NULL)
        goto cleanup;
    side = malloc(((size_t)m->n_elig * X + 1) * sizeof(*side));
    if (side == NULL)
        goto cleanup;

    /* Merge the threads' heaps: the best X of their union, which does not
     * depend on how rows were shared out. */
    for (uint32_t t = 0; t < m->n_elig; t++) {
        uint32_t n = 0;
        for (uint32_t th = 0; th < s->threads; th++) {
            memcpy(merged + n, s->mbest[th] + (size_t)t * X, s->mbest_n[th][t] * sizeof(uint64_t));
            n += s->mbest_n[th][t];
        }
        sort_keys_desc(merged, n);
        for (uint32_t k = 0; k < n && k < X; k++)
            side[n_side++] = (match_assign_t){UINT32_MAX - (uint32_t)merged[k], m->elig[t],
                                              (uint32_t)(merged[k] >> 32)};
    }
    qsort(side, n_side, sizeof(*side), cmp_side);

    /* Per mentee: its best K, then the mentor-side pairs it does not have
     * yet (already by score). Two passes: count, then fill. */
    for (int pass = 0; pass < 2; pass++) {
        uint64_t pos = 0;
        size_t q = 0;
        for (uint32_t i = 0; i < m->n_mentees; i++) {
            uint32_t n = m->mentee_block[i] ? 0 : s->cands.n[i];
            uint32_t k = n < K ? n : K;
            off[i] = (uint32_t)pos;
            const uint32_t *lm = s->cands.mentor + (size_t)i * L;
            const uint16_t *ls = s->cands.score + (size_t)i * L;
            if (pass == 1) {
                memcpy(em + pos, lm, k * sizeof(uint32_t));
                memcpy(es + pos, ls, k * sizeof(uint16_t));
            }
            pos += k;
            size_t q0 = q;
            while (q < n_side && side[q].mentee == i)
                q++;
            /* Keep those not among the best K. */
            for (size_t x = q0; x < q; x++) {
                bool dup = false;
                for (uint32_t r = 0; r < k && !dup; r++)
                    dup = lm[r] == side[x].mentor;
                if (dup)
                    continue;
                if (pass == 1) {
                    em[pos] = side[x].mentor;
                    es[pos] = (uint16_t)side[x].score;
                }
                pos++;
            }
        }
        off[m->n_mentees] = (uint32_t)pos;
        if (pass == 0) {
            em = malloc((pos ? pos : 1) * sizeof(*em));
            es = malloc((pos ? pos : 1) * sizeof(*es));
            if (em == NULL || es == NULL)
                goto cleanup;
        }
    }
    rc = md_match__flow_init(f, off, em, es);

cleanup:
    free(merged);
    free(side);
    free(off);
    free(em);
    free(es);
    return rc;
}

/* Room for this round's mentor prices. */
static int add_snapshot(solve_t *s)
{
    s->round = s->n_snaps;
    int64_t **vs = realloc(s->vsnap, (s->n_snaps + 1) * sizeof(*vs));
    if (vs == NULL)
        return MD_ENOMEM;
    s->vsnap = vs;
    int64_t *d = realloc(s->delta, (s->n_snaps + 1) * sizeof(*d));
    if (d == NULL)
        return MD_ENOMEM;
    s->delta = d;
    drop_t **dr = realloc(s->drops, (s->n_snaps + 1) * sizeof(*dr));
    if (dr == NULL)
        return MD_ENOMEM;
    s->drops = dr;
    s->drops[s->n_snaps] = malloc((s->m->n_elig ? s->m->n_elig : 1) * sizeof(drop_t));
    if (s->drops[s->n_snaps] == NULL)
        return MD_ENOMEM;
    s->vsnap[s->n_snaps] = calloc(s->m->n_mentors ? s->m->n_mentors : 1, sizeof(int64_t));
    if (s->vsnap[s->n_snaps] == NULL)
        return MD_ENOMEM;
    s->n_snaps++;
    return MD_OK;
}

static int solve_optimal(solve_t *s, assign_vec_t *out, md_match_stats_t *st)
{
    const match_t *m = s->m;
    match_flow_t *f = md_match__flow_new(m);
    uint32_t *rows = NULL;
    match_assign_t *all = NULL;
    int rc = MD_OK;
    if (f == NULL)
        return MD_ENOMEM;
    s->flow = f;
    s->violator_cap = 32 * m->set.mentors_per_mentee;
    s->viol = calloc(s->threads, sizeof(*s->viol));
    if (s->viol == NULL) {
        rc = MD_ENOMEM;
        goto cleanup;
    }
    for (uint32_t t = 0; t < s->threads; t++) {
        if ((s->viol[t] = malloc(s->violator_cap * sizeof(violator_t))) == NULL) {
            rc = MD_ENOMEM;
            goto cleanup;
        }
    }

    rows = malloc((m->n_mentees ? m->n_mentees : 1) * sizeof(*rows));
    if (rows == NULL) {
        rc = MD_ENOMEM;
        goto cleanup;
    }

    s->cost_of = malloc((MD_MATCH_SCORE_MAX + 1) * sizeof(*s->cost_of));
    if (s->cost_of == NULL) {
        rc = MD_ENOMEM;
        goto cleanup;
    }
    for (uint32_t w = 0; w <= MD_MATCH_SCORE_MAX; w++)
        s->cost_of[w] = md_match__flow_cost(f, w);
    /* Round 0: no prices yet; each row's bound is its list's. */
    s->snap = calloc(m->n_mentees ? m->n_mentees : 1, sizeof(*s->snap));
    s->emin = malloc((m->n_mentees ? m->n_mentees : 1) * sizeof(*s->emin));
    if (s->snap == NULL || s->emin == NULL || (rc = add_snapshot(s)) != MD_OK) {
        rc = MD_ENOMEM;
        goto cleanup;
    }
    for (uint32_t i = 0; i < m->n_mentees; i++)
        s->emin[i] =
            s->cands.ub[i] < 0 ? INT64_MAX : md_match__flow_cost(f, (uint32_t)s->cands.ub[i]);

    uint64_t t0 = now_ns();
    if ((rc = initial_core(s, f)) != MD_OK)
        goto cleanup;
    for (;;) {
        st->rounds++;
        if ((rc = md_match__flow_run(f)) != MD_OK)
            goto cleanup;
        md_match__flow_tighten(f);
        uint64_t t1 = now_ns();
        st->solving_ns += t1 - t0;

        /* Price out every pair outside the core: this round's mentor
         * prices, and how far each earlier round's have fallen since. */
        const int64_t *pi = md_match__flow_potentials(f);
        const int64_t p_t = pi[m->n_mentees + m->n_mentors];
        if ((rc = add_snapshot(s)) != MD_OK)
            goto cleanup;
        int64_t *v_now = s->vsnap[s->round];
        for (uint32_t t = 0; t < m->n_elig; t++)
            v_now[m->elig[t]] = p_t - pi[m->n_mentees + m->elig[t]];
        for (uint32_t q = 0; q < s->round; q++) {
            drop_t *dr = s->drops[q];
            for (uint32_t t = 0; t < m->n_elig; t++) {
                uint32_t j = m->elig[t];
                dr[t] = (drop_t){s->vsnap[q][j] - v_now[j], j};
            }
            qsort(dr, m->n_elig, sizeof(*dr), cmp_drop);
            s->delta[q] = m->n_elig ? dr[0].d : 0;
        }
        s->delta[s->round] = 0;
        uint32_t n_rows = 0;
        for (uint32_t i = 0; i < m->n_mentees; i++) {
            if (m->mentee_block[i] == 0)
                rows[n_rows++] = i;
        }
        size_t n_found = 0;
        for (uint32_t t = 0; t < s->threads; t++)
            s->found[t].n = 0;
        if (n_rows > 0 && m->n_elig > 0 &&
            (rc = par_run(s->threads, rows, n_rows, verify_row, s)) != MD_OK)
            goto cleanup;
        for (uint32_t t = 0; t < s->threads; t++)
            n_found += s->found[t].n;
        t0 = now_ns();
        st->scoring_ns += t0 - t1;
        if (n_found == 0)
            break;

        free(all);
        all = malloc(n_found * sizeof(*all));
        if (all == NULL) {
            rc = MD_ENOMEM;
            goto cleanup;
        }
        size_t k = 0;
        for (uint32_t t = 0; t < s->threads; t++) {
            if (s->found[t].n > 0)
                memcpy(all + k, s->found[t].v, s->found[t].n * sizeof(*all));
            k += s->found[t].n;
        }
        qsort(all, n_found, sizeof(*all), cmp_assign);
        if ((rc = md_match__flow_add(f, all, n_found)) != MD_OK)
            goto cleanup;
    }

#ifndef NDEBUG
    /* Debug builds check the certificate the long way on small instances:
     * every allowed pair, scored again, against the final potentials. */
    if ((uint64_t)m->n_mentees * m->n_elig <= 4000000) {
        const int64_t *pi = md_match__flow_potentials(f);
        for (uint32_t i = 0; i < m->n_mentees; i++) {
            if (m->mentee_block[i])
                continue;
            md_match__score_row(m, i, s->scratch[0].acc, s->scratch[0].row);
            for (uint32_t t = 0; t < m->n_elig; t++) {
                uint32_t sc = s->scratch[0].row[t], j = m->elig[t];
                if (sc == MD_MATCH_NO_PAIR)
                    continue;
                int64_t r = md_match__flow_cost(f, sc) + pi[i] - pi[m->n_mentees + j];
                if (r < -md_match__flow_slack(f)) {
                    const uint32_t *cm;
                    const uint16_t *cs;
                    const uint8_t *cu;
                    uint32_t deg = md_match__flow_row(f, i, &cm, &cs, &cu), e;
                    for (e = 0; e < deg && cm[e] != j; e++)
                        ;
                    assert(e < deg); /* a negative pair must be in the core */
                }
            }
        }
    }
#endif
    st->core_edges = md_match__flow_edges(f);
    for (uint32_t i = 0; i < m->n_mentees; i++) {
        const uint32_t *cm;
        const uint16_t *cs;
        const uint8_t *cu;
        uint32_t deg = md_match__flow_row(f, i, &cm, &cs, &cu);
        for (uint32_t e = 0; e < deg; e++) {
            if (cu[e] && (rc = assign_push(out, i, cm[e], cs[e])) != MD_OK)
                goto cleanup;
        }
    }

cleanup:
    free(all);
    free(rows);
    md_match__flow_free(f);
    s->flow = NULL;
    return rc;
}

/* ------------------------------------------------------------ results */

static int cmp_pin(const void *a, const void *b)
{
    const match_pin_t *x = a, *y = b;
    if (x->mentee != y->mentee)
        return (x->mentee > y->mentee) - (x->mentee < y->mentee);
    return (x->mentor > y->mentor) - (x->mentor < y->mentor);
}

static int build_result(const match_t *m, const solve_t *s, assign_vec_t *pairs,
                        md_match_result_t *r)
{
    size_t total = pairs->n + m->n_pins;
    r->pairs = calloc(total ? total : 1, sizeof(*r->pairs));
    r->mentees = calloc(m->n_mentees ? m->n_mentees : 1, sizeof(*r->mentees));
    match_assign_t *all = malloc((total ? total : 1) * sizeof(*all));
    if (r->pairs == NULL || r->mentees == NULL || all == NULL) {
        free(all);
        return MD_ENOMEM;
    }
    if (pairs->n > 0)
        memcpy(all, pairs->v, pairs->n * sizeof(*all));
    for (uint32_t p = 0; p < m->n_pins; p++) {
        md_match_explain_t ex;
        const match_pin_t *pin = &m->pins[p];
        if (md_match_explain(m, m->mentee_ids[pin->mentee], m->mentor_ids[pin->mentor], &ex) !=
            MD_OK) {
            free(all);
            return MD_EINTERNAL;
        }
        /* Pins are marked by a score above the range until copied out. */
        all[pairs->n + p] = (match_assign_t){pin->mentee, pin->mentor, ex.score | 0x10000u};
    }
    qsort(all, total, sizeof(*all), cmp_assign);

    for (uint32_t i = 0; i < m->n_mentees; i++) {
        r->mentees[i].user_id = m->mentee_ids[i];
        r->mentees[i].places = m->mentee_block[i] ? 0 : m->mentee_places[i];
        r->mentees[i].allowed = m->mentee_block[i] ? 0 : s->cands.allowed[i];
    }
    r->n_mentees = m->n_mentees;
    for (size_t k = 0; k < total; k++) {
        md_match_pair_t *p = &r->pairs[k];
        bool is_pin = (all[k].score & 0x10000u) != 0;
        p->mentee_id = m->mentee_ids[all[k].mentee];
        p->mentor_id = m->mentor_ids[all[k].mentor];
        p->score = all[k].score & 0xffffu;
        p->pinned = is_pin;
        p->pin_rules = 0;
        if (is_pin) {
            /* m->pins is sorted by mentee, then mentor. */
            match_pin_t key = {all[k].mentee, all[k].mentor, 0};
            const match_pin_t *hit = bsearch(&key, m->pins, m->n_pins, sizeof(*m->pins), cmp_pin);
            p->pin_rules = hit ? hit->rules : 0;
        } else {
            r->new_pairs++;
            r->new_score += p->score;
            r->mentees[all[k].mentee].matched++;
        }
        r->total_score += p->score;
    }
    r->n_pairs = total;
    free(all);
    return MD_OK;
}

void md_match_result_free(md_match_result_t *r)
{
    if (r == NULL)
        return;
    free(r->pairs);
    free(r->mentees);
    free(r);
}

int md_match_solve(const md_match_t *m, md_match_solver_t solver, md_match_result_t **out)
{
    solve_t s;
    assign_vec_t pairs = {0};
    md_match_result_t *r = NULL;
    int rc;

    *out = NULL;
    if (solver != MD_MATCH_OPTIMAL && solver != MD_MATCH_STABLE)
        return MD_EINVAL;
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        return MD_ENOMEM;
    if ((rc = solve_init(&s, m)) != MD_OK)
        goto cleanup;
    s.spread_ties = solver == MD_MATCH_OPTIMAL;

    /* The first pass: every eligible mentee against every eligible mentor. */
    uint64_t t0 = now_ns();
    uint32_t *rows = malloc((m->n_mentees ? m->n_mentees : 1) * sizeof(*rows));
    if (rows == NULL) {
        rc = MD_ENOMEM;
        goto cleanup;
    }
    uint32_t n_rows = 0;
    for (uint32_t i = 0; i < m->n_mentees; i++) {
        if (m->mentee_block[i] == 0)
            rows[n_rows++] = i;
    }
    rc = m->n_elig > 0 ? par_run(s.threads, rows, n_rows, first_pass_row, &s) : MD_OK;
    free(rows);
    if (rc != MD_OK)
        goto cleanup;
    r->stats.scoring_ns = now_ns() - t0;

    if (solver == MD_MATCH_OPTIMAL) {
        rc = solve_optimal(&s, &pairs, &r->stats);
    } else {
        uint64_t t1 = now_ns();
        rc = md_match__stable(m, &s.cands, &s.scratch[0], &pairs.v, &pairs.n, &r->stats);
        r->stats.rounds = 1;
        r->stats.solving_ns = now_ns() - t1;
    }
    if (rc != MD_OK)
        goto cleanup;
    for (uint32_t t = 0; t < s.threads; t++) {
        r->stats.pairs_scored += s.scored[t];
        r->stats.rows_rescored += s.rescored[t];
    }
    rc = build_result(m, &s, &pairs, r);

cleanup:
    solve_free(&s);
    free(pairs.v);
    if (rc != MD_OK) {
        md_match_result_free(r);
        return rc;
    }
    *out = r;
    return MD_OK;
}
