/* test_frame.c: unit tests of the incremental frame decoder and encoder in
 * common/frame.c. The decoder sits between the socket and the protobuf
 * parser of every connection, so these tests cover both correct traffic cut
 * at arbitrary points and hostile input: headers claiming huge sizes, which
 * must fail after the four header bytes without allocating, and random bytes,
 * which must never crash or return a frame larger than the limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "md_buf.h"
#include "md_err.h"
#include "md_frame.h"

/* A small deterministic generator, so that a failing random test can be
 * replayed exactly. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rng_next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

static void fill_pattern(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed * 31u + i * 7u + (i >> 8));
}

/* Frames taken out of a decoder, copied because the decoder's pointers are
 * valid only until the next feed. */
typedef struct {
    size_t count;
    size_t lens[512];
    md_buf_t bytes; /* all payloads back to back */
} collected_t;

static void collected_init(collected_t *c)
{
    memset(c, 0, sizeof(*c));
    md_buf_init(&c->bytes);
}

static void collected_free(collected_t *c)
{
    md_buf_free(&c->bytes);
}

/* Take every complete frame the decoder holds. */
static void drain(md_frame_decoder_t *d, collected_t *c)
{
    for (;;) {
        const uint8_t *payload = NULL;
        size_t len = 0;
        int rc = md_frame_next(d, &payload, &len);
        assert_true(rc == 0 || rc == 1);
        if (rc == 0)
            return;
        assert_true(len <= d->max_payload);
        assert_true(c->count < sizeof(c->lens) / sizeof(c->lens[0]));
        c->lens[c->count++] = len;
        assert_int_equal(md_buf_append(&c->bytes, payload, len), MD_OK);
    }
}

/* Encodes a list of payload lengths (with pattern contents) as a wire
 * stream, and checks collected frames against it. */
static void build_stream(md_buf_t *wire, const size_t *lens, size_t n)
{
    md_buf_init(wire);
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = malloc(lens[i] ? lens[i] : 1);
        assert_non_null(p);
        fill_pattern(p, lens[i], (uint32_t)i);
        assert_int_equal(md_frame_append(wire, p, lens[i]), MD_OK);
        free(p);
    }
}

static void check_collected(const collected_t *c, const size_t *lens, size_t n)
{
    assert_int_equal(c->count, n);
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(c->lens[i], lens[i]);
        uint8_t *want = malloc(lens[i] ? lens[i] : 1);
        assert_non_null(want);
        fill_pattern(want, lens[i], (uint32_t)i);
        assert_true(off + lens[i] <= md_buf_avail(&c->bytes));
        if (lens[i] > 0)
            assert_memory_equal(md_buf_head(&c->bytes) + off, want, lens[i]);
        free(want);
        off += lens[i];
    }
    assert_int_equal(off, md_buf_avail(&c->bytes));
}

static void test_single_frame(void **state)
{
    md_frame_decoder_t d;
    md_frame_decoder_init(&d, MD_FRAME_DEFAULT_MAX);
    static const char msg[] = "hello, mentor";
    md_buf_t wire;
    md_buf_init(&wire);
    assert_int_equal(md_frame_append(&wire, msg, sizeof(msg) - 1), MD_OK);
    assert_int_equal(md_buf_avail(&wire), MD_FRAME_HEADER + sizeof(msg) - 1);

    assert_int_equal(md_frame_feed(&d, md_buf_head(&wire), md_buf_avail(&wire)), MD_OK);
    const uint8_t *payload = NULL;
    size_t len = 0;
    assert_int_equal(md_frame_next(&d, &payload, &len), 1);
    assert_int_equal(len, sizeof(msg) - 1);
    assert_memory_equal(payload, msg, len);
    assert_int_equal(md_frame_next(&d, &payload, &len), 0);
    assert_int_equal(md_frame_buffered(&d), 0);

    md_buf_free(&wire);
    md_frame_decoder_free(&d);
}

static void test_empty_decoder_needs_bytes(void **state)
{
    md_frame_decoder_t d;
    md_frame_decoder_init(&d, 16);
    const uint8_t *payload = NULL;
    size_t len = 0;
    assert_int_equal(md_frame_next(&d, &payload, &len), 0);
    assert_int_equal(md_frame_feed(&d, "", 0), MD_OK);
    assert_int_equal(md_frame_next(&d, &payload, &len), 0);
    /* A partial header is kept and is not a frame yet. */
    assert_int_equal(md_frame_feed(&d, "\0\0", 2), MD_OK);
    assert_int_equal(md_frame_next(&d, &payload, &len), 0);
    assert_int_equal(md_frame_buffered(&d), 2);
    md_frame_decoder_free(&d);
    /* Freeing NULL is allowed, like every destructor of the project. */
    md_frame_decoder_free(NULL);
}

