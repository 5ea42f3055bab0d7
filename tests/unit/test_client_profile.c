/* test_client_profile.c: unit tests for the program and profile models of
 * mentorctl: "SKILL:LEVEL" and availability notations, profiles assembled
 * from a JSON document, flags and --clear (with their update masks and
 * errors), program flags with weights and rules completed from defaults or
 * the current program, the matching settings, and the JSON and key/value
 * renderers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "md_json.h"
#include "md_profile.h"
#include "md_program.h"

/* The profile options as "profile edit" has them. */
static const md_opt_t profile_opts[] = {
    {"offer", 0, MD_OPT_LIST, 0, "SKILL:LEVEL", ""},
    {"want", 0, MD_OPT_LIST, 0, "SKILL:LEVEL", ""},
    {"goal", 0, MD_OPT_LIST, 0, "GOAL", ""},
    {"interest", 0, MD_OPT_LIST, 0, "TOPIC", ""},
    {"department", 0, MD_OPT_VALUE, 0, "NAME", ""},
    {"level", 0, MD_OPT_VALUE, 0, "N", ""},
    {"years", 0, MD_OPT_VALUE, 0, "N", ""},
    {"time-zone", 0, MD_OPT_VALUE, 0, "TZ", ""},
    {"language", 0, MD_OPT_LIST, 0, "CODE", ""},
    {"availability", 0, MD_OPT_VALUE, 0, "SPEC", ""},
    {"manager", 0, MD_OPT_VALUE, 0, "UID", ""},
    {"capacity", 0, MD_OPT_VALUE, 0, "N", ""},
    {"attribute", 0, MD_OPT_LIST, 0, "KEY=VALUE", ""},
    {"clear", 0, MD_OPT_LIST, 0, "FIELD", ""},
};
static const md_args_spec_t profile_spec = {profile_opts, 14, 0, 0, NULL};

/* The program options as "program update" has them. */
static const md_opt_t program_opts[] = {
    {"name", 0, MD_OPT_VALUE, 0, "NAME", ""},
    {"description", 0, MD_OPT_VALUE, 0, "TEXT", ""},
    {"objective", 0, MD_OPT_LIST, 0, "TEXT", ""},
    {"mentor-expectations", 0, MD_OPT_VALUE, 0, "TEXT", ""},
    {"mentee-expectations", 0, MD_OPT_VALUE, 0, "TEXT", ""},
    {"cadence", 0, MD_OPT_VALUE, 0, "DAYS", ""},
    {"start", 0, MD_OPT_VALUE, 0, "DATE", ""},
    {"end", 0, MD_OPT_VALUE, 0, "DATE", ""},
    {"capacity", 0, MD_OPT_VALUE, 0, "N", ""},
    {"weight", 0, MD_OPT_LIST, 0, "FACTOR=N", ""},
    {"department-rule", 0, MD_OPT_VALUE, 0, "RULE", ""},
    {"min-seniority-gap", 0, MD_OPT_VALUE, 0, "N", ""},
    {"require-shared-language", 0, MD_OPT_VALUE, 0, "yes|no", ""},
    {"require-mentor-training", 0, MD_OPT_VALUE, 0, "yes|no", ""},
    {"mentors-per-mentee", 0, MD_OPT_VALUE, 0, "N", ""},
    {"match-objective", 0, MD_OPT_VALUE, 0, "GOAL", ""},
    {"match-mode", 0, MD_OPT_VALUE, 0, "MODE", ""},
    {"response-window-days", 0, MD_OPT_VALUE, 0, "N", ""},
    {"auto-recalc", 0, MD_OPT_VALUE, 0, "on|off", ""},
    {"recalc-hours", 0, MD_OPT_VALUE, 0, "N", ""},
    {"clear", 0, MD_OPT_LIST, 0, "FIELD", ""},
};
static const md_args_spec_t program_spec = {program_opts, 21, 0, 0, NULL};

/* Parse a NULL-terminated argument list against spec. */
static void parse_args(md_args_t *a, const md_args_spec_t *spec, ...)
{
    char *argv[64];
    int argc = 0;
    va_list ap;
    va_start(ap, spec);
    for (;;) {
        char *s = va_arg(ap, char *);
        if (s == NULL)
            break;
        argv[argc++] = s;
    }
    va_end(ap);
    assert_int_equal(md_args_parse(a, spec, argc, argv, 0), MD_OK);
}

static char *render(void (*fn)(md_json_t *, const void *), const void *arg)
{
    md_json_t j;
    md_json_init(&j);
    fn(&j, arg);
    const char *doc = md_json_finish(&j);
    assert_non_null(doc);
    char *copy = strdup(doc);
    md_json_free(&j);
    return copy;
}

static char *kv_text(const md_table_t *t)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(md_table_print_kv(t, f), MD_OK);
    fclose(f);
    return text;
}

/* ------------------------------------------------------------------ */

static void test_skill_parse(void **state)
{
    (void)state;
    size_t n = 0;
    uint32_t level = 0;
    assert_int_equal(md_skill_parse("c:4", &n, &level), MD_OK);
    assert_int_equal(n, 1);
    assert_int_equal(level, 4);
    /* The last ':' splits, so names may hold one. */
    assert_int_equal(md_skill_parse("std::vector:3", &n, &level), MD_OK);
    assert_int_equal(n, 11);
    assert_int_equal(level, 3);
    /* Levels out of 1-5 are sent as given, for the server to judge. */
    assert_int_equal(md_skill_parse("go:7", &n, &level), MD_OK);
    assert_int_equal(level, 7);
    assert_int_equal(md_skill_parse("go:0", &n, &level), MD_OK);
    assert_int_equal(level, 0);
    /* Spaces in the name are the server's to normalize. */
    assert_int_equal(md_skill_parse("  Public   SPEAKING :3", &n, &level), MD_OK);
    assert_int_equal(n, 20);
    /* Not the notation at all. */
    assert_int_equal(md_skill_parse("go", &n, &level), MD_EINVAL);
    assert_int_equal(md_skill_parse(":3", &n, &level), MD_EINVAL);
    assert_int_equal(md_skill_parse("go:", &n, &level), MD_EINVAL);
    assert_int_equal(md_skill_parse("go:high", &n, &level), MD_EINVAL);
    assert_int_equal(md_skill_parse("go:-1", &n, &level), MD_EINVAL);
    assert_int_equal(md_skill_parse("go:3.5", &n, &level), MD_EINVAL);
    assert_int_equal(md_skill_parse("go:99999999999", &n, &level), MD_EINVAL);
}

