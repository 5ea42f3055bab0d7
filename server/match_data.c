/* match_data.c: the matching engine's input read from the database rows of
 * one program, and a run's result written back as md_match_apply's
 * parameters. Profiles are stored as packed Profile messages; here their
 * names (skills, goals, interests, languages, departments) become the small
 * integer ids the engine compares, and local availability becomes UTC
 * hours with each person's current offset. */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md_match_data.h"
#include "mentor.pb-c.h"

/* The load's statements are planned for the program at hand every time
 * (plan_cache_mode, for the rest of the transaction): a generic plan made
 * on small programs by a pooled session is ruinous on a large one. */
const char MD_MATCH_SQL_SETTINGS[] =
    "SELECT *, set_config('plan_cache_mode', 'force_custom_plan', true) AS plans "
    "FROM md_match_settings($1::bigint)";
const char MD_MATCH_SQL_PEOPLE[] = "SELECT * FROM md_match_people($1::bigint, $2::bigint[])";
const char MD_MATCH_SQL_FACTS[] = "SELECT * FROM md_match_facts($1::bigint, $2::bigint[])";
const char MD_MATCH_SQL_APPLY[] =
    "SELECT * FROM md_match_apply($1::bigint, $2, $3::smallint, $4::smallint, "
    "to_timestamp($5::double precision / 1000), $6::int, $7::int, $8::int, $9::int, "
    "$10::bigint[], $11::bigint[], $12::int[], $13::int[], $14::bigint[], $15::bigint[], "
    "$16::int[], $17::int[])";

/* Columns of md_match_people. */
enum {
    P_USER,
    P_ROLE,
    P_PROFILE,
    P_NAME,
    P_LEAVE,
    P_TRAINED,
    P_CAP,
    P_OFFSET,
    P_MANAGERS,
    P_PAIRS
};

/* ------------------------------------------------------------ names to ids */

typedef struct {
    char **keys;
    uint32_t *ids;
    size_t cap; /* power of two */
    size_t used;
} intern_t;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s != '\0'; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static void intern_free(intern_t *t)
{
    for (size_t i = 0; i < t->cap; i++)
        free(t->keys[i]);
    free(t->keys);
    free(t->ids);
    memset(t, 0, sizeof(*t));
}

static int intern_grow(intern_t *t)
{
    size_t ncap = t->cap ? t->cap * 2 : 256;
    char **keys = calloc(ncap, sizeof(*keys));
    uint32_t *ids = calloc(ncap, sizeof(*ids));
    if (keys == NULL || ids == NULL) {
        free(keys);
        free(ids);
        return MD_ENOMEM;
    }
    for (size_t i = 0; i < t->cap; i++) {
        if (t->keys[i] == NULL)
            continue;
        size_t j = hash_str(t->keys[i]) & (ncap - 1);
        while (keys[j] != NULL)
            j = (j + 1) & (ncap - 1);
        keys[j] = t->keys[i];
        ids[j] = t->ids[i];
    }
    free(t->keys);
    free(t->ids);
    t->keys = keys;
    t->ids = ids;
    t->cap = ncap;
    return MD_OK;
}

/* The id of s (1, 2, ...), made on first sight; 0 when out of memory. */
static uint32_t intern(intern_t *t, const char *s)
{
    if ((t->used + 1) * 2 > t->cap && intern_grow(t) != MD_OK)
        return 0;
    size_t j = hash_str(s) & (t->cap - 1);
    while (t->keys[j] != NULL) {
        if (strcmp(t->keys[j], s) == 0)
            return t->ids[j];
        j = (j + 1) & (t->cap - 1);
    }
    t->keys[j] = strdup(s);
    if (t->keys[j] == NULL)
        return 0;
    t->ids[j] = (uint32_t)++t->used;
    return t->ids[j];
}

/* ------------------------------------------------------------ the program */

struct md_match_program {
    md_match_program_info_t info;
    md_match_t *engine;
    char *name;
    size_t n;       /* loaded people, by user id */
    uint64_t *ids;  /* sorted */
    char **names;   /* display names */
    uint8_t *roles; /* 1 mentor, 2 mentee */
    uint32_t *room; /* mentors: capacity left */
};

