/* match_flow.c: the exact solver under the optimal matching, a minimum-cost
 * flow over the core (the candidate pairs).
 *
 * The network: each mentee has a supply equal to its open places; an arc
 * of capacity 1 goes from a mentee to each mentor of the core, each mentor
 * sends at most its remaining capacity to the sink T, and each mentee also
 * has a "dummy" arc straight to T, for places left empty. The arc costs
 * (see md_match__flow_new in match_int.h) make a minimum-cost flow the best
 * assignment under the program's objective.
 *
 * First solve: cost scaling (Goldberg and Tarjan's push-relabel method).
 * Costs are multiplied by alpha = (number of nodes + 1). A flow is
 * epsilon-optimal under node prices p when every residual arc has a
 * reduced cost c + p(tail) - p(head) of at least -epsilon; with integer
 * costs, a 1-optimal flow in these units is optimal, epsilon being then
 * below 1/(number of nodes) in the original units. Each phase ("refine")
 * takes a flow optimal within a coarser epsilon to one within a finer one:
 * it saturates the arcs that break the finer bound, then pushes excess along
 * arcs of negative reduced cost and lowers the price of nodes that have
 * none ("relabel"), until no excess is left; epsilon shrinks by 4 a phase.
 * A price war over popular mentors costs a few relabels per phase there,
 * where successive shortest paths would search most of the graph per unit.
 *
 * Later rounds: the prices are made exact (to_exact: no residual arc below
 * 0), and new core edges are repaired by successive shortest paths
 * (Dijkstra over reduced costs), which move only what must move.
 *
 * The final prices are the certificate match_solve.c checks every pair
 * outside the core against. */
#include "match_int.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t key;
    uint32_t node;
} heap_item_t;

#define EDGE_NONE  UINT32_MAX
#define EDGE_DUMMY (UINT32_MAX - 1) /* a mentee's arc to T, either way */
#define EDGE_SINK  (UINT32_MAX - 2) /* a mentor's arc to T, either way */

struct match_flow {
    const match_t *m;
    uint32_t n, nm; /* mentees, mentors */
    uint32_t T;     /* the sink's node number; mentor j is node n + j */
    uint32_t nodes;
    int64_t alpha;     /* cost scale */
    int64_t mult, sub; /* unscaled pair cost: mult * (10000 - score) - sub */
    int64_t dummy;     /* scaled cost of the dummy arc */
    int64_t eps;
    bool started;
    /* After the first run: exact prices (every residual arc's reduced cost
     * at least 0) and repairs by shortest paths (see to_exact). */
    bool exact;
    int64_t def_t; /* units T still lacks */
    int64_t *dist;
    uint32_t *seen, *done, gen;
    uint32_t *pred_node, *pred_edge;
    uint32_t *visited;
    uint32_t n_visited;
    heap_item_t *heap;
    size_t heap_n, heap_cap;
    int64_t cur_d;
    uint32_t hit;

    /* Core edges by mentee; the owner of each; and by mentor. */
    uint32_t *off;
    uint32_t *emen;
    uint32_t *eown;
    uint16_t *escore;
    int64_t *ecost; /* scaled */
    uint8_t *eflow;
    uint64_t n_edges;
    /* Per mentor: its edges in rin[rin_off[j]..rin_off[j+1]), those with
     * flow first (nflow[j] of them), and each edge's place there. */
    uint32_t *rin_off;
    uint32_t *rin;
    uint32_t *rpos;
    uint32_t *nflow;

    uint32_t *places; /* per mentee: supply, and capacity of its dummy arc */
    uint32_t *z;      /* per mentee: flow on its dummy arc */
    uint32_t *room;   /* per mentor: capacity of its arc to T */
    uint32_t *y;      /* per mentor: flow on its arc to T */

    int64_t *excess; /* per node */
    int64_t *p;      /* per node: price */
    uint32_t *cur;   /* per node: current arc */
    uint32_t *queue; /* active nodes, FIFO */
    uint8_t *queued;
    uint32_t q_head, q_tail;
};

int64_t md_match__flow_cost(const match_flow_t *f, uint32_t score)
{
    return (f->mult * (int64_t)(MD_MATCH_SCORE_MAX - score) - f->sub) * f->alpha;
}

int64_t md_match__flow_slack(const match_flow_t *f)
{
    return f->eps;
}

const int64_t *md_match__flow_potentials(const match_flow_t *f)
{
    return f->p;
}

uint64_t md_match__flow_edges(const match_flow_t *f)
{
    return f->n_edges;
}

uint32_t md_match__flow_row(const match_flow_t *f, uint32_t i, const uint32_t **mentor,
                            const uint16_t **score, const uint8_t **used)
{
    *mentor = f->emen + f->off[i];
    *score = f->escore + f->off[i];
    *used = f->eflow + f->off[i];
    return f->off[i + 1] - f->off[i];
}

void md_match__flow_free(match_flow_t *f)
{
    if (f == NULL)
        return;
    free(f->off);
    free(f->emen);
    free(f->eown);
    free(f->escore);
    free(f->ecost);
    free(f->eflow);
    free(f->rin_off);
    free(f->rin);
    free(f->rpos);
    free(f->nflow);
    free(f->places);
    free(f->z);
    free(f->room);
    free(f->y);
    free(f->excess);
    free(f->p);
    free(f->cur);
    free(f->queue);
    free(f->queued);
    free(f->dist);
    free(f->seen);
    free(f->done);
    free(f->pred_node);
    free(f->pred_edge);
    free(f->visited);
    free(f->heap);
    free(f);
}

