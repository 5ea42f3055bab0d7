/* http.c: see md_http.h. */
#include "md_http.h"

#include <string.h>

/* The end of the headers (the byte after CRLF CRLF, or LF LF), or 0. */
static size_t headers_end(const char *buf, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (buf[i] == '\n' && buf[i + 1] == '\n')
            return i + 2;
        if (i + 3 < len && buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' &&
            buf[i + 3] == '\n')
            return i + 4;
    }
    return 0;
}

static int is_token_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

md_http_result_t md_http_parse_request(const char *buf, size_t len, char *path, size_t pathlen)
{
    size_t end = headers_end(buf, len < MD_HTTP_MAX_REQUEST ? len : MD_HTTP_MAX_REQUEST);
    if (end == 0)
        return len >= MD_HTTP_MAX_REQUEST ? MD_HTTP_TOO_LARGE : MD_HTTP_INCOMPLETE;
    /* Request line: METHOD SP TARGET SP HTTP/1.x CRLF */
    size_t i = 0;
    while (i < end && is_token_char(buf[i]))
        i++;
    size_t mlen = i;
    if (mlen == 0 || mlen > 16 || i >= end || buf[i] != ' ')
        return MD_HTTP_BAD;
    size_t t = ++i;
    while (i < end && buf[i] != ' ' && buf[i] != '\r' && buf[i] != '\n') {
        if ((unsigned char)buf[i] < 0x21 || (unsigned char)buf[i] > 0x7e)
            return MD_HTTP_BAD;
        i++;
    }
    size_t tlen = i - t;
    if (tlen == 0 || buf[t] != '/' || i >= end || buf[i] != ' ')
        return MD_HTTP_BAD;
    i++;
    if (end - i < 8 || memcmp(buf + i, "HTTP/1.", 7) != 0 ||
        (buf[i + 7] != '0' && buf[i + 7] != '1'))
        return MD_HTTP_BAD;
    i += 8;
    if (i < end && buf[i] == '\r')
        i++;
    if (i >= end || buf[i] != '\n')
        return MD_HTTP_BAD;
    if (mlen != 3 || memcmp(buf, "GET", 3) != 0)
        return MD_HTTP_METHOD;
    const char *q = memchr(buf + t, '?', tlen);
    if (q != NULL)
        tlen = (size_t)(q - (buf + t));
    if (tlen >= pathlen)
        return MD_HTTP_BAD;
    memcpy(path, buf + t, tlen);
    path[tlen] = '\0';
    return MD_HTTP_OK;
}