static long find_person(const md_match_program_t *p, uint64_t id)
{
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < p->n && p->ids[lo] == id ? (long)lo : -1;
}

void md_match_program_free(md_match_program_t *p)
{
    if (p == NULL)
        return;
    md_match_free(p->engine);
    for (size_t i = 0; i < p->n; i++)
        free(p->names[i]);
    free(p->names);
    free(p->ids);
    free(p->roles);
    free(p->room);
    free(p->name);
    free(p);
}

const md_match_program_info_t *md_match_program_info(const md_match_program_t *p)
{
    return &p->info;
}

const md_match_t *md_match_program_engine(const md_match_program_t *p)
{
    return p->engine;
}

const char *md_match_program_name(const md_match_program_t *p, uint64_t user_id)
{
    long i = find_person(p, user_id);
    return i < 0 ? "" : p->names[i];
}

int md_match_program_role(const md_match_program_t *p, uint64_t user_id)
{
    long i = find_person(p, user_id);
    return i < 0 ? 0 : p->roles[i];
}

uint32_t md_match_program_room(const md_match_program_t *p, uint64_t mentor_id)
{
    long i = find_person(p, mentor_id);
    return i < 0 || p->roles[i] != 1 ? 0 : p->room[i];
}

/* Parses a PostgreSQL int array literal ("{1,2,3}") into at most max
 * values; returns how many. */
static size_t parse_int_array(const char *s, int64_t *out, size_t max)
{
    size_t n = 0;
    if (*s == '{')
        s++;
    while (*s != '\0' && *s != '}' && n < max) {
        char *end;
        long long v = strtoll(s, &end, 10);
        if (end == s)
            break;
        out[n++] = v;
        s = end;
        if (*s == ',')
            s++;
    }
    return n;
}

static int64_t col_i64(const PGresult *r, int row, int col)
{
    const char *s = PQgetvalue(r, row, col);
    char *end;
    long long v = strtoll(s, &end, 10);
    return end == s ? 0 : v;
}

static int col_bool(const PGresult *r, int row, int col)
{
    return PQgetvalue(r, row, col)[0] == 't';
}

/* The storage behind one person's engine record. */
typedef struct {
    md_match_skill_t skills[MD_MATCH_MAX_TAGS];
    uint32_t goals[MD_MATCH_MAX_TAGS];
    uint32_t interests[MD_MATCH_MAX_TAGS];
    uint32_t languages[MD_MATCH_MAX_TAGS];
    uint64_t managers[64];
} person_store_t;