static void test_split_at_every_byte(void **state)
{
    static const size_t lens[] = {5, 0, 300, 1, 4, 17};
    const size_t nframes = sizeof(lens) / sizeof(lens[0]);
    md_buf_t wire;
    build_stream(&wire, lens, nframes);
    const uint8_t *w = md_buf_head(&wire);
    size_t total = md_buf_avail(&wire);

    /* Two feeds, cut at every position, with frames drained after each. */
    for (size_t cut = 0; cut <= total; cut++) {
        md_frame_decoder_t d;
        md_frame_decoder_init(&d, 1024);
        collected_t c;
        collected_init(&c);
        assert_int_equal(md_frame_feed(&d, w, cut), MD_OK);
        drain(&d, &c);
        assert_int_equal(md_frame_feed(&d, w + cut, total - cut), MD_OK);
        drain(&d, &c);
        check_collected(&c, lens, nframes);
        assert_int_equal(md_frame_buffered(&d), 0);
        collected_free(&c);
        md_frame_decoder_free(&d);
    }

    /* Two feeds without draining in between: frames completed by the first
     * feed must survive the second. */
    for (size_t cut = 0; cut <= total; cut++) {
        md_frame_decoder_t d;
        md_frame_decoder_init(&d, 1024);
        collected_t c;
        collected_init(&c);
        assert_int_equal(md_frame_feed(&d, w, cut), MD_OK);
        assert_int_equal(md_frame_feed(&d, w + cut, total - cut), MD_OK);
        drain(&d, &c);
        check_collected(&c, lens, nframes);
        collected_free(&c);
        md_frame_decoder_free(&d);
    }

    /* One byte at a time. */
    md_frame_decoder_t d;
    md_frame_decoder_init(&d, 1024);
    collected_t c;
    collected_init(&c);
    for (size_t i = 0; i < total; i++) {
        assert_int_equal(md_frame_feed(&d, w + i, 1), MD_OK);
        drain(&d, &c);
    }
    check_collected(&c, lens, nframes);
    assert_int_equal(md_frame_buffered(&d), 0);
    collected_free(&c);
    md_frame_decoder_free(&d);
    md_buf_free(&wire);
}

static void test_many_frames_one_feed(void **state)
{
    size_t lens[400];
    const size_t nframes = sizeof(lens) / sizeof(lens[0]);
    for (size_t i = 0; i < nframes; i++)
        lens[i] = (i * 37) % 211; /* includes zero-length frames */
    md_buf_t wire;
    build_stream(&wire, lens, nframes);

    md_frame_decoder_t d;
    md_frame_decoder_init(&d, 4096);
    collected_t c;
    collected_init(&c);
    assert_int_equal(md_frame_feed(&d, md_buf_head(&wire), md_buf_avail(&wire)), MD_OK);
    drain(&d, &c);
    check_collected(&c, lens, nframes);
    assert_int_equal(md_frame_buffered(&d), 0);

    /* The decoder is reusable after draining. */
    collected_free(&c);
    collected_init(&c);
    assert_int_equal(md_frame_feed(&d, md_buf_head(&wire), md_buf_avail(&wire)), MD_OK);
    drain(&d, &c);
    check_collected(&c, lens, nframes);

    collected_free(&c);
    md_frame_decoder_free(&d);
    md_buf_free(&wire);
}

