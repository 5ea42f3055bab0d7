/* md_frame.h: the length-prefixed framing of the mentord protocol (a 4-byte
 * big-endian payload length, then the payload). The decoder is incremental:
 * feed it whatever the transport delivered, then take whole frames out. It
 * checks a frame's claimed length against the limit before buffering it, so
 * a hostile header cannot make it allocate. */
#ifndef MD_FRAME_H
#define MD_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "md_buf.h"
#include "md_err.h"

#define MD_FRAME_HEADER      4
#define MD_FRAME_DEFAULT_MAX (1024u * 1024u)

typedef struct {
    md_buf_t in;        /* owned: bytes fed and not yet taken */
    size_t max_payload; /* frames larger than this are an error */
    size_t scan;        /* offset from the head to the first incomplete frame */
    int failed;         /* sticky: once a frame is too large, stays failed */
} md_frame_decoder_t;

void md_frame_decoder_init(md_frame_decoder_t *d, size_t max_payload);
void md_frame_decoder_free(md_frame_decoder_t *d);
/* Append transport bytes. Fails with MD_EFRAMETOOBIG as soon as a header
 * claims more than max_payload, without buffering the payload. */
MD_WUR int md_frame_feed(md_frame_decoder_t *d, const void *p, size_t n);
/* Take the next whole frame. Returns 1 and sets payload and len (valid until
 * the next feed or next call), 0 when more bytes are needed, or
 * MD_EFRAMETOOBIG. */
MD_WUR int md_frame_next(md_frame_decoder_t *d, const uint8_t **payload, size_t *len);
/* Bytes buffered but not yet returned as frames. */
size_t md_frame_buffered(const md_frame_decoder_t *d);

/* Append a frame header for a payload of n bytes followed by the payload. */
MD_WUR int md_frame_append(md_buf_t *out, const void *payload, size_t n);

static inline void md_frame_put_header(uint8_t h[4], uint32_t n)
{
    h[0] = (uint8_t)(n >> 24);
    h[1] = (uint8_t)(n >> 16);
    h[2] = (uint8_t)(n >> 8);
    h[3] = (uint8_t)n;
}

static inline uint32_t md_frame_get_header(const uint8_t h[4])
{
    return ((uint32_t)h[0] << 24) | ((uint32_t)h[1] << 16) | ((uint32_t)h[2] << 8) | h[3];
}

#endif