static void lower_ascii(char *dst, size_t len, const char *src)
{
    size_t i = 0;
    for (; src[i] != '\0' && i + 1 < len; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
}

static int fill_person(md_match_person_t *ps, person_store_t *st, const PGresult *r, int row,
                       intern_t *tags, char *err, size_t errlen)
{
    memset(ps, 0, sizeof(*ps));
    ps->user_id = (uint64_t)col_i64(r, row, P_USER);
    int mentor = col_i64(r, row, P_ROLE) == 1;
    ps->on_leave = col_bool(r, row, P_LEAVE);
    ps->training_done = col_bool(r, row, P_TRAINED);
    ps->capacity = (uint32_t)col_i64(r, row, P_CAP);
    ps->existing_pairs = (uint32_t)col_i64(r, row, P_PAIRS);
    int32_t offset = 0;
    if (!PQgetisnull(r, row, P_OFFSET)) {
        ps->has_time_zone = true;
        offset = (int32_t)col_i64(r, row, P_OFFSET);
        ps->utc_offset_min = offset;
    }
    int64_t mgr[64];
    size_t nm = parse_int_array(PQgetvalue(r, row, P_MANAGERS), mgr, 64);
    for (size_t i = 0; i < nm; i++)
        st->managers[i] = (uint64_t)mgr[i];
    ps->managers = st->managers;
    ps->n_managers = (uint32_t)nm;

    size_t rawlen = 0;
    unsigned char *raw =
        PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, P_PROFILE), &rawlen);
    if (raw == NULL)
        return MD_ENOMEM;
    Mentor__V1__Profile *pf = mentor__v1__profile__unpack(NULL, rawlen, raw);
    PQfreemem(raw);
    if (pf == NULL) {
        snprintf(err, errlen, "the stored profile of user %" PRIu64 " does not decode",
                 ps->user_id);
        return MD_EINVAL;
    }
    int rc = MD_OK;
    char key[256];
    size_t nsk = mentor ? pf->n_skills_offered : pf->n_skills_wanted;
    Mentor__V1__Skill **sk = mentor ? pf->skills_offered : pf->skills_wanted;
    uint32_t n = 0;
    for (size_t i = 0; i < nsk && n < MD_MATCH_MAX_TAGS; i++) {
        snprintf(key, sizeof(key), "s:%s", sk[i]->name);
        st->skills[n].id = intern(tags, key);
        st->skills[n].level = sk[i]->level;
        if (st->skills[n].id == 0)
            rc = MD_ENOMEM;
        n++;
    }
    ps->skills = st->skills;
    ps->n_skills = n;
    struct {
        char **names;
        size_t count;
        uint32_t *dst;
        uint32_t *n;
        const char *prefix;
    } lists[] = {
        {pf->career_goals, pf->n_career_goals, st->goals, &ps->n_goals, "g:"},
        {pf->interests, pf->n_interests, st->interests, &ps->n_interests, "i:"},
        {pf->languages, pf->n_languages, st->languages, &ps->n_languages, "l:"},
    };
    for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
        uint32_t k = 0;
        for (size_t i = 0; i < lists[l].count && k < MD_MATCH_MAX_TAGS; i++) {
            snprintf(key, sizeof(key), "%s%s", lists[l].prefix, lists[l].names[i]);
            lists[l].dst[k] = intern(tags, key);
            if (lists[l].dst[k] == 0)
                rc = MD_ENOMEM;
            k++;
        }
        *lists[l].n = k;
    }
    ps->goals = st->goals;
    ps->interests = st->interests;
    ps->languages = st->languages;
    if (pf->department != NULL && pf->department[0] != '\0') {
        char dept[220];
        lower_ascii(dept, sizeof(dept), pf->department);
        snprintf(key, sizeof(key), "d:%s", dept);
        ps->department = intern(tags, key);
        if (ps->department == 0)
            rc = MD_ENOMEM;
    }
    ps->seniority = pf->seniority_level;
    for (size_t i = 0; i < pf->n_availability; i++)
        md_match_availability_add(ps->availability, pf->availability[i], offset);
    mentor__v1__profile__free_unpacked(pf, NULL);
    return rc;
}

static int load_settings(md_match_settings_t *s, md_match_program_info_t *info, const PGresult *r,
                         char **name)
{
    md_match_settings_init(s);
    int64_t w[MD_MATCH_NFACTORS + 1];
    size_t nw = parse_int_array(PQgetvalue(r, 0, 0), w, MD_MATCH_NFACTORS + 1);
    if (nw != MD_MATCH_NFACTORS)
        return MD_EINVAL;
    for (size_t i = 0; i < MD_MATCH_NFACTORS; i++)
        s->weights[i] = (uint8_t)(w[i] < 0 ? 0 : w[i] > 100 ? 100 : w[i]);
    s->department = (md_match_dept_rule_t)col_i64(r, 0, 1);
    s->min_seniority_gap = (uint32_t)col_i64(r, 0, 2);
    s->require_language = col_bool(r, 0, 3);
    s->require_training = col_bool(r, 0, 4);
    s->mentors_per_mentee = (uint32_t)col_i64(r, 0, 5);
    s->objective = (md_match_objective_t)col_i64(r, 0, 6);
    info->mentors_per_mentee = s->mentors_per_mentee;
    info->objective = (int)s->objective;
    info->state = (int)col_i64(r, 0, 8);
    info->match_mode = (int)col_i64(r, 0, 9);
    *name = strdup(PQgetvalue(r, 0, 10));
    return *name != NULL ? MD_OK : MD_ENOMEM;
}

