/* match_tool.c: a command-line front end to the matching engine, for tests,
 * benchmarks and experiments (built, not installed). It reads one instance
 * in the text format below, solves it and prints the assignment; on request
 * it also prints the score matrix or explains one pair.
 *
 * Usage: match_tool [--solver optimal|stable] [--json] [--matrix]
 *                   [--explain MENTEE:MENTOR] [FILE]
 *   FILE (default: standard input) holds the instance.
 *   --json    print JSON instead of text.
 *   --matrix  add every pair's score (mentees by id, mentors by id; no
 *             score where a rule forbids the pair, as md_match_row says).
 *
 * Instance format: one record per line; blank lines and lines starting
 * with # are ignored; fields are separated by spaces.
 *
 *   settings KEY=VALUE...
 *       weights=W1,...,W9 (skills, goals, interests, seniority, department,
 *       time_zone, language, availability, preferences), department=any|
 *       same|different, min_gap=N, require_language=0|1,
 *       require_training=0|1, mentors_per_mentee=N,
 *       objective=participation|score, threads=N, core=N
 *   mentor ID KEY=VALUE...
 *   mentee ID KEY=VALUE...
 *       skills=ID:LEVEL,...  goals=ID,...  interests=ID,...
 *       languages=ID,...  department=ID  seniority=N  tz=MINUTES
 *       avail=H,H-H,... (UTC hours of the week, ranges inclusive)
 *       managers=ID,...  leave=0|1  existing=N
 *       capacity=N and training=0|1 (mentors)
 *   fact KIND MENTEE MENTOR [RANK]
 *       KIND: rank, mentee-avoids, mentor-avoids, history, excluded,
 *       pinned, current
 *
 * Text output: one "pair MENTEE MENTOR SCORE [pinned]" line per pair, then
 * "total new_pairs=N new_score=S total_score=T rounds=R"; with --matrix,
 * "row MENTEE S S ..." lines (- for no pair). Exit status 0 on success, 1
 * on a bad instance or a failure, 2 on a usage error. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md_match.h"

typedef struct {
    md_match_person_t p;
    md_match_skill_t *skills;
    uint32_t *goals, *interests, *languages;
    uint64_t *managers;
} person_t;

typedef struct {
    person_t *v;
    size_t n, cap;
} people_t;

typedef struct {
    md_match_settings_t settings;
    people_t mentors, mentees;
    md_match_fact_t *facts;
    size_t n_facts, cap_facts;
} instance_t;

static void people_free(people_t *pp)
{
    for (size_t k = 0; k < pp->n; k++) {
        free(pp->v[k].skills);
        free(pp->v[k].goals);
        free(pp->v[k].interests);
        free(pp->v[k].languages);
        free(pp->v[k].managers);
    }
    free(pp->v);
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (*s == '\0' || *s == '-')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static int parse_u32(const char *s, uint32_t *out)
{
    uint64_t v;
    if (parse_u64(s, &v) != 0 || v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int parse_i32(const char *s, int32_t *out)
{
    char *end;
    if (*s == '\0')
        return -1;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < INT32_MIN || v > INT32_MAX)
        return -1;
    *out = (int32_t)v;
    return 0;
}

/* Splits a comma-separated list in place; returns the number of items. */
static size_t split(char *s, char **items, size_t max)
{
    size_t n = 0;
    if (*s == '\0')
        return 0;
    for (;;) {
        if (n == max)
            return max + 1;
        items[n++] = s;
        char *c = strchr(s, ',');
        if (c == NULL)
            return n;
        *c = '\0';
        s = c + 1;
    }
}

#define MAX_ITEMS 256

static int parse_ids32(char *val, uint32_t **out, uint32_t *n)
{
    char *items[MAX_ITEMS];
    size_t k = split(val, items, MAX_ITEMS);
    if (k > MAX_ITEMS)
        return -1;
    free(*out);
    *out = malloc((k ? k : 1) * sizeof(**out));
    if (*out == NULL)
        return -1;
    for (size_t q = 0; q < k; q++) {
        if (parse_u32(items[q], &(*out)[q]) != 0)
            return -1;
    }
    *n = (uint32_t)k;
    return 0;
}

