/* roster.c: the participants file, in both directions. Lists inside a
 * cell are separated by ';' (skills as NAME:LEVEL), so that the file's own
 * separator, the comma, is left to the availability spec, which is the
 * same notation as "profile edit --availability". Every problem of a
 * record is reported, not just the first, so that one pass over a file
 * shows everything to fix. */
#include "md_roster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md_args.h"
#include "md_profile.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const col_names[MD_RC_COUNT] = {
    "email",        "display_name", "role",         "skills_offered",  "skills_wanted",
    "career_goals", "interests",    "department",   "seniority_level", "seniority_years",
    "time_zone",    "languages",    "availability", "manager_email",   "capacity",
};

static const char *const day_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

const char *md_roster_col_name(int col)
{
    return col >= 0 && col < MD_RC_COUNT ? col_names[col] : NULL;
}

/* ------------------------------------------------------------------ */
/* Header */

int md_roster_header(md_roster_header_t *h, char *const *cells, size_t n, md_issues_t *issues)
{
    static const int required[] = {MD_RC_EMAIL, MD_RC_ROLE};
    h->n = n < MD_CSV_MAX_FIELDS ? n : MD_CSV_MAX_FIELDS;
    return md_issues_check_header(issues, col_names, MD_RC_COUNT, required, COUNT(required), cells,
                                  h->n, h->col);
}

size_t md_roster_fields(const md_roster_header_t *h, const char *out[MD_RC_COUNT])
{
    size_t n = 0;
    for (size_t i = 0; i < h->n && n < MD_RC_COUNT; i++) {
        int col = h->col[i];
        if (col < 0 || col >= MD_RC_COUNT || col == MD_RC_EMAIL || col == MD_RC_DISPLAY_NAME ||
            col == MD_RC_ROLE)
            continue;
        out[n++] = col_names[col];
    }
    return n;
}

/* ------------------------------------------------------------------ */
/* Record -> ImportRow */

/* The next ';'-separated item of *p with spaces around it trimmed; empty
 * items are skipped. Returns 0 when there are no more. */
static int next_item(const char **p, const char **item, size_t *len)
{
    for (;;) {
        const char *s = *p;
        if (*s == '\0')
            return 0;
        size_t n = strcspn(s, ";");
        *p = s[n] == ';' ? s + n + 1 : s + n;
        while (n > 0 && (*s == ' ' || *s == '\t')) {
            s++;
            n--;
        }
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        if (n > 0) {
            *item = s;
            *len = n;
            return 1;
        }
    }
}

static size_t count_items(const char *s)
{
    const char *item;
    size_t len;
    size_t n = 0;
    while (next_item(&s, &item, &len))
        n++;
    return n;
}

static int tags(const char *s, char ***out, size_t *nout)
{
    const char *item;
    size_t len;
    size_t n = count_items(s);
    *out = NULL;
    *nout = 0;
    if (n == 0)
        return MD_OK;
    *out = calloc(n, sizeof(**out));
    if (*out == NULL)
        return MD_ENOMEM;
    while (next_item(&s, &item, &len)) {
        char *copy = strndup(item, len);
        if (copy == NULL)
            return MD_ENOMEM;
        (*out)[(*nout)++] = copy;
    }
    return MD_OK;
}

static int skills(const char *s, uint32_t row, const char *column, md_issues_t *issues,
                  Mentor__V1__Skill ***out, size_t *nout)
{
    const char *item;
    size_t len;
    size_t n = count_items(s);
    int rc = MD_OK;
    *out = NULL;
    *nout = 0;
    if (n == 0)
        return MD_OK;
    *out = calloc(n, sizeof(**out));
    if (*out == NULL)
        return MD_ENOMEM;
    while (next_item(&s, &item, &len)) {
        char *text = strndup(item, len);
        size_t namelen = 0;
        uint32_t level = 0;
        if (text == NULL)
            return MD_ENOMEM;
        if (md_skill_parse(text, &namelen, &level) != MD_OK) {
            md_issues_add(issues, row, column,
                          "invalid skill '%.100s' (expected NAME:LEVEL, e.g. python:4)", text);
            free(text);
            rc = MD_EINVAL;
            continue;
        }
        Mentor__V1__Skill *sk = malloc(sizeof(*sk));
        if (sk == NULL) {
            free(text);
            return MD_ENOMEM;
        }
        mentor__v1__skill__init(sk);
        text[namelen] = '\0';
        sk->name = text;
        sk->level = level;
        (*out)[(*nout)++] = sk;
    }
    return rc;
}