match_flow_t *md_match__flow_new(const match_t *m)
{
    match_flow_t *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return NULL;
    f->m = m;
    f->n = m->n_mentees;
    f->nm = m->n_mentors;
    f->T = f->n + f->nm;
    f->nodes = f->T + 1;
    f->alpha = (int64_t)f->nodes + 1;

    uint64_t places = 0;
    for (uint32_t i = 0; i < f->n; i++)
        places += m->mentee_block[i] ? 0 : m->mentee_places[i];
    if (m->set.objective == MD_MATCH_SCORE) {
        f->mult = (int64_t)places + 1;
        f->sub = 1;
        f->dummy = f->mult * MD_MATCH_SCORE_MAX * f->alpha;
    } else {
        f->mult = 1;
        f->sub = 0;
        f->dummy = ((int64_t)places + 1) * MD_MATCH_SCORE_MAX * f->alpha;
    }

    size_t nodes = f->nodes;
    f->off = calloc((size_t)f->n + 1, sizeof(uint32_t));
    f->rin_off = calloc((size_t)f->nm + 1, sizeof(uint32_t));
    f->places = calloc(f->n ? f->n : 1, sizeof(uint32_t));
    f->z = calloc(f->n ? f->n : 1, sizeof(uint32_t));
    f->room = calloc(f->nm ? f->nm : 1, sizeof(uint32_t));
    f->y = calloc(f->nm ? f->nm : 1, sizeof(uint32_t));
    f->excess = calloc(nodes, sizeof(int64_t));
    f->p = calloc(nodes, sizeof(int64_t));
    f->cur = calloc(nodes, sizeof(uint32_t));
    f->queue = malloc(nodes * sizeof(uint32_t));
    f->queued = calloc(nodes, 1);
    if (!f->off || !f->rin_off || !f->places || !f->z || !f->room || !f->y || !f->excess || !f->p ||
        !f->cur || !f->queue || !f->queued) {
        md_match__flow_free(f);
        return NULL;
    }
    for (uint32_t i = 0; i < f->n; i++) {
        f->places[i] = m->mentee_block[i] ? 0 : m->mentee_places[i];
        f->excess[i] = f->places[i];
    }
    for (uint32_t j = 0; j < f->nm; j++) {
        /* A mentor can never take more than every place there is. */
        uint64_t r = m->mentor_block[j] ? 0 : m->mentor_room[j];
        f->room[j] = (uint32_t)(r < places ? r : places);
    }
    f->excess[f->T] = -(int64_t)places;
    return f;
}

/* ------------------------------------------------------------ push-relabel */

/* Flow on and off an edge, keeping its mentor's flow edges first. */
static inline void edge_on(match_flow_t *f, uint32_t e)
{
    uint32_t j = f->emen[e], a = f->rpos[e], b = f->rin_off[j] + f->nflow[j]++;
    uint32_t other = f->rin[b];
    f->rin[a] = other;
    f->rpos[other] = a;
    f->rin[b] = e;
    f->rpos[e] = b;
    f->eflow[e] = 1;
}

static inline void edge_off(match_flow_t *f, uint32_t e)
{
    uint32_t j = f->emen[e], a = f->rpos[e], b = f->rin_off[j] + --f->nflow[j];
    uint32_t other = f->rin[b];
    f->rin[a] = other;
    f->rpos[other] = a;
    f->rin[b] = e;
    f->rpos[e] = b;
    f->eflow[e] = 0;
}

static inline void activate(match_flow_t *f, uint32_t v)
{
    if (f->excess[v] > 0 && !f->queued[v]) {
        f->queued[v] = 1;
        f->queue[f->q_tail++ % f->nodes] = v;
    }
}

static void discharge_mentee(match_flow_t *f, uint32_t i)
{
    const uint32_t lo = f->off[i], deg = f->off[i + 1] - lo;
    int64_t *p = f->p;
    while (f->excess[i] > 0) {
        uint32_t k = f->cur[i];
        if (k < deg) {
            uint32_t e = lo + k;
            if (!f->eflow[e]) {
                uint32_t w = f->n + f->emen[e];
                if (f->ecost[e] + p[i] - p[w] < 0) {
                    edge_on(f, e);
                    f->excess[i]--;
                    f->excess[w]++;
                    activate(f, w);
                    continue;
                }
            }
            f->cur[i]++;
        } else if (k == deg) {
            if (f->z[i] < f->places[i] && f->dummy + p[i] - p[f->T] < 0) {
                int64_t d = f->places[i] - f->z[i];
                d = d < f->excess[i] ? d : f->excess[i];
                f->z[i] += (uint32_t)d;
                f->excess[i] -= d;
                f->excess[f->T] += d;
                activate(f, f->T);
                continue;
            }
            f->cur[i]++;
        } else {
            /* Relabel: the highest price at which an arc becomes usable. */
            int64_t best = INT64_MIN;
            for (uint32_t e = lo; e < lo + deg; e++) {
                if (!f->eflow[e]) {
                    int64_t q = p[f->n + f->emen[e]] - f->ecost[e];
                    best = q > best ? q : best;
                }
            }
            if (f->z[i] < f->places[i]) {
                int64_t q = p[f->T] - f->dummy;
                best = q > best ? q : best;
            }
            assert(best != INT64_MIN);
            p[i] = best - f->eps;
            f->cur[i] = 0;
        }
    }
}