static int parse_person_field(person_t *pe, bool mentor, char *key, char *val)
{
    md_match_person_t *p = &pe->p;
    char *items[MAX_ITEMS];
    if (strcmp(key, "skills") == 0) {
        size_t k = split(val, items, MAX_ITEMS);
        if (k > MAX_ITEMS)
            return -1;
        free(pe->skills);
        pe->skills = malloc((k ? k : 1) * sizeof(*pe->skills));
        if (pe->skills == NULL)
            return -1;
        for (size_t q = 0; q < k; q++) {
            char *colon = strchr(items[q], ':');
            if (colon == NULL)
                return -1;
            *colon = '\0';
            if (parse_u32(items[q], &pe->skills[q].id) != 0 ||
                parse_u32(colon + 1, &pe->skills[q].level) != 0)
                return -1;
        }
        p->n_skills = (uint32_t)k;
        return 0;
    }
    if (strcmp(key, "goals") == 0)
        return parse_ids32(val, &pe->goals, &p->n_goals);
    if (strcmp(key, "interests") == 0)
        return parse_ids32(val, &pe->interests, &p->n_interests);
    if (strcmp(key, "languages") == 0)
        return parse_ids32(val, &pe->languages, &p->n_languages);
    if (strcmp(key, "department") == 0)
        return parse_u32(val, &p->department);
    if (strcmp(key, "seniority") == 0)
        return parse_u32(val, &p->seniority);
    if (strcmp(key, "tz") == 0) {
        p->has_time_zone = true;
        return parse_i32(val, &p->utc_offset_min);
    }
    if (strcmp(key, "avail") == 0) {
        size_t k = split(val, items, MAX_ITEMS);
        if (k > MAX_ITEMS)
            return -1;
        for (size_t q = 0; q < k; q++) {
            uint32_t a, b;
            char *dash = strchr(items[q], '-');
            if (dash != NULL)
                *dash = '\0';
            if (parse_u32(items[q], &a) != 0 ||
                (dash != NULL ? parse_u32(dash + 1, &b) : (b = a, 0)) != 0 || a > b ||
                b >= MD_MATCH_WEEK_HOURS)
                return -1;
            for (uint32_t h = a; h <= b; h++)
                p->availability[h / 64] |= 1ull << (h % 64);
        }
        return 0;
    }
    if (strcmp(key, "managers") == 0) {
        size_t k = split(val, items, MAX_ITEMS);
        if (k > MAX_ITEMS)
            return -1;
        free(pe->managers);
        pe->managers = malloc((k ? k : 1) * sizeof(*pe->managers));
        if (pe->managers == NULL)
            return -1;
        for (size_t q = 0; q < k; q++) {
            if (parse_u64(items[q], &pe->managers[q]) != 0)
                return -1;
        }
        p->n_managers = (uint32_t)k;
        return 0;
    }
    if (strcmp(key, "leave") == 0 || (mentor && strcmp(key, "training") == 0)) {
        uint32_t v;
        if (parse_u32(val, &v) != 0 || v > 1)
            return -1;
        if (key[0] == 'l')
            p->on_leave = v;
        else
            p->training_done = v;
        return 0;
    }
    if (strcmp(key, "existing") == 0)
        return parse_u32(val, &p->existing_pairs);
    if (mentor && strcmp(key, "capacity") == 0)
        return parse_u32(val, &p->capacity);
    return -1;
}

static int parse_settings_field(md_match_settings_t *s, char *key, char *val)
{
    uint32_t v;
    if (strcmp(key, "weights") == 0) {
        char *items[MD_MATCH_NFACTORS + 1];
        if (split(val, items, MD_MATCH_NFACTORS) != MD_MATCH_NFACTORS)
            return -1;
        for (int f = 0; f < MD_MATCH_NFACTORS; f++) {
            if (parse_u32(items[f], &v) != 0 || v > 255)
                return -1;
            s->weights[f] = (uint8_t)v;
        }
        return 0;
    }
    if (strcmp(key, "department") == 0) {
        if (strcmp(val, "any") == 0)
            s->department = MD_MATCH_DEPT_ANY;
        else if (strcmp(val, "same") == 0)
            s->department = MD_MATCH_DEPT_SAME;
        else if (strcmp(val, "different") == 0)
            s->department = MD_MATCH_DEPT_DIFFERENT;
        else
            return -1;
        return 0;
    }
    if (strcmp(key, "objective") == 0) {
        if (strcmp(val, "participation") == 0)
            s->objective = MD_MATCH_PARTICIPATION;
        else if (strcmp(val, "score") == 0)
            s->objective = MD_MATCH_SCORE;
        else
            return -1;
        return 0;
    }
    if (parse_u32(val, &v) != 0)
        return -1;
    if (strcmp(key, "min_gap") == 0)
        s->min_seniority_gap = v;
    else if (strcmp(key, "require_language") == 0 && v <= 1)
        s->require_language = v;
    else if (strcmp(key, "require_training") == 0 && v <= 1)
        s->require_training = v;
    else if (strcmp(key, "mentors_per_mentee") == 0)
        s->mentors_per_mentee = v;
    else if (strcmp(key, "threads") == 0)
        s->threads = v;
    else if (strcmp(key, "core") == 0)
        s->core_size = v;
    else
        return -1;
    return 0;
}