static size_t avail(const char *spec, uint32_t slots[MD_WEEK_HOURS])
{
    size_t n = 0;
    char err[256] = "";
    if (md_availability_parse(spec, slots, &n, err, sizeof(err)) != MD_OK)
        fail_msg("'%s' did not parse: %s", spec, err);
    return n;
}

static const char *avail_bad(const char *spec)
{
    static char err[256];
    uint32_t slots[MD_WEEK_HOURS];
    size_t n = 0;
    err[0] = '\0';
    assert_int_equal(md_availability_parse(spec, slots, &n, err, sizeof(err)), MD_EINVAL);
    return err;
}

static char *avail_text(const uint32_t *slots, size_t n)
{
    md_str_t s;
    md_str_init(&s);
    md_availability_text(slots, n, &s);
    char *out = strdup(md_str_get(&s));
    md_str_free(&s);
    return out;
}

static void check_roundtrip(const char *spec, const char *want)
{
    uint32_t slots[MD_WEEK_HOURS];
    size_t n = avail(spec, slots);
    char *text = avail_text(slots, n);
    assert_string_equal(text, want);
    free(text);
}

static void test_availability_parse(void **state)
{
    (void)state;
    uint32_t slots[MD_WEEK_HOURS];
    /* Monday 9-12 is slots 9, 10, 11; the end hour is exclusive. */
    assert_int_equal(avail("mon:9-12", slots), 3);
    assert_int_equal(slots[0], 9);
    assert_int_equal(slots[2], 11);
    /* Sunday 23-24 is the last slot of the week. */
    assert_int_equal(avail("sun:23-24", slots), 1);
    assert_int_equal(slots[0], 167);
    assert_int_equal(avail("mon:0-24", slots), 24);
    assert_int_equal(slots[0], 0);
    assert_int_equal(slots[23], 23);
    /* Ranges of days, several items, spaces, case, overlaps merged and
     * the result in ascending order whatever the order given. */
    size_t n = avail("sat:10-12, mon-fri:9-17,MON:16-18", slots);
    assert_int_equal(n, 5 * 8 + 1 + 2);
    assert_int_equal(slots[0], 9);
    assert_int_equal(slots[8], 17); /* monday 17-18 from the overlap */
    assert_int_equal(slots[9], 24 + 9);
    assert_int_equal(slots[n - 1], 5 * 24 + 11);
    for (size_t i = 1; i < n; i++)
        assert_true(slots[i - 1] < slots[i]);
    assert_int_equal(avail("mon-sun:0-24", slots), 168);
    assert_int_equal(avail("tue:09-10", slots), 1);
    assert_int_equal(slots[0], 33);

    assert_non_null(strstr(avail_bad(""), "empty item"));
    assert_non_null(strstr(avail_bad("mon:9-12,"), "empty item"));
    assert_non_null(strstr(avail_bad("mon:9-12,,tue:9-12"), "empty item"));
    assert_non_null(strstr(avail_bad("mon"), "expected DAY:START-END"));
    assert_non_null(strstr(avail_bad("monday:9-12"), "invalid day 'monday'"));
    assert_non_null(strstr(avail_bad("mon-xyz:9-12"), "invalid day"));
    assert_non_null(strstr(avail_bad("mon-tue-wed:9-12"), "invalid day"));
    assert_non_null(strstr(avail_bad(":9-12"), "invalid day"));
    assert_non_null(strstr(avail_bad("fri-mon:9-12"), "goes backwards"));
    assert_non_null(strstr(avail_bad("mon:9"), "invalid hours '9'"));
    assert_non_null(strstr(avail_bad("mon:12-9"), "invalid hours"));
    assert_non_null(strstr(avail_bad("mon:9-9"), "invalid hours"));
    assert_non_null(strstr(avail_bad("mon:9-25"), "invalid hours"));
    assert_non_null(strstr(avail_bad("mon:-1-5"), "invalid hours"));
    assert_non_null(strstr(avail_bad("mon:9-17-18"), "invalid hours"));
    assert_non_null(strstr(avail_bad("mon:9h-17"), "invalid hours"));
    assert_non_null(strstr(avail_bad("mon:009-17"), "invalid hours"));
    assert_non_null(strstr(avail_bad("mon:9:30-17"), "invalid hours"));
}

static void test_availability_text(void **state)
{
    (void)state;
    check_roundtrip("mon:9-17,sat:10-12", "mon 09-17, sat 10-12");
    check_roundtrip("mon-fri:9-17,sat:10-12", "mon-fri 09-17, sat 10-12");
    check_roundtrip("mon-wed:9-12,mon-wed:14-17,fri:9-12", "mon-wed 09-12 14-17, fri 09-12");
    /* Equal days that are not adjacent stay apart. */
    check_roundtrip("mon:9-10,wed:9-10", "mon 09-10, wed 09-10");
    check_roundtrip("mon-sun:0-24", "mon-sun 00-24");
    check_roundtrip("sun:23-24", "sun 23-24");
    /* Unsorted, repeated and out-of-range slots from a server. */
    uint32_t slots[] = {35, 33, 34, 33, 500, 0};
    char *text = avail_text(slots, 6);
    assert_string_equal(text, "mon 00-01, tue 09-12");
    free(text);
    text = avail_text(NULL, 0);
    assert_string_equal(text, "");
    free(text);
}