static void discharge_mentor(match_flow_t *f, uint32_t j)
{
    const uint32_t v = f->n + j, lo = f->rin_off[j];
    int64_t *p = f->p;
    while (f->excess[v] > 0) {
        uint32_t k = f->cur[v], held = f->nflow[j];
        if (k < held) {
            /* Taking flow off moves the last flow edge into this place,
             * which is looked at next. */
            uint32_t e = f->rin[lo + k], i = f->eown[e];
            if (-f->ecost[e] + p[v] - p[i] < 0) {
                edge_off(f, e);
                f->excess[v]--;
                f->excess[i]++;
                activate(f, i);
                continue;
            }
            f->cur[v]++;
        } else if (k == held) {
            if (f->y[j] < f->room[j] && p[v] - p[f->T] < 0) {
                int64_t d = f->room[j] - f->y[j];
                d = d < f->excess[v] ? d : f->excess[v];
                f->y[j] += (uint32_t)d;
                f->excess[v] -= d;
                f->excess[f->T] += d;
                activate(f, f->T);
                continue;
            }
            f->cur[v]++;
        } else {
            int64_t best = INT64_MIN;
            for (uint32_t q = lo; q < lo + held; q++) {
                uint32_t e = f->rin[q];
                int64_t c = p[f->eown[e]] + f->ecost[e];
                best = c > best ? c : best;
            }
            if (f->y[j] < f->room[j])
                best = p[f->T] > best ? p[f->T] : best;
            assert(best != INT64_MIN);
            p[v] = best - f->eps;
            f->cur[v] = 0;
        }
    }
}

/* T sends back what it got beyond its demand, to mentors that sent to it
 * or along dummy arcs. Its arcs are numbered mentors first, then mentees. */
static void discharge_sink(match_flow_t *f)
{
    const uint32_t T = f->T, total = f->nm + f->n;
    int64_t *p = f->p;
    while (f->excess[T] > 0) {
        uint32_t k = f->cur[T];
        if (k < f->nm) {
            uint32_t w = f->n + k;
            if (f->y[k] > 0 && p[T] - p[w] < 0) {
                int64_t d = f->y[k] < f->excess[T] ? f->y[k] : f->excess[T];
                f->y[k] -= (uint32_t)d;
                f->excess[T] -= d;
                f->excess[w] += d;
                activate(f, w);
                continue;
            }
            f->cur[T]++;
        } else if (k < total) {
            uint32_t i = k - f->nm;
            if (f->z[i] > 0 && -f->dummy + p[T] - p[i] < 0) {
                int64_t d = f->z[i] < f->excess[T] ? f->z[i] : f->excess[T];
                f->z[i] -= (uint32_t)d;
                f->excess[T] -= d;
                f->excess[i] += d;
                activate(f, i);
                continue;
            }
            f->cur[T]++;
        } else {
            int64_t best = INT64_MIN;
            for (uint32_t j = 0; j < f->nm; j++) {
                if (f->y[j] > 0)
                    best = p[f->n + j] > best ? p[f->n + j] : best;
            }
            for (uint32_t i = 0; i < f->n; i++) {
                if (f->z[i] > 0) {
                    int64_t q = p[i] + f->dummy;
                    best = q > best ? q : best;
                }
            }
            assert(best != INT64_MIN);
            p[T] = best - f->eps;
            f->cur[T] = 0;
        }
    }
}

static void discharge_all(match_flow_t *f)
{
    while (f->q_head != f->q_tail) {
        uint32_t v = f->queue[f->q_head++ % f->nodes];
        f->queued[v] = 0;
        if (v < f->n)
            discharge_mentee(f, v);
        else if (v < f->T)
            discharge_mentor(f, v - f->n);
        else
            discharge_sink(f);
    }
}

/* Saturates mentee i's arcs (its edges and its dummy arc) whose reduced
 * cost is below -epsilon, and empties those above epsilon. */
static void sweep_mentee(match_flow_t *f, uint32_t i)
{
    int64_t *p = f->p;
    const int64_t eps = f->eps;
    for (uint32_t e = f->off[i]; e < f->off[i + 1]; e++) {
        uint32_t w = f->n + f->emen[e];
        int64_t rc = f->ecost[e] + p[i] - p[w];
        if (!f->eflow[e] && rc < -eps) {
            edge_on(f, e);
            f->excess[i]--;
            f->excess[w]++;
            activate(f, w);
        } else if (f->eflow[e] && rc > eps) {
            edge_off(f, e);
            f->excess[i]++;
            f->excess[w]--;
            activate(f, i);
        }
    }
    int64_t rc = f->dummy + p[i] - p[f->T];
    if (rc < -eps && f->z[i] < f->places[i]) {
        f->excess[i] -= f->places[i] - f->z[i];
        f->excess[f->T] += f->places[i] - f->z[i];
        f->z[i] = f->places[i];
        activate(f, f->T);
    } else if (rc > eps && f->z[i] > 0) {
        f->excess[i] += f->z[i];
        f->excess[f->T] -= f->z[i];
        f->z[i] = 0;
        activate(f, i);
    }
}

