/* profile.c: building and showing participant profiles. A profile edit is
 * assembled in layers: the JSON file first, then the flags (a flag replaces
 * the file's value for its field), then --clear. Each field given lands in
 * the update mask, so the server changes exactly what the user named and
 * nothing else. All memory hanging off the Profile message is owned by the
 * edit and released field by field, since a later layer may replace what
 * an earlier one set. */
#include "md_profile.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const field_names[MD_PF_COUNT] = {
    "skills_offered",  "skills_wanted",   "career_goals", "interests", "department",
    "seniority_level", "seniority_years", "time_zone",    "languages", "availability",
    "manager_id",      "capacity",        "attributes",
};

/* The flag that sets each field, for help and conflict messages. */
static const char *const field_flags[MD_PF_COUNT] = {
    "offer",     "want",     "goal",         "interest", "department", "level",     "years",
    "time-zone", "language", "availability", "manager",  "capacity",   "attribute",
};

static const char *const day_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

const char *md_participant_role_name(int role)
{
    switch (role) {
    case MENTOR__V1__PARTICIPANT_ROLE__MENTOR:
        return "mentor";
    case MENTOR__V1__PARTICIPANT_ROLE__MENTEE:
        return "mentee";
    default:
        return "unspecified";
    }
}

int md_participant_role_parse(const char *s, int *role)
{
    if (strcasecmp(s, "mentor") == 0)
        *role = MENTOR__V1__PARTICIPANT_ROLE__MENTOR;
    else if (strcasecmp(s, "mentee") == 0)
        *role = MENTOR__V1__PARTICIPANT_ROLE__MENTEE;
    else
        return MD_EINVAL;
    return MD_OK;
}

int md_skill_parse(const char *s, size_t *namelen, uint32_t *level)
{
    const char *colon = strrchr(s, ':');
    if (colon == NULL || colon == s)
        return MD_EINVAL;
    if (md_parse_u32(colon + 1, level) != MD_OK)
        return MD_EINVAL;
    *namelen = (size_t)(colon - s);
    return MD_OK;
}

/* ------------------------------------------------------------------ */
/* Availability */

MD_PRINTF(3, 4) static int set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || errlen == 0)
        return MD_EINVAL;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return MD_EINVAL;
}

static int day_index(const char *s, size_t len)
{
    for (int d = 0; d < 7; d++) {
        if (len == 3 && strncasecmp(s, day_names[d], 3) == 0)
            return d;
    }
    return -1;
}

/* An hour from 0 to 24 written with one or two digits. */
static int parse_hour(const char *s, size_t len)
{
    if (len == 0 || len > 2)
        return -1;
    int h = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        h = h * 10 + (s[i] - '0');
    }
    return h <= 24 ? h : -1;
}

/* One "DAY[-DAY]:START-END" item of len bytes, marked in week. */
static int availability_item(const char *s, size_t len, unsigned char week[MD_WEEK_HOURS],
                             char *err, size_t errlen)
{
    const char *colon = memchr(s, ':', len);
    if (colon == NULL)
        return set_err(err, errlen,
                       "invalid availability '%.*s' (expected DAY:START-END, e.g. mon-fri:9-17)",
                       (int)len, s);
    size_t dlen = (size_t)(colon - s);
    const char *hours = colon + 1;
    size_t hlen = len - dlen - 1;
    const char *dash = memchr(s, '-', dlen);
    size_t first_len = dash != NULL ? (size_t)(dash - s) : dlen;
    int d0 = day_index(s, first_len);
    int d1 = d0;
    if (dash != NULL)
        d1 = day_index(dash + 1, dlen - first_len - 1);
    if (d0 < 0 || d1 < 0)
        return set_err(err, errlen,
                       "invalid day '%.*s' in availability (expected mon, tue, wed, thu, fri, "
                       "sat or sun, or a range such as mon-fri)",
                       (int)dlen, s);
    if (d1 < d0)
        return set_err(err, errlen,
                       "day range '%.*s' in availability goes backwards (the week starts on "
                       "monday)",
                       (int)dlen, s);
    const char *hdash = memchr(hours, '-', hlen);
    int h0 = hdash != NULL ? parse_hour(hours, (size_t)(hdash - hours)) : -1;
    int h1 = hdash != NULL ? parse_hour(hdash + 1, hlen - (size_t)(hdash - hours) - 1) : -1;
    if (h0 < 0 || h1 < 0 || h0 >= h1)
        return set_err(err, errlen,
                       "invalid hours '%.*s' in availability (expected START-END, hours 0-24, "
                       "START before END, e.g. 9-17)",
                       (int)hlen, hours);
    for (int d = d0; d <= d1; d++) {
        for (int h = h0; h < h1; h++)
            week[d * 24 + h] = 1;
    }
    return MD_OK;
}