static void test_roles(void **state)
{
    (void)state;
    int role = 0;
    assert_int_equal(md_participant_role_parse("mentor", &role), MD_OK);
    assert_string_equal(md_participant_role_name(role), "mentor");
    assert_int_equal(md_participant_role_parse("MENTEE", &role), MD_OK);
    assert_string_equal(md_participant_role_name(role), "mentee");
    assert_int_equal(md_participant_role_parse("coach", &role), MD_EINVAL);
    assert_string_equal(md_participant_role_name(0), "unspecified");
    int st = 0;
    assert_int_equal(md_program_state_parse("Enrolling", &st), MD_OK);
    assert_string_equal(md_program_state_name(st), "enrolling");
    assert_int_equal(md_program_state_parse("open", &st), MD_EINVAL);
    assert_string_equal(md_program_state_name(0), "unspecified");
    assert_int_equal(md_department_rule_parse("different", &st), MD_OK);
    assert_string_equal(md_department_rule_name(st), "different");
    assert_string_equal(md_department_rule_name(0), "any");
}

/* ------------------------------------------------------------------ */
/* Profiles */

static md_json_value_t *json(const char *text)
{
    md_json_value_t *v = NULL;
    char err[256];
    if (md_json_parse(text, strlen(text), &v, err, sizeof(err)) != MD_OK)
        fail_msg("bad test JSON: %s", err);
    return v;
}

static const char *json_edit_error(const char *text)
{
    static char err[256];
    md_profile_edit_t e;
    md_json_value_t *doc = json(text);
    md_profile_edit_init(&e);
    assert_int_equal(md_profile_edit_json(&e, doc), MD_EINVAL);
    snprintf(err, sizeof(err), "%s", e.err);
    md_profile_edit_free(&e);
    md_json_value_free(doc);
    return err;
}

static void test_profile_from_json(void **state)
{
    (void)state;
    md_profile_edit_t e;
    const char *mask[MD_PF_COUNT];
    md_json_value_t *doc = json(
        "{\"skills_offered\": [{\"name\": \"c\", \"level\": 4}, {\"level\": 7, \"name\": \"go\"}],"
        " \"career_goals\": [\"lead\"], \"department\": \"Platform\", \"seniority_level\": 4,"
        " \"time_zone\": \"Europe/Paris\", \"languages\": [\"en\", \"fr\"],"
        " \"availability\": [33, 34], \"manager_id\": 18446744073709551615, \"capacity\": 2,"
        " \"attributes\": {\"pronouns\": \"they/them\", \"first_gen\": \"yes\"},"
        " \"interests\": [], \"skills_wanted\": [], \"seniority_years\": 0}");
    md_profile_edit_init(&e);
    assert_int_equal(md_profile_edit_json(&e, doc), MD_OK);
    md_json_value_free(doc);
    assert_int_equal(e.pb.n_skills_offered, 2);
    assert_string_equal(e.pb.skills_offered[1]->name, "go");
    assert_int_equal(e.pb.skills_offered[1]->level, 7);
    assert_string_equal(e.pb.department, "Platform");
    assert_int_equal(e.pb.n_availability, 2);
    assert_int_equal(e.pb.availability[1], 34);
    assert_true(e.pb.manager_id == UINT64_MAX);
    assert_int_equal(e.pb.n_attributes, 2);
    assert_string_equal(e.pb.attributes[1]->key, "first_gen");
    /* Every key present is in the mask, empty values included, in Profile
     * order. */
    assert_int_equal(md_profile_edit_mask(&e, mask), MD_PF_COUNT);
    assert_string_equal(mask[0], "skills_offered");
    assert_string_equal(mask[12], "attributes");
    md_profile_edit_free(&e);

    md_profile_edit_init(&e);
    doc = json("{\"department\": \"\"}");
    assert_int_equal(md_profile_edit_json(&e, doc), MD_OK);
    assert_int_equal(md_profile_edit_mask(&e, mask), 1);
    assert_string_equal(mask[0], "department");
    md_json_value_free(doc);
    md_profile_edit_free(&e);
}

static void test_profile_json_errors(void **state)
{
    (void)state;
    assert_string_equal(json_edit_error("[1]"),
                        "expected a JSON object with profile fields, got an array");
    assert_string_equal(json_edit_error("{\"department\": \"x\", \"departmnt\": \"y\"}"),
                        "unknown key \"departmnt\" (did you mean \"department\"?)");
    assert_string_equal(json_edit_error("{\"favourite_colour\": \"blue\"}"),
                        "unknown key \"favourite_colour\" (not a profile field)");
    assert_string_equal(json_edit_error("{\"department\": 5}"),
                        "department: expected a string, got a number");
    assert_string_equal(json_edit_error("{\"seniority_level\": \"4\"}"),
                        "seniority_level: expected a whole number, got a string");
    assert_string_equal(json_edit_error("{\"seniority_level\": 4.5}"),
                        "seniority_level: expected a whole number from 0 to 4294967295, got 4.5");
    assert_string_equal(json_edit_error("{\"capacity\": -1}"),
                        "capacity: expected a whole number from 0 to 4294967295, got -1");
    assert_string_equal(json_edit_error("{\"capacity\": 4294967296}"),
                        "capacity: expected a whole number from 0 to 4294967295, got 4294967296");
    assert_string_equal(json_edit_error("{\"manager_id\": null}"),
                        "manager_id: expected a whole number, got null");
    assert_string_equal(json_edit_error("{\"languages\": \"en\"}"),
                        "languages: expected an array of strings, got a string");
    assert_string_equal(json_edit_error("{\"languages\": [\"en\", 7]}"),
                        "languages[1]: expected a string, got a number");
    assert_string_equal(json_edit_error("{\"availability\": [1, true]}"),
                        "availability[1]: expected a whole number, got a boolean");
    assert_string_equal(json_edit_error("{\"skills_wanted\": {\"c\": 4}}"),
                        "skills_wanted: expected an array of skills, got an object");
    assert_string_equal(
        json_edit_error("{\"skills_wanted\": [\"c:4\"]}"),
        "skills_wanted[0]: expected an object like {\"name\": \"c\", \"level\": 4}, "
        "got a string");
    assert_string_equal(json_edit_error("{\"skills_wanted\": [{\"name\": \"c\"}]}"),
                        "skills_wanted[0]: a skill needs both \"name\" and \"level\"");
    assert_string_equal(
        json_edit_error("{\"skills_offered\": [{\"name\": \"c\", \"level\": 4, \"years\": 3}]}"),
        "skills_offered[0]: unknown key \"years\" (a skill has \"name\" and \"level\")");
    assert_string_equal(
        json_edit_error("{\"skills_offered\": [{\"name\": \"c\", \"level\": \"4\"}]}"),
        "skills_offered[0].level: expected a whole number, got a string");
    assert_string_equal(json_edit_error("{\"attributes\": {\"age\": 40}}"),
                        "attributes.age: expected a string, got a number");
    assert_string_equal(json_edit_error("{\"attributes\": [\"a\"]}"),
                        "attributes: expected an object of strings, got an array");
}

