/* match_bench.c: the matching engine's benchmark. It generates synthetic
 * programs that look like real ones -- offices in a few time zones with
 * their languages and working hours, departments of uneven size, a skill
 * vocabulary where a few skills are wanted by many and offered by fewer,
 * career goals and interests with the same skew, seniority levels, an
 * organization chart with managers among the mentors, and a sprinkle of
 * rankings, avoids, past pairs, exclusions, pins and people on leave --
 * then scores and solves them and prints what it measured.
 *
 * Usage: bench_match [--size NxM]... [--capacity C] [--solver optimal|stable|both]
 *                    [--objective participation|score] [--threads T] [--core K]
 *                    [--seed S] [--export PREFIX]
 *
 * Without --size it runs 2000x400, 10000x2000 and 50000x10000 (mentees x
 * mentors), each in a child process of its own so that each peak memory
 * figure (VmHWM) is that instance's alone. One line per run, as key=value
 * pairs, easy to read by people and by scripts.
 *
 * --export PREFIX (with one --size) also writes the instance's score matrix
 * for an independent check (bench/match_scipy.py): PREFIX.scores holds the
 * scores as little-endian uint16, one row per mentee in the engine's order,
 * 65535 where no pair is allowed; PREFIX.json holds the sizes, each
 * mentor's remaining capacity, each mentee's places, the objective and the
 * engine's result. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "md_match.h"

/* ------------------------------------------------------------ random */

typedef struct {
    uint64_t s;
} rng_t;