int md_availability_parse(const char *spec, uint32_t slots[MD_WEEK_HOURS], size_t *n, char *err,
                          size_t errlen)
{
    unsigned char week[MD_WEEK_HOURS];
    const char *p = spec;
    memset(week, 0, sizeof(week));
    *n = 0;
    for (;;) {
        size_t len = strcspn(p, ",");
        const char *item = p;
        size_t ilen = len;
        /* Spaces around an item are allowed, as in "mon:9-12, tue:9-12". */
        while (ilen > 0 && item[0] == ' ') {
            item++;
            ilen--;
        }
        while (ilen > 0 && item[ilen - 1] == ' ')
            ilen--;
        if (ilen == 0)
            return set_err(err, errlen,
                           "empty item in availability '%s' (expected DAY:START-END items "
                           "separated by commas)",
                           spec);
        if (availability_item(item, ilen, week, err, errlen) != MD_OK)
            return MD_EINVAL;
        if (p[len] == '\0')
            break;
        p += len + 1;
    }
    for (uint32_t h = 0; h < MD_WEEK_HOURS; h++) {
        if (week[h])
            slots[(*n)++] = h;
    }
    return MD_OK;
}

void md_availability_text(const uint32_t *slots, size_t n, md_str_t *out)
{
    uint32_t day_mask[7] = {0};
    int groups = 0;
    for (size_t i = 0; i < n; i++) {
        if (slots[i] < MD_WEEK_HOURS)
            day_mask[slots[i] / 24] |= 1u << (slots[i] % 24);
    }
    for (int d = 0; d < 7;) {
        if (day_mask[d] == 0) {
            d++;
            continue;
        }
        /* Consecutive days with the same hours read as one range. */
        int last = d;
        while (last + 1 < 7 && day_mask[last + 1] == day_mask[d])
            last++;
        md_str_add(out, "%s%s", groups++ > 0 ? ", " : "", day_names[d]);
        if (last > d)
            md_str_add(out, "-%s", day_names[last]);
        for (int h = 0; h < 24;) {
            if (!(day_mask[d] & (1u << h))) {
                h++;
                continue;
            }
            int end = h;
            while (end < 24 && (day_mask[d] & (1u << end)))
                end++;
            md_str_add(out, " %02d-%02d", h, end);
            h = end;
        }
        d = last + 1;
    }
}

/* ------------------------------------------------------------------ */
/* Profile edits */

const char *md_profile_field_name(int field)
{
    return field >= 0 && field < MD_PF_COUNT ? field_names[field] : NULL;
}

int md_profile_field_by_name(const char *name)
{
    for (int f = 0; f < MD_PF_COUNT; f++) {
        if (strcmp(name, field_names[f]) == 0)
            return f;
    }
    return -1;
}

void md_profile_edit_init(md_profile_edit_t *e)
{
    memset(e, 0, sizeof(*e));
    e->pb = (Mentor__V1__Profile)MENTOR__V1__PROFILE__INIT;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void free_skills(Mentor__V1__Skill **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i]->name);
        free(v[i]);
    }
    free(v);
}

/* Strings that were never set still point at protobuf-c's shared empty
 * string, which is not ours to free. */
static void free_text(char **s)
{
    if (*s != protobuf_c_empty_string)
        free(*s);
    *s = (char *)protobuf_c_empty_string;
}

