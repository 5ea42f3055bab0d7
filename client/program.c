/* program.c: programs as mentorctl shows and edits them. The command-line
 * flags of "program create" and "program update" become a Program message
 * and the list of fields to change; weights and rules are sent whole, so a
 * single --weight or rule flag is completed from the program's current
 * values (or the creation defaults) instead of zeroing the others. Ranges
 * (weights 0-100, cadence 1-365 ...) are the server's to check: one rule,
 * one message. */
#include "md_program.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "md_matching.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

typedef struct {
    const char *name;
    int value;
} named_t;

static const named_t states[] = {
    {"draft", MENTOR__V1__PROGRAM_STATE__DRAFT},
    {"enrolling", MENTOR__V1__PROGRAM_STATE__ENROLLING},
    {"matching", MENTOR__V1__PROGRAM_STATE__MATCHING},
    {"active", MENTOR__V1__PROGRAM_STATE__ACTIVE},
    {"closed", MENTOR__V1__PROGRAM_STATE__CLOSED},
};

static const named_t dept_rules[] = {
    {"any", MENTOR__V1__DEPARTMENT_RULE__DEPARTMENT_ANY},
    {"same", MENTOR__V1__DEPARTMENT_RULE__DEPARTMENT_SAME},
    {"different", MENTOR__V1__DEPARTMENT_RULE__DEPARTMENT_DIFFERENT},
};

static const struct {
    const char *name;
    uint32_t def;
} weights[MD_WEIGHT_COUNT] = {
    {"skills", 30},    {"goals", 15},    {"interests", 10},   {"seniority", 10},  {"department", 5},
    {"time_zone", 10}, {"language", 10}, {"availability", 5}, {"preferences", 5},
};

static const char *const field_names[MD_PG_COUNT] = {
    "name",
    "description",
    "objectives",
    "mentor_expectations",
    "mentee_expectations",
    "checkin_cadence_days",
    "start_date",
    "end_date",
    "default_mentor_capacity",
    "weights",
    "rules",
    "mentors_per_mentee",
    "objective",
    "match_mode",
    "response_window_days",
    "auto_recalc",
    "recalc_hours",
};

/* The fields "--clear" may empty: those whose empty value means "none".
 * The numbers, weights and rules have no empty value to clear to. */
static const int clearable[] = {
    MD_PG_DESCRIPTION,         MD_PG_OBJECTIVES, MD_PG_MENTOR_EXPECTATIONS,
    MD_PG_MENTEE_EXPECTATIONS, MD_PG_START_DATE, MD_PG_END_DATE,
};

static const char *name_of(const named_t *t, size_t n, int value, const char *other)
{
    for (size_t i = 0; i < n; i++) {
        if (t[i].value == value)
            return t[i].name;
    }
    return other;
}

static int parse_named(const named_t *t, size_t n, const char *s, int *out)
{
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(s, t[i].name) == 0) {
            *out = t[i].value;
            return MD_OK;
        }
    }
    return MD_EINVAL;
}

const char *md_program_state_name(int state)
{
    return name_of(states, COUNT(states), state, "unspecified");
}

int md_program_state_parse(const char *s, int *state)
{
    return parse_named(states, COUNT(states), s, state);
}

const char *md_department_rule_name(int rule)
{
    return name_of(dept_rules, COUNT(dept_rules), rule, "any");
}

int md_department_rule_parse(const char *s, int *rule)
{
    return parse_named(dept_rules, COUNT(dept_rules), s, rule);
}

const char *md_weight_name(size_t i)
{
    return i < MD_WEIGHT_COUNT ? weights[i].name : NULL;
}

uint32_t md_weight_default(size_t i)
{
    return i < MD_WEIGHT_COUNT ? weights[i].def : 0;
}

uint32_t *md_weight_slot(Mentor__V1__MatchingWeights *w, size_t i)
{
    switch (i) {
    case 0:
        return &w->skills;
    case 1:
        return &w->goals;
    case 2:
        return &w->interests;
    case 3:
        return &w->seniority;
    case 4:
        return &w->department;
    case 5:
        return &w->time_zone;
    case 6:
        return &w->language;
    case 7:
        return &w->availability;
    default:
        return &w->preferences;
    }
}

