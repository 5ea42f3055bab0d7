/* test_client_json.c: unit tests for mentorctl's strict JSON parser: every
 * kind of value, string escapes (\uXXXX and surrogate pairs into UTF-8),
 * the number grammar, what strictness refuses (trailing commas, leading
 * zeros, duplicate keys, invalid UTF-8, lone surrogates ...), the depth and
 * size limits, and that errors name the line and column. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "md_json.h"

static md_json_value_t *parse_ok(const char *text)
{
    md_json_value_t *v = NULL;
    char err[256] = "";
    int rc = md_json_parse(text, strlen(text), &v, err, sizeof(err));
    if (rc != MD_OK)
        fail_msg("parsing %s failed: %s", text, err);
    assert_non_null(v);
    return v;
}

/* Parse text (of len bytes) expecting failure; returns the message. */
static const char *parse_bad_n(const char *text, size_t len)
{
    static char err[256];
    md_json_value_t *v = (md_json_value_t *)1;
    err[0] = '\0';
    assert_int_equal(md_json_parse(text, len, &v, err, sizeof(err)), MD_EINVAL);
    assert_null(v);
    assert_true(err[0] != '\0');
    return err;
}

static const char *parse_bad(const char *text)
{
    return parse_bad_n(text, strlen(text));
}

static void test_values(void **state)
{
    (void)state;
    md_json_value_t *v = parse_ok(" {\"a\": [1, -2.5e3, true, false, null, \"s\"], \"b\": {}, "
                                  "\"c\": []}\n");
    assert_int_equal(v->kind, MD_JSON_OBJECT);
    assert_int_equal(v->n, 3);
    const md_json_value_t *a = md_json_member(v, "a");
    assert_non_null(a);
    assert_int_equal(a->kind, MD_JSON_ARRAY);
    assert_int_equal(a->n, 6);
    assert_int_equal(a->items[0].kind, MD_JSON_NUMBER);
    assert_string_equal(a->items[0].text, "1");
    assert_string_equal(a->items[1].text, "-2.5e3");
    assert_int_equal(a->items[2].kind, MD_JSON_BOOL);
    assert_true(a->items[2].boolean);
    assert_int_equal(a->items[3].kind, MD_JSON_BOOL);
    assert_false(a->items[3].boolean);
    assert_int_equal(a->items[4].kind, MD_JSON_NULL);
    assert_int_equal(a->items[5].kind, MD_JSON_STRING);
    assert_string_equal(a->items[5].text, "s");
    assert_int_equal(md_json_member(v, "b")->kind, MD_JSON_OBJECT);
    assert_int_equal(md_json_member(v, "b")->n, 0);
    assert_int_equal(md_json_member(v, "c")->n, 0);
    assert_null(md_json_member(v, "d"));
    assert_null(md_json_member(a, "a"));
    md_json_value_free(v);

    /* Any value may be the whole document. */
    v = parse_ok("42");
    assert_int_equal(v->kind, MD_JSON_NUMBER);
    md_json_value_free(v);
    v = parse_ok("\"\"");
    assert_int_equal(v->kind, MD_JSON_STRING);
    assert_int_equal(v->len, 0);
    md_json_value_free(v);
    v = parse_ok("null");
    assert_int_equal(v->kind, MD_JSON_NULL);
    md_json_value_free(v);
    /* A UTF-8 byte order mark is skipped. */
    v = parse_ok("\xef\xbb\xbf[]");
    assert_int_equal(v->kind, MD_JSON_ARRAY);
    md_json_value_free(v);
    md_json_value_free(NULL);
}

static void check_string(const char *json, const char *want, size_t want_len)
{
    md_json_value_t *v = parse_ok(json);
    assert_int_equal(v->kind, MD_JSON_STRING);
    assert_int_equal(v->len, want_len);
    assert_memory_equal(v->text, want, want_len);
    assert_int_equal(v->text[want_len], '\0');
    md_json_value_free(v);
}