/* Release a field's value and reset it to its zero value. */
static void field_clear(md_profile_edit_t *e, int f)
{
    Mentor__V1__Profile *p = &e->pb;
    switch (f) {
    case MD_PF_SKILLS_OFFERED:
        free_skills(p->skills_offered, p->n_skills_offered);
        p->skills_offered = NULL;
        p->n_skills_offered = 0;
        break;
    case MD_PF_SKILLS_WANTED:
        free_skills(p->skills_wanted, p->n_skills_wanted);
        p->skills_wanted = NULL;
        p->n_skills_wanted = 0;
        break;
    case MD_PF_CAREER_GOALS:
        free_strings(p->career_goals, p->n_career_goals);
        p->career_goals = NULL;
        p->n_career_goals = 0;
        break;
    case MD_PF_INTERESTS:
        free_strings(p->interests, p->n_interests);
        p->interests = NULL;
        p->n_interests = 0;
        break;
    case MD_PF_DEPARTMENT:
        free_text(&p->department);
        break;
    case MD_PF_SENIORITY_LEVEL:
        p->seniority_level = 0;
        break;
    case MD_PF_SENIORITY_YEARS:
        p->seniority_years = 0;
        break;
    case MD_PF_TIME_ZONE:
        free_text(&p->time_zone);
        break;
    case MD_PF_LANGUAGES:
        free_strings(p->languages, p->n_languages);
        p->languages = NULL;
        p->n_languages = 0;
        break;
    case MD_PF_AVAILABILITY:
        free(p->availability);
        p->availability = NULL;
        p->n_availability = 0;
        break;
    case MD_PF_MANAGER_ID:
        p->manager_id = 0;
        break;
    case MD_PF_CAPACITY:
        p->capacity = 0;
        break;
    case MD_PF_ATTRIBUTES:
        for (size_t i = 0; i < p->n_attributes; i++) {
            free(p->attributes[i]->key);
            free(p->attributes[i]->value);
            free(p->attributes[i]);
        }
        free(p->attributes);
        p->attributes = NULL;
        p->n_attributes = 0;
        break;
    default:
        break;
    }
}

void md_profile_edit_free(md_profile_edit_t *e)
{
    if (e == NULL)
        return;
    for (int f = 0; f < MD_PF_COUNT; f++)
        field_clear(e, f);
}

MD_PRINTF(2, 3) static int edit_err(md_profile_edit_t *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->err, sizeof(e->err), fmt, ap);
    va_end(ap);
    return MD_EINVAL;
}

/* Return arr (n elements of elem bytes) grown by one, or NULL with the
 * error recorded; arr is left alone on failure. */
static void *grow(md_profile_edit_t *e, void *arr, size_t n, size_t elem)
{
    void *p = realloc(arr, (n + 1) * elem);
    if (p == NULL)
        edit_err(e, "out of memory");
    return p;
}

static Mentor__V1__Skill ***skills_of(md_profile_edit_t *e, int f, size_t **n)
{
    if (f == MD_PF_SKILLS_OFFERED) {
        *n = &e->pb.n_skills_offered;
        return &e->pb.skills_offered;
    }
    *n = &e->pb.n_skills_wanted;
    return &e->pb.skills_wanted;
}

static char ***strings_of(md_profile_edit_t *e, int f, size_t **n)
{
    if (f == MD_PF_CAREER_GOALS) {
        *n = &e->pb.n_career_goals;
        return &e->pb.career_goals;
    }
    if (f == MD_PF_INTERESTS) {
        *n = &e->pb.n_interests;
        return &e->pb.interests;
    }
    *n = &e->pb.n_languages;
    return &e->pb.languages;
}

static int add_skill(md_profile_edit_t *e, int f, const char *name, size_t len, uint32_t level)
{
    size_t *n;
    Mentor__V1__Skill ***arr = skills_of(e, f, &n);
    Mentor__V1__Skill **grown = grow(e, *arr, *n, sizeof(**arr));
    if (grown == NULL)
        return MD_ENOMEM;
    *arr = grown;
    Mentor__V1__Skill *s = malloc(sizeof(*s));
    char *copy = strndup(name, len);
    if (s == NULL || copy == NULL) {
        free(s);
        free(copy);
        return edit_err(e, "out of memory");
    }
    *s = (Mentor__V1__Skill)MENTOR__V1__SKILL__INIT;
    s->name = copy;
    s->level = level;
    (*arr)[(*n)++] = s;
    return MD_OK;
}