static void test_profile_from_flags(void **state)
{
    (void)state;
    md_args_t a;
    md_profile_edit_t e;
    const char *mask[MD_PF_COUNT];
    parse_args(&a, &profile_spec, "--offer", "c:4", "--language", "en", "--offer", "go:7",
               "--availability", "mon-fri:9-17", "--attribute", "pronouns=she/her", "--attribute",
               "note=a=b", "--attribute", "pronouns=they/them", "--manager", "12", "--level", "3",
               "--clear", "skills_wanted", NULL);
    md_profile_edit_init(&e);
    assert_int_equal(md_profile_edit_args(&e, &a), MD_OK);
    /* A repeated flag gives the list, in order. */
    assert_int_equal(e.pb.n_skills_offered, 2);
    assert_string_equal(e.pb.skills_offered[0]->name, "c");
    assert_int_equal(e.pb.skills_offered[0]->level, 4);
    assert_string_equal(e.pb.skills_offered[1]->name, "go");
    assert_int_equal(e.pb.skills_offered[1]->level, 7);
    assert_int_equal(e.pb.n_availability, 40);
    /* A key given twice keeps its last value; '=' may be in the value. */
    assert_int_equal(e.pb.n_attributes, 2);
    assert_string_equal(e.pb.attributes[0]->value, "they/them");
    assert_string_equal(e.pb.attributes[1]->value, "a=b");
    assert_int_equal(e.pb.manager_id, 12);
    assert_int_equal(md_profile_edit_mask(&e, mask), 7);
    assert_string_equal(mask[0], "skills_offered");
    assert_string_equal(mask[1], "skills_wanted");
    assert_string_equal(mask[2], "seniority_level");
    assert_string_equal(mask[3], "languages");
    assert_string_equal(mask[4], "availability");
    assert_string_equal(mask[5], "manager_id");
    assert_string_equal(mask[6], "attributes");
    assert_int_equal(e.pb.n_skills_wanted, 0);
    md_profile_edit_free(&e);

    /* Flags replace what the file said for their field; --clear empties a
     * field the file set; the rest of the file stays. */
    md_json_value_t *doc = json("{\"languages\": [\"de\"], \"department\": \"Ops\", "
                                "\"interests\": [\"chess\"]}");
    parse_args(&a, &profile_spec, "--language", "en", "--clear", "interests", NULL);
    md_profile_edit_init(&e);
    assert_int_equal(md_profile_edit_json(&e, doc), MD_OK);
    assert_int_equal(md_profile_edit_args(&e, &a), MD_OK);
    assert_int_equal(e.pb.n_languages, 1);
    assert_string_equal(e.pb.languages[0], "en");
    assert_string_equal(e.pb.department, "Ops");
    assert_int_equal(e.pb.n_interests, 0);
    assert_int_equal(md_profile_edit_mask(&e, mask), 3);
    md_profile_edit_free(&e);
    md_json_value_free(doc);

    /* Nothing given, nothing in the mask. */
    parse_args(&a, &profile_spec, NULL);
    md_profile_edit_init(&e);
    assert_int_equal(md_profile_edit_args(&e, &a), MD_OK);
    assert_int_equal(md_profile_edit_mask(&e, mask), 0);
    md_profile_edit_free(&e);
}

static const char *flags_error(const char *flag, const char *value)
{
    static char err[256];
    md_args_t a;
    md_profile_edit_t e;
    parse_args(&a, &profile_spec, flag, value, NULL);
    md_profile_edit_init(&e);
    assert_int_equal(md_profile_edit_args(&e, &a), MD_EINVAL);
    snprintf(err, sizeof(err), "%s", e.err);
    md_profile_edit_free(&e);
    return err;
}

static void test_profile_flag_errors(void **state)
{
    (void)state;
    assert_string_equal(flags_error("--offer", "c"),
                        "invalid --offer 'c' (expected SKILL:LEVEL, e.g. c:4)");
    assert_string_equal(flags_error("--want", "c:high"),
                        "invalid --want 'c:high' (expected SKILL:LEVEL, e.g. c:4)");
    assert_string_equal(flags_error("--level", "senior"),
                        "invalid --level 'senior' (expected a number)");
    assert_string_equal(flags_error("--capacity", "-2"),
                        "invalid --capacity '-2' (expected a number)");
    assert_non_null(strstr(flags_error("--manager", "0"), "--clear manager_id"));
    assert_string_equal(flags_error("--attribute", "novalue"),
                        "invalid --attribute 'novalue' (expected KEY=VALUE)");
    assert_string_equal(flags_error("--attribute", "=v"),
                        "invalid --attribute '=v' (expected KEY=VALUE)");
    assert_non_null(strstr(flags_error("--availability", "mon:9-25"), "invalid hours '9-25'"));
    assert_string_equal(flags_error("--clear", "skills"),
                        "cannot clear 'skills': no such profile field");
    assert_string_equal(flags_error("--clear", "langauges"),
                        "cannot clear 'langauges': no such profile field (did you mean "
                        "'languages'?)");

    md_args_t a;
    md_profile_edit_t e;
    parse_args(&a, &profile_spec, "--department", "Ops", "--clear", "department", NULL);
    md_profile_edit_init(&e);
    assert_int_equal(md_profile_edit_args(&e, &a), MD_EINVAL);
    assert_string_equal(e.err, "--clear department conflicts with --department");
    md_profile_edit_free(&e);
}

