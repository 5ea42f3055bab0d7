/* test_http.c: the HTTP request reading of mentord's metrics listener. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "md_http.h"

static md_http_result_t parse(const char *s, char *path)
{
    return md_http_parse_request(s, strlen(s), path, 64);
}

static void test_complete_requests(void **state)
{
    (void)state;
    char path[64];
    assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", path), MD_HTTP_OK);
    assert_string_equal(path, "/metrics");
    assert_int_equal(parse("GET /healthz?verbose=1 HTTP/1.0\r\n\r\n", path), MD_HTTP_OK);
    assert_string_equal(path, "/healthz");
    assert_int_equal(parse("GET / HTTP/1.1\n\n", path), MD_HTTP_OK);
    assert_string_equal(path, "/");
}

static void test_incomplete_and_bad(void **state)
{
    (void)state;
    char path[64];
    assert_int_equal(parse("", path), MD_HTTP_INCOMPLETE);
    assert_int_equal(parse("GET /metrics HTTP/1.1\r\nHost: x\r\n", path), MD_HTTP_INCOMPLETE);
    static const char *const bad[] = {
        "GET metrics HTTP/1.1\r\n\r\n",
        "GET /metrics HTTP/2.0\r\n\r\n",
        "GET  /metrics HTTP/1.1\r\n\r\n",
        "GET /met rics HTTP/1.1\r\n\r\n",
        "\r\n\r\n",
        "GET /metrics\r\n\r\n",
        "GET /\x01 HTTP/1.1\r\n\r\n",
        "G@T / HTTP/1.1\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(parse(bad[i], path), MD_HTTP_BAD);
    assert_int_equal(parse("POST /metrics HTTP/1.1\r\n\r\n", path), MD_HTTP_METHOD);
    assert_int_equal(parse("HEAD / HTTP/1.1\r\n\r\n", path), MD_HTTP_METHOD);
    /* A target longer than the caller's buffer. */
    char longreq[200];
    memset(longreq, 0, sizeof(longreq));
    strcpy(longreq, "GET /");
    memset(longreq + 5, 'a', 100);
    strcat(longreq, " HTTP/1.1\r\n\r\n");
    assert_int_equal(parse(longreq, path), MD_HTTP_BAD);
}

static void test_too_large(void **state)
{
    (void)state;
    char path[64];
    static char big[MD_HTTP_MAX_REQUEST + 10];
    memset(big, 'a', sizeof(big));
    memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
    assert_int_equal(md_http_parse_request(big, sizeof(big), path, sizeof(path)),
                     MD_HTTP_TOO_LARGE);
    assert_int_equal(md_http_parse_request(big, 100, path, sizeof(path)), MD_HTTP_INCOMPLETE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_complete_requests),
        cmocka_unit_test(test_incomplete_and_bad),
        cmocka_unit_test(test_too_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