static int add_string(md_profile_edit_t *e, int f, const char *value)
{
    size_t *n;
    char ***arr = strings_of(e, f, &n);
    char **grown = grow(e, *arr, *n, sizeof(**arr));
    if (grown == NULL)
        return MD_ENOMEM;
    *arr = grown;
    char *copy = strdup(value);
    if (copy == NULL)
        return edit_err(e, "out of memory");
    (*arr)[(*n)++] = copy;
    return MD_OK;
}

static int set_text(md_profile_edit_t *e, int f, const char *value)
{
    char **slot = f == MD_PF_DEPARTMENT ? &e->pb.department : &e->pb.time_zone;
    char *copy = strdup(value);
    if (copy == NULL)
        return edit_err(e, "out of memory");
    free_text(slot);
    *slot = copy;
    return MD_OK;
}

static int add_slot(md_profile_edit_t *e, uint32_t slot)
{
    uint32_t *grown = grow(e, e->pb.availability, e->pb.n_availability, sizeof(uint32_t));
    if (grown == NULL)
        return MD_ENOMEM;
    e->pb.availability = grown;
    e->pb.availability[e->pb.n_availability++] = slot;
    return MD_OK;
}

/* A map has one value per key: a key given again replaces its value. */
static int put_attribute(md_profile_edit_t *e, const char *key, size_t keylen, const char *value)
{
    Mentor__V1__Profile *p = &e->pb;
    char *v = strdup(value);
    if (v == NULL)
        return edit_err(e, "out of memory");
    for (size_t i = 0; i < p->n_attributes; i++) {
        if (strlen(p->attributes[i]->key) == keylen &&
            memcmp(p->attributes[i]->key, key, keylen) == 0) {
            free(p->attributes[i]->value);
            p->attributes[i]->value = v;
            return MD_OK;
        }
    }
    Mentor__V1__Profile__AttributesEntry **grown =
        grow(e, p->attributes, p->n_attributes, sizeof(*p->attributes));
    if (grown == NULL) {
        free(v);
        return MD_ENOMEM;
    }
    p->attributes = grown;
    Mentor__V1__Profile__AttributesEntry *entry = malloc(sizeof(*entry));
    char *k = strndup(key, keylen);
    if (entry == NULL || k == NULL) {
        free(entry);
        free(k);
        free(v);
        return edit_err(e, "out of memory");
    }
    *entry = (Mentor__V1__Profile__AttributesEntry)MENTOR__V1__PROFILE__ATTRIBUTES_ENTRY__INIT;
    entry->key = k;
    entry->value = v;
    p->attributes[p->n_attributes++] = entry;
    return MD_OK;
}

static void set_number(md_profile_edit_t *e, int f, uint64_t v)
{
    switch (f) {
    case MD_PF_SENIORITY_LEVEL:
        e->pb.seniority_level = (uint32_t)v;
        break;
    case MD_PF_SENIORITY_YEARS:
        e->pb.seniority_years = (uint32_t)v;
        break;
    case MD_PF_CAPACITY:
        e->pb.capacity = (uint32_t)v;
        break;
    default:
        e->pb.manager_id = v;
        break;
    }
}

/* ---- from JSON ---- */

/* "a", "an": for "expected a string, got an object". */
static const char *kind_phrase(md_json_kind_t k)
{
    switch (k) {
    case MD_JSON_NULL:
        return "null";
    case MD_JSON_BOOL:
        return "a boolean";
    case MD_JSON_NUMBER:
        return "a number";
    case MD_JSON_STRING:
        return "a string";
    case MD_JSON_ARRAY:
        return "an array";
    default:
        return "an object";
    }
}

static int wrong(md_profile_edit_t *e, const char *path, const char *want, const md_json_value_t *v)
{
    return edit_err(e, "%s: expected %s, got %s", path, want, kind_phrase(v->kind));
}

static int json_string(md_profile_edit_t *e, const char *path, const md_json_value_t *v)
{
    return v->kind == MD_JSON_STRING ? MD_OK : wrong(e, path, "a string", v);
}