static void test_profile_render(void **state)
{
    (void)state;
    md_args_t a;
    md_profile_edit_t e;
    parse_args(&a, &profile_spec, "--offer", "c:4", "--offer", "go:3", "--want", "rust:2", "--goal",
               "lead a team", "--language", "en", "--language", "fr", "--availability",
               "mon-fri:9-17,sat:10-12", "--department", "Platform", "--time-zone", "Europe/Paris",
               "--attribute", "pronouns=she/her", "--attribute", "first_gen=yes", NULL);
    md_profile_edit_init(&e);
    assert_int_equal(md_profile_edit_args(&e, &a), MD_OK);

    Mentor__V1__Participant p = MENTOR__V1__PARTICIPANT__INIT;
    p.program_id = 3;
    p.user_id = 9;
    p.email = (char *)"ann@x.test";
    p.display_name = (char *)"Ann";
    p.role = MENTOR__V1__PARTICIPANT_ROLE__MENTOR;
    p.status = (char *)"active";
    p.profile = &e.pb;
    p.enrolled_at = 1795428000;

    md_table_t t;
    md_table_init(&t, NULL, 2);
    md_kv_participant(&t, &p);
    md_kv_profile(&t, p.profile, p.role, 0);
    char *out = kv_text(&t);
    assert_string_equal(out, "program:         3\n"
                             "user:            9\n"
                             "email:           ann@x.test\n"
                             "name:            Ann\n"
                             "role:            mentor\n"
                             "status:          active\n"
                             "enrolled:        2026-11-23T10:00:00Z\n"
                             "training:        not done\n"
                             "skills offered:  c (4), go (3)\n"
                             "skills wanted:   rust (2)\n"
                             "career goals:    lead a team\n"
                             "department:      Platform\n"
                             "time zone:       Europe/Paris\n"
                             "languages:       en, fr\n"
                             "availability:    mon-fri 09-17, sat 10-12\n"
                             "capacity:        program default\n"
                             "attributes:      pronouns=she/her\n"
                             "                 first_gen=yes\n");
    free(out);
    md_table_free(&t);

    /* With all, unset fields show as "-"; a mentee has no capacity. */
    Mentor__V1__Profile empty = MENTOR__V1__PROFILE__INIT;
    md_table_init(&t, NULL, 2);
    md_kv_profile(&t, &empty, MENTOR__V1__PARTICIPANT_ROLE__MENTEE, 1);
    out = kv_text(&t);
    assert_string_equal(out, "skills offered:   -\n"
                             "skills wanted:    -\n"
                             "career goals:     -\n"
                             "interests:        -\n"
                             "department:       -\n"
                             "seniority level:  -\n"
                             "seniority years:  0\n"
                             "time zone:        -\n"
                             "languages:        -\n"
                             "availability:     -\n"
                             "manager:          -\n"
                             "capacity:         -\n");
    free(out);
    md_table_free(&t);

    md_json_t j;
    md_json_init(&j);
    md_json_participant(&j, NULL, &p);
    const char *doc = md_json_finish(&j);
    assert_non_null(doc);
    assert_string_equal(
        doc, "{\"program_id\":3,\"user_id\":9,\"email\":\"ann@x.test\",\"display_name\":\"Ann\","
             "\"role\":\"mentor\",\"status\":\"active\",\"profile\":{"
             "\"skills_offered\":[{\"name\":\"c\",\"level\":4},{\"name\":\"go\",\"level\":3}],"
             "\"skills_wanted\":[{\"name\":\"rust\",\"level\":2}],"
             "\"career_goals\":[\"lead a team\"],\"interests\":[],\"department\":\"Platform\","
             "\"seniority_level\":0,\"seniority_years\":0,\"time_zone\":\"Europe/Paris\","
             "\"languages\":[\"en\",\"fr\"],\"availability\":[9,10,11,12,13,14,15,16,33,34,35,36,"
             "37,38,39,40,57,58,59,60,61,62,63,64,81,82,83,84,85,86,87,88,105,106,107,108,109,"
             "110,111,112,130,131],\"manager_id\":0,\"capacity\":0,"
             "\"attributes\":{\"pronouns\":\"she/her\",\"first_gen\":\"yes\"}},"
             "\"enrolled_at\":\"2026-11-23T10:00:00Z\",\"training_done\":false}");

    /* What the renderer writes, --from-file reads back. */
    md_json_value_t *back = NULL;
    char err[128];
    const char *start = strstr(doc, "\"profile\":") + strlen("\"profile\":");
    const char *end = strstr(doc, ",\"enrolled_at\"");
    assert_int_equal(md_json_parse(start, (size_t)(end - start), &back, err, sizeof(err)), MD_OK);
    md_profile_edit_t again;
    md_profile_edit_init(&again);
    assert_int_equal(md_profile_edit_json(&again, back), MD_OK);
    assert_int_equal(again.pb.n_availability, 42);
    assert_int_equal(again.pb.n_attributes, 2);
    md_profile_edit_free(&again);
    md_json_value_free(back);
    md_json_free(&j);

    /* A participant without a profile renders an empty one. */
    p.profile = NULL;
    md_json_init(&j);
    md_json_participant(&j, NULL, &p);
    assert_non_null(strstr(md_json_finish(&j), "\"attributes\":{}}"));
    md_json_free(&j);

    /* Training is shown for mentors only, as they are the ones who take it. */
    p.training_done = 1;
    md_table_init(&t, NULL, 2);
    md_kv_participant(&t, &p);
    out = kv_text(&t);
    assert_non_null(strstr(out, "\ntraining:  done\n"));
    free(out);
    md_table_free(&t);
    p.role = MENTOR__V1__PARTICIPANT_ROLE__MENTEE;
    md_table_init(&t, NULL, 2);
    md_kv_participant(&t, &p);
    out = kv_text(&t);
    assert_null(strstr(out, "training"));
    free(out);
    md_table_free(&t);
    md_profile_edit_free(&e);
}