static void test_zero_length_frame(void **state)
{
    md_frame_decoder_t d;
    md_frame_decoder_init(&d, 16);
    static const uint8_t two_empty[] = {0, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(md_frame_feed(&d, two_empty, sizeof(two_empty)), MD_OK);
    const uint8_t *payload = NULL;
    size_t len = 99;
    assert_int_equal(md_frame_next(&d, &payload, &len), 1);
    assert_int_equal(len, 0);
    len = 99;
    assert_int_equal(md_frame_next(&d, &payload, &len), 1);
    assert_int_equal(len, 0);
    assert_int_equal(md_frame_next(&d, &payload, &len), 0);
    assert_int_equal(md_frame_buffered(&d), 0);
    md_frame_decoder_free(&d);
}

static void test_exactly_max_frame(void **state)
{
    const size_t max = MD_FRAME_DEFAULT_MAX;
    uint8_t *p = malloc(max);
    assert_non_null(p);
    fill_pattern(p, max, 7);
    md_buf_t wire;
    md_buf_init(&wire);
    assert_int_equal(md_frame_append(&wire, p, max), MD_OK);

    md_frame_decoder_t d;
    md_frame_decoder_init(&d, max);
    /* Fed in uneven pieces, as a socket would deliver it. */
    size_t off = 0, total = md_buf_avail(&wire);
    while (off < total) {
        size_t n = 1 + rng_next() % 70000;
        if (n > total - off)
            n = total - off;
        assert_int_equal(md_frame_feed(&d, md_buf_head(&wire) + off, n), MD_OK);
        off += n;
    }
    const uint8_t *payload = NULL;
    size_t len = 0;
    assert_int_equal(md_frame_next(&d, &payload, &len), 1);
    assert_int_equal(len, max);
    assert_memory_equal(payload, p, max);
    assert_int_equal(md_frame_next(&d, &payload, &len), 0);
    md_frame_decoder_free(&d);

    /* One byte more than the limit is refused. */
    md_frame_decoder_init(&d, max - 1);
    assert_int_equal(md_frame_feed(&d, md_buf_head(&wire), md_buf_avail(&wire)), MD_EFRAMETOOBIG);
    assert_true(md_frame_buffered(&d) <= MD_FRAME_HEADER);
    md_frame_decoder_free(&d);

    md_buf_free(&wire);
    free(p);
}

static void check_failed_for_good(md_frame_decoder_t *d)
{
    const uint8_t *payload = NULL;
    size_t len = 0;
    assert_int_equal(md_frame_next(d, &payload, &len), MD_EFRAMETOOBIG);
    assert_int_equal(md_frame_next(d, &payload, &len), MD_EFRAMETOOBIG);
    /* Valid frames after the failure do not revive the decoder. */
    static const uint8_t ok_frame[] = {0, 0, 0, 1, 'x'};
    assert_int_equal(md_frame_feed(d, ok_frame, sizeof(ok_frame)), MD_EFRAMETOOBIG);
    assert_int_equal(md_frame_next(d, &payload, &len), MD_EFRAMETOOBIG);
    assert_true(md_frame_buffered(d) <= MD_FRAME_HEADER);
}

static void test_oversized_header_rejected_after_four_bytes(void **state)
{
    /* Header claims max + 1: the first three bytes are accepted, the fourth
     * completes the header and fails. */
    const size_t max = 1000;
    uint8_t h[MD_FRAME_HEADER];
    md_frame_put_header(h, (uint32_t)max + 1);
    md_frame_decoder_t d;
    md_frame_decoder_init(&d, max);
    for (int i = 0; i < 3; i++)
        assert_int_equal(md_frame_feed(&d, h + i, 1), MD_OK);
    assert_int_equal(md_frame_feed(&d, h + 3, 1), MD_EFRAMETOOBIG);
    check_failed_for_good(&d);
    md_frame_decoder_free(&d);

    /* A 4 GiB claim followed by payload bytes in the same feed: nothing
     * behind the header is buffered, and the buffer stays small. */
    uint8_t big[MD_FRAME_HEADER + 4096];
    memset(big, 'a', sizeof(big));
    md_frame_put_header(big, 0xFFFFFFFFu);
    md_frame_decoder_init(&d, MD_FRAME_DEFAULT_MAX);
    assert_int_equal(md_frame_feed(&d, big, sizeof(big)), MD_EFRAMETOOBIG);
    assert_true(md_frame_buffered(&d) <= MD_FRAME_HEADER);
    assert_true(d.in.cap <= 4096);
    check_failed_for_good(&d);
    assert_true(d.in.cap <= 4096);
    md_frame_decoder_free(&d);

    /* An oversized header after a valid frame in the same feed fails the
     * feed; the decoder is not fooled by the good prefix. */
    uint8_t mixed[5 + MD_FRAME_HEADER] = {0, 0, 0, 1, 'x'};
    md_frame_put_header(mixed + 5, 0x7FFFFFFFu);
    md_frame_decoder_init(&d, max);
    assert_int_equal(md_frame_feed(&d, mixed, sizeof(mixed)), MD_EFRAMETOOBIG);
    assert_true(md_frame_buffered(&d) <= 5 + MD_FRAME_HEADER);
    md_frame_decoder_free(&d);
}

static void test_header_helpers(void **state)
{
    static const uint32_t values[] = {0, 1, 255, 256, 0x01020304u, 0x00100000u, 0xFFFFFFFFu};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        uint8_t h[MD_FRAME_HEADER];
        md_frame_put_header(h, values[i]);
        assert_int_equal(md_frame_get_header(h), values[i]);
    }
    uint8_t h[MD_FRAME_HEADER];
    md_frame_put_header(h, 0x01020304u);
    /* Big-endian on the wire. */
    assert_int_equal(h[0], 1);
    assert_int_equal(h[1], 2);
    assert_int_equal(h[2], 3);
    assert_int_equal(h[3], 4);
}