static int parse_fact(instance_t *in, char **tok, int ntok)
{
    static const struct {
        const char *name;
        md_match_fact_kind_t kind;
    } kinds[] = {
        {"rank", MD_MATCH_FACT_RANK},
        {"mentee-avoids", MD_MATCH_FACT_MENTEE_AVOIDS},
        {"mentor-avoids", MD_MATCH_FACT_MENTOR_AVOIDS},
        {"history", MD_MATCH_FACT_HISTORY},
        {"excluded", MD_MATCH_FACT_EXCLUDED},
        {"pinned", MD_MATCH_FACT_PINNED},
        {"current", MD_MATCH_FACT_CURRENT},
    };
    md_match_fact_t f = {0};
    size_t k;
    if (ntok < 4 || ntok > 5)
        return -1;
    for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        if (strcmp(tok[1], kinds[k].name) == 0)
            break;
    }
    if (k == sizeof(kinds) / sizeof(kinds[0]))
        return -1;
    f.kind = kinds[k].kind;
    if (parse_u64(tok[2], &f.mentee_id) != 0 || parse_u64(tok[3], &f.mentor_id) != 0)
        return -1;
    if (ntok == 5 && parse_u32(tok[4], &f.value) != 0)
        return -1;
    if (in->n_facts == in->cap_facts) {
        size_t cap = in->cap_facts ? in->cap_facts * 2 : 64;
        md_match_fact_t *v = realloc(in->facts, cap * sizeof(*v));
        if (v == NULL)
            return -1;
        in->facts = v;
        in->cap_facts = cap;
    }
    in->facts[in->n_facts++] = f;
    return 0;
}

static int parse_line(instance_t *in, char *line)
{
    char *tok[512];
    int ntok = 0;
    for (char *c = line; *c != '\0';) {
        while (*c == ' ' || *c == '\t' || *c == '\r' || *c == '\n')
            *c++ = '\0';
        if (*c == '\0')
            break;
        if (ntok == 512)
            return -1;
        tok[ntok++] = c;
        while (*c != '\0' && *c != ' ' && *c != '\t' && *c != '\r' && *c != '\n')
            c++;
    }
    if (ntok == 0 || tok[0][0] == '#')
        return 0;
    if (strcmp(tok[0], "fact") == 0)
        return parse_fact(in, tok, ntok);
    if (strcmp(tok[0], "settings") == 0) {
        for (int k = 1; k < ntok; k++) {
            char *eq = strchr(tok[k], '=');
            if (eq == NULL)
                return -1;
            *eq = '\0';
            if (parse_settings_field(&in->settings, tok[k], eq + 1) != 0)
                return -1;
        }
        return 0;
    }
    bool mentor = strcmp(tok[0], "mentor") == 0;
    if ((!mentor && strcmp(tok[0], "mentee") != 0) || ntok < 2)
        return -1;
    people_t *pp = mentor ? &in->mentors : &in->mentees;
    if (pp->n == pp->cap) {
        size_t cap = pp->cap ? pp->cap * 2 : 64;
        person_t *v = realloc(pp->v, cap * sizeof(*v));
        if (v == NULL)
            return -1;
        pp->v = v;
        pp->cap = cap;
    }
    person_t *pe = &pp->v[pp->n++];
    memset(pe, 0, sizeof(*pe));
    if (parse_u64(tok[1], &pe->p.user_id) != 0)
        return -1;
    for (int k = 2; k < ntok; k++) {
        char *eq = strchr(tok[k], '=');
        if (eq == NULL)
            return -1;
        *eq = '\0';
        if (parse_person_field(pe, mentor, tok[k], eq + 1) != 0)
            return -1;
    }
    return 0;
}

static md_match_person_t *people_array(const people_t *pp)
{
    md_match_person_t *a = malloc((pp->n ? pp->n : 1) * sizeof(*a));
    if (a == NULL)
        return NULL;
    for (size_t k = 0; k < pp->n; k++) {
        const person_t *pe = &pp->v[k];
        a[k] = pe->p;
        a[k].skills = pe->skills;
        a[k].goals = pe->goals;
        a[k].interests = pe->interests;
        a[k].languages = pe->languages;
        a[k].managers = pe->managers;
    }
    return a;
}