/* The same for mentor j's arc to T (its edges are swept with their
 * mentees). */
static void sweep_sink(match_flow_t *f, uint32_t j)
{
    const int64_t eps = f->eps;
    uint32_t v = f->n + j;
    int64_t rc = f->p[v] - f->p[f->T];
    if (rc < -eps && f->y[j] < f->room[j]) {
        f->excess[v] -= f->room[j] - f->y[j];
        f->excess[f->T] += f->room[j] - f->y[j];
        f->y[j] = f->room[j];
        activate(f, f->T);
    } else if (rc > eps && f->y[j] > 0) {
        f->excess[v] += f->y[j];
        f->excess[f->T] -= f->y[j];
        f->y[j] = 0;
        activate(f, v);
    }
}

/* One phase: saturate every residual arc whose reduced cost is below
 * -epsilon (the flow is then epsilon-optimal, with excesses), then push and
 * relabel until no excess is left. Goldberg's refine saturates every arc
 * of negative reduced cost; leaving those between -epsilon and 0 alone is
 * as correct and spares re-routing much of the flow at each phase. */
static void refine(match_flow_t *f)
{
    for (uint32_t i = 0; i < f->n; i++)
        sweep_mentee(f, i);
    for (uint32_t j = 0; j < f->nm; j++)
        sweep_sink(f, j);
    memset(f->cur, 0, f->nodes * sizeof(*f->cur));
    for (uint32_t v = 0; v < f->nodes; v++)
        activate(f, v);
    discharge_all(f);
}

/* ------------------------------------------------------------ exact repair */

/* Repairs by push-relabel touch nearly every node: the excess a new edge
 * leaves must reach the mentee it was taken from, and on the way T's price
 * moves, and with it every price. Shortest paths move only what must move.
 * They need prices under which no residual arc has a negative reduced cost,
 * which the first run leaves within -1; to_exact closes that gap once. */