static int json_whole(md_profile_edit_t *e, const char *path, const md_json_value_t *v,
                      uint64_t max, uint64_t *out)
{
    if (v->kind != MD_JSON_NUMBER)
        return wrong(e, path, "a whole number", v);
    if (md_json_get_u64(v, out) != MD_OK || *out > max)
        return edit_err(e, "%s: expected a whole number from 0 to %llu, got %s", path,
                        (unsigned long long)max, v->text);
    return MD_OK;
}

static int json_skill(md_profile_edit_t *e, int f, size_t idx, const md_json_value_t *v)
{
    char path[64];
    const md_json_value_t *name = NULL;
    uint64_t level = 0;
    int has_level = 0;
    snprintf(path, sizeof(path), "%s[%zu]", field_names[f], idx);
    if (v->kind != MD_JSON_OBJECT)
        return wrong(e, path, "an object like {\"name\": \"c\", \"level\": 4}", v);
    for (size_t i = 0; i < v->n; i++) {
        const char *k = v->keys[i];
        char sub[96];
        snprintf(sub, sizeof(sub), "%s.%.20s", path, k);
        if (strcmp(k, "name") == 0) {
            if (json_string(e, sub, &v->items[i]) != MD_OK)
                return MD_EINVAL;
            name = &v->items[i];
        } else if (strcmp(k, "level") == 0) {
            if (json_whole(e, sub, &v->items[i], UINT32_MAX, &level) != MD_OK)
                return MD_EINVAL;
            has_level = 1;
        } else {
            return edit_err(e, "%s: unknown key \"%s\" (a skill has \"name\" and \"level\")", path,
                            k);
        }
    }
    if (name == NULL || !has_level)
        return edit_err(e, "%s: a skill needs both \"name\" and \"level\"", path);
    return add_skill(e, f, name->text, name->len, (uint32_t)level);
}

static int json_field(md_profile_edit_t *e, int f, const md_json_value_t *v)
{
    const char *key = field_names[f];
    char path[64];
    uint64_t num = 0;
    switch (f) {
    case MD_PF_SKILLS_OFFERED:
    case MD_PF_SKILLS_WANTED:
        if (v->kind != MD_JSON_ARRAY)
            return wrong(e, key, "an array of skills", v);
        for (size_t i = 0; i < v->n; i++) {
            if (json_skill(e, f, i, &v->items[i]) != MD_OK)
                return MD_EINVAL;
        }
        return MD_OK;
    case MD_PF_CAREER_GOALS:
    case MD_PF_INTERESTS:
    case MD_PF_LANGUAGES:
        if (v->kind != MD_JSON_ARRAY)
            return wrong(e, key, "an array of strings", v);
        for (size_t i = 0; i < v->n; i++) {
            snprintf(path, sizeof(path), "%s[%zu]", key, i);
            if (json_string(e, path, &v->items[i]) != MD_OK ||
                add_string(e, f, v->items[i].text) != MD_OK)
                return MD_EINVAL;
        }
        return MD_OK;
    case MD_PF_DEPARTMENT:
    case MD_PF_TIME_ZONE:
        if (json_string(e, key, v) != MD_OK)
            return MD_EINVAL;
        return set_text(e, f, v->text);
    case MD_PF_AVAILABILITY:
        if (v->kind != MD_JSON_ARRAY)
            return wrong(e, key, "an array of hour-of-week numbers", v);
        for (size_t i = 0; i < v->n; i++) {
            snprintf(path, sizeof(path), "%s[%zu]", key, i);
            if (json_whole(e, path, &v->items[i], UINT32_MAX, &num) != MD_OK ||
                add_slot(e, (uint32_t)num) != MD_OK)
                return MD_EINVAL;
        }
        return MD_OK;
    case MD_PF_ATTRIBUTES:
        if (v->kind != MD_JSON_OBJECT)
            return wrong(e, key, "an object of strings", v);
        for (size_t i = 0; i < v->n; i++) {
            snprintf(path, sizeof(path), "%s.%.40s", key, v->keys[i]);
            if (json_string(e, path, &v->items[i]) != MD_OK ||
                put_attribute(e, v->keys[i], strlen(v->keys[i]), v->items[i].text) != MD_OK)
                return MD_EINVAL;
        }
        return MD_OK;
    case MD_PF_MANAGER_ID:
        if (json_whole(e, key, v, UINT64_MAX, &num) != MD_OK)
            return MD_EINVAL;
        set_number(e, f, num);
        return MD_OK;
    default:
        if (json_whole(e, key, v, UINT32_MAX, &num) != MD_OK)
            return MD_EINVAL;
        set_number(e, f, num);
        return MD_OK;
    }
}