/* ------------------------------------------------------------------ */
/* Programs */

static void test_program_create_defaults(void **state)
{
    (void)state;
    md_args_t a;
    md_program_edit_t e;
    const char *mask[MD_PG_COUNT];
    parse_args(&a, &program_spec, "--name", "Spring", "--weight", "skills=50", "--weight",
               "language=0", "--objective", "one", "--objective", "two", "--cadence", "7",
               "--department-rule", "different", NULL);
    md_program_edit_init(&e);
    assert_int_equal(md_program_edit_args(&e, &a), MD_OK);
    md_program_edit_merge(&e, NULL);
    assert_string_equal(e.pb.name, "Spring");
    assert_int_equal(e.pb.n_objectives, 2);
    assert_string_equal(e.pb.objectives[1], "two");
    assert_int_equal(e.pb.checkin_cadence_days, 7);
    assert_non_null(e.pb.weights);
    /* Named weights as given, the others the creation defaults. */
    assert_int_equal(e.pb.weights->skills, 50);
    assert_int_equal(e.pb.weights->goals, 15);
    assert_int_equal(e.pb.weights->interests, 10);
    assert_int_equal(e.pb.weights->seniority, 10);
    assert_int_equal(e.pb.weights->department, 5);
    assert_int_equal(e.pb.weights->time_zone, 10);
    assert_int_equal(e.pb.weights->language, 0);
    assert_int_equal(e.pb.weights->availability, 5);
    assert_int_equal(e.pb.weights->preferences, 5);
    assert_non_null(e.pb.rules);
    assert_int_equal(e.pb.rules->department, MENTOR__V1__DEPARTMENT_RULE__DEPARTMENT_DIFFERENT);
    assert_int_equal(e.pb.rules->min_seniority_gap, 0);
    assert_false(e.pb.rules->require_shared_language);
    assert_int_equal(md_program_edit_mask(&e, mask), 5);
    assert_string_equal(mask[0], "name");
    assert_string_equal(mask[1], "objectives");
    assert_string_equal(mask[2], "checkin_cadence_days");
    assert_string_equal(mask[3], "weights");
    assert_string_equal(mask[4], "rules");
    md_program_edit_free(&e);

    /* Without weight or rule flags none are sent: the server's defaults. */
    parse_args(&a, &program_spec, "--name", "Plain", NULL);
    md_program_edit_init(&e);
    assert_int_equal(md_program_edit_args(&e, &a), MD_OK);
    assert_false(md_program_edit_needs_base(&e));
    md_program_edit_merge(&e, NULL);
    assert_null(e.pb.weights);
    assert_null(e.pb.rules);
    md_program_edit_free(&e);
}

static void test_program_update_merge(void **state)
{
    (void)state;
    md_args_t a;
    md_program_edit_t e;
    const char *mask[MD_PG_COUNT];
    Mentor__V1__MatchingWeights w = MENTOR__V1__MATCHING_WEIGHTS__INIT;
    Mentor__V1__MatchingRules r = MENTOR__V1__MATCHING_RULES__INIT;
    Mentor__V1__Program cur = MENTOR__V1__PROGRAM__INIT;
    for (size_t i = 0; i < MD_WEIGHT_COUNT; i++)
        *md_weight_slot(&w, i) = (uint32_t)(i + 1);
    r.department = MENTOR__V1__DEPARTMENT_RULE__DEPARTMENT_SAME;
    r.min_seniority_gap = 2;
    r.require_shared_language = 1;
    r.require_mentor_training = 1;
    cur.weights = &w;
    cur.rules = &r;

    parse_args(&a, &program_spec, "--weight", "goals=40", "--require-shared-language", "no", NULL);
    md_program_edit_init(&e);
    assert_int_equal(md_program_edit_args(&e, &a), MD_OK);
    assert_true(md_program_edit_needs_base(&e));
    md_program_edit_merge(&e, &cur);
    /* The other weights and rules keep the program's current values. */
    assert_int_equal(e.pb.weights->skills, 1);
    assert_int_equal(e.pb.weights->goals, 40);
    assert_int_equal(e.pb.weights->preferences, 9);
    assert_int_equal(e.pb.rules->department, MENTOR__V1__DEPARTMENT_RULE__DEPARTMENT_SAME);
    assert_int_equal(e.pb.rules->min_seniority_gap, 2);
    assert_false(e.pb.rules->require_shared_language);
    assert_true(e.pb.rules->require_mentor_training);
    assert_int_equal(md_program_edit_mask(&e, mask), 2);
    assert_string_equal(mask[0], "weights");
    assert_string_equal(mask[1], "rules");
    md_program_edit_free(&e);

    /* --clear empties text fields and the objectives. */
    parse_args(&a, &program_spec, "--clear", "objectives", "--clear", "end_date", "--capacity", "4",
               NULL);
    md_program_edit_init(&e);
    assert_int_equal(md_program_edit_args(&e, &a), MD_OK);
    assert_int_equal(md_program_edit_mask(&e, mask), 3);
    assert_string_equal(mask[0], "objectives");
    assert_string_equal(mask[1], "end_date");
    assert_string_equal(mask[2], "default_mentor_capacity");
    assert_int_equal(e.pb.n_objectives, 0);
    assert_string_equal(e.pb.end_date, "");
    md_program_edit_free(&e);
}

