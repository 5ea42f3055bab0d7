/* fuzz_frame.c: libFuzzer target for the incremental frame decoder in
 * common/frame.c and the protobuf-c parser of Request behind it, which
 * together are the first code every byte from a client meets. The first two
 * input bytes seed the chunk sizes, so the fuzzer explores the same stream
 * cut at many points; the rest is the stream. Each stream is also parsed in
 * one piece by a plain reference decoder, and the frames the incremental
 * decoder returns must be a prefix of the reference's frames (the whole of
 * them when no header is oversize). A small frame limit makes the oversize
 * path reachable with short inputs. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "md_err.h"
#include "md_frame.h"
#include "mentor.pb-c.h"

#define MAX_PAYLOAD 4096u

/* Assert even in release builds: a failed invariant must crash the fuzzer. */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

typedef struct {
    size_t off; /* payload offset in the stream */
    size_t len;
} ref_frame_t;

/* Frames of the whole stream as the protocol defines them: how many whole
 * frames precede either the end or the first oversize header. */
static size_t reference_frames(const uint8_t *p, size_t n, ref_frame_t *out, int *oversize)
{
    size_t count = 0;
    size_t at = 0;
    *oversize = 0;
    while (n - at >= MD_FRAME_HEADER) {
        uint32_t len = md_frame_get_header(p + at);
        if (len > MAX_PAYLOAD) {
            *oversize = 1;
            break;
        }
        if (n - at - MD_FRAME_HEADER < len)
            break;
        out[count].off = at + MD_FRAME_HEADER;
        out[count].len = len;
        count++;
        at += MD_FRAME_HEADER + len;
    }
    return count;
}

/* The chunk sizes: mostly small, sometimes larger than a whole frame. */
static size_t next_chunk(uint32_t *state)
{
    *state = *state * 1103515245u + 12345u;
    uint32_t r = *state >> 16;
    if ((r & 7) == 0)
        return 1 + (r >> 3) % (2 * MAX_PAYLOAD);
    return 1 + (r >> 3) % 16;
}

/* Every payload goes to the Request parser; a message it accepts must pack
 * back to exactly the size it announces. */
static void parse_request(const uint8_t *payload, size_t len)
{
    Mentor__V1__Request *req = mentor__v1__request__unpack(NULL, len, payload);
    if (req == NULL)
        return;
    size_t size = mentor__v1__request__get_packed_size(req);
    uint8_t *buf = malloc(size > 0 ? size : 1);
    CHECK(buf != NULL);
    CHECK(mentor__v1__request__pack(req, buf) == size);
    free(buf);
    mentor__v1__request__free_unpacked(req, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint32_t rng = ((uint32_t)data[0] << 8) | data[1];
    const uint8_t *stream = data + 2;
    size_t n = size - 2;

    /* Each frame takes at least its header, which bounds their count. */
    ref_frame_t *ref = malloc((n / MD_FRAME_HEADER + 1) * sizeof(*ref));
    CHECK(ref != NULL);
    int oversize;
    size_t nref = reference_frames(stream, n, ref, &oversize);

    md_frame_decoder_t d;
    md_frame_decoder_init(&d, MAX_PAYLOAD);
    size_t fed = 0;
    size_t got = 0;
    int failed = 0;
    while (fed < n && !failed) {
        size_t chunk = next_chunk(&rng);
        if (chunk > n - fed)
            chunk = n - fed;
        size_t before = md_frame_buffered(&d);
        int rc = md_frame_feed(&d, stream + fed, chunk);
        fed += chunk;
        if (rc != MD_OK) {
            CHECK(rc == MD_EFRAMETOOBIG);
            CHECK(oversize);
            failed = 1;
        } else {
            CHECK(md_frame_buffered(&d) == before + chunk);
        }
        for (;;) {
            const uint8_t *payload = NULL;
            size_t len = 0;
            rc = md_frame_next(&d, &payload, &len);
            if (rc == 0)
                break;
            if (rc != 1) {
                CHECK(rc == MD_EFRAMETOOBIG);
                CHECK(oversize);
                failed = 1;
                break;
            }
            CHECK(!failed);
            CHECK(len <= MAX_PAYLOAD);
            CHECK(got < nref);
            CHECK(ref[got].len == len);
            CHECK(len == 0 || memcmp(stream + ref[got].off, payload, len) == 0);
            got++;
            parse_request(payload, len);
        }
        if (!failed) {
            /* With every whole frame taken, at most one incomplete frame is
             * left: its header and less than its payload. A decoder that
             * never fails thus never holds more than header + max_payload
             * bytes between reads, whatever the peer sends. */
            CHECK(md_frame_buffered(&d) < MD_FRAME_HEADER + MAX_PAYLOAD);
            CHECK(d.scan == 0);
        }
    }
    if (failed) {
        /* A failure is sticky and loses nothing the reference would keep:
         * only frames behind an oversize header are never returned. */
        const uint8_t *payload;
        size_t len;
        uint8_t byte = 0;
        CHECK(md_frame_next(&d, &payload, &len) == MD_EFRAMETOOBIG);
        CHECK(md_frame_feed(&d, &byte, 1) == MD_EFRAMETOOBIG);
        CHECK(got <= nref);
    } else {
        /* Without a failure every reference frame came out, and exactly the
         * unfinished tail stays buffered. */
        CHECK(!oversize);
        CHECK(got == nref);
        size_t consumed = nref > 0 ? ref[nref - 1].off + ref[nref - 1].len : 0;
        CHECK(md_frame_buffered(&d) == n - consumed);
    }
    md_frame_decoder_free(&d);
    free(ref);
    return 0;
}
