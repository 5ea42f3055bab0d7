/* test_client_args.c: unit tests for the pure parts of mentorctl: the
 * option parser (repeated options included), typo suggestions, id, number
 * and server address parsing, the JSON writer and its string escaper,
 * RFC 3339 formatting, tables, config lines, the session and known_servers
 * files (in a temporary directory), and the exit statuses of command lines
 * that never reach the network. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "md_args.h"
#include "md_cli.h"
#include "md_net.h"
#include "md_output.h"
#include "md_session.h"

static const md_opt_t test_opts[] = {
    {"email", 0, MD_OPT_VALUE, 1, "EMAIL", "address"},
    {"name", 0, MD_OPT_VALUE, 0, "NAME", "display name"},
    {"all", 0, MD_OPT_FLAG, 0, NULL, "everything"},
    {"json", 0, MD_OPT_FLAG, 0, NULL, "json"},
    {"help", 'h', MD_OPT_FLAG, 0, NULL, "help"},
};
static const char *const test_pos[] = {"ID", "EXTRA"};
static const md_args_spec_t test_spec = {test_opts, 5, 1, 2, test_pos};

static int parse(md_args_t *a, const md_args_spec_t *spec, unsigned flags, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;
    va_start(ap, flags);
    for (;;) {
        char *s = va_arg(ap, char *);
        if (s == NULL)
            break;
        argv[argc++] = s;
    }
    va_end(ap);
    return md_args_parse(a, spec, argc, argv, flags);
}

static void test_long_options_with_space_and_equals(void **state)
{
    (void)state;
    md_args_t a;
    assert_int_equal(parse(&a, &test_spec, 0, "7", "--email", "a@b.test", "--name=Ann Lee", NULL),
                     MD_OK);
    assert_string_equal(md_args_get(&a, "email"), "a@b.test");
    assert_string_equal(md_args_get(&a, "name"), "Ann Lee");
    assert_null(md_args_get(&a, "all"));
    assert_int_equal(a.npos, 1);
    assert_string_equal(a.pos[0], "7");
    /* An empty value after '=' is a value, and the last one given wins. */
    assert_int_equal(parse(&a, &test_spec, 0, "--email=x", "--email=", "1", NULL), MD_OK);
    assert_string_equal(md_args_get(&a, "email"), "");
    /* '=' inside the value belongs to the value. */
    assert_int_equal(parse(&a, &test_spec, 0, "--email=a=b", "1", NULL), MD_OK);
    assert_string_equal(md_args_get(&a, "email"), "a=b");
}

static void test_flags(void **state)
{
    (void)state;
    md_args_t a;
    assert_int_equal(parse(&a, &test_spec, 0, "--all", "1", "--json", "--email", "e", NULL), MD_OK);
    assert_true(md_args_has(&a, "all"));
    assert_true(md_args_has(&a, "json"));
    assert_false(md_args_has(&a, "name"));
    assert_false(md_args_has(&a, "no-such-option"));
    assert_int_equal(parse(&a, &test_spec, 0, "--all=yes", "1", "--email", "e", NULL), MD_EINVAL);
    assert_string_equal(a.err, "option --all takes no value");
}

static void test_missing_value(void **state)
{
    (void)state;
    md_args_t a;
    assert_int_equal(parse(&a, &test_spec, 0, "1", "--email", NULL), MD_EINVAL);
    assert_string_equal(a.err, "option --email needs a value (EMAIL)");
    /* The next option is not swallowed as the value. */
    assert_int_equal(parse(&a, &test_spec, 0, "1", "--email", "--name", "x", NULL), MD_EINVAL);
    assert_string_equal(a.err, "option --email needs a value (EMAIL)");
    /* A value starting with a single dash is still a value. */
    assert_int_equal(parse(&a, &test_spec, 0, "1", "--name", "-x-", "--email", "e", NULL), MD_OK);
    assert_string_equal(md_args_get(&a, "name"), "-x-");
    /* A required option that is absent is named. */
    assert_int_equal(parse(&a, &test_spec, 0, "1", NULL), MD_EINVAL);
    assert_string_equal(a.err, "missing required option --email EMAIL");
}

static void test_unknown_option(void **state)
{
    (void)state;
    md_args_t a;
    assert_int_equal(parse(&a, &test_spec, 0, "1", "--emial", "x", NULL), MD_EINVAL);
    assert_string_equal(a.err, "unknown option '--emial' (did you mean '--email'?)");
    assert_int_equal(parse(&a, &test_spec, 0, "1", "--frobnicate", NULL), MD_EINVAL);
    assert_string_equal(a.err, "unknown option '--frobnicate'");
    assert_int_equal(parse(&a, &test_spec, 0, "1", "--nmae=x", NULL), MD_EINVAL);
    assert_string_equal(a.err, "unknown option '--nmae' (did you mean '--name'?)");
    assert_int_equal(parse(&a, &test_spec, 0, "-x", NULL), MD_EINVAL);
    assert_string_equal(a.err, "unknown option '-x'");
}