static void test_program_matching_settings(void **state)
{
    (void)state;
    md_args_t a;
    md_program_edit_t e;
    const char *mask[MD_PG_COUNT];

    /* On create, "--auto-recalc off" becomes auto_recalc_off, the field
     * ProgramCreate reads. */
    parse_args(&a, &program_spec, "--name", "Self", "--mentors-per-mentee", "2",
               "--match-objective", "Score", "--match-mode", "self", "--response-window-days", "5",
               "--auto-recalc", "off", "--recalc-hours", "12", NULL);
    md_program_edit_init(&e);
    assert_int_equal(md_program_edit_args(&e, &a), MD_OK);
    assert_false(md_program_edit_needs_base(&e));
    md_program_edit_merge(&e, NULL);
    assert_int_equal(e.pb.mentors_per_mentee, 2);
    assert_int_equal(e.pb.objective, MENTOR__V1__MATCH_OBJECTIVE__SCORE);
    assert_int_equal(e.pb.match_mode, MENTOR__V1__MATCH_MODE__SELF_MATCH);
    assert_int_equal(e.pb.response_window_days, 5);
    assert_false(e.pb.auto_recalc);
    assert_true(e.pb.auto_recalc_off);
    assert_int_equal(e.pb.recalc_hours, 12);
    md_program_edit_free(&e);

    /* On update, each setting is its own mask name, in Program order, and
     * auto_recalc carries the value. */
    parse_args(&a, &program_spec, "--recalc-hours", "0", "--auto-recalc", "off", "--match-mode",
               "admin", "--match-objective", "participation", "--mentors-per-mentee", "1",
               "--response-window-days", "3", NULL);
    md_program_edit_init(&e);
    assert_int_equal(md_program_edit_args(&e, &a), MD_OK);
    assert_int_equal(md_program_edit_mask(&e, mask), 6);
    assert_string_equal(mask[0], "mentors_per_mentee");
    assert_string_equal(mask[1], "objective");
    assert_string_equal(mask[2], "match_mode");
    assert_string_equal(mask[3], "response_window_days");
    assert_string_equal(mask[4], "auto_recalc");
    assert_string_equal(mask[5], "recalc_hours");
    assert_int_equal(e.pb.match_mode, MENTOR__V1__MATCH_MODE__ADMIN_LED);
    assert_int_equal(e.pb.objective, MENTOR__V1__MATCH_OBJECTIVE__PARTICIPATION);
    assert_false(e.pb.auto_recalc);
    assert_false(e.pb.auto_recalc_off);
    md_program_edit_free(&e);

    /* "on" (or "yes") switches it on; create then sends no auto_recalc_off. */
    parse_args(&a, &program_spec, "--name", "On", "--auto-recalc", "yes", NULL);
    md_program_edit_init(&e);
    assert_int_equal(md_program_edit_args(&e, &a), MD_OK);
    md_program_edit_merge(&e, NULL);
    assert_true(e.pb.auto_recalc);
    assert_false(e.pb.auto_recalc_off);
    assert_int_equal(md_program_edit_mask(&e, mask), 2);
    assert_string_equal(mask[1], "auto_recalc");
    md_program_edit_free(&e);

    int on = -1;
    assert_int_equal(md_on_off_parse("ON", &on), MD_OK);
    assert_int_equal(on, 1);
    assert_int_equal(md_on_off_parse("no", &on), MD_OK);
    assert_int_equal(on, 0);
    assert_int_equal(md_on_off_parse("", &on), MD_EINVAL);
    assert_int_equal(md_on_off_parse("1", &on), MD_EINVAL);
}

static const char *program_error(const char *flag, const char *value)
{
    static char err[MD_ARGS_ERR_LEN];
    md_args_t a;
    md_program_edit_t e;
    parse_args(&a, &program_spec, flag, value, NULL);
    md_program_edit_init(&e);
    assert_int_equal(md_program_edit_args(&e, &a), MD_EINVAL);
    snprintf(err, sizeof(err), "%s", e.err);
    md_program_edit_free(&e);
    return err;
}

static void test_program_flag_errors(void **state)
{
    (void)state;
    assert_string_equal(program_error("--weight", "skills"),
                        "invalid --weight 'skills' (expected FACTOR=N, e.g. skills=30)");
    assert_string_equal(program_error("--weight", "=3"),
                        "invalid --weight '=3' (expected FACTOR=N, e.g. skills=30)");
    assert_string_equal(program_error("--weight", "skils=3"),
                        "unknown matching factor 'skils' (did you mean 'skills'?)");
    assert_string_equal(program_error("--weight", "time-zone=3"),
                        "unknown matching factor 'time-zone' (did you mean 'time_zone'?)");
    assert_non_null(strstr(program_error("--weight", "charisma=3"), "expected skills, goals"));
    assert_string_equal(program_error("--weight", "skills=lots"),
                        "invalid --weight 'skills=lots' (expected a number after '=')");
    assert_string_equal(program_error("--cadence", "weekly"),
                        "invalid --cadence 'weekly' (expected a number of days)");
    assert_string_equal(program_error("--department-rule", "other"),
                        "invalid --department-rule 'other' (expected any, same or different)");
    assert_string_equal(program_error("--require-shared-language", "maybe"),
                        "invalid --require-shared-language 'maybe' (expected yes or no)");
    assert_string_equal(program_error("--match-objective", "fairness"),
                        "invalid --match-objective 'fairness' (expected participation or score)");
    assert_string_equal(program_error("--match-mode", "admin-led"),
                        "invalid --match-mode 'admin-led' (expected admin or self)");
    assert_string_equal(program_error("--auto-recalc", "sometimes"),
                        "invalid --auto-recalc 'sometimes' (expected on or off)");
    assert_string_equal(program_error("--recalc-hours", "-1"),
                        "invalid --recalc-hours '-1' (expected a number of hours)");
    assert_string_equal(program_error("--mentors-per-mentee", "two"),
                        "invalid --mentors-per-mentee 'two' (expected a number of mentors)");
    assert_string_equal(program_error("--response-window-days", "3d"),
                        "invalid --response-window-days '3d' (expected a number of days)");
    assert_string_equal(program_error("--clear", "name"),
                        "cannot clear 'name' (expected description, objectives, "
                        "mentor_expectations, mentee_expectations, start_date or end_date)");
    assert_string_equal(program_error("--clear", "start_dat"),
                        "cannot clear 'start_dat' (did you mean 'start_date'?)");

    md_args_t a;
    md_program_edit_t e;
    parse_args(&a, &program_spec, "--objective", "x", "--clear", "objectives", NULL);
    md_program_edit_init(&e);
    assert_int_equal(md_program_edit_args(&e, &a), MD_EINVAL);
    assert_string_equal(e.err, "--clear objectives conflicts with the flag that sets objectives");
    md_program_edit_free(&e);
}

