/* md_http.h: the little HTTP/1.x request reading mentord's metrics
 * listener needs: a request line and headers, nothing more (no bodies, no
 * keep-alive). Pure code, fuzzed by tests/fuzz/fuzz_http.c. */
#ifndef MD_HTTP_H
#define MD_HTTP_H

#include <stddef.h>

#define MD_HTTP_MAX_REQUEST 4096 /* bytes of request line and headers */

typedef enum {
    MD_HTTP_INCOMPLETE = 0, /* need more bytes */
    MD_HTTP_OK = 1,         /* a complete GET; path filled */
    MD_HTTP_BAD = -1,       /* not an HTTP/1.x request: answer 400 */
    MD_HTTP_METHOD = -2,    /* a method other than GET: answer 405 */
    MD_HTTP_TOO_LARGE = -3  /* headers past MD_HTTP_MAX_REQUEST: answer 431 */
} md_http_result_t;

/* Look at the first len bytes received. On MD_HTTP_OK, path holds the
 * request target without its query string, NUL-terminated (at most
 * pathlen - 1 bytes; a longer target is MD_HTTP_BAD). */
md_http_result_t md_http_parse_request(const char *buf, size_t len, char *path, size_t pathlen);

#endif