static void test_escapes(void **state)
{
    (void)state;
    check_string("\"a\\\"b\\\\c\\/d\"", "a\"b\\c/d", 7);
    check_string("\"\\b\\f\\n\\r\\t\"", "\b\f\n\r\t", 5);
    /* \u escapes of every UTF-8 length, in either case of hex digit. */
    check_string("\"\\u0041\\u00e9\\u20AC\"", "A\xc3\xa9\xe2\x82\xac", 6);
    /* A surrogate pair is one code point: U+1F600. */
    check_string("\"\\ud83d\\ude00!\"", "\xf0\x9f\x98\x80!", 5);
    check_string("\"\\uDBFF\\uDFFF\"", "\xf4\x8f\xbf\xbf", 4);
    /* Raw UTF-8 passes through. */
    check_string("\"Zo\xc3\xab \xf0\x9f\x98\x80\"", "Zo\xc3\xab \xf0\x9f\x98\x80", 9);

    assert_non_null(strstr(parse_bad("\"\\x\""), "invalid escape '\\x'"));
    assert_non_null(strstr(parse_bad("\"\\u12\""), "\\u escape"));
    assert_non_null(strstr(parse_bad("\"\\u12G4\""), "\\u escape"));
    assert_non_null(strstr(parse_bad("\"\\u00"), "unterminated string"));
    assert_non_null(strstr(parse_bad("\"\\ud83d\""), "unpaired surrogate \\uD83D"));
    assert_non_null(strstr(parse_bad("\"\\ud83dx\""), "unpaired surrogate"));
    assert_non_null(strstr(parse_bad("\"\\ud83d\\u0041\""), "unpaired surrogate"));
    assert_non_null(strstr(parse_bad("\"\\ude00\""), "unpaired surrogate \\uDE00"));
    assert_non_null(strstr(parse_bad("\"a\\u0000b\""), "\\u0000"));
    assert_non_null(strstr(parse_bad("\"tab\there\""), "control character U+0009"));
    assert_non_null(strstr(parse_bad("\"line\nbreak\""), "control character"));
    assert_non_null(strstr(parse_bad("\"open"), "unterminated string"));
    assert_non_null(strstr(parse_bad("\"ends in \\"), "unterminated string"));
    /* Invalid UTF-8: a lone continuation byte, an overlong '/', an encoded
     * surrogate, a truncated sequence and a code point past U+10FFFF. */
    assert_non_null(strstr(parse_bad("\"\x80\""), "invalid UTF-8"));
    assert_non_null(strstr(parse_bad("\"\xc0\xaf\""), "invalid UTF-8"));
    assert_non_null(strstr(parse_bad("\"\xed\xa0\x80\""), "invalid UTF-8"));
    assert_non_null(strstr(parse_bad("\"\xe2\x82\""), "invalid UTF-8"));
    assert_non_null(strstr(parse_bad("\"\xf4\x90\x80\x80\""), "invalid UTF-8"));
    /* A NUL byte in the input is a control character, not an end. */
    assert_non_null(strstr(parse_bad_n("\"a\0b\"", 5), "control character U+0000"));
}