uint32_t md_weight_get(const Mentor__V1__MatchingWeights *w, size_t i)
{
    /* The slot function only computes an address, so casting away const
     * to share it is safe: nothing is written. */
    return *md_weight_slot((Mentor__V1__MatchingWeights *)w, i);
}

const char *md_program_field_name(int field)
{
    return field >= 0 && field < MD_PG_COUNT ? field_names[field] : NULL;
}

void md_program_edit_init(md_program_edit_t *e)
{
    memset(e, 0, sizeof(*e));
    e->pb = (Mentor__V1__Program)MENTOR__V1__PROGRAM__INIT;
    e->weights = (Mentor__V1__MatchingWeights)MENTOR__V1__MATCHING_WEIGHTS__INIT;
    e->rules = (Mentor__V1__MatchingRules)MENTOR__V1__MATCHING_RULES__INIT;
    e->rule_department = -1;
    e->rule_gap = -1;
    e->rule_language = -1;
    e->rule_training = -1;
    e->auto_recalc = -1;
}

void md_program_edit_free(md_program_edit_t *e)
{
    if (e == NULL)
        return;
    free(e->pb.objectives);
    e->pb.objectives = NULL;
    e->pb.n_objectives = 0;
}

MD_PRINTF(2, 3) static int edit_err(md_program_edit_t *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->err, sizeof(e->err), fmt, ap);
    va_end(ap);
    return MD_EINVAL;
}

static int get_u32(md_program_edit_t *e, const md_args_t *a, const char *flag, const char *what,
                   uint32_t *out, int *given)
{
    const char *s = md_args_get(a, flag);
    *given = s != NULL;
    if (s == NULL)
        return MD_OK;
    if (md_parse_u32(s, out) != MD_OK)
        return edit_err(e, "invalid --%s '%s' (expected %s)", flag, s, what);
    return MD_OK;
}

int md_on_off_parse(const char *s, int *on)
{
    if (strcasecmp(s, "on") == 0 || strcasecmp(s, "yes") == 0)
        *on = 1;
    else if (strcasecmp(s, "off") == 0 || strcasecmp(s, "no") == 0)
        *on = 0;
    else
        return MD_EINVAL;
    return MD_OK;
}

static int get_yes_no(md_program_edit_t *e, const md_args_t *a, const char *flag, int *out)
{
    const char *s = md_args_get(a, flag);
    if (s == NULL)
        return MD_OK;
    if (strcasecmp(s, "yes") == 0)
        *out = 1;
    else if (strcasecmp(s, "no") == 0)
        *out = 0;
    else
        return edit_err(e, "invalid --%s '%s' (expected yes or no)", flag, s);
    return MD_OK;
}

/* The string flags, each setting one string field of Program. */
static int get_strings(md_program_edit_t *e, const md_args_t *a)
{
    static const struct {
        const char *flag;
        int field;
        size_t offset;
    } text[] = {
        {"name", MD_PG_NAME, offsetof(Mentor__V1__Program, name)},
        {"description", MD_PG_DESCRIPTION, offsetof(Mentor__V1__Program, description)},
        {"mentor-expectations", MD_PG_MENTOR_EXPECTATIONS,
         offsetof(Mentor__V1__Program, mentor_expectations)},
        {"mentee-expectations", MD_PG_MENTEE_EXPECTATIONS,
         offsetof(Mentor__V1__Program, mentee_expectations)},
        {"start", MD_PG_START_DATE, offsetof(Mentor__V1__Program, start_date)},
        {"end", MD_PG_END_DATE, offsetof(Mentor__V1__Program, end_date)},
    };
    for (size_t i = 0; i < COUNT(text); i++) {
        const char *s = md_args_get(a, text[i].flag);
        if (s == NULL)
            continue;
        char **slot = (char **)((char *)&e->pb + text[i].offset);
        *slot = (char *)s;
        e->set |= 1u << text[i].field;
    }
    size_t n = md_args_count(a, "objective");
    if (n > 0) {
        e->pb.objectives = calloc(n, sizeof(char *));
        if (e->pb.objectives == NULL)
            return edit_err(e, "out of memory");
        for (size_t i = 0; i < n; i++)
            e->pb.objectives[i] = (char *)md_args_nth(a, "objective", i);
        e->pb.n_objectives = n;
        e->set |= 1u << MD_PG_OBJECTIVES;
    }
    return MD_OK;
}