int md_match_program_load(uint64_t program_id, const PGresult *settings, const PGresult *people,
                          const PGresult *facts, uint32_t threads, md_match_program_t **out,
                          char *err, size_t errlen)
{
    char dummy[8];
    if (err == NULL) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    err[0] = '\0';
    *out = NULL;
    if (PQntuples(settings) != 1 || PQnfields(settings) < 11 || PQnfields(people) < 10 ||
        PQnfields(facts) < 4) {
        snprintf(err, errlen, "no such program");
        return MD_EINVAL;
    }
    int rc = MD_ENOMEM;
    size_t n = (size_t)PQntuples(people);
    size_t nf = (size_t)PQntuples(facts);
    intern_t tags = {0};
    md_match_person_t *mentors = NULL, *mentees = NULL;
    person_store_t *store = NULL;
    md_match_fact_t *fv = NULL;
    md_match_program_t *p = calloc(1, sizeof(*p));
    if (p == NULL)
        goto cleanup;
    p->info.program_id = program_id;
    md_match_settings_t s;
    rc = load_settings(&s, &p->info, settings, &p->name);
    if (rc != MD_OK) {
        snprintf(err, errlen, "the program's weights are not readable");
        goto cleanup;
    }
    p->info.name = p->name;
    s.threads = threads;
    rc = MD_ENOMEM;
    p->ids = calloc(n + 1, sizeof(*p->ids));
    p->names = calloc(n + 1, sizeof(*p->names));
    p->roles = calloc(n + 1, sizeof(*p->roles));
    p->room = calloc(n + 1, sizeof(*p->room));
    mentors = calloc(n + 1, sizeof(*mentors));
    mentees = calloc(n + 1, sizeof(*mentees));
    store = calloc(n + 1, sizeof(*store));
    fv = calloc(nf + 1, sizeof(*fv));
    if (p->ids == NULL || p->names == NULL || p->roles == NULL || p->room == NULL ||
        mentors == NULL || mentees == NULL || store == NULL || fv == NULL)
        goto cleanup;
    size_t nmentors = 0, nmentees = 0;
    for (size_t i = 0; i < n; i++) {
        int row = (int)i;
        int mentor = col_i64(people, row, P_ROLE) == 1;
        md_match_person_t *ps = mentor ? &mentors[nmentors++] : &mentees[nmentees++];
        rc = fill_person(ps, &store[i], people, row, &tags, err, errlen);
        if (rc != MD_OK)
            goto cleanup;
        p->ids[i] = ps->user_id;
        p->roles[i] = mentor ? 1 : 2;
        p->names[i] = strdup(PQgetvalue(people, row, P_NAME));
        if (p->names[i] == NULL) {
            rc = MD_ENOMEM;
            goto cleanup;
        }
        if (mentor) {
            uint32_t used = ps->existing_pairs;
            p->room[i] = ps->capacity > used ? ps->capacity - used : 0;
        }
        if (i > 0 && p->ids[i] <= p->ids[i - 1]) {
            snprintf(err, errlen, "participants are not in user id order");
            rc = MD_EINVAL;
            goto cleanup;
        }
        p->n = i + 1;
    }
    p->info.mentors = (uint32_t)nmentors;
    p->info.mentees = (uint32_t)nmentees;
    /* Facts about people outside the input (withdrawn, deactivated) are
     * left out; the engine refuses pins naming strangers. */
    size_t k = 0;
    for (size_t i = 0; i < nf; i++) {
        int row = (int)i;
        uint64_t mentee = (uint64_t)col_i64(facts, row, 0);
        uint64_t mentor = (uint64_t)col_i64(facts, row, 1);
        long a = find_person(p, mentee), b = find_person(p, mentor);
        if (a < 0 || b < 0 || p->roles[a] != 2 || p->roles[b] != 1)
            continue;
        fv[k].mentee_id = mentee;
        fv[k].mentor_id = mentor;
        fv[k].kind = (md_match_fact_kind_t)col_i64(facts, row, 2);
        fv[k].value = (uint32_t)col_i64(facts, row, 3);
        if (fv[k].kind == MD_MATCH_FACT_PINNED && p->room[b] > 0)
            p->room[b]--;
        k++;
    }
    md_match_input_t in = {.settings = s,
                           .mentors = mentors,
                           .n_mentors = nmentors,
                           .mentees = mentees,
                           .n_mentees = nmentees,
                           .facts = fv,
                           .n_facts = k};
    rc = md_match_create(&p->engine, &in, err, errlen);
    if (rc != MD_OK)
        goto cleanup;
    *out = p;
    p = NULL;
cleanup:
    free(fv);
    free(store);
    free(mentees);
    free(mentors);
    intern_free(&tags);
    md_match_program_free(p);
    if (rc == MD_ENOMEM && err[0] == '\0')
        snprintf(err, errlen, "out of memory");
    return rc;
}