static void test_positionals(void **state)
{
    (void)state;
    md_args_t a;
    assert_int_equal(parse(&a, &test_spec, 0, "--email", "e", NULL), MD_EINVAL);
    assert_string_equal(a.err, "missing argument ID");
    assert_int_equal(parse(&a, &test_spec, 0, "1", "2", "--email", "e", NULL), MD_OK);
    assert_int_equal(a.npos, 2);
    assert_int_equal(parse(&a, &test_spec, 0, "1", "2", "3", "--email", "e", NULL), MD_EINVAL);
    assert_string_equal(a.err, "unexpected argument '3'");
    /* After "--" everything is positional, and "-" alone always is. */
    assert_int_equal(parse(&a, &test_spec, 0, "--email", "e", "--", "--all", "-", NULL), MD_OK);
    assert_int_equal(a.npos, 2);
    assert_string_equal(a.pos[0], "--all");
    assert_string_equal(a.pos[1], "-");
    assert_false(md_args_has(&a, "all"));
}

static void test_help_wins(void **state)
{
    (void)state;
    md_args_t a;
    /* Help needs no required option or positional. */
    assert_int_equal(parse(&a, &test_spec, 0, "--help", NULL), MD_OK);
    assert_true(a.help);
    assert_int_equal(parse(&a, &test_spec, 0, "-h", NULL), MD_OK);
    assert_true(a.help);
    /* Even after a mistake on the same line. */
    assert_int_equal(parse(&a, &test_spec, 0, "--bogus", "--help", NULL), MD_OK);
    assert_true(a.help);
    assert_string_equal(a.err, "");
    /* But not when it is a positional after "--". */
    assert_int_equal(parse(&a, &test_spec, 0, "--bogus", "--", "--help", NULL), MD_EINVAL);
    assert_false(a.help);
}

static void test_stop_at_positional(void **state)
{
    (void)state;
    static const md_opt_t gopts[] = {
        {"server", 0, MD_OPT_VALUE, 0, "HOST:PORT", ""},
        {"json", 0, MD_OPT_FLAG, 0, NULL, ""},
    };
    static const md_args_spec_t gspec = {gopts, 2, 0, 0, NULL};
    md_args_t a;
    assert_int_equal(parse(&a, &gspec, MD_ARGS_STOP_AT_POSITIONAL, "--server", "h:1", "--json",
                           "user", "list", "--all", NULL),
                     MD_OK);
    assert_string_equal(md_args_get(&a, "server"), "h:1");
    assert_true(md_args_has(&a, "json"));
    assert_int_equal(a.next, 3);
    assert_int_equal(a.npos, 0);
    assert_int_equal(parse(&a, &gspec, MD_ARGS_STOP_AT_POSITIONAL, "--", "--json", NULL), MD_OK);
    assert_int_equal(a.next, 1);
    assert_false(md_args_has(&a, "json"));
}

static void test_repeated_options(void **state)
{
    (void)state;
    static const md_opt_t ropts[] = {
        {"offer", 0, MD_OPT_LIST, 0, "SKILL:LEVEL", ""},
        {"goal", 0, MD_OPT_LIST, 0, "GOAL", ""},
        {"name", 0, MD_OPT_VALUE, 0, "NAME", ""},
        {"all", 0, MD_OPT_FLAG, 0, NULL, ""},
    };
    static const md_args_spec_t rspec = {ropts, 4, 0, 1, NULL};
    md_args_t a;
    /* Every value is kept in command-line order, whatever the spelling. */
    assert_int_equal(parse(&a, &rspec, 0, "--offer", "c:4", "--goal=lead", "--name", "x",
                           "--offer=go:3", "--all", "--offer", "", "--name", "y", "--goal", "ship",
                           NULL),
                     MD_OK);
    assert_int_equal(md_args_count(&a, "offer"), 3);
    assert_string_equal(md_args_nth(&a, "offer", 0), "c:4");
    assert_string_equal(md_args_nth(&a, "offer", 1), "go:3");
    assert_string_equal(md_args_nth(&a, "offer", 2), "");
    assert_null(md_args_nth(&a, "offer", 3));
    assert_int_equal(md_args_count(&a, "goal"), 2);
    assert_string_equal(md_args_nth(&a, "goal", 1), "ship");
    /* md_args_get gives the last value of a list too. */
    assert_string_equal(md_args_get(&a, "offer"), "");
    /* A single-valued option given twice counts once, as its last value. */
    assert_int_equal(md_args_count(&a, "name"), 1);
    assert_string_equal(md_args_nth(&a, "name", 0), "y");
    assert_null(md_args_nth(&a, "name", 1));
    /* Flags carry no values; unknown names count nothing. */
    assert_int_equal(md_args_count(&a, "all"), 0);
    assert_int_equal(md_args_count(&a, "nope"), 0);
    assert_null(md_args_nth(&a, "nope", 0));
    /* Absent lists are empty. */
    assert_int_equal(parse(&a, &rspec, 0, "--all", NULL), MD_OK);
    assert_int_equal(md_args_count(&a, "offer"), 0);
    assert_null(md_args_get(&a, "offer"));
    /* A list option still needs its value each time. */
    assert_int_equal(parse(&a, &rspec, 0, "--offer", "c:4", "--offer", NULL), MD_EINVAL);
    assert_string_equal(a.err, "option --offer needs a value (SKILL:LEVEL)");

    /* The number of values on one line is bounded, with a clear error. */
    static char *argv[MD_ARGS_MAX_VALUES * 2 + 2];
    int argc = 0;
    for (int i = 0; i <= MD_ARGS_MAX_VALUES; i++) {
        argv[argc++] = "--goal";
        argv[argc++] = "g";
    }
    assert_int_equal(md_args_parse(&a, &rspec, argc, argv, 0), MD_EINVAL);
    assert_non_null(strstr(a.err, "too many options"));
    assert_int_equal(md_args_parse(&a, &rspec, argc - 2, argv, 0), MD_OK);
    assert_int_equal(md_args_count(&a, "goal"), MD_ARGS_MAX_VALUES);
}