static int get_weights(md_program_edit_t *e, const md_args_t *a)
{
    size_t n = md_args_count(a, "weight");
    for (size_t i = 0; i < n; i++) {
        const char *s = md_args_nth(a, "weight", i);
        const char *eq = strchr(s, '=');
        const char *names[MD_WEIGHT_COUNT];
        char factor[32];
        size_t len = eq != NULL ? (size_t)(eq - s) : 0;
        uint32_t v = 0;
        if (eq == NULL || len == 0 || len >= sizeof(factor))
            return edit_err(e, "invalid --weight '%s' (expected FACTOR=N, e.g. skills=30)", s);
        memcpy(factor, s, len);
        factor[len] = '\0';
        size_t k = 0;
        for (; k < MD_WEIGHT_COUNT; k++) {
            names[k] = weights[k].name;
            if (strcmp(factor, weights[k].name) == 0)
                break;
        }
        if (k == MD_WEIGHT_COUNT) {
            const char *best = md_closest(factor, names, MD_WEIGHT_COUNT);
            if (best != NULL)
                return edit_err(e, "unknown matching factor '%s' (did you mean '%s'?)", factor,
                                best);
            return edit_err(e,
                            "unknown matching factor '%s' (expected skills, goals, interests, "
                            "seniority, department, time_zone, language, availability or "
                            "preferences)",
                            factor);
        }
        if (md_parse_u32(eq + 1, &v) != MD_OK)
            return edit_err(e, "invalid --weight '%s' (expected a number after '=')", s);
        e->weight_given[k] = v;
        e->weight_mask |= 1u << k;
        e->set |= 1u << MD_PG_WEIGHTS;
    }
    return MD_OK;
}

static int get_rules(md_program_edit_t *e, const md_args_t *a)
{
    const char *s = md_args_get(a, "department-rule");
    uint32_t gap = 0;
    int given = 0;
    if (s != NULL && md_department_rule_parse(s, &e->rule_department) != MD_OK)
        return edit_err(e, "invalid --department-rule '%s' (expected any, same or different)", s);
    if (get_u32(e, a, "min-seniority-gap", "a number of levels", &gap, &given) != MD_OK ||
        get_yes_no(e, a, "require-shared-language", &e->rule_language) != MD_OK ||
        get_yes_no(e, a, "require-mentor-training", &e->rule_training) != MD_OK)
        return MD_EINVAL;
    if (given)
        e->rule_gap = gap;
    if (e->rule_department >= 0 || e->rule_gap >= 0 || e->rule_language >= 0 ||
        e->rule_training >= 0)
        e->set |= 1u << MD_PG_RULES;
    return MD_OK;
}

static int get_clears(md_program_edit_t *e, const md_args_t *a)
{
    size_t n = md_args_count(a, "clear");
    for (size_t i = 0; i < n; i++) {
        const char *s = md_args_nth(a, "clear", i);
        const char *names[COUNT(clearable)];
        int field = -1;
        for (size_t k = 0; k < COUNT(clearable); k++) {
            names[k] = field_names[clearable[k]];
            if (strcmp(s, names[k]) == 0)
                field = clearable[k];
        }
        if (field < 0) {
            const char *best = md_closest(s, names, COUNT(names));
            if (best != NULL)
                return edit_err(e, "cannot clear '%s' (did you mean '%s'?)", s, best);
            return edit_err(e,
                            "cannot clear '%s' (expected description, objectives, "
                            "mentor_expectations, mentee_expectations, start_date or end_date)",
                            s);
        }
        if (e->set & (1u << field))
            return edit_err(e, "--clear %s conflicts with the flag that sets %s", s, s);
        /* Zero values: the empty string, or no objectives at all. */
        switch (field) {
        case MD_PG_DESCRIPTION:
            e->pb.description = (char *)"";
            break;
        case MD_PG_MENTOR_EXPECTATIONS:
            e->pb.mentor_expectations = (char *)"";
            break;
        case MD_PG_MENTEE_EXPECTATIONS:
            e->pb.mentee_expectations = (char *)"";
            break;
        case MD_PG_START_DATE:
            e->pb.start_date = (char *)"";
            break;
        case MD_PG_END_DATE:
            e->pb.end_date = (char *)"";
            break;
        default:
            break;
        }
        e->set |= 1u << field;
    }
    return MD_OK;
}