int md_profile_edit_json(md_profile_edit_t *e, const md_json_value_t *doc)
{
    if (doc->kind != MD_JSON_OBJECT)
        return edit_err(e, "expected a JSON object with profile fields, got %s",
                        kind_phrase(doc->kind));
    for (size_t i = 0; i < doc->n; i++) {
        const char *key = doc->keys[i];
        int f = md_profile_field_by_name(key);
        if (f < 0) {
            const char *best = md_closest(key, field_names, MD_PF_COUNT);
            if (best != NULL)
                return edit_err(e, "unknown key \"%.60s\" (did you mean \"%s\"?)", key, best);
            return edit_err(e, "unknown key \"%.60s\" (not a profile field)", key);
        }
        field_clear(e, f);
        if (json_field(e, f, &doc->items[i]) != MD_OK)
            return MD_EINVAL;
        e->set |= 1u << f;
    }
    return MD_OK;
}

/* ---- from flags ---- */

static int flag_field(md_profile_edit_t *e, const md_args_t *a, int f)
{
    const char *flag = field_flags[f];
    size_t n = md_args_count(a, flag);
    uint32_t slots[MD_WEEK_HOURS];
    char err[200];
    size_t nslots = 0;
    uint32_t u32 = 0;
    uint64_t id = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = md_args_nth(a, flag, i);
        size_t len = 0;
        switch (f) {
        case MD_PF_SKILLS_OFFERED:
        case MD_PF_SKILLS_WANTED:
            if (md_skill_parse(s, &len, &u32) != MD_OK)
                return edit_err(e, "invalid --%s '%s' (expected SKILL:LEVEL, e.g. c:4)", flag, s);
            if (add_skill(e, f, s, len, u32) != MD_OK)
                return MD_ENOMEM;
            break;
        case MD_PF_CAREER_GOALS:
        case MD_PF_INTERESTS:
        case MD_PF_LANGUAGES:
            if (add_string(e, f, s) != MD_OK)
                return MD_ENOMEM;
            break;
        case MD_PF_DEPARTMENT:
        case MD_PF_TIME_ZONE:
            if (set_text(e, f, s) != MD_OK)
                return MD_ENOMEM;
            break;
        case MD_PF_AVAILABILITY:
            if (md_availability_parse(s, slots, &nslots, err, sizeof(err)) != MD_OK)
                return edit_err(e, "%s", err);
            for (size_t k = 0; k < nslots; k++) {
                if (add_slot(e, slots[k]) != MD_OK)
                    return MD_ENOMEM;
            }
            break;
        case MD_PF_MANAGER_ID:
            if (md_parse_id(s, &id) != MD_OK)
                return edit_err(e,
                                "invalid --manager '%s' (expected a user id; to remove the "
                                "manager use --clear manager_id)",
                                s);
            set_number(e, f, id);
            break;
        case MD_PF_ATTRIBUTES: {
            const char *eq = strchr(s, '=');
            if (eq == NULL || eq == s)
                return edit_err(e, "invalid --attribute '%s' (expected KEY=VALUE)", s);
            if (put_attribute(e, s, (size_t)(eq - s), eq + 1) != MD_OK)
                return MD_ENOMEM;
            break;
        }
        default:
            if (md_parse_u32(s, &u32) != MD_OK)
                return edit_err(e, "invalid --%s '%s' (expected a number)", flag, s);
            set_number(e, f, u32);
            break;
        }
    }
    return MD_OK;
}