static void test_append_round_trip(void **state)
{
    md_buf_t out;
    md_buf_init(&out);
    assert_int_equal(md_frame_append(&out, "abc", 3), MD_OK);
    assert_int_equal(md_frame_append(&out, NULL, 0), MD_OK);
    uint8_t big[70000];
    fill_pattern(big, sizeof(big), 3);
    assert_int_equal(md_frame_append(&out, big, sizeof(big)), MD_OK);

    static const uint8_t first[] = {0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 0};
    assert_int_equal(md_buf_avail(&out), sizeof(first) + MD_FRAME_HEADER + sizeof(big));
    assert_memory_equal(md_buf_head(&out), first, sizeof(first));
    assert_int_equal(md_frame_get_header(md_buf_head(&out) + sizeof(first)), sizeof(big));

    /* Appending after part of the buffer was consumed keeps the rest. */
    md_buf_consume(&out, sizeof(first));
    assert_int_equal(md_frame_append(&out, "z", 1), MD_OK);

    md_frame_decoder_t d;
    md_frame_decoder_init(&d, sizeof(big));
    assert_int_equal(md_frame_feed(&d, md_buf_head(&out), md_buf_avail(&out)), MD_OK);
    const uint8_t *payload = NULL;
    size_t len = 0;
    assert_int_equal(md_frame_next(&d, &payload, &len), 1);
    assert_int_equal(len, sizeof(big));
    assert_memory_equal(payload, big, sizeof(big));
    assert_int_equal(md_frame_next(&d, &payload, &len), 1);
    assert_int_equal(len, 1);
    assert_memory_equal(payload, "z", 1);
    assert_int_equal(md_frame_next(&d, &payload, &len), 0);
    md_frame_decoder_free(&d);
    md_buf_free(&out);
}

/* Random bytes in random pieces against several limits. Whatever happens,
 * the decoder returns only frames within the limit, never buffers more than
 * it was fed, and stays failed once it failed. */
static void test_garbage_never_crashes(void **state)
{
    static const size_t limits[] = {0, 1, 16, 300, 65536, MD_FRAME_DEFAULT_MAX};
    uint8_t junk[8192];
    for (int round = 0; round < 3000; round++) {
        size_t max = limits[(size_t)round % (sizeof(limits) / sizeof(limits[0]))];
        md_frame_decoder_t d;
        md_frame_decoder_init(&d, max);
        size_t n = rng_next() % sizeof(junk);
        for (size_t i = 0; i < n; i++)
            junk[i] = (uint8_t)rng_next();
        /* Half the rounds use small lengths so that frames do complete. */
        if (round % 2 == 0) {
            for (size_t i = 0; i + 3 < n; i += 1 + rng_next() % 64) {
                junk[i] = 0;
                junk[i + 1] = 0;
                junk[i + 2] = (uint8_t)(rng_next() % 2);
            }
        }
        size_t off = 0;
        int failed = 0;
        while (off < n) {
            size_t take = 1 + rng_next() % 700;
            if (take > n - off)
                take = n - off;
            int rc = md_frame_feed(&d, junk + off, take);
            off += take;
            if (rc != MD_OK) {
                assert_int_equal(rc, MD_EFRAMETOOBIG);
                failed = 1;
            } else {
                assert_false(failed);
            }
            for (;;) {
                const uint8_t *payload = NULL;
                size_t len = 0;
                int next = md_frame_next(&d, &payload, &len);
                if (next == 1) {
                    assert_false(failed);
                    assert_true(len <= max);
                    if (len > 0)
                        assert_non_null(payload);
                    continue;
                }
                if (next == MD_EFRAMETOOBIG) {
                    failed = 1;
                } else {
                    assert_int_equal(next, 0);
                }
                break;
            }
            assert_true(md_frame_buffered(&d) <= off);
        }
        md_frame_decoder_free(&d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_frame),
        cmocka_unit_test(test_empty_decoder_needs_bytes),
        cmocka_unit_test(test_split_at_every_byte),
        cmocka_unit_test(test_many_frames_one_feed),
        cmocka_unit_test(test_zero_length_frame),
        cmocka_unit_test(test_exactly_max_frame),
        cmocka_unit_test(test_oversized_header_rejected_after_four_bytes),
        cmocka_unit_test(test_header_helpers),
        cmocka_unit_test(test_append_round_trip),
        cmocka_unit_test(test_garbage_never_crashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