static int number(const char *s, uint32_t row, const char *column, md_issues_t *issues,
                  uint32_t *out)
{
    *out = 0;
    if (s[0] == '\0')
        return MD_OK;
    if (md_parse_u32(s, out) != MD_OK) {
        md_issues_add(issues, row, column, "expected a whole number, got '%.60s'", s);
        return MD_EINVAL;
    }
    return MD_OK;
}

/* A number whose range starts at 1 (what is the field, for messages;
 * unset what an empty cell means). On the wire 0 means "not given", so a
 * written 0 would silently read as an empty cell: it is refused instead.
 * The upper bound is only named here; the server checks it. */
static int positive(const char *s, uint32_t row, const char *column, md_issues_t *issues,
                    const char *what, uint32_t max, const char *unset, uint32_t *out)
{
    if (number(s, row, column, issues, out) != MD_OK)
        return MD_EINVAL;
    if (s[0] != '\0' && *out == 0) {
        md_issues_add(issues, row, column,
                      "%s 0 is not allowed: expected 1-%u (leave the cell empty for %s)", what, max,
                      unset);
        return MD_EINVAL;
    }
    return MD_OK;
}

static int availability(const char *s, uint32_t row, const char *column, md_issues_t *issues,
                        Mentor__V1__Profile *p)
{
    uint32_t slots[MD_WEEK_HOURS];
    size_t n = 0;
    char err[200];
    if (s[0] == '\0')
        return MD_OK;
    if (md_availability_parse(s, slots, &n, err, sizeof(err)) != MD_OK) {
        md_issues_add(issues, row, column, "%s", err);
        return MD_EINVAL;
    }
    p->availability = malloc(n * sizeof(uint32_t));
    if (p->availability == NULL)
        return MD_ENOMEM;
    memcpy(p->availability, slots, n * sizeof(uint32_t));
    p->n_availability = n;
    return MD_OK;
}

/* An ImportRow whose every string is allocated, so that free_unpacked
 * releases all of it whatever state it is left in. */
static Mentor__V1__ImportRow *row_new(void)
{
    Mentor__V1__ImportRow *r = malloc(sizeof(*r));
    Mentor__V1__Profile *p = malloc(sizeof(*p));
    if (r == NULL || p == NULL) {
        free(r);
        free(p);
        return NULL;
    }
    mentor__v1__import_row__init(r);
    mentor__v1__profile__init(p);
    r->profile = p;
    r->email = strdup("");
    r->display_name = strdup("");
    r->manager_email = strdup("");
    p->department = strdup("");
    p->time_zone = strdup("");
    if (r->email == NULL || r->display_name == NULL || r->manager_email == NULL ||
        p->department == NULL || p->time_zone == NULL) {
        mentor__v1__import_row__free_unpacked(r, NULL);
        return NULL;
    }
    return r;
}