static uint64_t rng_next(rng_t *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t rng_below(rng_t *r, uint32_t n)
{
    return n ? (uint32_t)(rng_next(r) % n) : 0;
}

static double rng_unit(rng_t *r)
{
    return (double)(rng_next(r) >> 11) / 9007199254740992.0;
}

/* A Zipf-like distribution over n items: item k has weight 1/(k+1)^s. */
typedef struct {
    uint32_t n;
    double *cum;
} zipf_t;

static int zipf_init(zipf_t *z, uint32_t n, double s)
{
    z->n = n;
    z->cum = malloc(n * sizeof(double));
    if (z->cum == NULL)
        return -1;
    double t = 0;
    for (uint32_t k = 0; k < n; k++) {
        t += pow(k + 1.0, -s);
        z->cum[k] = t;
    }
    for (uint32_t k = 0; k < n; k++)
        z->cum[k] /= t;
    return 0;
}

static uint32_t zipf_draw(const zipf_t *z, rng_t *r)
{
    double u = rng_unit(r);
    uint32_t lo = 0, hi = z->n - 1;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (z->cum[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Draws up to n distinct items into out; returns how many. */
static uint32_t zipf_distinct(const zipf_t *z, rng_t *r, uint32_t n, uint32_t *out, uint32_t offset)
{
    uint32_t k = 0;
    for (uint32_t tries = 0; k < n && tries < 8 * n + 8; tries++) {
        uint32_t v = zipf_draw(z, r) + offset;
        bool dup = false;
        for (uint32_t q = 0; q < k; q++)
            dup |= out[q] == v;
        if (!dup)
            out[k++] = v;
    }
    return k;
}

/* ------------------------------------------------------------ instances */

typedef struct {
    int32_t utc_offset_min;
    double share;
    uint32_t language; /* besides English (0) */
} office_t;

static const office_t offices[] = {
    {-480, 0.14, 0}, /* San Francisco */
    {-300, 0.22, 0}, /* New York */
    {0, 0.12, 0},    /* London */
    {60, 0.20, 2},   /* Paris / Berlin */
    {330, 0.16, 5},  /* Bangalore */
    {480, 0.10, 7},  /* Singapore */
    {540, 0.06, 9},  /* Tokyo */
};
#define N_OFFICES (sizeof(offices) / sizeof(offices[0]))

enum { N_SKILLS = 400, N_GOALS = 40, N_INTERESTS = 150, N_DEPTS = 30, N_LANGS = 12 };

typedef struct {
    md_match_settings_t settings;
    size_t n_mentors, n_mentees;
    md_match_person_t *mentors, *mentees;
    md_match_fact_t *facts;
    size_t n_facts;
    /* storage of the lists */
    md_match_skill_t *skills;
    uint32_t *tags;
    uint64_t *managers;
} instance_t;

static void instance_free(instance_t *in)
{
    free(in->mentors);
    free(in->mentees);
    free(in->facts);
    free(in->skills);
    free(in->tags);
    free(in->managers);
}

/* Ids: mentors 1..M, mentees 1000001.., managers outside the program
 * 5000001..; every id's role is plain from its range. */
#define MENTEE_BASE  1000000u
#define OUTSIDE_BASE 5000000u

static int instance_make(instance_t *in, size_t n_mentees, size_t n_mentors, uint32_t capacity,
                         uint64_t seed)
{
    rng_t r = {seed * 7919 + n_mentees * 31 + n_mentors};
    zipf_t z_offer, z_want, z_goal, z_int, z_dept;
    memset(in, 0, sizeof(*in));
    md_match_settings_init(&in->settings);
    if (zipf_init(&z_offer, N_SKILLS, 0.9) || zipf_init(&z_want, N_SKILLS, 1.1) ||
        zipf_init(&z_goal, N_GOALS, 1.0) || zipf_init(&z_int, N_INTERESTS, 0.8) ||
        zipf_init(&z_dept, N_DEPTS, 0.7))
        return -1;

    size_t people = n_mentors + n_mentees;
    in->n_mentors = n_mentors;
    in->n_mentees = n_mentees;
    in->mentors = calloc(n_mentors ? n_mentors : 1, sizeof(md_match_person_t));
    in->mentees = calloc(n_mentees ? n_mentees : 1, sizeof(md_match_person_t));
    in->skills = malloc(people * 10 * sizeof(md_match_skill_t));
    in->tags = malloc(people * 16 * sizeof(uint32_t));
    in->managers = malloc(people * 4 * sizeof(uint64_t));
    in->facts = malloc((n_mentees * 2 + 64) * sizeof(md_match_fact_t));
    if (!in->mentors || !in->mentees || !in->skills || !in->tags || !in->managers || !in->facts)
        return -1;

    size_t sk = 0, tg = 0, mg = 0;
    for (size_t k = 0; k < people; k++) {
        bool mentor = k < n_mentors;
        md_match_person_t *p = mentor ? &in->mentors[k] : &in->mentees[k - n_mentors];
        p->user_id = mentor ? k + 1 : MENTEE_BASE + (k - n_mentors) + 1;

        double u = rng_unit(&r), acc = 0;
        const office_t *o = &offices[N_OFFICES - 1];
        for (size_t q = 0; q < N_OFFICES; q++) {
            acc += offices[q].share;
            if (u < acc) {
                o = &offices[q];
                break;
            }
        }
        p->has_time_zone = rng_below(&r, 100) >= 3;
        p->utc_offset_min = p->has_time_zone ? o->utc_offset_min : 0;

        /* Skills: mentors offer 4-10 at levels 3-5; mentees want 2-6 at
         * levels 2-5, drawn with a stronger skew towards popular skills. */
        uint32_t ids[16];
        uint32_t ns = mentor ? 4 + rng_below(&r, 7) : 2 + rng_below(&r, 5);
        if (!mentor && rng_below(&r, 100) < 4)
            ns = 0;
        ns = zipf_distinct(mentor ? &z_offer : &z_want, &r, ns, ids, 1);
        p->skills = in->skills + sk;
        for (uint32_t q = 0; q < ns; q++)
            in->skills[sk++] =
                (md_match_skill_t){ids[q], mentor ? 3 + rng_below(&r, 3) : 2 + rng_below(&r, 4)};
        p->n_skills = ns;

        uint32_t ng = mentor ? 1 + rng_below(&r, 5) : 1 + rng_below(&r, 4);
        if (rng_below(&r, 100) < 5)
            ng = 0;
        p->goals = in->tags + tg;
        p->n_goals = zipf_distinct(&z_goal, &r, ng, in->tags + tg, 1);
        tg += p->n_goals;
        uint32_t ni = rng_below(&r, 100) < 8 ? 0 : 2 + rng_below(&r, 7);
        p->interests = in->tags + tg;
        p->n_interests = zipf_distinct(&z_int, &r, ni, in->tags + tg, 1);
        tg += p->n_interests;

        p->languages = in->tags + tg;
        p->n_languages = 0;
        if (rng_below(&r, 100) < 92)
            in->tags[tg + p->n_languages++] = 1; /* English */
        if (o->language && rng_below(&r, 100) < 85)
            in->tags[tg + p->n_languages++] = 1 + o->language;
        if (rng_below(&r, 100) < 10)
            in->tags[tg + p->n_languages++] = 2 + rng_below(&r, N_LANGS - 1);
        tg += p->n_languages;

        p->department = 1 + zipf_draw(&z_dept, &r);
        if (rng_below(&r, 100) < 2)
            p->department = 0;
        p->seniority = mentor ? 3 + rng_below(&r, 8) : 1 + rng_below(&r, 3) + rng_below(&r, 3);

        /* Availability: a few working hours of the week in local time. */
        if (rng_below(&r, 100) >= 6) {
            uint32_t hours = 3 + rng_below(&r, 10);
            for (uint32_t q = 0; q < hours; q++) {
                uint32_t day = rng_below(&r, 5), hour = 9 + rng_below(&r, 9);
                md_match_availability_add(p->availability, day * 24 + hour, p->utc_offset_min);
            }
        }

        /* Managers: often a mentor of the same department (a reporting line
         * inside the program), then two levels outside it. */
        p->managers = in->managers + mg;
        p->n_managers = 0;
        if (n_mentors > 0 && rng_below(&r, 100) < 30) {
            uint64_t boss = 1 + rng_below(&r, (uint32_t)n_mentors);
            if (boss != p->user_id)
                in->managers[mg + p->n_managers++] = boss;
        }
        in->managers[mg + p->n_managers++] = OUTSIDE_BASE + p->department * 10 + 1;
        in->managers[mg + p->n_managers++] = OUTSIDE_BASE + 1;
        mg += p->n_managers;

        p->on_leave = rng_below(&r, 1000) < 8;
        p->capacity = mentor ? capacity : 0;
        p->training_done = true;
    }

    /* Facts: some mentees rank a few mentors; some avoids, past pairs,
     * exclusions and pins. */
    size_t nf = 0;
    for (size_t i = 0; i < n_mentees && n_mentors > 0; i++) {
        uint64_t e = in->mentees[i].user_id;
        uint32_t roll = rng_below(&r, 1000);
        if (roll < 30) {
            for (uint32_t q = 1; q <= 2; q++)
                in->facts[nf++] = (md_match_fact_t){e, 1 + rng_below(&r, (uint32_t)n_mentors),
                                                    MD_MATCH_FACT_RANK, q};
        } else if (roll < 40) {
            in->facts[nf++] = (md_match_fact_t){e, 1 + rng_below(&r, (uint32_t)n_mentors),
                                                MD_MATCH_FACT_MENTEE_AVOIDS, 0};
        } else if (roll < 45) {
            in->facts[nf++] = (md_match_fact_t){e, 1 + rng_below(&r, (uint32_t)n_mentors),
                                                MD_MATCH_FACT_MENTOR_AVOIDS, 0};
        } else if (roll < 65) {
            in->facts[nf++] = (md_match_fact_t){e, 1 + rng_below(&r, (uint32_t)n_mentors),
                                                MD_MATCH_FACT_HISTORY, 0};
        } else if (roll < 68) {
            in->facts[nf++] = (md_match_fact_t){e, 1 + rng_below(&r, (uint32_t)n_mentors),
                                                MD_MATCH_FACT_EXCLUDED, 0};
        } else if (roll < 70) {
            in->facts[nf++] = (md_match_fact_t){e, 1 + rng_below(&r, (uint32_t)n_mentors),
                                                MD_MATCH_FACT_PINNED, 0};
        }
    }
    in->n_facts = nf;
    free(z_offer.cum);
    free(z_want.cum);
    free(z_goal.cum);
    free(z_int.cum);
    free(z_dept.cum);
    return 0;
}

/* ------------------------------------------------------------ running */

static double seconds(uint64_t ns)
{
    return (double)ns / 1e9;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static long vm_hwm_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "VmHWM:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    }
    fclose(f);
    return kib;
}

typedef struct {
    size_t n_mentees, n_mentors;
    uint32_t capacity;
    int solvers; /* bit 1: optimal, bit 2: stable */
    md_match_objective_t objective;
    uint32_t threads;
    uint32_t core_size;
    uint64_t seed;
    const char *export_prefix;
} options_t;

static int export_instance(const md_match_t *m, const md_match_result_t *r, const instance_t *in,
                           const options_t *o)
{
    char path[4096];
    size_t nm = md_match_mentor_count(m), ne = md_match_mentee_count(m);
    uint16_t *row = malloc((nm ? nm : 1) * sizeof(*row));
    if (row == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s.scores", o->export_prefix);
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        perror(path);
        free(row);
        return -1;
    }
    for (size_t i = 0; i < ne; i++) {
        if (md_match_row(m, i, row) != MD_OK || fwrite(row, sizeof(*row), nm, f) != nm) {
            fclose(f);
            free(row);
            return -1;
        }
    }
    free(row);
    if (fclose(f) != 0)
        return -1;

    snprintf(path, sizeof(path), "%s.json", o->export_prefix);
    f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    /* Remaining capacity and places as the engine sees them: recomputed
     * from the input and the pins in the result. */
    fprintf(f, "{\"mentees\": %zu, \"mentors\": %zu, \"objective\": \"%s\",\n", ne, nm,
            o->objective == MD_MATCH_SCORE ? "score" : "participation");
    fprintf(f, " \"room\": [");
    for (size_t j = 0; j < nm; j++) {
        uint64_t id = md_match_mentor_id(m, j);
        const md_match_person_t *p = &in->mentors[id - 1];
        uint32_t pins = 0;
        for (size_t k = 0; k < r->n_pairs; k++)
            pins += r->pairs[k].pinned && r->pairs[k].mentor_id == id;
        uint32_t room = p->on_leave || pins >= p->capacity ? 0 : p->capacity - pins;
        fprintf(f, "%s%u", j ? "," : "", room);
    }
    fprintf(f, "],\n \"places\": [");
    for (size_t i = 0; i < ne; i++)
        fprintf(f, "%s%u", i ? "," : "", r->mentees[i].places);
    fprintf(f, "],\n \"new_pairs\": %zu, \"new_score\": %lld}\n", r->new_pairs,
            (long long)r->new_score);
    return fclose(f) == 0 ? 0 : -1;
}

static int run_one(const options_t *o)
{
    instance_t in;
    char err[256];
    uint64_t t0 = now_ns();
    if (instance_make(&in, o->n_mentees, o->n_mentors, o->capacity, o->seed) != 0) {
        fprintf(stderr, "bench_match: out of memory generating the instance\n");
        return 1;
    }
    in.settings.objective = o->objective;
    in.settings.threads = o->threads;
    in.settings.core_size = o->core_size;
    uint64_t t_gen = now_ns() - t0;

    md_match_input_t input = {in.settings,  in.mentors, in.n_mentors, in.mentees,
                              in.n_mentees, in.facts,   in.n_facts};
    md_match_t *m;
    t0 = now_ns();
    int rc = md_match_create(&m, &input, err, sizeof(err));
    uint64_t t_create = now_ns() - t0;
    if (rc != MD_OK) {
        fprintf(stderr, "bench_match: md_match_create: %s\n", err);
        instance_free(&in);
        return 1;
    }

    static const char *const names[] = {"", "optimal", "stable"};
    for (int solver = MD_MATCH_OPTIMAL; solver <= MD_MATCH_STABLE; solver++) {
        if (!(o->solvers & (1 << solver)))
            continue;
        md_match_result_t *r;
        t0 = now_ns();
        rc = md_match_solve(m, (md_match_solver_t)solver, &r);
        uint64_t t_total = now_ns() - t0;
        if (rc != MD_OK) {
            fprintf(stderr, "bench_match: md_match_solve: %d\n", rc);
            md_match_free(m);
            instance_free(&in);
            return 1;
        }
        size_t matched = 0, places = 0;
        for (size_t i = 0; i < r->n_mentees; i++) {
            places += r->mentees[i].places;
            matched += r->mentees[i].matched > 0;
        }
        printf("size=%zux%zu capacity=%u solver=%s objective=%s threads=%u "
               "generate_s=%.3f create_s=%.3f scoring_s=%.3f solving_s=%.3f total_s=%.3f "
               "peak_mib=%.1f total_score=%lld new_score=%lld new_pairs=%zu places=%zu "
               "mentees_matched=%zu pins=%zu rounds=%u core_edges=%llu rows_rescored=%llu "
               "pairs_scored=%llu\n",
               o->n_mentees, o->n_mentors, o->capacity, names[solver],
               o->objective == MD_MATCH_SCORE ? "score" : "participation", o->threads,
               seconds(t_gen), seconds(t_create), seconds(r->stats.scoring_ns),
               seconds(r->stats.solving_ns), seconds(t_total + t_create),
               (double)vm_hwm_kib() / 1024.0, (long long)r->total_score, (long long)r->new_score,
               r->new_pairs, places, matched, r->n_pairs - r->new_pairs, r->stats.rounds,
               (unsigned long long)r->stats.core_edges, (unsigned long long)r->stats.rows_rescored,
               (unsigned long long)r->stats.pairs_scored);
        fflush(stdout);
        if (o->export_prefix != NULL && solver == MD_MATCH_OPTIMAL &&
            export_instance(m, r, &in, o) != 0) {
            fprintf(stderr, "bench_match: cannot export to %s\n", o->export_prefix);
            rc = 1;
        }
        md_match_result_free(r);
    }
    md_match_free(m);
    instance_free(&in);
    return rc == MD_OK ? 0 : 1;
}

static int usage(void)
{
    fprintf(stderr, "usage: bench_match [--size NxM]... [--capacity C] "
                    "[--solver optimal|stable|both] [--objective participation|score] "
                    "[--threads T] [--core K] [--seed S] [--export PREFIX]\n");
    return 2;
}

int main(int argc, char **argv)
{
    options_t o = {0, 0, 5, 1 << MD_MATCH_OPTIMAL, MD_MATCH_PARTICIPATION, 0, 0, 1, NULL};
    size_t sizes[16][2];
    size_t n_sizes = 0;
    for (int a = 1; a < argc; a += 2) {
        const char *v = a + 1 < argc ? argv[a + 1] : NULL;
        if (strcmp(argv[a], "--size") == 0 && v && n_sizes < 16) {
            char *end;
            sizes[n_sizes][0] = strtoul(v, &end, 10);
            if (*end != 'x')
                return usage();
            sizes[n_sizes][1] = strtoul(end + 1, &end, 10);
            if (*end != '\0')
                return usage();
            n_sizes++;
        } else if (strcmp(argv[a], "--capacity") == 0 && v) {
            o.capacity = (uint32_t)strtoul(v, NULL, 10);
        } else if (strcmp(argv[a], "--solver") == 0 && v) {
            if (strcmp(v, "optimal") == 0)
                o.solvers = 1 << MD_MATCH_OPTIMAL;
            else if (strcmp(v, "stable") == 0)
                o.solvers = 1 << MD_MATCH_STABLE;
            else if (strcmp(v, "both") == 0)
                o.solvers = 1 << MD_MATCH_OPTIMAL | 1 << MD_MATCH_STABLE;
            else
                return usage();
        } else if (strcmp(argv[a], "--objective") == 0 && v) {
            if (strcmp(v, "participation") == 0)
                o.objective = MD_MATCH_PARTICIPATION;
            else if (strcmp(v, "score") == 0)
                o.objective = MD_MATCH_SCORE;
            else
                return usage();
        } else if (strcmp(argv[a], "--threads") == 0 && v) {
            o.threads = (uint32_t)strtoul(v, NULL, 10);
        } else if (strcmp(argv[a], "--core") == 0 && v) {
            o.core_size = (uint32_t)strtoul(v, NULL, 10);
        } else if (strcmp(argv[a], "--seed") == 0 && v) {
            o.seed = strtoull(v, NULL, 10);
        } else if (strcmp(argv[a], "--export") == 0 && v) {
            o.export_prefix = v;
        } else {
            return usage();
        }
    }
    if (n_sizes == 0) {
        static const size_t defaults[3][2] = {{2000, 400}, {10000, 2000}, {50000, 10000}};
        memcpy(sizes, defaults, sizeof(defaults));
        n_sizes = 3;
    }
    if (o.export_prefix != NULL && n_sizes != 1)
        return usage();

    int status = 0;
    for (size_t k = 0; k < n_sizes; k++) {
        o.n_mentees = sizes[k][0];
        o.n_mentors = sizes[k][1];
        if (n_sizes == 1) {
            status |= run_one(&o);
            break;
        }
        /* A child per size, so VmHWM is this instance's peak alone. */
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
            perror("fork");
            return 1;
        }
        if (pid == 0)
            _exit(run_one(&o));
        int ws;
        if (waitpid(pid, &ws, 0) < 0 || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
            status = 1;
    }
    return status;
}