static void print_explain(const md_match_explain_t *ex, bool json)
{
    if (json) {
        printf("{\"mentee\": %llu, \"mentor\": %llu, \"score\": %u, \"blocked\": [",
               (unsigned long long)ex->mentee_id, (unsigned long long)ex->mentor_id, ex->score);
        const char *sep = "";
        for (int b = 0; b < MD_MATCH_NRULES; b++) {
            if (ex->blocked & (1u << b)) {
                printf("%s\"%s\"", sep, md_match_rule_name(1u << b));
                sep = ", ";
            }
        }
        printf("], \"pinned\": %s, \"factors\": {", ex->pinned ? "true" : "false");
        for (int f = 0; f < MD_MATCH_NFACTORS; f++)
            printf("%s\"%s\": {\"weight\": %u, \"value\": %u, \"contribution\": %u, "
                   "\"neutral\": %s}",
                   f ? ", " : "", md_match_factor_name(f), ex->weight[f], ex->value[f],
                   ex->contribution[f], (ex->neutral >> f) & 1 ? "true" : "false");
        printf("}}\n");
        return;
    }
    printf("pair %llu %llu score %u.%02u%s\n", (unsigned long long)ex->mentee_id,
           (unsigned long long)ex->mentor_id, ex->score / 100, ex->score % 100,
           ex->pinned ? " pinned" : "");
    for (int b = 0; b < MD_MATCH_NRULES; b++) {
        if (ex->blocked & (1u << b))
            printf("  blocked by %s\n", md_match_rule_name(1u << b));
    }
    for (int f = 0; f < MD_MATCH_NFACTORS; f++)
        printf("  %-13s weight %3u  value %3u.%02u  contribution %2u.%02u%s\n",
               md_match_factor_name(f), ex->weight[f], ex->value[f] / 100, ex->value[f] % 100,
               ex->contribution[f] / 100, ex->contribution[f] % 100,
               (ex->neutral >> f) & 1 ? "  (not given: neutral)" : "");
}

static int usage(void)
{
    fprintf(stderr, "usage: match_tool [--solver optimal|stable] [--json] [--matrix] "
                    "[--explain MENTEE:MENTOR] [FILE]\n");
    return 2;
}