static void test_numbers(void **state)
{
    (void)state;
    static const char *const good[] = {
        "0", "-0", "7", "-12", "3.25", "1e5", "1E+5", "2.5e-3", "18446744073709551616"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        md_json_value_t *v = parse_ok(good[i]);
        assert_int_equal(v->kind, MD_JSON_NUMBER);
        assert_string_equal(v->text, good[i]);
        md_json_value_free(v);
    }
    static const char *const bad[] = {"01",  "-",    "+1",  "1.",  ".5",       "1e",
                                      "1e+", "0x10", "- 1", "NaN", "Infinity", "1.5.2"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        parse_bad(bad[i]);

    uint64_t n = 0;
    md_json_value_t *v = parse_ok("[0, 4, 18446744073709551615, 18446744073709551616, -1, 4.0, "
                                  "1e3, \"4\"]");
    assert_int_equal(md_json_get_u64(&v->items[0], &n), MD_OK);
    assert_int_equal(n, 0);
    assert_int_equal(md_json_get_u64(&v->items[1], &n), MD_OK);
    assert_int_equal(n, 4);
    assert_int_equal(md_json_get_u64(&v->items[2], &n), MD_OK);
    assert_true(n == UINT64_MAX);
    assert_int_equal(md_json_get_u64(&v->items[3], &n), MD_EINVAL);
    assert_int_equal(md_json_get_u64(&v->items[4], &n), MD_EINVAL);
    assert_int_equal(md_json_get_u64(&v->items[5], &n), MD_EINVAL);
    assert_int_equal(md_json_get_u64(&v->items[6], &n), MD_EINVAL);
    assert_int_equal(md_json_get_u64(&v->items[7], &n), MD_EINVAL);
    md_json_value_free(v);
}

static void test_strictness(void **state)
{
    (void)state;
    assert_non_null(strstr(parse_bad(""), "unexpected end of input"));
    assert_non_null(strstr(parse_bad("   "), "unexpected end of input"));
    assert_non_null(strstr(parse_bad("[1, 2,]"), "unexpected ']' (expected a value)"));
    assert_non_null(strstr(parse_bad("{\"a\": 1,}"), "expected a key in double quotes"));
    assert_non_null(strstr(parse_bad("{'a': 1}"), "expected a key in double quotes"));
    assert_non_null(strstr(parse_bad("{\"a\" 1}"), "expected ':'"));
    assert_non_null(strstr(parse_bad("{\"a\": 1 \"b\": 2}"), "expected ',' or '}'"));
    assert_non_null(strstr(parse_bad("[1 2]"), "expected ',' or ']'"));
    assert_non_null(strstr(parse_bad("[1"), "unexpected end of input (expected ',' or ']')"));
    assert_non_null(strstr(parse_bad("{} {}"), "after the value"));
    assert_non_null(strstr(parse_bad("[] x"), "unexpected 'x' after the value"));
    assert_non_null(strstr(parse_bad("tru"), "expected a value"));
    assert_non_null(strstr(parse_bad("True"), "expected a value"));
    assert_non_null(strstr(parse_bad("// c\n{}"), "expected a value"));
    assert_non_null(strstr(parse_bad("{\"a\": 1, \"b\": 2, \"a\": 3}"), "duplicate key \"a\""));
    /* Nested objects may reuse a key; only siblings clash. */
    md_json_value_t *v = parse_ok("{\"a\": {\"a\": {\"a\": 1}}, \"b\": [{\"a\": 1}, {\"a\": 2}]}");
    md_json_value_free(v);
}

static void test_error_position(void **state)
{
    (void)state;
    assert_string_equal(parse_bad("{\n  \"a\": 1,\n  \"b\" 2\n}"),
                        "line 3, column 7: unexpected '2' (expected ':')");
    assert_string_equal(parse_bad("[1,\n\x01]"),
                        "line 2, column 1: unexpected byte 0x01 (expected a value)");
    /* Columns count characters, not bytes. */
    assert_string_equal(parse_bad("[\"\xc3\xa9\xc3\xa9\", x]"),
                        "line 1, column 8: unexpected 'x' (expected a value)");
    /* Without room for a message the parser still fails cleanly. */
    md_json_value_t *out = NULL;
    assert_int_equal(md_json_parse("[", 1, &out, NULL, 0), MD_EINVAL);
    assert_null(out);
}

/* n nested arrays around a 1. */
static char *nested(int n)
{
    char *s = malloc((size_t)n * 2 + 2);
    assert_non_null(s);
    memset(s, '[', (size_t)n);
    s[n] = '1';
    memset(s + n + 1, ']', (size_t)n);
    s[2 * n + 1] = '\0';
    return s;
}

static void test_depth_limit(void **state)
{
    (void)state;
    char *ok = nested(MD_JSON_PARSE_MAX_DEPTH);
    md_json_value_t *v = parse_ok(ok);
    const md_json_value_t *p = v;
    for (int i = 0; i < MD_JSON_PARSE_MAX_DEPTH; i++) {
        assert_int_equal(p->kind, MD_JSON_ARRAY);
        assert_int_equal(p->n, 1);
        p = &p->items[0];
    }
    assert_string_equal(p->text, "1");
    md_json_value_free(v);
    free(ok);

    char *deep = nested(MD_JSON_PARSE_MAX_DEPTH + 1);
    assert_non_null(strstr(parse_bad(deep), "nesting deeper than 32 levels"));
    free(deep);
    /* Far deeper input fails the same way, without exhausting the stack. */
    deep = nested(100000);
    assert_non_null(strstr(parse_bad(deep), "nesting deeper than 32 levels"));
    free(deep);
    /* Objects count as levels too. */
    char obj[512] = "";
    for (int i = 0; i <= MD_JSON_PARSE_MAX_DEPTH; i++)
        strcat(obj, "{\"k\":");
    strcat(obj, "1");
    for (int i = 0; i <= MD_JSON_PARSE_MAX_DEPTH; i++)
        strcat(obj, "}");
    assert_non_null(strstr(parse_bad(obj), "nesting deeper"));
}

static void test_size_limit(void **state)
{
    (void)state;
    /* A string filling the limit exactly parses; one byte more does not. */
    size_t len = MD_JSON_PARSE_MAX_BYTES;
    char *big = malloc(len + 1);
    assert_non_null(big);
    memset(big, 'x', len + 1);
    big[0] = '"';
    big[len - 1] = '"';
    md_json_value_t *v = NULL;
    char err[128];
    assert_int_equal(md_json_parse(big, len, &v, err, sizeof(err)), MD_OK);
    assert_int_equal(v->len, len - 2);
    md_json_value_free(v);
    big[len - 1] = 'x';
    big[len] = '"';
    assert_non_null(strstr(parse_bad_n(big, len + 1), "larger than 1048576 bytes"));
    free(big);
}

static void test_many_members(void **state)
{
    (void)state;
    /* Enough members to exercise growth and the duplicate check. */
    size_t n = 5000;
    char *doc = malloc(n * 16 + 8);
    assert_non_null(doc);
    size_t off = 0;
    doc[off++] = '{';
    for (size_t i = 0; i < n; i++)
        off += (size_t)sprintf(doc + off, "%s\"k%zu\":%zu", i > 0 ? "," : "", i, i);
    doc[off++] = '}';
    doc[off] = '\0';
    md_json_value_t *v = parse_ok(doc);
    assert_int_equal(v->n, n);
    assert_string_equal(md_json_member(v, "k4999")->text, "4999");
    md_json_value_free(v);
    /* The same with one duplicate at the very end. */
    off--;
    off += (size_t)sprintf(doc + off, ",\"k17\":0}");
    assert_non_null(strstr(parse_bad(doc), "duplicate key \"k17\""));
    free(doc);
}

static void test_kind_names(void **state)
{
    (void)state;
    assert_string_equal(md_json_kind_name(MD_JSON_NULL), "null");
    assert_string_equal(md_json_kind_name(MD_JSON_BOOL), "boolean");
    assert_string_equal(md_json_kind_name(MD_JSON_NUMBER), "number");
    assert_string_equal(md_json_kind_name(MD_JSON_STRING), "string");
    assert_string_equal(md_json_kind_name(MD_JSON_ARRAY), "array");
    assert_string_equal(md_json_kind_name(MD_JSON_OBJECT), "object");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),         cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_numbers),        cmocka_unit_test(test_strictness),
        cmocka_unit_test(test_error_position), cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_size_limit),     cmocka_unit_test(test_many_members),
        cmocka_unit_test(test_kind_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
