/* frame.c: incremental decoder and encoder for length-prefixed frames. */
#include "md_frame.h"

#include <string.h>

void md_frame_decoder_init(md_frame_decoder_t *d, size_t max_payload)
{
    md_buf_init(&d->in);
    d->max_payload = max_payload;
    d->scan = 0;
    d->failed = 0;
}

void md_frame_decoder_free(md_frame_decoder_t *d)
{
    if (d == NULL)
        return;
    md_buf_free(&d->in);
}

size_t md_frame_buffered(const md_frame_decoder_t *d)
{
    return md_buf_avail(&d->in);
}

int md_frame_feed(md_frame_decoder_t *d, const void *p, size_t n)
{
    if (d->failed)
        return MD_EFRAMETOOBIG;
    const uint8_t *src = p;
    /* Take bytes in steps that end at a header or a frame boundary, so each
     * header is checked before any byte behind it is kept: a claim of 4 GiB
     * fails after its 4 header bytes. */
    while (n > 0) {
        size_t rest = md_buf_avail(&d->in) - d->scan; /* bytes of the open frame */
        size_t want;
        if (rest < MD_FRAME_HEADER) {
            want = MD_FRAME_HEADER - rest;
        } else {
            uint32_t len = md_frame_get_header(md_buf_head(&d->in) + d->scan);
            want = MD_FRAME_HEADER + (size_t)len - rest;
        }
        size_t take = n < want ? n : want;
        int rc = md_buf_append(&d->in, src, take);
        if (rc != MD_OK)
            return rc;
        src += take;
        n -= take;
        rest += take;
        if (rest >= MD_FRAME_HEADER) {
            uint32_t len = md_frame_get_header(md_buf_head(&d->in) + d->scan);
            if (len > d->max_payload) {
                d->failed = 1;
                return MD_EFRAMETOOBIG;
            }
            if (rest == MD_FRAME_HEADER + (size_t)len)
                d->scan += rest;
        }
    }
    return MD_OK;
}

int md_frame_next(md_frame_decoder_t *d, const uint8_t **payload, size_t *len)
{
    if (d->failed)
        return MD_EFRAMETOOBIG;
    size_t avail = md_buf_avail(&d->in);
    if (avail < MD_FRAME_HEADER)
        return 0;
    const uint8_t *h = md_buf_head(&d->in);
    uint32_t n = md_frame_get_header(h);
    if (n > d->max_payload) {
        d->failed = 1;
        return MD_EFRAMETOOBIG;
    }
    if (avail - MD_FRAME_HEADER < n)
        return 0;
    *payload = h + MD_FRAME_HEADER;
    *len = n;
    /* Consuming only moves the offset; the bytes stay valid until the next
     * feed compacts the buffer. */
    d->in.off += MD_FRAME_HEADER + n;
    d->scan -= MD_FRAME_HEADER + n;
    return 1;
}

int md_frame_append(md_buf_t *out, const void *payload, size_t n)
{
    if (n > UINT32_MAX)
        return MD_EFRAMETOOBIG;
    uint8_t h[MD_FRAME_HEADER];
    md_frame_put_header(h, (uint32_t)n);
    int rc = md_buf_reserve(out, MD_FRAME_HEADER + n);
    if (rc != MD_OK)
        return rc;
    memcpy(out->data + out->len, h, MD_FRAME_HEADER);
    if (n > 0)
        memcpy(out->data + out->len + MD_FRAME_HEADER, payload, n);
    out->len += MD_FRAME_HEADER + n;
    return MD_OK;
}