int md_profile_edit_args(md_profile_edit_t *e, const md_args_t *a)
{
    for (int f = 0; f < MD_PF_COUNT; f++) {
        if (md_args_count(a, field_flags[f]) == 0)
            continue;
        field_clear(e, f);
        if (flag_field(e, a, f) != MD_OK)
            return MD_EINVAL;
        e->set |= 1u << f;
        e->from_flags |= 1u << f;
    }
    size_t n = md_args_count(a, "clear");
    for (size_t i = 0; i < n; i++) {
        const char *s = md_args_nth(a, "clear", i);
        int f = md_profile_field_by_name(s);
        if (f < 0) {
            const char *best = md_closest(s, field_names, MD_PF_COUNT);
            if (best != NULL)
                return edit_err(e, "cannot clear '%s': no such profile field (did you mean '%s'?)",
                                s, best);
            return edit_err(e, "cannot clear '%s': no such profile field", s);
        }
        if (e->from_flags & (1u << f))
            return edit_err(e, "--clear %s conflicts with --%s", s, field_flags[f]);
        field_clear(e, f);
        e->set |= 1u << f;
    }
    return MD_OK;
}

size_t md_profile_edit_mask(const md_profile_edit_t *e, const char *mask[MD_PF_COUNT])
{
    size_t n = 0;
    for (int f = 0; f < MD_PF_COUNT; f++) {
        if (e->set & (1u << f))
            mask[n++] = field_names[f];
    }
    return n;
}

/* ------------------------------------------------------------------ */
/* Rendering */

static void json_skills(md_json_t *j, const char *key, Mentor__V1__Skill *const *s, size_t n)
{
    md_json_begin_array(j, key);
    for (size_t i = 0; i < n; i++) {
        md_json_begin_object(j, NULL);
        md_json_string(j, "name", s[i]->name);
        md_json_uint(j, "level", s[i]->level);
        md_json_end_object(j);
    }
    md_json_end_array(j);
}

static void json_strings(md_json_t *j, const char *key, char *const *s, size_t n)
{
    md_json_begin_array(j, key);
    for (size_t i = 0; i < n; i++)
        md_json_string(j, NULL, s[i]);
    md_json_end_array(j);
}

void md_json_profile(md_json_t *j, const char *key, const Mentor__V1__Profile *p)
{
    static const Mentor__V1__Profile empty = MENTOR__V1__PROFILE__INIT;
    if (p == NULL)
        p = &empty;
    md_json_begin_object(j, key);
    json_skills(j, "skills_offered", p->skills_offered, p->n_skills_offered);
    json_skills(j, "skills_wanted", p->skills_wanted, p->n_skills_wanted);
    json_strings(j, "career_goals", p->career_goals, p->n_career_goals);
    json_strings(j, "interests", p->interests, p->n_interests);
    md_json_string(j, "department", p->department);
    md_json_uint(j, "seniority_level", p->seniority_level);
    md_json_uint(j, "seniority_years", p->seniority_years);
    md_json_string(j, "time_zone", p->time_zone);
    json_strings(j, "languages", p->languages, p->n_languages);
    md_json_begin_array(j, "availability");
    for (size_t i = 0; i < p->n_availability; i++)
        md_json_uint(j, NULL, p->availability[i]);
    md_json_end_array(j);
    md_json_uint(j, "manager_id", p->manager_id);
    md_json_uint(j, "capacity", p->capacity);
    md_json_begin_object(j, "attributes");
    for (size_t i = 0; i < p->n_attributes; i++)
        md_json_string(j, p->attributes[i]->key, p->attributes[i]->value);
    md_json_end_object(j);
    md_json_end_object(j);
}

void md_json_participant(md_json_t *j, const char *key, const Mentor__V1__Participant *p)
{
    if (p == NULL) {
        md_json_null(j, key);
        return;
    }
    md_json_begin_object(j, key);
    md_json_uint(j, "program_id", p->program_id);
    md_json_uint(j, "user_id", p->user_id);
    md_json_string(j, "email", p->email);
    md_json_string(j, "display_name", p->display_name);
    md_json_string(j, "role", md_participant_role_name(p->role));
    md_json_string(j, "status", p->status);
    md_json_profile(j, "profile", p->profile);
    md_json_time(j, "enrolled_at", p->enrolled_at);
    md_json_bool(j, "training_done", p->training_done);
    md_json_end_object(j);
}