static void json_program(md_json_t *j, const void *p)
{
    md_json_program(j, NULL, p);
}

static void test_program_render(void **state)
{
    (void)state;
    Mentor__V1__MatchingWeights w = MENTOR__V1__MATCHING_WEIGHTS__INIT;
    Mentor__V1__MatchingRules r = MENTOR__V1__MATCHING_RULES__INIT;
    Mentor__V1__Program p = MENTOR__V1__PROGRAM__INIT;
    char *objectives[] = {(char *)"Ship a design doc", (char *)"Lead a retro\nand learn"};
    uint64_t coordinators[] = {4, 12};
    for (size_t i = 0; i < MD_WEIGHT_COUNT; i++)
        *md_weight_slot(&w, i) = md_weight_default(i);
    r.department = MENTOR__V1__DEPARTMENT_RULE__DEPARTMENT_RULE_UNSPECIFIED;
    r.require_mentor_training = 1;
    p.id = 7;
    p.name = (char *)"Spring \"26\"";
    p.objectives = objectives;
    p.n_objectives = 2;
    p.checkin_cadence_days = 14;
    p.start_date = (char *)"2026-01-05";
    p.default_mentor_capacity = 2;
    p.weights = &w;
    p.rules = &r;
    p.state = MENTOR__V1__PROGRAM_STATE__ENROLLING;
    p.coordinator_ids = coordinators;
    p.n_coordinator_ids = 2;
    p.created_at = 1795428000;
    p.mentor_count = 1;
    p.mentee_count = 3;
    p.mentors_per_mentee = 2;
    p.objective = MENTOR__V1__MATCH_OBJECTIVE__SCORE;
    p.match_mode = MENTOR__V1__MATCH_MODE__SELF_MATCH;
    p.response_window_days = 3;
    p.auto_recalc = 1;
    p.recalc_hours = 24;

    char *doc = render(json_program, &p);
    assert_string_equal(
        doc, "{\"id\":7,\"name\":\"Spring \\\"26\\\"\",\"description\":\"\","
             "\"objectives\":[\"Ship a design doc\",\"Lead a retro\\nand learn\"],"
             "\"mentor_expectations\":\"\",\"mentee_expectations\":\"\","
             "\"checkin_cadence_days\":14,\"start_date\":\"2026-01-05\",\"end_date\":null,"
             "\"default_mentor_capacity\":2,\"weights\":{\"skills\":30,\"goals\":15,"
             "\"interests\":10,\"seniority\":10,\"department\":5,\"time_zone\":10,"
             "\"language\":10,\"availability\":5,\"preferences\":5},"
             "\"rules\":{\"department\":\"any\",\"min_seniority_gap\":0,"
             "\"require_shared_language\":false,\"require_mentor_training\":true},"
             "\"state\":\"enrolling\",\"coordinator_ids\":[4,12],"
             "\"created_at\":\"2026-11-23T10:00:00Z\",\"mentor_count\":1,\"mentee_count\":3,"
             "\"mentors_per_mentee\":2,\"objective\":\"score\",\"match_mode\":\"self\","
             "\"response_window_days\":3,\"auto_recalc\":true,\"recalc_hours\":24}");
    free(doc);

    md_table_t t;
    md_table_init(&t, NULL, 2);
    md_kv_program(&t, &p);
    char *out = kv_text(&t);
    assert_string_equal(out, "id:                   7\n"
                             "name:                 Spring \"26\"\n"
                             "state:                enrolling\n"
                             "description:          -\n"
                             "objectives:           1. Ship a design doc\n"
                             "                      2. Lead a retro\n"
                             "                      and learn\n"
                             "mentor expectations:  -\n"
                             "mentee expectations:  -\n"
                             "check-ins:            every 14 days\n"
                             "start:                2026-01-05\n"
                             "end:                  -\n"
                             "mentor capacity:      2\n"
                             "weights:              skills 30, goals 15, interests 10, "
                             "seniority 10, department 5,\n"
                             "                      time_zone 10, language 10, "
                             "availability 5, preferences 5\n"
                             "department rule:      any\n"
                             "min seniority gap:    0\n"
                             "shared language:      not required\n"
                             "mentor training:      required\n"
                             "mentors per mentee:   2\n"
                             "match objective:      score\n"
                             "match mode:           self\n"
                             "response window:      3 days\n"
                             "auto recalc:          after changes, every 24 hours\n"
                             "coordinators:         4, 12\n"
                             "mentors:              1\n"
                             "mentees:              3\n"
                             "created:              2026-11-23T10:00:00Z\n");
    free(out);
    md_table_free(&t);

    /* Background recalculation only after changes, or not at all. */
    p.recalc_hours = 0;
    md_table_init(&t, NULL, 2);
    md_kv_program(&t, &p);
    out = kv_text(&t);
    assert_non_null(strstr(out, "\nauto recalc:          after changes\n"));
    free(out);
    md_table_free(&t);
    p.auto_recalc = 0;
    md_table_init(&t, NULL, 2);
    md_kv_program(&t, &p);
    out = kv_text(&t);
    assert_non_null(strstr(out, "\nauto recalc:          off\n"));
    free(out);
    md_table_free(&t);

    /* Absent weights and rules are null, not zeros. */
    p.weights = NULL;
    p.rules = NULL;
    doc = render(json_program, &p);
    assert_non_null(strstr(doc, "\"weights\":null,\"rules\":null"));
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_skill_parse),
        cmocka_unit_test(test_availability_parse),
        cmocka_unit_test(test_availability_text),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_profile_from_json),
        cmocka_unit_test(test_profile_json_errors),
        cmocka_unit_test(test_profile_from_flags),
        cmocka_unit_test(test_profile_flag_errors),
        cmocka_unit_test(test_profile_render),
        cmocka_unit_test(test_program_create_defaults),
        cmocka_unit_test(test_program_update_merge),
        cmocka_unit_test(test_program_matching_settings),
        cmocka_unit_test(test_program_flag_errors),
        cmocka_unit_test(test_program_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