static void test_parse_u32(void **state)
{
    (void)state;
    uint32_t v = 1;
    assert_int_equal(md_parse_u32("0", &v), MD_OK);
    assert_int_equal(v, 0);
    assert_int_equal(md_parse_u32("007", &v), MD_OK);
    assert_int_equal(v, 7);
    assert_int_equal(md_parse_u32("4294967295", &v), MD_OK);
    assert_true(v == UINT32_MAX);
    assert_int_equal(md_parse_u32("4294967296", &v), MD_EINVAL);
    assert_int_equal(md_parse_u32("", &v), MD_EINVAL);
    assert_int_equal(md_parse_u32("-1", &v), MD_EINVAL);
    assert_int_equal(md_parse_u32("+1", &v), MD_EINVAL);
    assert_int_equal(md_parse_u32("1.5", &v), MD_EINVAL);
    assert_int_equal(md_parse_u32(" 1", &v), MD_EINVAL);
    assert_int_equal(md_parse_u32(NULL, &v), MD_EINVAL);
}

static void test_parse_id(void **state)
{
    (void)state;
    uint64_t id = 0;
    assert_int_equal(md_parse_id("42", &id), MD_OK);
    assert_int_equal(id, 42);
    assert_int_equal(md_parse_id("18446744073709551615", &id), MD_OK);
    assert_true(id == UINT64_MAX);
    assert_int_equal(md_parse_id("18446744073709551616", &id), MD_EINVAL);
    assert_int_equal(md_parse_id("0", &id), MD_EINVAL);
    assert_int_equal(md_parse_id("-1", &id), MD_EINVAL);
    assert_int_equal(md_parse_id("+1", &id), MD_EINVAL);
    assert_int_equal(md_parse_id(" 1", &id), MD_EINVAL);
    assert_int_equal(md_parse_id("12x", &id), MD_EINVAL);
    assert_int_equal(md_parse_id("", &id), MD_EINVAL);
}

static void test_parse_user_ref(void **state)
{
    (void)state;
    uint64_t id = 99;
    const char *email = "x";
    assert_int_equal(md_parse_user_ref("12", &id, &email), MD_OK);
    assert_int_equal(id, 12);
    assert_null(email);
    const char *addr = "alice@example.com";
    assert_int_equal(md_parse_user_ref(addr, &id, &email), MD_OK);
    assert_int_equal(id, 0);
    assert_ptr_equal(email, addr);
    assert_int_equal(md_parse_user_ref("a@b", &id, &email), MD_OK);
    /* Neither a positive number nor an address. */
    static const char *const bad[] = {
        "", "0", "-3", "alice", "12x", "@example.com", "alice@", "al ice@x.test", "a@b\tc", NULL,
    };
    for (size_t i = 0; bad[i] != NULL; i++) {
        id = 7;
        email = NULL;
        assert_int_equal(md_parse_user_ref(bad[i], &id, &email), MD_EINVAL);
        /* A refused value leaves the outputs alone. */
        assert_int_equal(id, 7);
        assert_null(email);
    }
    assert_int_equal(md_parse_user_ref(NULL, &id, &email), MD_EINVAL);
}

static void test_typo_suggestion(void **state)
{
    (void)state;
    static const char *const names[] = {"login", "logout", "whoami", "org", "user", "invite"};
    assert_int_equal(md_edit_distance("whoami", "whoami"), 0);
    assert_int_equal(md_edit_distance("whaomi", "whoami"), 1);
    assert_int_equal(md_edit_distance("", "abc"), 3);
    assert_int_equal(md_edit_distance("kitten", "sitting"), 3);
    assert_string_equal(md_closest("whaomi", names, 6), "whoami");
    assert_string_equal(md_closest("whoam", names, 6), "whoami");
    assert_string_equal(md_closest("usr", names, 6), "user");
    assert_string_equal(md_closest("logut", names, 6), "logout");
    assert_string_equal(md_closest("invtie", names, 6), "invite");
    assert_null(md_closest("frobnicate", names, 6));
    assert_null(md_closest("x", names, 6));
    /* An exact match is not a suggestion. */
    assert_null(md_closest("org", names, 6));

    /* The command table offers the same names. */
    const char *top[32];
    size_t n = md_cli_command_names(NULL, top, 32);
    assert_string_equal(md_closest("whaomi", top, n), "whoami");
    const char *sub[32];
    n = md_cli_command_names("user", sub, 32);
    assert_string_equal(md_closest("lsit", sub, n), "list");
    assert_string_equal(md_closest("deactivte", sub, n), "deactivate");
}