/* ------------------------------------------------------------ words */

void md_match_factor_detail(const md_match_explain_t *ex, int f, char *buf, size_t len)
{
    if (len == 0)
        return;
    buf[0] = '\0';
    if (f < 0 || f >= MD_MATCH_NFACTORS)
        return;
    if (ex->weight[f] == 0) {
        snprintf(buf, len, "not used by this program");
        return;
    }
    if (ex->neutral & (1u << f)) {
        snprintf(buf, len, "not given by one of the two: counted as halfway");
        return;
    }
    switch (f) {
    case MD_MATCH_SKILLS:
        snprintf(buf, len, "covers %u of %u wanted skills%s", ex->skills_covered, ex->skills_wanted,
                 ex->skills_partial ? " (some below the wanted level)" : "");
        break;
    case MD_MATCH_GOALS:
        snprintf(buf, len, "shares %u of %u career goals", ex->goals_shared, ex->goals_mentee);
        break;
    case MD_MATCH_INTERESTS:
        snprintf(buf, len, "%u shared of %u interests", ex->interests_shared, ex->interests_union);
        break;
    case MD_MATCH_SENIORITY:
        snprintf(buf, len, "mentor %d level%s %s the mentee", abs(ex->seniority_gap),
                 abs(ex->seniority_gap) == 1 ? "" : "s",
                 ex->seniority_gap >= 0 ? "above" : "below");
        break;
    case MD_MATCH_DEPARTMENT:
        snprintf(buf, len, "%s department",
                 ex->department == MD_MATCH_REL_SAME ? "same" : "different");
        break;
    case MD_MATCH_TIME_ZONE:
        snprintf(buf, len, "%u h %02u min apart", ex->tz_distance_min / 60,
                 ex->tz_distance_min % 60);
        break;
    case MD_MATCH_LANGUAGE:
        snprintf(buf, len, "%u common language%s", ex->languages_shared,
                 ex->languages_shared == 1 ? "" : "s");
        break;
    case MD_MATCH_AVAILABILITY:
        snprintf(buf, len, "%u common hours a week (mentee offers %u)", ex->availability_hours,
                 ex->availability_mentee_hours);
        break;
    case MD_MATCH_PREFERENCES:
        if (ex->rank > 0)
            snprintf(buf, len, "the mentee ranked this mentor %u", ex->rank);
        else
            snprintf(buf, len, "not ranked by the mentee");
        break;
    default:
        break;
    }
}

void md_match_rules_text(uint32_t rules, char *buf, size_t len)
{
    size_t used = 0;
    if (len == 0)
        return;
    buf[0] = '\0';
    for (int b = 0; b < MD_MATCH_NRULES; b++) {
        if (!(rules & (1u << b)))
            continue;
        const char *name = md_match_rule_name(1u << b);
        int w = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", name ? name : "?");
        if (w < 0 || (size_t)w >= len - used)
            break;
        used += (size_t)w;
    }
}

void md_match_factors_literal(const md_match_explain_t *ex, char *buf, size_t len)
{
    size_t used = 0;
    if (len == 0)
        return;
    buf[0] = '\0';
    for (int f = 0; f < MD_MATCH_NFACTORS; f++) {
        int w = snprintf(buf + used, len - used, "%s%u", f ? "," : "{", ex->contribution[f]);
        if (w < 0 || (size_t)w >= len - used)
            return;
        used += (size_t)w;
    }
    if (used + 2 <= len) {
        buf[used] = '}';
        buf[used + 1] = '\0';
    }
}

/* ------------------------------------------------------------ apply */

/* A growing string. */
typedef struct {
    char *s;
    size_t len, cap;
    int failed;
} sbuf_t;