/* Put cell s into column col of r. MD_EINVAL means an issue was added. */
static int row_cell(Mentor__V1__ImportRow *r, int col, const char *s, uint32_t row,
                    md_issues_t *issues)
{
    Mentor__V1__Profile *p = r->profile;
    const char *name = col_names[col];
    char **slot = NULL;
    int role = 0;
    switch (col) {
    case MD_RC_EMAIL:
        slot = &r->email;
        break;
    case MD_RC_DISPLAY_NAME:
        slot = &r->display_name;
        break;
    case MD_RC_MANAGER_EMAIL:
        slot = &r->manager_email;
        break;
    case MD_RC_DEPARTMENT:
        slot = &p->department;
        break;
    case MD_RC_TIME_ZONE:
        slot = &p->time_zone;
        break;
    case MD_RC_ROLE:
        if (s[0] == '\0') {
            md_issues_add(issues, row, name, "required (mentor or mentee)");
            return MD_EINVAL;
        }
        if (md_participant_role_parse(s, &role) != MD_OK) {
            md_issues_add(issues, row, name, "invalid role '%.40s' (expected mentor or mentee)", s);
            return MD_EINVAL;
        }
        r->role = (Mentor__V1__ParticipantRole)role;
        return MD_OK;
    case MD_RC_SKILLS_OFFERED:
        return skills(s, row, name, issues, &p->skills_offered, &p->n_skills_offered);
    case MD_RC_SKILLS_WANTED:
        return skills(s, row, name, issues, &p->skills_wanted, &p->n_skills_wanted);
    case MD_RC_CAREER_GOALS:
        return tags(s, &p->career_goals, &p->n_career_goals);
    case MD_RC_INTERESTS:
        return tags(s, &p->interests, &p->n_interests);
    case MD_RC_LANGUAGES:
        return tags(s, &p->languages, &p->n_languages);
    case MD_RC_SENIORITY_LEVEL:
        return positive(s, row, name, issues, "seniority level", 20, "no level",
                        &p->seniority_level);
    case MD_RC_SENIORITY_YEARS:
        return number(s, row, name, issues, &p->seniority_years);
    case MD_RC_CAPACITY:
        return positive(s, row, name, issues, "capacity", 10, "the program's default",
                        &p->capacity);
    case MD_RC_AVAILABILITY:
        return availability(s, row, name, issues, p);
    default:
        return MD_OK;
    }
    char *copy = strdup(s);
    if (copy == NULL)
        return MD_ENOMEM;
    free(*slot);
    *slot = copy;
    return MD_OK;
}

int md_roster_row(const md_roster_header_t *h, uint32_t row, char *const *cells, size_t n,
                  md_issues_t *issues, Mentor__V1__ImportRow **out)
{
    *out = NULL;
    if (n != h->n) {
        md_issues_add(issues, row, "", "expected %zu cells as in the header, found %zu", h->n, n);
        return MD_EINVAL;
    }
    Mentor__V1__ImportRow *r = row_new();
    if (r == NULL)
        return MD_ENOMEM;
    r->row = row;
    int rc = MD_OK;
    for (size_t i = 0; i < n; i++) {
        int one = row_cell(r, h->col[i], cells[i], row, issues);
        if (one == MD_ENOMEM) {
            rc = MD_ENOMEM;
            break;
        }
        if (one != MD_OK)
            rc = MD_EINVAL;
    }
    if (rc == MD_OK && issues->err != MD_OK)
        rc = issues->err;
    if (rc != MD_OK) {
        mentor__v1__import_row__free_unpacked(r, NULL);
        return rc;
    }
    *out = r;
    return MD_OK;
}

/* ------------------------------------------------------------------ */
/* Participant -> record */

int md_roster_availability_spec(const uint32_t *slots, size_t n, md_buf_t *out)
{
    uint32_t day_mask[7] = {0};
    int items = 0;
    int rc = MD_OK;
    for (size_t i = 0; i < n; i++) {
        if (slots[i] < MD_WEEK_HOURS)
            day_mask[slots[i] / 24] |= 1u << (slots[i] % 24);
    }
    for (int d = 0; d < 7 && rc == MD_OK;) {
        if (day_mask[d] == 0) {
            d++;
            continue;
        }
        /* Consecutive days with the same hours make one day range. */
        int last = d;
        while (last + 1 < 7 && day_mask[last + 1] == day_mask[d])
            last++;
        for (int h = 0; h < 24 && rc == MD_OK;) {
            if (!(day_mask[d] & (1u << h))) {
                h++;
                continue;
            }
            int end = h;
            while (end < 24 && (day_mask[d] & (1u << end)))
                end++;
            char item[32];
            int len;
            if (last > d)
                len = snprintf(item, sizeof(item), "%s%s-%s:%d-%d", items > 0 ? "," : "",
                               day_names[d], day_names[last], h, end);
            else
                len = snprintf(item, sizeof(item), "%s%s:%d-%d", items > 0 ? "," : "", day_names[d],
                               h, end);
            rc = md_buf_append(out, item, (size_t)len);
            items++;
            h = end;
        }
        d = last + 1;
    }
    return rc;
}