int main(int argc, char **argv)
{
    md_match_solver_t solver = MD_MATCH_OPTIMAL;
    bool json = false, matrix = false;
    const char *path = NULL, *explain = NULL;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--solver") == 0 && a + 1 < argc) {
            a++;
            if (strcmp(argv[a], "optimal") == 0)
                solver = MD_MATCH_OPTIMAL;
            else if (strcmp(argv[a], "stable") == 0)
                solver = MD_MATCH_STABLE;
            else
                return usage();
        } else if (strcmp(argv[a], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[a], "--matrix") == 0) {
            matrix = true;
        } else if (strcmp(argv[a], "--explain") == 0 && a + 1 < argc) {
            explain = argv[++a];
        } else if (argv[a][0] == '-' && argv[a][1] != '\0') {
            return usage();
        } else if (path == NULL) {
            path = argv[a];
        } else {
            return usage();
        }
    }

    instance_t in;
    memset(&in, 0, sizeof(in));
    md_match_settings_init(&in.settings);
    FILE *fp = (path == NULL || strcmp(path, "-") == 0) ? stdin : fopen(path, "r");
    if (fp == NULL) {
        fprintf(stderr, "match_tool: %s: %s\n", path, strerror(errno));
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0;
    int status = 0;
    while (getline(&line, &cap, fp) >= 0) {
        lineno++;
        if (parse_line(&in, line) != 0) {
            fprintf(stderr, "match_tool: line %ld: cannot parse\n", lineno);
            status = 1;
            break;
        }
    }
    free(line);
    if (fp != stdin)
        fclose(fp);

    md_match_person_t *mentors = people_array(&in.mentors);
    md_match_person_t *mentees = people_array(&in.mentees);
    md_match_t *m = NULL;
    md_match_result_t *r = NULL;
    uint16_t *row = NULL;
    char err[256];
    if (status != 0)
        goto cleanup;
    if (mentors == NULL || mentees == NULL) {
        fprintf(stderr, "match_tool: out of memory\n");
        status = 1;
        goto cleanup;
    }
    md_match_input_t input = {in.settings,  mentors,  in.mentors.n, mentees,
                              in.mentees.n, in.facts, in.n_facts};
    if (md_match_create(&m, &input, err, sizeof(err)) != MD_OK) {
        fprintf(stderr, "match_tool: %s\n", err);
        status = 1;
        goto cleanup;
    }

    if (explain != NULL) {
        uint64_t e_id, r_id;
        char buf[64];
        char *colon;
        md_match_explain_t ex;
        snprintf(buf, sizeof(buf), "%s", explain);
        colon = strchr(buf, ':');
        if (colon == NULL) {
            status = usage();
            goto cleanup;
        }
        *colon = '\0';
        if (parse_u64(buf, &e_id) != 0 || parse_u64(colon + 1, &r_id) != 0) {
            status = usage();
            goto cleanup;
        }
        if (md_match_explain(m, e_id, r_id, &ex) != MD_OK) {
            fprintf(stderr, "match_tool: no such pair\n");
            status = 1;
            goto cleanup;
        }
        print_explain(&ex, json);
        goto cleanup;
    }

    if (md_match_solve(m, solver, &r) != MD_OK) {
        fprintf(stderr, "match_tool: solving failed\n");
        status = 1;
        goto cleanup;
    }
    size_t nm = md_match_mentor_count(m), ne = md_match_mentee_count(m);
    row = malloc((nm ? nm : 1) * sizeof(*row));
    if (row == NULL) {
        status = 1;
        goto cleanup;
    }
    if (json) {
        printf("{\"pairs\": [");
        for (size_t k = 0; k < r->n_pairs; k++)
            printf("%s{\"mentee\": %llu, \"mentor\": %llu, \"score\": %u, \"pinned\": %s}",
                   k ? ", " : "", (unsigned long long)r->pairs[k].mentee_id,
                   (unsigned long long)r->pairs[k].mentor_id, r->pairs[k].score,
                   r->pairs[k].pinned ? "true" : "false");
        printf("],\n \"new_pairs\": %zu, \"new_score\": %lld, \"total_score\": %lld, "
               "\"rounds\": %u",
               r->new_pairs, (long long)r->new_score, (long long)r->total_score, r->stats.rounds);
        if (matrix) {
            printf(",\n \"mentors\": [");
            for (size_t j = 0; j < nm; j++)
                printf("%s%llu", j ? ", " : "", (unsigned long long)md_match_mentor_id(m, j));
            printf("],\n \"mentees\": [");
            for (size_t i = 0; i < ne; i++)
                printf("%s%llu", i ? ", " : "", (unsigned long long)md_match_mentee_id(m, i));
            printf("],\n \"places\": [");
            for (size_t i = 0; i < ne; i++)
                printf("%s%u", i ? ", " : "", r->mentees[i].places);
            printf("],\n \"matrix\": [");
            for (size_t i = 0; i < ne; i++) {
                if (md_match_row(m, i, row) != MD_OK) {
                    status = 1;
                    goto cleanup;
                }
                printf("%s[", i ? ",\n  " : "");
                for (size_t j = 0; j < nm; j++) {
                    if (row[j] == MD_MATCH_NO_PAIR)
                        printf("%snull", j ? "," : "");
                    else
                        printf("%s%u", j ? "," : "", row[j]);
                }
                printf("]");
            }
            printf("]");
        }
        printf("}\n");
    } else {
        for (size_t k = 0; k < r->n_pairs; k++)
            printf("pair %llu %llu %u%s\n", (unsigned long long)r->pairs[k].mentee_id,
                   (unsigned long long)r->pairs[k].mentor_id, r->pairs[k].score,
                   r->pairs[k].pinned ? " pinned" : "");
        printf("total new_pairs=%zu new_score=%lld total_score=%lld rounds=%u\n", r->new_pairs,
               (long long)r->new_score, (long long)r->total_score, r->stats.rounds);
        if (matrix) {
            for (size_t i = 0; i < ne; i++) {
                if (md_match_row(m, i, row) != MD_OK) {
                    status = 1;
                    goto cleanup;
                }
                printf("row %llu", (unsigned long long)md_match_mentee_id(m, i));
                for (size_t j = 0; j < nm; j++) {
                    if (row[j] == MD_MATCH_NO_PAIR)
                        printf(" -");
                    else
                        printf(" %u", row[j]);
                }
                printf("\n");
            }
        }
    }

cleanup:
    free(row);
    md_match_result_free(r);
    md_match_free(m);
    free(mentors);
    free(mentees);
    people_free(&in.mentors);
    people_free(&in.mentees);
    free(in.facts);
    return status;
}