void md_kv_participant(md_table_t *t, const Mentor__V1__Participant *p)
{
    char num[24];
    char enrolled[MD_TIME_LEN];
    if (p == NULL)
        return;
    snprintf(num, sizeof(num), "%llu", (unsigned long long)p->program_id);
    md_table_add(t, "program", num);
    snprintf(num, sizeof(num), "%llu", (unsigned long long)p->user_id);
    md_table_add(t, "user", num);
    md_table_add(t, "email", p->email);
    md_table_add(t, "name", p->display_name);
    md_table_add(t, "role", md_participant_role_name(p->role));
    md_table_add(t, "status", p->status);
    md_table_add(t, "enrolled", md_time_text(p->enrolled_at, enrolled));
    /* Only mentors take the training a program may require. */
    if (p->role == MENTOR__V1__PARTICIPANT_ROLE__MENTOR)
        md_table_add(t, "training", p->training_done ? "done" : "not done");
}

void md_skills_text(Mentor__V1__Skill *const *skills, size_t n, md_str_t *out)
{
    for (size_t i = 0; i < n; i++)
        md_str_add(out, "%s%s (%u)", i > 0 ? ", " : "", skills[i]->name, skills[i]->level);
}

static void strings_text(char *const *s, size_t n, md_str_t *out)
{
    for (size_t i = 0; i < n; i++)
        md_str_add(out, "%s%s", i > 0 ? ", " : "", s[i]);
}

/* Add key: the text of out, or "-" when it is empty (rows with no text
 * are left out unless all). */
static void kv_str(md_table_t *t, const char *key, md_str_t *out, int all)
{
    const char *text = md_str_get(out);
    if (text == NULL)
        t->err = MD_ENOMEM;
    else if (text[0] != '\0')
        md_table_add(t, key, text);
    else if (all)
        md_table_add(t, key, "-");
    md_str_free(out);
    md_str_init(out);
}

void md_kv_profile(md_table_t *t, const Mentor__V1__Profile *p, int role, int all)
{
    static const Mentor__V1__Profile empty = MENTOR__V1__PROFILE__INIT;
    md_str_t s;
    if (p == NULL)
        p = &empty;
    md_str_init(&s);
    md_skills_text(p->skills_offered, p->n_skills_offered, &s);
    kv_str(t, "skills offered", &s, all);
    md_skills_text(p->skills_wanted, p->n_skills_wanted, &s);
    kv_str(t, "skills wanted", &s, all);
    strings_text(p->career_goals, p->n_career_goals, &s);
    kv_str(t, "career goals", &s, all);
    strings_text(p->interests, p->n_interests, &s);
    kv_str(t, "interests", &s, all);
    md_str_add(&s, "%s", p->department);
    kv_str(t, "department", &s, all);
    if (p->seniority_level != 0)
        md_str_add(&s, "%u", p->seniority_level);
    kv_str(t, "seniority level", &s, all);
    if (p->seniority_years != 0 || all)
        md_str_add(&s, "%u", p->seniority_years);
    kv_str(t, "seniority years", &s, all);
    md_str_add(&s, "%s", p->time_zone);
    kv_str(t, "time zone", &s, all);
    strings_text(p->languages, p->n_languages, &s);
    kv_str(t, "languages", &s, all);
    md_availability_text(p->availability, p->n_availability, &s);
    kv_str(t, "availability", &s, all);
    if (p->manager_id != 0)
        md_str_add(&s, "%llu", (unsigned long long)p->manager_id);
    kv_str(t, "manager", &s, all);
    if (p->capacity != 0)
        md_str_add(&s, "%u", p->capacity);
    else if (role == MENTOR__V1__PARTICIPANT_ROLE__MENTOR)
        md_str_add(&s, "program default");
    kv_str(t, "capacity", &s, all);
    for (size_t i = 0; i < p->n_attributes; i++) {
        md_str_add(&s, "%s=%s", p->attributes[i]->key, p->attributes[i]->value);
        kv_str(t, i == 0 ? "attributes" : "", &s, 0);
    }
    md_str_free(&s);
}
