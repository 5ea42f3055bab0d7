/* md_buf.h: a growable byte buffer. The buffer owns its storage; readers
 * consume from the front (off) and writers append at the end (len). */
#ifndef MD_BUF_H
#define MD_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "md_err.h"

typedef struct {
    uint8_t *data;
    size_t off; /* first unread byte */
    size_t len; /* end of written bytes */
    size_t cap;
} md_buf_t;

void md_buf_init(md_buf_t *b);
void md_buf_free(md_buf_t *b);
/* Make room for n more bytes at the end; compacts consumed bytes first. */
MD_WUR int md_buf_reserve(md_buf_t *b, size_t n);
MD_WUR int md_buf_append(md_buf_t *b, const void *p, size_t n);
/* Bytes available to read. */
static inline size_t md_buf_avail(const md_buf_t *b)
{
    return b->len - b->off;
}
static inline const uint8_t *md_buf_head(const md_buf_t *b)
{
    return b->data + b->off;
}
void md_buf_consume(md_buf_t *b, size_t n);
void md_buf_reset(md_buf_t *b);

#endif