/* The matching settings: plain fields of Program, each its own mask name. */
static int get_matching(md_program_edit_t *e, const md_args_t *a)
{
    static const struct {
        const char *flag;
        const char *what;
        int field;
        size_t offset;
    } numbers[] = {
        {"mentors-per-mentee", "a number of mentors", MD_PG_MENTORS_PER_MENTEE,
         offsetof(Mentor__V1__Program, mentors_per_mentee)},
        {"response-window-days", "a number of days", MD_PG_RESPONSE_WINDOW_DAYS,
         offsetof(Mentor__V1__Program, response_window_days)},
        {"recalc-hours", "a number of hours", MD_PG_RECALC_HOURS,
         offsetof(Mentor__V1__Program, recalc_hours)},
    };
    int given = 0;
    for (size_t i = 0; i < COUNT(numbers); i++) {
        uint32_t *slot = (uint32_t *)((char *)&e->pb + numbers[i].offset);
        if (get_u32(e, a, numbers[i].flag, numbers[i].what, slot, &given) != MD_OK)
            return MD_EINVAL;
        if (given)
            e->set |= 1u << numbers[i].field;
    }
    const char *s = md_args_get(a, "match-objective");
    int v = 0;
    if (s != NULL) {
        if (md_matching_objective_parse(s, &v) != MD_OK)
            return edit_err(e, "invalid --match-objective '%s' (expected participation or score)",
                            s);
        e->pb.objective = (Mentor__V1__MatchObjective)v;
        e->set |= 1u << MD_PG_OBJECTIVE;
    }
    if ((s = md_args_get(a, "match-mode")) != NULL) {
        if (md_matching_mode_parse(s, &v) != MD_OK)
            return edit_err(e, "invalid --match-mode '%s' (expected admin or self)", s);
        e->pb.match_mode = (Mentor__V1__MatchMode)v;
        e->set |= 1u << MD_PG_MATCH_MODE;
    }
    if ((s = md_args_get(a, "auto-recalc")) != NULL) {
        if (md_on_off_parse(s, &e->auto_recalc) != MD_OK)
            return edit_err(e, "invalid --auto-recalc '%s' (expected on or off)", s);
        e->pb.auto_recalc = e->auto_recalc;
        e->set |= 1u << MD_PG_AUTO_RECALC;
    }
    return MD_OK;
}

int md_program_edit_args(md_program_edit_t *e, const md_args_t *a)
{
    int given = 0;
    if (get_strings(e, a) != MD_OK)
        return MD_EINVAL;
    if (get_u32(e, a, "cadence", "a number of days", &e->pb.checkin_cadence_days, &given) != MD_OK)
        return MD_EINVAL;
    if (given)
        e->set |= 1u << MD_PG_CHECKIN_CADENCE_DAYS;
    if (get_u32(e, a, "capacity", "a number of mentees", &e->pb.default_mentor_capacity, &given) !=
        MD_OK)
        return MD_EINVAL;
    if (given)
        e->set |= 1u << MD_PG_DEFAULT_MENTOR_CAPACITY;
    if (get_weights(e, a) != MD_OK || get_rules(e, a) != MD_OK || get_matching(e, a) != MD_OK ||
        get_clears(e, a) != MD_OK)
        return MD_EINVAL;
    return MD_OK;
}

int md_program_edit_needs_base(const md_program_edit_t *e)
{
    return (e->set & ((1u << MD_PG_WEIGHTS) | (1u << MD_PG_RULES))) != 0;
}

void md_program_edit_merge(md_program_edit_t *e, const Mentor__V1__Program *base)
{
    if (base == NULL && e->auto_recalc == 0)
        e->pb.auto_recalc_off = 1;
    if (e->set & (1u << MD_PG_WEIGHTS)) {
        for (size_t i = 0; i < MD_WEIGHT_COUNT; i++) {
            uint32_t v = md_weight_default(i);
            if (e->weight_mask & (1u << i))
                v = e->weight_given[i];
            else if (base != NULL && base->weights != NULL)
                v = md_weight_get(base->weights, i);
            *md_weight_slot(&e->weights, i) = v;
        }
        e->pb.weights = &e->weights;
    }
    if (e->set & (1u << MD_PG_RULES)) {
        if (base != NULL && base->rules != NULL) {
            e->rules.department = base->rules->department;
            e->rules.min_seniority_gap = base->rules->min_seniority_gap;
            e->rules.require_shared_language = base->rules->require_shared_language;
            e->rules.require_mentor_training = base->rules->require_mentor_training;
        } else {
            e->rules.department = MENTOR__V1__DEPARTMENT_RULE__DEPARTMENT_ANY;
        }
        if (e->rule_department >= 0)
            e->rules.department = (Mentor__V1__DepartmentRule)e->rule_department;
        if (e->rule_gap >= 0)
            e->rules.min_seniority_gap = (uint32_t)e->rule_gap;
        if (e->rule_language >= 0)
            e->rules.require_shared_language = e->rule_language;
        if (e->rule_training >= 0)
            e->rules.require_mentor_training = e->rule_training;
        e->pb.rules = &e->rules;
    }
}