static char *escape(const char *s)
{
    md_buf_t b;
    md_buf_init(&b);
    assert_int_equal(md_json_escape(&b, s), MD_OK);
    assert_int_equal(md_buf_append(&b, "", 1), MD_OK);
    char *out = strdup((const char *)md_buf_head(&b));
    md_buf_free(&b);
    return out;
}

static void check_escape(const char *in, const char *want)
{
    char *got = escape(in);
    assert_string_equal(got, want);
    free(got);
}

static void test_json_escape(void **state)
{
    (void)state;
    check_escape("", "\"\"");
    check_escape("plain", "\"plain\"");
    check_escape("say \"hi\"", "\"say \\\"hi\\\"\"");
    check_escape("back\\slash", "\"back\\\\slash\"");
    check_escape("a\nb\tc\rd\be\ff", "\"a\\nb\\tc\\rd\\be\\ff\"");
    check_escape("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
    check_escape("esc\x1b[31m", "\"esc\\u001b[31m\"");
    /* Valid UTF-8 passes through untouched: 2, 3 and 4 byte sequences. */
    check_escape("Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80",
                 "\"Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80\"");
    /* Malformed UTF-8 becomes U+FFFD, one per bad byte, keeping the JSON
     * valid: a lone continuation byte, a truncated sequence, an overlong
     * form and a UTF-16 surrogate. */
    check_escape("a\x80z", "\"a\\ufffdz\"");
    check_escape("\xe2\x82", "\"\\ufffd\\ufffd\"");
    check_escape("\xc0\xaf", "\"\\ufffd\\ufffd\"");
    check_escape("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
    /* '/' needs no escape. */
    check_escape("a/b", "\"a/b\"");
}

static void test_json_writer(void **state)
{
    (void)state;
    md_json_t j;
    md_json_init(&j);
    md_json_begin_object(&j, NULL);
    md_json_begin_object(&j, "user");
    md_json_uint(&j, "id", 18446744073709551615ull);
    md_json_string(&j, "email", "a@b.test");
    md_json_bool(&j, "active", 1);
    md_json_bool(&j, "operator", 0);
    md_json_time(&j, "created_at", 1795428000);
    md_json_time(&j, "unset_at", 0);
    md_json_int(&j, "delta", -5);
    md_json_string(&j, "none", NULL);
    md_json_end_object(&j);
    md_json_begin_array(&j, "users");
    md_json_begin_object(&j, NULL);
    md_json_end_object(&j);
    md_json_uint(&j, NULL, 2);
    md_json_end_array(&j);
    md_json_begin_array(&j, "empty");
    md_json_end_array(&j);
    md_json_end_object(&j);
    const char *doc = md_json_finish(&j);
    assert_non_null(doc);
    assert_string_equal(doc, "{\"user\":{\"id\":18446744073709551615,\"email\":\"a@b.test\","
                             "\"active\":true,\"operator\":false,"
                             "\"created_at\":\"2026-11-23T10:00:00Z\",\"unset_at\":null,"
                             "\"delta\":-5,\"none\":null},\"users\":[{},2],\"empty\":[]}");
    md_json_free(&j);

    /* A document left open is not a document. */
    md_json_init(&j);
    md_json_begin_object(&j, NULL);
    assert_null(md_json_finish(&j));
    md_json_free(&j);
}

static void test_rfc3339(void **state)
{
    (void)state;
    char buf[MD_TIME_LEN];
    assert_int_equal(md_fmt_rfc3339(0, buf, sizeof(buf)), MD_OK);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    assert_int_equal(md_fmt_rfc3339(1795428000, buf, sizeof(buf)), MD_OK);
    assert_string_equal(buf, "2026-11-23T10:00:00Z");
    assert_int_equal(md_fmt_rfc3339(951782400, buf, sizeof(buf)), MD_OK);
    assert_string_equal(buf, "2000-02-29T00:00:00Z");
    assert_int_equal(md_fmt_rfc3339(-1, buf, sizeof(buf)), MD_OK);
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
    /* Too small a buffer fails instead of truncating. */
    char small[8];
    assert_int_equal(md_fmt_rfc3339(0, small, sizeof(small)), MD_EINVAL);
    assert_string_equal(small, "?");
}

static char *capture(void (*fn)(FILE *, const void *), const void *arg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    fn(f, arg);
    fclose(f);
    return text;
}

static void print_table(FILE *f, const void *arg)
{
    assert_int_equal(md_table_print(arg, f), MD_OK);
}

static void print_kv(FILE *f, const void *arg)
{
    assert_int_equal(md_table_print_kv(arg, f), MD_OK);
}

static void test_tables(void **state)
{
    (void)state;
    static const char *const headers[] = {"ID", "EMAIL", "NAME"};
    md_table_t t;
    md_table_init(&t, headers, 3);
    md_table_add(&t, "1", "ann@x.test", "Zo\xc3\xab");
    md_table_add(&t, "12", "b@x.test", "Bob\x1b[2J");
    char *out = capture(print_table, &t);
    assert_string_equal(out, "ID  EMAIL       NAME\n"
                             "1   ann@x.test  Zo\xc3\xab\n"
                             "12  b@x.test    Bob?[2J\n");
    free(out);
    md_table_free(&t);

    /* Empty cells at the end of a row leave no trailing blanks. */
    md_table_init(&t, headers, 3);
    md_table_add(&t, "1", "", "");
    md_table_add(&t, "2", "c@x.test", NULL);
    md_table_add(&t, "", "", "");
    out = capture(print_table, &t);
    assert_string_equal(out, "ID  EMAIL     NAME\n"
                             "1\n"
                             "2   c@x.test\n"
                             "\n");
    free(out);
    md_table_free(&t);

    /* Wide East Asian characters take two cells, combining marks none. */
    static const char *const wide_headers[] = {"NAME", "DEPT"};
    md_table_init(&t, wide_headers, 2);
    md_table_add(&t, "\xe6\x9d\x8e\xe4\xbc\x9f", "Sales"); /* two CJK characters */
    md_table_add(&t, "Jose\xcc\x81", "Eng");               /* e + combining acute */
    md_table_add(&t, "Zo\xc3\xab M.", "Ops");
    out = capture(print_table, &t);
    assert_string_equal(out, "NAME    DEPT\n"
                             "\xe6\x9d\x8e\xe4\xbc\x9f    Sales\n"
                             "Jose\xcc\x81    Eng\n"
                             "Zo\xc3\xab M.  Ops\n");
    free(out);
    md_table_free(&t);

    md_table_init(&t, NULL, 2);
    md_table_add(&t, "id", "7");
    md_table_add(&t, "session expires", "2026-11-23T10:00:00Z");
    out = capture(print_kv, &t);
    assert_string_equal(out, "id:               7\n"
                             "session expires:  2026-11-23T10:00:00Z\n");
    free(out);
    md_table_free(&t);
}

static void print_safe(FILE *f, const void *arg)
{
    md_out_safe(f, arg);
}

static void test_terminal_safety(void **state)
{
    (void)state;
    /* C0 controls, DEL and the C1 control U+009B (CSI) are neutralised;
     * ordinary UTF-8 such as U+00E9 is not. */
    char *out = capture(print_safe, "a\x1b]0;t\x07\x7f\xc2\x9b\xc3\xa9");
    assert_string_equal(out, "a?]0;t???\xc3\xa9");
    free(out);
}

static void test_date_time(void **state)
{
    (void)state;
    int64_t t = 0;
    assert_int_equal(md_parse_date_time("1970-01-01", &t), MD_OK);
    assert_int_equal(t, 0);
    assert_int_equal(md_parse_date_time("2026-11-23", &t), MD_OK);
    assert_int_equal(t, 1795392000);
    assert_int_equal(md_parse_date_time("2026-11-23T13:45:07Z", &t), MD_OK);
    assert_int_equal(t, 1795392000 + 13 * 3600 + 45 * 60 + 7);
    assert_int_equal(md_parse_date_time("2024-02-29", &t), MD_OK);
    assert_int_equal(t, 1709164800);
    static const char *const bad[] = {"",
                                      "2026-11-23 ",
                                      "2023-02-29",
                                      "2026-13-01",
                                      "2026-11-31",
                                      "26-11-23",
                                      "2026/11/23",
                                      "2026-11-23T13:45:07",
                                      "2026-11-23T24:00:00Z",
                                      "1969-12-31",
                                      "2026-11-23T13:45:07+01",
                                      "2026-1a-23"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(md_parse_date_time(bad[i], &t), MD_EINVAL);
}

static void test_roles(void **state)
{
    (void)state;
    int role = 0;
    assert_int_equal(md_role_parse("coordinator", &role), MD_OK);
    assert_string_equal(md_role_name(role), "coordinator");
    assert_int_equal(md_role_parse("ADMIN", &role), MD_OK);
    assert_string_equal(md_role_name(role), "admin");
    assert_int_equal(md_role_parse("wizard", &role), MD_EINVAL);
    assert_string_equal(md_role_name(0), "unspecified");
    assert_string_equal(md_role_name(99), "unspecified");
}

static void test_endpoint(void **state)
{
    (void)state;
    md_endpoint_t ep;
    assert_int_equal(md_endpoint_parse("127.0.0.1:7411", &ep), MD_OK);
    assert_string_equal(ep.host, "127.0.0.1");
    assert_string_equal(ep.port, "7411");
    assert_string_equal(ep.name, "127.0.0.1:7411");
    assert_int_equal(md_endpoint_parse("Mentor.Example.COM", &ep), MD_OK);
    assert_string_equal(ep.name, "mentor.example.com:7411");
    assert_int_equal(md_endpoint_parse("[::1]:9000", &ep), MD_OK);
    assert_string_equal(ep.host, "::1");
    assert_string_equal(ep.name, "[::1]:9000");
    assert_int_equal(md_endpoint_parse("::1", &ep), MD_OK);
    assert_string_equal(ep.name, "[::1]:7411");
    assert_int_equal(md_endpoint_parse("h:007", &ep), MD_OK);
    assert_string_equal(ep.name, "h:7");
    assert_int_equal(md_endpoint_parse("", &ep), MD_EINVAL);
    assert_int_equal(md_endpoint_parse(":7411", &ep), MD_EINVAL);
    assert_int_equal(md_endpoint_parse("h:", &ep), MD_EINVAL);
    assert_int_equal(md_endpoint_parse("h:0", &ep), MD_EINVAL);
    assert_int_equal(md_endpoint_parse("h:65536", &ep), MD_EINVAL);
    assert_int_equal(md_endpoint_parse("h:12ab", &ep), MD_EINVAL);
    assert_int_equal(md_endpoint_parse("[::1", &ep), MD_EINVAL);
    assert_int_equal(md_endpoint_parse("[::1]x", &ep), MD_EINVAL);
    assert_int_equal(md_endpoint_parse("a b:1", &ep), MD_EINVAL);
    assert_int_equal(md_endpoint_parse("user@h:1", &ep), MD_EINVAL);
}

static void test_config_lines(void **state)
{
    (void)state;
    char key[16];
    char val[64];
    assert_int_equal(md_config_parse_line("server = h:1\n", key, sizeof(key), val, sizeof(val)), 1);
    assert_string_equal(key, "server");
    assert_string_equal(val, "h:1");
    assert_int_equal(md_config_parse_line("  ca=/etc/ca.pem", key, sizeof(key), val, sizeof(val)),
                     1);
    assert_string_equal(key, "ca");
    assert_string_equal(val, "/etc/ca.pem");
    assert_int_equal(md_config_parse_line("ca =", key, sizeof(key), val, sizeof(val)), 1);
    assert_string_equal(val, "");
    assert_int_equal(md_config_parse_line("# comment", key, sizeof(key), val, sizeof(val)), 0);
    assert_int_equal(md_config_parse_line("   \n", key, sizeof(key), val, sizeof(val)), 0);
    assert_int_equal(md_config_parse_line("", key, sizeof(key), val, sizeof(val)), 0);
    assert_int_equal(md_config_parse_line("no equals", key, sizeof(key), val, sizeof(val)),
                     MD_EINVAL);
    assert_int_equal(md_config_parse_line(" = v", key, sizeof(key), val, sizeof(val)), MD_EINVAL);
    assert_int_equal(
        md_config_parse_line("a_very_long_key_name = v", key, sizeof(key), val, sizeof(val)),
        MD_EINVAL);
}

/* Point HOME and the XDG variables at a fresh directory; returns it. */
static char *scratch_home(void)
{
    char tmpl[] = "/tmp/mentorctl-test-XXXXXX";
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    char path[512];
    setenv("HOME", dir, 1);
    snprintf(path, sizeof(path), "%s/config", dir);
    setenv("XDG_CONFIG_HOME", path, 1);
    snprintf(path, sizeof(path), "%s/state", dir);
    setenv("XDG_STATE_HOME", path, 1);
    return strdup(dir);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    return remove(path);
}

static void remove_home(char *dir)
{
    assert_int_equal(nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
    free(dir);
}

static void test_session_files(void **state)
{
    (void)state;
    char *home = scratch_home();
    char err[MD_PATH_LEN + 128];
    md_paths_t p;
    md_session_t s;
    struct stat st;
    assert_int_equal(md_paths_init(&p, err, sizeof(err)), MD_OK);
    assert_int_equal(md_session_load(&p, &s, err, sizeof(err)), MD_ENOTFOUND);

    memset(&s, 0, sizeof(s));
    snprintf(s.server, sizeof(s.server), "127.0.0.1:7411");
    snprintf(s.token, sizeof(s.token), "tok-123");
    assert_int_equal(md_session_save(&p, &s, err, sizeof(err)), MD_OK);
    assert_int_equal(stat(p.state_dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_equal(stat(p.session_file, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    md_session_clear(&s);
    assert_int_equal(md_session_load(&p, &s, err, sizeof(err)), MD_OK);
    assert_string_equal(s.server, "127.0.0.1:7411");
    assert_string_equal(s.token, "tok-123");
    assert_int_equal(md_session_delete(&p, err, sizeof(err)), MD_OK);
    assert_int_equal(md_session_delete(&p, err, sizeof(err)), MD_OK);
    assert_int_equal(md_session_load(&p, &s, err, sizeof(err)), MD_ENOTFOUND);

    char hex[MD_FP_LEN];
    const char *fp1 = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    const char *fp2 = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
    assert_int_equal(md_known_lookup(&p, "h:1", hex, err, sizeof(err)), 0);
    assert_int_equal(md_known_add(&p, "h:1", fp1, err, sizeof(err)), MD_OK);
    assert_int_equal(md_known_add(&p, "h:12", fp2, err, sizeof(err)), MD_OK);
    assert_int_equal(md_known_lookup(&p, "h:1", hex, err, sizeof(err)), 1);
    assert_string_equal(hex, fp1);
    assert_int_equal(md_known_lookup(&p, "h:12", hex, err, sizeof(err)), 1);
    assert_string_equal(hex, fp2);
    assert_int_equal(md_known_lookup(&p, "h:2", hex, err, sizeof(err)), 0);

    /* The config file: relative CA paths are taken from its directory. */
    md_config_t cfg;
    assert_int_equal(md_config_load(&p, &cfg, err, sizeof(err)), MD_OK);
    assert_string_equal(cfg.server, "");
    char parent[MD_PATH_LEN + 16];
    snprintf(parent, sizeof(parent), "%s/config", home);
    assert_int_equal(mkdir(parent, 0700), 0);
    assert_int_equal(mkdir(p.config_dir, 0700), 0);
    FILE *f = fopen(p.config_file, "w");
    assert_non_null(f);
    fputs("# defaults\nserver = example.test:9000\nca = ca.pem\n", f);
    fclose(f);
    assert_int_equal(md_config_load(&p, &cfg, err, sizeof(err)), MD_OK);
    assert_string_equal(cfg.server, "example.test:9000");
    char want[MD_PATH_LEN + 16];
    snprintf(want, sizeof(want), "%s/ca.pem", p.config_dir);
    assert_string_equal(cfg.ca, want);
    remove_home(home);
}

static int run_cli(int argc, const char **argv)
{
    return md_cli_main(argc, (char **)argv);
}

static void test_cli_without_network(void **state)
{
    (void)state;
    char *home = scratch_home();
    const char *help[] = {"mentorctl", "--help"};
    assert_int_equal(run_cli(2, help), 0);
    const char *group_help[] = {"mentorctl", "user", "--help"};
    assert_int_equal(run_cli(3, group_help), 0);
    const char *cmd_help[] = {"mentorctl", "user", "invite", "--help"};
    assert_int_equal(run_cli(4, cmd_help), 0);
    const char *help_cmd[] = {"mentorctl", "help", "org", "create"};
    assert_int_equal(run_cli(4, help_cmd), 0);
    const char *version[] = {"mentorctl", "--version"};
    assert_int_equal(run_cli(2, version), 0);

    const char *none[] = {"mentorctl"};
    assert_int_equal(run_cli(1, none), 2);
    const char *unknown[] = {"mentorctl", "frobnicate"};
    assert_int_equal(run_cli(2, unknown), 2);
    const char *unknown_sub[] = {"mentorctl", "user", "lsit"};
    assert_int_equal(run_cli(3, unknown_sub), 2);
    const char *group_only[] = {"mentorctl", "org"};
    assert_int_equal(run_cli(2, group_only), 2);
    const char *bad_opt[] = {"mentorctl", "--no-such-option", "whoami"};
    assert_int_equal(run_cli(3, bad_opt), 2);
    const char *missing[] = {"mentorctl", "user", "invite"};
    assert_int_equal(run_cli(3, missing), 2);
    const char *bad_role[] = {"mentorctl", "user", "update", "5", "--role", "wizard"};
    assert_int_equal(run_cli(6, bad_role), 2);
    const char *no_change[] = {"mentorctl", "user", "update", "5"};
    assert_int_equal(run_cli(4, no_change), 2);
    const char *bad_id[] = {"mentorctl", "user", "deactivate", "five"};
    assert_int_equal(run_cli(4, bad_id), 2);
    const char *show_both[] = {"mentorctl", "user", "show", "5", "--email", "a@b"};
    assert_int_equal(run_cli(6, show_both), 2);
    const char *bad_server[] = {"mentorctl", "--server", "h:99999", "whoami"};
    assert_int_equal(run_cli(4, bad_server), 2);

    /* The program, participant and profile commands: help, and command
     * lines refused before any connection is made. */
    const char *program_help[] = {"mentorctl", "program", "create", "--help"};
    assert_int_equal(run_cli(4, program_help), 0);
    const char *profile_help[] = {"mentorctl", "help", "profile", "edit"};
    assert_int_equal(run_cli(4, profile_help), 0);
    const char *no_name[] = {"mentorctl", "program", "create", "--cadence", "7"};
    assert_int_equal(run_cli(5, no_name), 2);
    const char *bad_weight[] = {"mentorctl", "program",  "create",    "--name",
                                "x",         "--weight", "charisma=3"};
    assert_int_equal(run_cli(7, bad_weight), 2);
    const char *bad_yes[] = {
        "mentorctl", "program", "create", "--name", "x", "--require-shared-language", "maybe"};
    assert_int_equal(run_cli(7, bad_yes), 2);
    const char *nothing[] = {"mentorctl", "program", "update", "5"};
    assert_int_equal(run_cli(4, nothing), 2);
    const char *bad_state[] = {"mentorctl", "program", "transition", "5", "open"};
    assert_int_equal(run_cli(5, bad_state), 2);
    const char *no_state[] = {"mentorctl", "program", "transition", "5"};
    assert_int_equal(run_cli(4, no_state), 2);
    const char *bad_filter[] = {"mentorctl", "program", "list", "--state", "open"};
    assert_int_equal(run_cli(5, bad_filter), 2);
    const char *no_user[] = {"mentorctl", "program", "assign-coordinator", "5"};
    assert_int_equal(run_cli(4, no_user), 2);
    const char *no_role[] = {"mentorctl", "participant", "enroll", "--program", "1"};
    assert_int_equal(run_cli(5, no_role), 2);
    const char *bad_role2[] = {"mentorctl", "participant", "enroll", "--program",
                               "1",         "--role",      "coach"};
    assert_int_equal(run_cli(7, bad_role2), 2);
    const char *user_and_email[] = {"mentorctl", "participant", "enroll",  "--program",
                                    "1",         "--role",      "mentor",  "--user",
                                    "2",         "--email",     "a@b.test"};
    assert_int_equal(run_cli(11, user_and_email), 2);
    const char *bad_program[] = {"mentorctl", "participant", "list", "--program", "one"};
    assert_int_equal(run_cli(5, bad_program), 2);
    const char *bad_skill[] = {"mentorctl", "profile", "edit", "--program", "1", "--offer", "c"};
    assert_int_equal(run_cli(7, bad_skill), 2);
    const char *bad_avail[] = {"mentorctl", "profile",        "edit",    "--program",
                               "1",         "--availability", "mon:9-25"};
    assert_int_equal(run_cli(7, bad_avail), 2);
    const char *no_edit[] = {"mentorctl", "profile", "edit", "--program", "1"};
    assert_int_equal(run_cli(5, no_edit), 2);
    const char *bad_clear[] = {"mentorctl", "profile", "edit", "--program", "1", "--clear", "x"};
    assert_int_equal(run_cli(7, bad_clear), 2);

    /* The matching commands: help pages, and command lines refused
     * before any connection is made. */
    const char *match_help[] = {"mentorctl", "match", "--help"};
    assert_int_equal(run_cli(3, match_help), 0);
    const char *explain_help[] = {"mentorctl", "help", "match", "explain"};
    assert_int_equal(run_cli(4, explain_help), 0);
    const char *pair_help[] = {"mentorctl", "pair", "list", "--help"};
    assert_int_equal(run_cli(4, pair_help), 0);
    const char *rematch_help[] = {"mentorctl", "rematch", "request", "--help"};
    assert_int_equal(run_cli(4, rematch_help), 0);
    static const char *const refused[][12] = {
        {"match", "run"},
        {"match", "run", "--program", "1", "--solver", "greedy"},
        {"match", "list", "--program", "1", "--status", "open"},
        {"match", "list", "--program", "1", "--status", "paired", "--all"},
        {"match", "explain"},
        {"match", "explain", "5", "--id", "5"},
        {"match", "explain", "5", "--mentee", "3"},
        {"match", "explain", "--program", "1", "--mentee", "3"},
        {"match", "explain", "--program", "1", "--mentee", "alice", "--mentor", "3"},
        {"match", "approve"},
        {"match", "approve", "five"},
        {"match", "accept", "1", "2"},
        {"match", "accept", "1", "--note", "no"},
        {"match", "pin", "--program", "1", "--mentee", "a@b.test"},
        {"match", "exclude", "--program", "1", "--mentee", "@b.test", "--mentor", "2"},
        {"match", "reassign", "1"},
        {"match", "prefer", "--program", "1", "--mentor", "3", "--rank", "0"},
        {"match", "prefer", "--program", "1", "--mentor", "3", "--rank", "101"},
        {"match", "avoid", "--program", "1"},
        {"match", "suggest", "--program", "1", "--limit", "51"},
        {"match", "runs", "--program", "1", "--limit", "0"},
        {"match", "request", "--program", "1", "--mentor", "bob"},
        {"match", "frobnicate"},
        {"pair", "list", "--program", "one"},
        {"rematch", "request", "--pair", "1"},
        {"participant", "training", "--program", "1"},
        {"participant", "training", "--program", "1", "--user", "bob"},
        {"program", "create", "--name", "x", "--match-objective", "most"},
        {"program", "create", "--name", "x", "--match-mode", "auto"},
        {"program", "update", "5", "--auto-recalc", "maybe"},
        {"program", "update", "5", "--recalc-hours", "-1"},
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        const char *argv[13] = {"mentorctl"};
        int argc = 1;
        while (argc < 13 && refused[i][argc - 1] != NULL) {
            argv[argc] = refused[i][argc - 1];
            argc++;
        }
        if (run_cli(argc, argv) != 2)
            fail_msg("not a usage error: mentorctl %s %s ...", argv[1], argv[2]);
    }

    /* --from-file: a missing file, bad JSON, an unknown key and a wrong
     * type are usage errors too. */
    char path[512];
    snprintf(path, sizeof(path), "%s/profile.json", home);
    const char *from_file[] = {"mentorctl", "profile",     "edit", "--program",
                               "1",         "--from-file", path};
    assert_int_equal(run_cli(7, from_file), 2);
    static const char *const bad_docs[] = {
        "{\"department\": \"Ops\",}",
        "{\"favourite_colour\": \"blue\"}",
        "{\"seniority_level\": \"4\"}",
        "[]",
    };
    for (size_t i = 0; i < sizeof(bad_docs) / sizeof(bad_docs[0]); i++) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(bad_docs[i], f);
        fclose(f);
        assert_int_equal(run_cli(7, from_file), 2);
    }
    remove_home(home);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long_options_with_space_and_equals),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_missing_value),
        cmocka_unit_test(test_unknown_option),
        cmocka_unit_test(test_positionals),
        cmocka_unit_test(test_help_wins),
        cmocka_unit_test(test_stop_at_positional),
        cmocka_unit_test(test_repeated_options),
        cmocka_unit_test(test_parse_u32),
        cmocka_unit_test(test_parse_id),
        cmocka_unit_test(test_parse_user_ref),
        cmocka_unit_test(test_typo_suggestion),
        cmocka_unit_test(test_json_escape),
        cmocka_unit_test(test_json_writer),
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_terminal_safety),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_date_time),
        cmocka_unit_test(test_endpoint),
        cmocka_unit_test(test_config_lines),
        cmocka_unit_test(test_session_files),
        cmocka_unit_test(test_cli_without_network),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
