/* buf.c: growable byte buffer used for socket and TLS staging. */
#include "md_buf.h"

#include <stdlib.h>
#include <string.h>

void md_buf_init(md_buf_t *b)
{
    memset(b, 0, sizeof(*b));
}

void md_buf_free(md_buf_t *b)
{
    if (b == NULL)
        return;
    free(b->data);
    memset(b, 0, sizeof(*b));
}

int md_buf_reserve(md_buf_t *b, size_t n)
{
    if (b->off > 0 && b->cap - b->len < n) {
        memmove(b->data, b->data + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
    }
    if (b->cap - b->len >= n)
        return MD_OK;
    size_t need = b->len + n;
    if (need < b->len)
        return MD_ENOMEM;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2)
            return MD_ENOMEM;
        cap *= 2;
    }
    uint8_t *p = realloc(b->data, cap);
    if (p == NULL)
        return MD_ENOMEM;
    b->data = p;
    b->cap = cap;
    return MD_OK;
}

int md_buf_append(md_buf_t *b, const void *p, size_t n)
{
    if (n == 0)
        return MD_OK;
    int rc = md_buf_reserve(b, n);
    if (rc != MD_OK)
        return rc;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return MD_OK;
}

void md_buf_consume(md_buf_t *b, size_t n)
{
    if (n > b->len - b->off)
        n = b->len - b->off;
    b->off += n;
    if (b->off == b->len)
        b->off = b->len = 0;
}

void md_buf_reset(md_buf_t *b)
{
    b->off = b->len = 0;
}