/* Calls fn(f, ctx, w, length, edge) for each residual arc out of v. */
#define FOR_ARCS(f, v, BODY)                                                                       \
    do {                                                                                           \
        const int64_t *p_ = (f)->p;                                                                \
        if ((v) < (f)->n) {                                                                        \
            for (uint32_t e_ = (f)->off[v]; e_ < (f)->off[(v) + 1]; e_++) {                        \
                if ((f)->eflow[e_])                                                                \
                    continue;                                                                      \
                uint32_t w_ = (f)->n + (f)->emen[e_];                                              \
                int64_t len_ = (f)->ecost[e_] + p_[v] - p_[w_];                                    \
                uint32_t arc_ = e_;                                                                \
                BODY;                                                                              \
            }                                                                                      \
            if ((f)->z[v] < (f)->places[v]) {                                                      \
                uint32_t w_ = (f)->T, arc_ = EDGE_DUMMY;                                           \
                int64_t len_ = (f)->dummy + p_[v] - p_[w_];                                        \
                BODY;                                                                              \
            }                                                                                      \
        } else if ((v) < (f)->T) {                                                                 \
            uint32_t j_ = (v) - (f)->n, lo_ = (f)->rin_off[j_];                                    \
            for (uint32_t q_ = lo_; q_ < lo_ + (f)->nflow[j_]; q_++) {                             \
                uint32_t arc_ = (f)->rin[q_], w_ = (f)->eown[arc_];                                \
                int64_t len_ = -(f)->ecost[arc_] + p_[v] - p_[w_];                                 \
                BODY;                                                                              \
            }                                                                                      \
            if ((f)->y[j_] < (f)->room[j_]) {                                                      \
                uint32_t w_ = (f)->T, arc_ = EDGE_SINK;                                            \
                int64_t len_ = p_[v] - p_[w_];                                                     \
                BODY;                                                                              \
            }                                                                                      \
        } else {                                                                                   \
            for (uint32_t j_ = 0; j_ < (f)->nm; j_++) {                                            \
                if ((f)->y[j_] == 0)                                                               \
                    continue;                                                                      \
                uint32_t w_ = (f)->n + j_, arc_ = EDGE_SINK;                                       \
                int64_t len_ = p_[v] - p_[w_];                                                     \
                BODY;                                                                              \
            }                                                                                      \
            for (uint32_t i_ = 0; i_ < (f)->n; i_++) {                                             \
                if ((f)->z[i_] == 0)                                                               \
                    continue;                                                                      \
                uint32_t w_ = i_, arc_ = EDGE_DUMMY;                                               \
                int64_t len_ = -(f)->dummy + p_[v] - p_[w_];                                       \
                BODY;                                                                              \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* From prices within -1 to exact ones: shortest distances from a root
 * joined to every node at length 0, over residual arcs of length equal to
 * their reduced cost (label correcting: the few arcs at -1 are the only
 * negative ones, and the flow being optimal, there is no negative cycle).
 * Adding the distances to the prices leaves no arc below 0. */
static int to_exact(match_flow_t *f)
{
    size_t nodes = f->nodes;
    int64_t *d = calloc(nodes, sizeof(*d));
    uint32_t *queue = malloc(nodes * sizeof(*queue));
    uint8_t *in = calloc(nodes, 1);
    if (d == NULL || queue == NULL || in == NULL) {
        free(d);
        free(queue);
        free(in);
        return MD_ENOMEM;
    }
    uint64_t head = 0, tail = 0;
    for (uint32_t v = 0; v < f->nodes; v++) {
        queue[tail++ % nodes] = v;
        in[v] = 1;
    }
    while (head != tail) {
        uint32_t v = queue[head++ % nodes];
        in[v] = 0;
        FOR_ARCS(f, v, {
            (void)arc_;
            if (d[v] + len_ < d[w_]) {
                d[w_] = d[v] + len_;
                if (!in[w_]) {
                    in[w_] = 1;
                    queue[tail++ % nodes] = w_;
                }
            }
        });
    }
    for (uint32_t v = 0; v < f->nodes; v++)
        f->p[v] += d[v];
    free(d);
    free(queue);
    free(in);

    f->exact = true;
    f->eps = 0;
    f->def_t = 0;
    if (f->dist != NULL)
        return MD_OK; /* a second time, after a repair by scaling */
    f->dist = calloc(nodes, sizeof(int64_t));
    f->seen = calloc(nodes, sizeof(uint32_t));
    f->done = calloc(nodes, sizeof(uint32_t));
    f->pred_node = calloc(nodes, sizeof(uint32_t));
    f->pred_edge = calloc(nodes, sizeof(uint32_t));
    f->visited = calloc(nodes, sizeof(uint32_t));
    f->heap_cap = 1024;
    f->heap = malloc(f->heap_cap * sizeof(*f->heap));
    if (!f->dist || !f->seen || !f->done || !f->pred_node || !f->pred_edge || !f->visited ||
        !f->heap)
        return MD_ENOMEM;
    return MD_OK;
}

static int heap_push(match_flow_t *f, int64_t key, uint32_t node)
{
    if (f->heap_n == f->heap_cap) {
        size_t cap = f->heap_cap * 2;
        heap_item_t *h = realloc(f->heap, cap * sizeof(*h));
        if (h == NULL)
            return MD_ENOMEM;
        f->heap = h;
        f->heap_cap = cap;
    }
    /* Equal keys pop in node order, so paths depend on nothing but the
     * input. */
    size_t k = f->heap_n++;
    while (k > 0) {
        size_t up = (k - 1) / 2;
        heap_item_t *hp = &f->heap[up];
        if (hp->key < key || (hp->key == key && hp->node < node))
            break;
        f->heap[k] = *hp;
        k = up;
    }
    f->heap[k] = (heap_item_t){key, node};
    return MD_OK;
}

static heap_item_t heap_pop(match_flow_t *f)
{
    heap_item_t top = f->heap[0];
    heap_item_t last = f->heap[--f->heap_n];
    size_t k = 0, n = f->heap_n;
    for (;;) {
        size_t c = 2 * k + 1;
        if (c >= n)
            break;
        if (c + 1 < n &&
            (f->heap[c + 1].key < f->heap[c].key ||
             (f->heap[c + 1].key == f->heap[c].key && f->heap[c + 1].node < f->heap[c].node)))
            c++;
        if (last.key < f->heap[c].key ||
            (last.key == f->heap[c].key && last.node < f->heap[c].node))
            break;
        f->heap[k] = f->heap[c];
        k = c;
    }
    if (n > 0)
        f->heap[k] = last;
    return top;
}

/* A node that can take a unit: T while it lacks some, or a mentor that
 * promised T more than it receives. */
static inline bool is_sink(const match_flow_t *f, uint32_t v)
{
    if (v == f->T)
        return f->def_t > 0;
    if (v >= f->n)
        return f->y[v - f->n] > f->nflow[v - f->n];
    return false;
}

static inline int relax(match_flow_t *f, uint32_t w, int64_t nd, uint32_t from, uint32_t edge)
{
    if (f->done[w] == f->gen || (f->seen[w] == f->gen && f->dist[w] <= nd))
        return MD_OK;
    f->seen[w] = f->gen;
    f->dist[w] = nd;
    f->pred_node[w] = from;
    f->pred_edge[w] = edge;
    /* A sink reached at the distance being settled cannot be reached any
     * shorter: the search may stop here. */
    if (nd == f->cur_d && f->hit == UINT32_MAX && is_sink(f, w))
        f->hit = w;
    return heap_push(f, nd, w);
}

/* Moves one unit from src to sink along the tree of the last search. */
static void augment(match_flow_t *f, uint32_t src, uint32_t sink)
{
    uint32_t v = sink;
    while (v != src) {
        uint32_t u = f->pred_node[v], e = f->pred_edge[v];
        if (u < f->n) {
            if (v == f->T)
                f->z[u]++;
            else
                edge_on(f, e);
        } else if (u < f->T) {
            if (v == f->T)
                f->y[u - f->n]++;
            else
                edge_off(f, e);
        } else if (v < f->n) {
            f->z[v]--;
        } else {
            f->y[v - f->n]--;
        }
        v = u;
    }
    f->excess[src]--;
    if (sink == f->T)
        f->def_t--;
}

/* Dijkstra over reduced costs from a mentee with excess to the nearest
 * sink; then the settled nodes' prices move by their distance (less the
 * sink's), which keeps every reduced cost non-negative and makes the path
 * tight, and one unit moves along it. */
static int shortest_path(match_flow_t *f, uint32_t src)
{
    int rc;
    if (++f->gen == 0) {
        memset(f->seen, 0, f->nodes * sizeof(uint32_t));
        memset(f->done, 0, f->nodes * sizeof(uint32_t));
        f->gen = 1;
    }
    f->heap_n = 0;
    f->n_visited = 0;
    f->seen[src] = f->gen;
    f->dist[src] = 0;
    f->pred_node[src] = src;
    f->pred_edge[src] = EDGE_NONE;
    if ((rc = heap_push(f, 0, src)) != MD_OK)
        return rc;
    uint32_t sink = UINT32_MAX;
    int64_t d_sink = 0;
    while (f->heap_n > 0) {
        heap_item_t it = heap_pop(f);
        uint32_t v = it.node;
        if (f->done[v] == f->gen || it.key != f->dist[v])
            continue;
        f->done[v] = f->gen;
        f->visited[f->n_visited++] = v;
        if (is_sink(f, v)) {
            sink = v;
            d_sink = it.key;
            break;
        }
        f->cur_d = it.key;
        f->hit = UINT32_MAX;
        FOR_ARCS(f, v, {
            assert(len_ >= 0);
            if ((rc = relax(f, w_, it.key + len_, v, arc_)) != MD_OK)
                return rc;
        });
        if (f->hit != UINT32_MAX) {
            sink = f->hit;
            d_sink = it.key;
            break;
        }
    }
    if (sink == UINT32_MAX)
        return MD_EINTERNAL; /* cannot happen: every mentee reaches T by its dummy arc */
    for (uint32_t k = 0; k < f->n_visited; k++) {
        uint32_t v = f->visited[k];
        f->p[v] += f->dist[v] - d_sink;
    }
    augment(f, src, sink);
    return MD_OK;
}

/* Takes back every unit of mentee a, whose new edges undercut its price,
 * and sets its price to the least value that keeps its arcs non-negative
 * (with no flow left, only its outgoing arcs constrain it). A mentor as
 * cheap as T just sends less to T; a dearer one keeps its promise to T and
 * becomes a sink until another mentee takes the place. */
static void unassign(match_flow_t *f, uint32_t a)
{
    uint32_t units = 0;
    int64_t best = f->p[f->T] - f->dummy;
    for (uint32_t e = f->off[a]; e < f->off[a + 1]; e++) {
        uint32_t j = f->emen[e];
        if (f->eflow[e]) {
            edge_off(f, e);
            units++;
            if (f->p[f->n + j] >= f->p[f->T]) {
                f->y[j]--;
                f->def_t++;
            }
        }
        int64_t q = f->p[f->n + j] - f->ecost[e];
        best = q > best ? q : best;
    }
    units += f->z[a];
    f->def_t += f->z[a];
    f->z[a] = 0;
    f->excess[a] += units;
    f->p[a] = best;
}

#ifndef NDEBUG
/* Every invariant, checked in debug builds (the unit tests run one):
 * conservation, capacities and epsilon-optimality. */
static void check_invariants(const match_flow_t *f)
{
    int64_t to_t = 0;
    for (uint32_t i = 0; i < f->n; i++) {
        int64_t out = f->z[i];
        for (uint32_t e = f->off[i]; e < f->off[i + 1]; e++) {
            int64_t rc = f->ecost[e] + f->p[i] - f->p[f->n + f->emen[e]];
            assert(f->eflow[e] ? rc <= f->eps : rc >= -f->eps);
            out += f->eflow[e];
        }
        int64_t rc = f->dummy + f->p[i] - f->p[f->T];
        assert(f->z[i] <= f->places[i]);
        assert(f->z[i] == 0 || rc <= f->eps);
        assert(f->z[i] == f->places[i] || rc >= -f->eps);
        assert(out == f->places[i] && f->excess[i] == 0);
        to_t += f->z[i];
    }
    for (uint32_t j = 0; j < f->nm; j++) {
        int64_t in = 0;
        for (uint32_t q = f->rin_off[j]; q < f->rin_off[j + 1]; q++) {
            in += f->eflow[f->rin[q]];
            assert(f->rpos[f->rin[q]] == q);
            assert(f->eflow[f->rin[q]] == (q < f->rin_off[j] + f->nflow[j]));
        }
        int64_t rc = f->p[f->n + j] - f->p[f->T];
        assert(in == f->y[j] && f->y[j] <= f->room[j] && f->excess[f->n + j] == 0);
        assert(f->y[j] == 0 || rc <= f->eps);
        assert(f->y[j] == f->room[j] || rc >= -f->eps);
        to_t += f->y[j];
    }
    assert(f->excess[f->T] == 0);
    (void)to_t;
}
#else
#define check_invariants(f) ((void)0)
#endif

int md_match__flow_run(match_flow_t *f)
{
    if (f->exact) {
        for (uint32_t i = 0; i < f->n; i++) {
            while (f->excess[i] > 0) {
                int rc = shortest_path(f, i);
                if (rc != MD_OK)
                    return rc;
            }
        }
        check_invariants(f);
        return MD_OK;
    }
    /* The first run: phases from the largest arc cost, epsilon divided by
     * 4 each time down to 1; then exact prices for what follows. Zero flow
     * at zero prices is 0-optimal, so any start is valid. When places
     * outnumber the capacity, prices climb as far as the dummy arc's cost,
     * and starting lower would make that a war of small steps; otherwise
     * they stay within the pair costs, and phases above those are wasted.
     * The same war comes when capacity is tight and nearly every pair costs
     * the same (profiles left empty): the core then rarely holds a place
     * for everyone, so some mentees climb to the dummy arc too, and with
     * no differences between pairs nothing stops them sooner (10,000 x
     * 2,000 with equal scores: 100 s from the pair costs, 4 s from the
     * dummy's). With varied scores starting there costs more than it
     * saves, so it is kept to narrow cost ranges. */
    if (!f->started) {
        f->started = true;
        int64_t top = 1, bottom = INT64_MAX;
        for (uint64_t e = 0; e < f->n_edges; e++) {
            top = f->ecost[e] > top ? f->ecost[e] : top;
            bottom = f->ecost[e] < bottom ? f->ecost[e] : bottom;
        }
        uint64_t places = 0, room = 0;
        for (uint32_t i = 0; i < f->n; i++)
            places += f->places[i];
        for (uint32_t j = 0; j < f->nm; j++)
            room += f->room[j];
        bool narrow = bottom != INT64_MAX && top - bottom <= top / 8;
        bool tight = places * 10 > room * 9;
        f->eps = places > room || (tight && narrow) ? f->dummy : top + f->alpha;
    }
    while (f->eps > 1) {
        f->eps = f->eps / 4 > 1 ? f->eps / 4 : 1;
        refine(f);
    }
    check_invariants(f);
    int rc = to_exact(f);
    if (rc != MD_OK)
        return rc;
    check_invariants(f);
    return MD_OK;
}

/* ------------------------------------------------------------ building */

/* The mentor side of the edges, after the mentee side changed. */
static int build_mentor_side(match_flow_t *f)
{
    free(f->rin);
    free(f->rpos);
    f->rin = malloc((f->n_edges ? f->n_edges : 1) * sizeof(*f->rin));
    f->rpos = malloc((f->n_edges ? f->n_edges : 1) * sizeof(*f->rpos));
    if (f->rin == NULL || f->rpos == NULL)
        return MD_ENOMEM;
    if (f->nflow == NULL && (f->nflow = calloc(f->nm ? f->nm : 1, sizeof(uint32_t))) == NULL)
        return MD_ENOMEM;
    memset(f->rin_off, 0, ((size_t)f->nm + 1) * sizeof(*f->rin_off));
    memset(f->nflow, 0, (f->nm ? f->nm : 1) * sizeof(uint32_t));
    for (uint64_t e = 0; e < f->n_edges; e++) {
        f->rin_off[f->emen[e] + 1]++;
        f->nflow[f->emen[e]] += f->eflow[e];
    }
    for (uint32_t j = 0; j < f->nm; j++)
        f->rin_off[j + 1] += f->rin_off[j];
    /* Flow edges from the start of each segment, the others after them. */
    uint32_t *front = malloc(((size_t)f->nm + 1) * 2 * sizeof(*front));
    if (front == NULL)
        return MD_ENOMEM;
    uint32_t *back = front + f->nm + 1;
    for (uint32_t j = 0; j < f->nm; j++) {
        front[j] = f->rin_off[j];
        back[j] = f->rin_off[j] + f->nflow[j];
    }
    for (uint64_t e = 0; e < f->n_edges; e++) {
        uint32_t j = f->emen[e];
        uint32_t q = f->eflow[e] ? front[j]++ : back[j]++;
        f->rin[q] = (uint32_t)e;
        f->rpos[e] = q;
    }
    free(front);
    return MD_OK;
}

static int alloc_edges(match_flow_t *f, uint64_t total)
{
    if (total >= UINT32_MAX - 4)
        return MD_ENOMEM;
    f->emen = malloc((total ? total : 1) * sizeof(*f->emen));
    f->eown = malloc((total ? total : 1) * sizeof(*f->eown));
    f->escore = malloc((total ? total : 1) * sizeof(*f->escore));
    f->ecost = malloc((total ? total : 1) * sizeof(*f->ecost));
    f->eflow = calloc(total ? total : 1, 1);
    return (f->emen && f->eown && f->escore && f->ecost && f->eflow) ? MD_OK : MD_ENOMEM;
}

int md_match__flow_init(match_flow_t *f, const uint32_t *off, const uint32_t *mentor,
                        const uint16_t *score)
{
    uint64_t total = off[f->n];
    int rc = alloc_edges(f, total);
    if (rc != MD_OK)
        return rc;
    memcpy(f->off, off, ((size_t)f->n + 1) * sizeof(*off));
    f->n_edges = total;
    memcpy(f->emen, mentor, total * sizeof(*mentor));
    memcpy(f->escore, score, total * sizeof(*score));
    for (uint32_t i = 0; i < f->n; i++) {
        for (uint32_t e = f->off[i]; e < f->off[i + 1]; e++) {
            f->eown[e] = i;
            f->ecost[e] = md_match__flow_cost(f, f->escore[e]);
        }
    }
    return build_mentor_side(f);
}

int md_match__flow_add(match_flow_t *f, const match_assign_t *add, size_t n_add)
{
    uint32_t *old_off = f->off, *old_emen = f->emen, *old_eown = f->eown;
    uint16_t *old_escore = f->escore;
    int64_t *old_ecost = f->ecost;
    uint8_t *old_eflow = f->eflow;
    uint64_t total = f->n_edges + n_add;

    f->off = calloc((size_t)f->n + 1, sizeof(*f->off));
    int rc = f->off ? alloc_edges(f, total) : MD_ENOMEM;
    if (rc != MD_OK)
        goto cleanup;

    /* Old edges keep their order within each mentee; new ones follow. */
    size_t k = 0;
    uint32_t pos = 0;
    for (uint32_t i = 0; i < f->n; i++) {
        f->off[i] = pos;
        uint32_t deg = old_off[i + 1] - old_off[i];
        memcpy(f->emen + pos, old_emen + old_off[i], deg * sizeof(uint32_t));
        memcpy(f->escore + pos, old_escore + old_off[i], deg * sizeof(uint16_t));
        memcpy(f->ecost + pos, old_ecost + old_off[i], deg * sizeof(int64_t));
        memcpy(f->eflow + pos, old_eflow + old_off[i], deg);
        for (uint32_t q = 0; q < deg; q++)
            f->eown[pos + q] = i;
        pos += deg;
        while (k < n_add && add[k].mentee == i) {
            f->emen[pos] = add[k].mentor;
            f->eown[pos] = i;
            f->escore[pos] = (uint16_t)add[k].score;
            f->ecost[pos] = md_match__flow_cost(f, add[k].score);
            f->eflow[pos] = 0;
            pos++;
            k++;
        }
    }
    f->off[f->n] = pos;
    f->n_edges = pos;
    rc = build_mentor_side(f);
    if (rc == MD_OK) {
        /* A mentee with a new edge of negative reduced cost starts over.
         * When that is a large part of them, the next run scales again
         * instead, from the most negative reduced cost down (the flow is
         * optimal within it), which moves many units at once. */
        uint32_t undercut_n = 0;
        int64_t worst = 0;
        for (size_t q = 0; q < n_add; q++) {
            int64_t r = md_match__flow_cost(f, add[q].score) + f->p[add[q].mentee] -
                        f->p[f->n + add[q].mentor];
            worst = -r > worst ? -r : worst;
            undercut_n += r < 0 && (q == 0 || add[q - 1].mentee != add[q].mentee);
        }
        if (undercut_n > f->n / 16 + 16) {
            f->exact = false;
            f->eps = worst + 1;
        } else {
            for (size_t q = 0; q < n_add;) {
                match_assign_t a = add[q];
                bool undercut = false;
                for (; q < n_add && add[q].mentee == a.mentee; q++)
                    undercut |= md_match__flow_cost(f, add[q].score) + f->p[a.mentee] -
                                    f->p[f->n + add[q].mentor] <
                                0;
                if (undercut)
                    unassign(f, a.mentee);
            }
        }
    }
    (void)old_eown;

cleanup:
    if (rc != MD_OK) {
        free(f->off);
        free(f->emen);
        free(f->eown);
        free(f->escore);
        free(f->ecost);
        free(f->eflow);
        f->off = old_off;
        f->emen = old_emen;
        f->eown = old_eown;
        f->escore = old_escore;
        f->ecost = old_ecost;
        f->eflow = old_eflow;
        return rc;
    }
    free(old_off);
    free(old_emen);
    free(old_eown);
    free(old_escore);
    free(old_ecost);
    free(old_eflow);
    return MD_OK;
}

void md_match__flow_tighten(match_flow_t *f)
{
    /* Mentors first: each as dear as its holders allow (a mentor with room
     * no dearer than T allows), then each mentee as high as its pairs
     * allow. Every residual arc keeps a reduced cost of at least -eps. */
    int64_t *p = f->p;
    for (uint32_t j = 0; j < f->nm; j++) {
        if (f->room[j] == 0)
            continue;
        uint32_t v = f->n + j;
        int64_t lo = f->y[j] < f->room[j] ? p[f->T] - f->eps : INT64_MIN;
        for (uint32_t q = f->rin_off[j]; q < f->rin_off[j + 1]; q++) {
            uint32_t e = f->rin[q];
            if (f->eflow[e]) {
                int64_t c = f->ecost[e] + p[f->eown[e]] - f->eps;
                lo = c > lo ? c : lo;
            }
        }
        if (lo != INT64_MIN && lo < p[v])
            p[v] = lo;
    }
    for (uint32_t i = 0; i < f->n; i++) {
        int64_t hi = f->z[i] ? p[f->T] - f->dummy + f->eps : INT64_MAX;
        for (uint32_t e = f->off[i]; e < f->off[i + 1]; e++) {
            if (f->eflow[e]) {
                int64_t c = p[f->n + f->emen[e]] - f->ecost[e] + f->eps;
                hi = c < hi ? c : hi;
            }
        }
        if (hi != INT64_MAX && hi > p[i])
            p[i] = hi;
    }
    check_invariants(f);
}