static int put_skills(md_buf_t *b, Mentor__V1__Skill *const *s, size_t n)
{
    int rc = MD_OK;
    for (size_t i = 0; i < n && rc == MD_OK; i++) {
        char level[16];
        int len = snprintf(level, sizeof(level), ":%u", s[i]->level);
        if (i > 0)
            rc = md_buf_append(b, ";", 1);
        if (rc == MD_OK)
            rc = md_buf_append(b, s[i]->name, strlen(s[i]->name));
        if (rc == MD_OK)
            rc = md_buf_append(b, level, (size_t)len);
    }
    return rc;
}

static int put_tags(md_buf_t *b, char *const *s, size_t n)
{
    int rc = MD_OK;
    for (size_t i = 0; i < n && rc == MD_OK; i++) {
        if (i > 0)
            rc = md_buf_append(b, ";", 1);
        if (rc == MD_OK)
            rc = md_buf_append(b, s[i], strlen(s[i]));
    }
    return rc;
}

static int put_number(md_buf_t *b, uint32_t v)
{
    char num[16];
    if (v == 0)
        return MD_OK;
    int len = snprintf(num, sizeof(num), "%u", v);
    return md_buf_append(b, num, (size_t)len);
}

int md_roster_cells(const Mentor__V1__Participant *p, const char *manager_email, md_buf_t *buf,
                    const char *cells[MD_RC_COUNT])
{
    static const Mentor__V1__Profile empty = MENTOR__V1__PROFILE__INIT;
    const Mentor__V1__Profile *pr = p->profile != NULL ? p->profile : &empty;
    size_t offsets[MD_RC_COUNT];
    int rc = MD_OK;
    md_buf_reset(buf);
    for (int c = 0; c < MD_RC_COUNT && rc == MD_OK; c++) {
        offsets[c] = buf->len;
        switch (c) {
        case MD_RC_EMAIL:
            rc = md_buf_append(buf, p->email, strlen(p->email));
            break;
        case MD_RC_DISPLAY_NAME:
            rc = md_buf_append(buf, p->display_name, strlen(p->display_name));
            break;
        case MD_RC_ROLE: {
            const char *role = md_participant_role_name(p->role);
            rc = md_buf_append(buf, role, strlen(role));
            break;
        }
        case MD_RC_SKILLS_OFFERED:
            rc = put_skills(buf, pr->skills_offered, pr->n_skills_offered);
            break;
        case MD_RC_SKILLS_WANTED:
            rc = put_skills(buf, pr->skills_wanted, pr->n_skills_wanted);
            break;
        case MD_RC_CAREER_GOALS:
            rc = put_tags(buf, pr->career_goals, pr->n_career_goals);
            break;
        case MD_RC_INTERESTS:
            rc = put_tags(buf, pr->interests, pr->n_interests);
            break;
        case MD_RC_DEPARTMENT:
            rc = md_buf_append(buf, pr->department, strlen(pr->department));
            break;
        case MD_RC_SENIORITY_LEVEL:
            rc = put_number(buf, pr->seniority_level);
            break;
        case MD_RC_SENIORITY_YEARS:
            rc = put_number(buf, pr->seniority_years);
            break;
        case MD_RC_TIME_ZONE:
            rc = md_buf_append(buf, pr->time_zone, strlen(pr->time_zone));
            break;
        case MD_RC_LANGUAGES:
            rc = put_tags(buf, pr->languages, pr->n_languages);
            break;
        case MD_RC_AVAILABILITY:
            rc = md_roster_availability_spec(pr->availability, pr->n_availability, buf);
            break;
        case MD_RC_MANAGER_EMAIL:
            rc = md_buf_append(buf, manager_email, strlen(manager_email));
            break;
        case MD_RC_CAPACITY:
            rc = put_number(buf, pr->capacity);
            break;
        default:
            break;
        }
        if (rc == MD_OK)
            rc = md_buf_append(buf, "", 1);
    }
    if (rc != MD_OK)
        return rc;
    for (int c = 0; c < MD_RC_COUNT; c++)
        cells[c] = (const char *)buf->data + offsets[c];
    return MD_OK;
}