static void sb_printf(sbuf_t *b, const char *fmt, ...) MD_PRINTF(2, 3);
static void sb_printf(sbuf_t *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    for (;;) {
        size_t room = b->cap - b->len;
        va_list ap;
        va_start(ap, fmt);
        int w = room ? vsnprintf(b->s + b->len, room, fmt, ap) : -1;
        va_end(ap);
        if (w >= 0 && (size_t)w < room) {
            b->len += (size_t)w;
            return;
        }
        size_t ncap = b->cap ? b->cap * 2 : 256;
        while (w >= 0 && ncap - b->len <= (size_t)w)
            ncap *= 2;
        char *ns = realloc(b->s, ncap);
        if (ns == NULL) {
            b->failed = 1;
            return;
        }
        b->s = ns;
        b->cap = ncap;
    }
}

void md_match_apply_params_free(md_match_apply_params_t *a)
{
    for (int i = 0; i < MD_MATCH_APPLY_NPARAMS; i++) {
        free(a->values[i]);
        a->values[i] = NULL;
    }
}

int md_match_apply_params(const md_match_program_t *p, const md_match_result_t *r,
                          const char *reason, int solver, int64_t started_ms, uint32_t duration_ms,
                          md_match_apply_params_t *out)
{
    memset(out, 0, sizeof(*out));
    /* 9..16: new mentees, mentors, scores, factors; kept the same. */
    sbuf_t arr[8];
    memset(arr, 0, sizeof(arr));
    for (int i = 0; i < 8; i++)
        sb_printf(&arr[i], "{");
    size_t nnew = 0, nkept = 0;
    for (size_t i = 0; i < r->n_pairs; i++) {
        const md_match_pair_t *pr = &r->pairs[i];
        md_match_explain_t ex;
        if (md_match_explain(p->engine, pr->mentee_id, pr->mentor_id, &ex) != MD_OK)
            memset(&ex, 0, sizeof(ex));
        sbuf_t *a = pr->pinned ? &arr[4] : &arr[0];
        const char *sep = (pr->pinned ? nkept : nnew) ? "," : "";
        sb_printf(&a[0], "%s%" PRIu64, sep, pr->mentee_id);
        sb_printf(&a[1], "%s%" PRIu64, sep, pr->mentor_id);
        sb_printf(&a[2], "%s%u", sep, pr->score);
        for (int f = 0; f < MD_MATCH_NFACTORS; f++)
            sb_printf(&a[3], "%s%u", (f == 0 && sep[0] == '\0') ? "" : ",", ex.contribution[f]);
        if (pr->pinned)
            nkept++;
        else
            nnew++;
    }
    uint32_t unmatched = 0;
    for (size_t i = 0; i < r->n_mentees; i++) {
        if (r->mentees[i].places > r->mentees[i].matched)
            unmatched++;
    }
    int rc = MD_OK;
    for (int i = 0; i < 8; i++) {
        sb_printf(&arr[i], "}");
        if (arr[i].failed)
            rc = MD_ENOMEM;
        out->values[9 + i] = arr[i].s;
    }
    char tmp[64];
    const char *v[9] = {0};
    char *own[9];
    snprintf(tmp, sizeof(tmp), "%" PRIu64, p->info.program_id);
    for (int i = 0; i < 9; i++)
        own[i] = NULL;
    own[0] = strdup(tmp);
    own[1] = strdup(reason);
    v[2] = solver == MD_MATCH_STABLE ? "2" : "1";
    v[3] = p->info.objective == MD_MATCH_SCORE ? "2" : "1";
    own[2] = strdup(v[2]);
    own[3] = strdup(v[3]);
    snprintf(tmp, sizeof(tmp), "%" PRId64, started_ms);
    own[4] = strdup(tmp);
    snprintf(tmp, sizeof(tmp), "%u", duration_ms);
    own[5] = strdup(tmp);
    snprintf(tmp, sizeof(tmp), "%u", p->info.mentors);
    own[6] = strdup(tmp);
    snprintf(tmp, sizeof(tmp), "%u", p->info.mentees);
    own[7] = strdup(tmp);
    snprintf(tmp, sizeof(tmp), "%u", unmatched);
    own[8] = strdup(tmp);
    for (int i = 0; i < 9; i++) {
        out->values[i] = own[i];
        if (own[i] == NULL)
            rc = MD_ENOMEM;
    }
    if (rc != MD_OK)
        md_match_apply_params_free(out);
    return rc;
}