size_t md_program_edit_mask(const md_program_edit_t *e, const char *mask[MD_PG_COUNT])
{
    size_t n = 0;
    for (int f = 0; f < MD_PG_COUNT; f++) {
        if (e->set & (1u << f))
            mask[n++] = field_names[f];
    }
    return n;
}

static void json_date(md_json_t *j, const char *key, const char *date)
{
    if (date == NULL || date[0] == '\0')
        md_json_null(j, key);
    else
        md_json_string(j, key, date);
}

void md_json_program(md_json_t *j, const char *key, const Mentor__V1__Program *p)
{
    if (p == NULL) {
        md_json_null(j, key);
        return;
    }
    md_json_begin_object(j, key);
    md_json_uint(j, "id", p->id);
    md_json_string(j, "name", p->name);
    md_json_string(j, "description", p->description);
    md_json_begin_array(j, "objectives");
    for (size_t i = 0; i < p->n_objectives; i++)
        md_json_string(j, NULL, p->objectives[i]);
    md_json_end_array(j);
    md_json_string(j, "mentor_expectations", p->mentor_expectations);
    md_json_string(j, "mentee_expectations", p->mentee_expectations);
    md_json_uint(j, "checkin_cadence_days", p->checkin_cadence_days);
    json_date(j, "start_date", p->start_date);
    json_date(j, "end_date", p->end_date);
    md_json_uint(j, "default_mentor_capacity", p->default_mentor_capacity);
    if (p->weights == NULL) {
        md_json_null(j, "weights");
    } else {
        md_json_begin_object(j, "weights");
        for (size_t i = 0; i < MD_WEIGHT_COUNT; i++)
            md_json_uint(j, weights[i].name, md_weight_get(p->weights, i));
        md_json_end_object(j);
    }
    if (p->rules == NULL) {
        md_json_null(j, "rules");
    } else {
        md_json_begin_object(j, "rules");
        md_json_string(j, "department", md_department_rule_name(p->rules->department));
        md_json_uint(j, "min_seniority_gap", p->rules->min_seniority_gap);
        md_json_bool(j, "require_shared_language", p->rules->require_shared_language);
        md_json_bool(j, "require_mentor_training", p->rules->require_mentor_training);
        md_json_end_object(j);
    }
    md_json_string(j, "state", md_program_state_name(p->state));
    md_json_begin_array(j, "coordinator_ids");
    for (size_t i = 0; i < p->n_coordinator_ids; i++)
        md_json_uint(j, NULL, p->coordinator_ids[i]);
    md_json_end_array(j);
    md_json_time(j, "created_at", p->created_at);
    md_json_uint(j, "mentor_count", p->mentor_count);
    md_json_uint(j, "mentee_count", p->mentee_count);
    md_json_uint(j, "mentors_per_mentee", p->mentors_per_mentee);
    md_json_string(j, "objective", md_matching_objective_name(p->objective));
    md_json_string(j, "match_mode", md_matching_mode_name(p->match_mode));
    md_json_uint(j, "response_window_days", p->response_window_days);
    md_json_bool(j, "auto_recalc", p->auto_recalc);
    md_json_uint(j, "recalc_hours", p->recalc_hours);
    md_json_end_object(j);
}

/* Add rows for text, one per line, the first under key. */
static void kv_lines(md_table_t *t, const char *key, const char *text)
{
    const char *line = text;
    for (;;) {
        size_t n = strcspn(line, "\n");
        char *copy = strndup(line, n);
        if (copy == NULL) {
            t->err = MD_ENOMEM;
            return;
        }
        if (n > 0 && copy[n - 1] == '\r')
            copy[n - 1] = '\0';
        md_table_add(t, key, copy);
        free(copy);
        key = "";
        if (line[n] == '\0')
            break;
        line += n + 1;
    }
}

void md_kv_text(md_table_t *t, const char *key, const char *text)
{
    kv_lines(t, key, text != NULL && text[0] != '\0' ? text : "-");
}

void md_kv_program(md_table_t *t, const Mentor__V1__Program *p)
{
    char num[64];
    char created[MD_TIME_LEN];
    md_str_t text;
    if (p == NULL)
        return;
    snprintf(num, sizeof(num), "%llu", (unsigned long long)p->id);
    md_table_add(t, "id", num);
    md_table_add(t, "name", p->name);
    md_table_add(t, "state", md_program_state_name(p->state));
    md_kv_text(t, "description", p->description);
    if (p->n_objectives == 0)
        md_table_add(t, "objectives", "-");
    for (size_t i = 0; i < p->n_objectives; i++) {
        md_str_init(&text);
        md_str_add(&text, "%zu. %s", i + 1, p->objectives[i]);
        if (md_str_get(&text) == NULL)
            t->err = MD_ENOMEM;
        else
            kv_lines(t, i == 0 ? "objectives" : "", md_str_get(&text));
        md_str_free(&text);
    }
    md_kv_text(t, "mentor expectations", p->mentor_expectations);
    md_kv_text(t, "mentee expectations", p->mentee_expectations);
    snprintf(num, sizeof(num), "every %u days", p->checkin_cadence_days);
    md_table_add(t, "check-ins", num);
    md_kv_text(t, "start", p->start_date);
    md_kv_text(t, "end", p->end_date);
    snprintf(num, sizeof(num), "%u", p->default_mentor_capacity);
    md_table_add(t, "mentor capacity", num);
    if (p->weights == NULL) {
        md_table_add(t, "weights", "-");
    } else {
        /* Nine factors make a long line; two rows read better. */
        for (size_t row = 0; row < 2; row++) {
            size_t from = row == 0 ? 0 : 5;
            size_t to = row == 0 ? 5 : MD_WEIGHT_COUNT;
            md_str_init(&text);
            for (size_t i = from; i < to; i++)
                md_str_add(&text, "%s%s %u%s", i > from ? " " : "", weights[i].name,
                           md_weight_get(p->weights, i), i + 1 < MD_WEIGHT_COUNT ? "," : "");
            md_table_add(t, row == 0 ? "weights" : "", md_str_get(&text));
            md_str_free(&text);
        }
    }
    if (p->rules != NULL) {
        md_table_add(t, "department rule", md_department_rule_name(p->rules->department));
        snprintf(num, sizeof(num), "%u", p->rules->min_seniority_gap);
        md_table_add(t, "min seniority gap", num);
        md_table_add(t, "shared language",
                     p->rules->require_shared_language ? "required" : "not required");
        md_table_add(t, "mentor training",
                     p->rules->require_mentor_training ? "required" : "not required");
    }
    snprintf(num, sizeof(num), "%u", p->mentors_per_mentee);
    md_table_add(t, "mentors per mentee", num);
    md_table_add(t, "match objective", md_matching_objective_name(p->objective));
    md_table_add(t, "match mode", md_matching_mode_name(p->match_mode));
    snprintf(num, sizeof(num), "%u days", p->response_window_days);
    md_table_add(t, "response window", num);
    if (!p->auto_recalc)
        snprintf(num, sizeof(num), "off");
    else if (p->recalc_hours == 0)
        snprintf(num, sizeof(num), "after changes");
    else
        snprintf(num, sizeof(num), "after changes, every %u hours", p->recalc_hours);
    md_table_add(t, "auto recalc", num);
    md_str_init(&text);
    for (size_t i = 0; i < p->n_coordinator_ids; i++)
        md_str_add(&text, "%s%llu", i > 0 ? ", " : "", (unsigned long long)p->coordinator_ids[i]);
    md_table_add(t, "coordinators", p->n_coordinator_ids > 0 ? md_str_get(&text) : "-");
    md_str_free(&text);
    snprintf(num, sizeof(num), "%u", p->mentor_count);
    md_table_add(t, "mentors", num);
    snprintf(num, sizeof(num), "%u", p->mentee_count);
    md_table_add(t, "mentees", num);
    md_table_add(t, "created", md_time_text(p->created_at, created));
}
