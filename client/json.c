/* json.c: the strict JSON parser behind mentorctl's --from-file. It is a
 * plain recursive descent over a byte range, bounded in depth and size, so
 * a hostile or broken file costs at most a clear error message. Strings
 * are decoded in a buffer sized from their raw length (escapes only ever
 * shrink), so each string costs one allocation. Everything a caller gets
 * is checked: UTF-8 is validated, surrogate pairs are combined, and
 * duplicate keys are refused so that no one has to guess which one wins. */
#include "md_json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const unsigned char *start;
    const unsigned char *p;
    const unsigned char *end;
    char *err;
    size_t errlen;
    int failed;
} parser_t;

/* Record the first error with the line and column (in characters) of at. */
MD_PRINTF(3, 4) static int fail_at(parser_t *ps, const unsigned char *at, const char *fmt, ...)
{
    char msg[160];
    size_t line = 1;
    size_t col = 1;
    va_list ap;
    if (ps->failed)
        return MD_EINVAL;
    ps->failed = 1;
    for (const unsigned char *q = ps->start; q < at; q++) {
        if (*q == '\n') {
            line++;
            col = 1;
        } else if ((*q & 0xC0) != 0x80) {
            col++;
        }
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (ps->err != NULL && ps->errlen > 0)
        snprintf(ps->err, ps->errlen, "line %zu, column %zu: %s", line, col, msg);
    return MD_EINVAL;
}

static int fail_nomem(parser_t *ps)
{
    if (!ps->failed && ps->err != NULL && ps->errlen > 0)
        snprintf(ps->err, ps->errlen, "out of memory");
    ps->failed = 1;
    return MD_ENOMEM;
}

static void skip_ws(parser_t *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

/* Describe the byte at the cursor for "unexpected ..." messages. */
static void describe(const parser_t *ps, char *buf, size_t len)
{
    if (ps->p >= ps->end)
        snprintf(buf, len, "end of input");
    else if (*ps->p >= 0x21 && *ps->p < 0x7f)
        snprintf(buf, len, "'%c'", *ps->p);
    else
        snprintf(buf, len, "byte 0x%02x", *ps->p);
}

/* Length of the well-formed UTF-8 sequence at p before end (1 to 4), or 0.
 * Overlong forms, surrogates and code points past U+10FFFF are malformed
 * (RFC 3629). */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
    size_t avail = (size_t)(end - p);
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return avail >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned char lo = c == 0xE0 ? 0xA0 : 0x80;
        unsigned char hi = c == 0xED ? 0x9F : 0xBF;
        if (avail < 3 || p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80)
            return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned char lo = c == 0xF0 ? 0x90 : 0x80;
        unsigned char hi = c == 0xF4 ? 0x8F : 0xBF;
        if (avail < 4 || p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
            return 0;
        return 4;
    }
    return 0;
}

static size_t utf8_put(char *out, unsigned long cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Four hex digits at p (bounds checked by the caller); -1 when not hex. */
static long hex4(const unsigned char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = p[i];
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Read one "\uXXXX" at ps->p (just past the backslash and 'u'). */
static int read_u_escape(parser_t *ps, const unsigned char *esc, long *out)
{
    if (ps->end - ps->p < 4)
        return fail_at(ps, esc, "truncated \\u escape");
    long v = hex4(ps->p);
    if (v < 0)
        return fail_at(ps, esc, "invalid \\u escape (expected four hex digits)");
    ps->p += 4;
    *out = v;
    return MD_OK;
}

/* Decode the string whose opening quote is at ps->p. On success *out is a
 * fresh NUL-terminated copy. */
static int parse_string(parser_t *ps, char **out, size_t *outlen)
{
    const unsigned char *open = ps->p++;
    /* Find the closing quote first, to size the buffer. */
    const unsigned char *q = ps->p;
    while (q < ps->end && *q != '"') {
        if (*q == '\\' && q + 1 < ps->end)
            q++;
        q++;
    }
    if (q >= ps->end)
        return fail_at(ps, open, "unterminated string");
    char *buf = malloc((size_t)(q - ps->p) + 1);
    if (buf == NULL)
        return fail_nomem(ps);
    size_t n = 0;
    while (*ps->p != '"') {
        const unsigned char *at = ps->p;
        unsigned char c = *at;
        if (c < 0x20) {
            fail_at(ps, at, "control character U+%04X in a string (it must be escaped)", c);
            goto fail;
        }
        if (c != '\\') {
            size_t k = utf8_seq(at, ps->end);
            if (k == 0) {
                fail_at(ps, at, "invalid UTF-8 in a string");
                goto fail;
            }
            memcpy(buf + n, at, k);
            n += k;
            ps->p += k;
            continue;
        }
        c = ps->p[1];
        ps->p += 2;
        switch (c) {
        case '"':
        case '\\':
        case '/':
            buf[n++] = (char)c;
            break;
        case 'b':
            buf[n++] = '\b';
            break;
        case 'f':
            buf[n++] = '\f';
            break;
        case 'n':
            buf[n++] = '\n';
            break;
        case 'r':
            buf[n++] = '\r';
            break;
        case 't':
            buf[n++] = '\t';
            break;
        case 'u': {
            long hi;
            long lo;
            unsigned long cp;
            if (read_u_escape(ps, at, &hi) != MD_OK)
                goto fail;
            if (hi >= 0xDC00 && hi <= 0xDFFF) {
                fail_at(ps, at, "unpaired surrogate \\u%04lX", (unsigned long)hi);
                goto fail;
            }
            if (hi >= 0xD800 && hi <= 0xDBFF) {
                if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u') {
                    fail_at(ps, at, "unpaired surrogate \\u%04lX", (unsigned long)hi);
                    goto fail;
                }
                ps->p += 2;
                if (read_u_escape(ps, at, &lo) != MD_OK)
                    goto fail;
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    fail_at(ps, at, "unpaired surrogate \\u%04lX", (unsigned long)hi);
                    goto fail;
                }
                cp = 0x10000 + (((unsigned long)hi - 0xD800) << 10) + ((unsigned long)lo - 0xDC00);
            } else {
                cp = (unsigned long)hi;
            }
            if (cp == 0) {
                fail_at(ps, at, "\\u0000 is not allowed in strings");
                goto fail;
            }
            n += utf8_put(buf + n, cp);
            break;
        }
        default:
            if (c >= 0x21 && c < 0x7f)
                fail_at(ps, at, "invalid escape '\\%c'", c);
            else
                fail_at(ps, at, "invalid escape");
            goto fail;
        }
    }
    ps->p++;
    buf[n] = '\0';
    *out = buf;
    *outlen = n;
    return MD_OK;
fail:
    free(buf);
    return MD_EINVAL;
}

static int is_digit(const parser_t *ps)
{
    return ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9';
}

static int parse_number(parser_t *ps, md_json_value_t *v)
{
    const unsigned char *begin = ps->p;
    if (*ps->p == '-')
        ps->p++;
    if (!is_digit(ps))
        return fail_at(ps, begin, "invalid number");
    if (*ps->p == '0') {
        ps->p++;
        if (is_digit(ps))
            return fail_at(ps, begin, "invalid number (leading zero)");
    } else {
        while (is_digit(ps))
            ps->p++;
    }
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        if (!is_digit(ps))
            return fail_at(ps, begin, "invalid number (digits must follow '.')");
        while (is_digit(ps))
            ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
            ps->p++;
        if (!is_digit(ps))
            return fail_at(ps, begin, "invalid number (digits must follow the exponent)");
        while (is_digit(ps))
            ps->p++;
    }
    size_t n = (size_t)(ps->p - begin);
    v->text = malloc(n + 1);
    if (v->text == NULL)
        return fail_nomem(ps);
    memcpy(v->text, begin, n);
    v->text[n] = '\0';
    v->len = n;
    v->kind = MD_JSON_NUMBER;
    return MD_OK;
}

static int parse_literal(parser_t *ps, md_json_value_t *v)
{
    static const struct {
        const char *word;
        md_json_kind_t kind;
        int boolean;
    } words[] = {
        {"true", MD_JSON_BOOL, 1},
        {"false", MD_JSON_BOOL, 0},
        {"null", MD_JSON_NULL, 0},
    };
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        size_t n = strlen(words[i].word);
        if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, words[i].word, n) == 0) {
            ps->p += n;
            v->kind = words[i].kind;
            v->boolean = words[i].boolean;
            return MD_OK;
        }
    }
    char what[24];
    describe(ps, what, sizeof(what));
    return fail_at(ps, ps->p, "unexpected %s (expected a value)", what);
}

/* Grow the element storage of v to hold one more; keys too for objects. */
static int reserve_item(parser_t *ps, md_json_value_t *v, size_t *cap)
{
    if (v->n < *cap)
        return MD_OK;
    size_t ncap = *cap != 0 ? *cap * 2 : 4;
    md_json_value_t *items = realloc(v->items, ncap * sizeof(*items));
    if (items == NULL)
        return fail_nomem(ps);
    v->items = items;
    if (v->kind == MD_JSON_OBJECT) {
        char **keys = realloc(v->keys, ncap * sizeof(*keys));
        if (keys == NULL)
            return fail_nomem(ps);
        v->keys = keys;
    }
    *cap = ncap;
    return MD_OK;
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Duplicate keys are found by sorting a copy of the names, so that an
 * object with many members costs n log n rather than n squared. */
static int check_duplicates(parser_t *ps, const md_json_value_t *v, const unsigned char *open)
{
    if (v->n < 2)
        return MD_OK;
    char **sorted = malloc(v->n * sizeof(*sorted));
    if (sorted == NULL)
        return fail_nomem(ps);
    memcpy(sorted, v->keys, v->n * sizeof(*sorted));
    qsort(sorted, v->n, sizeof(*sorted), key_cmp);
    int rc = MD_OK;
    for (size_t i = 1; i < v->n; i++) {
        if (strcmp(sorted[i - 1], sorted[i]) == 0) {
            rc = fail_at(ps, open, "duplicate key \"%.60s\" in the object that starts here",
                         sorted[i]);
            break;
        }
    }
    free(sorted);
    return rc;
}

static void value_clear(md_json_value_t *v);

static int parse_value(parser_t *ps, md_json_value_t *v, int depth);

static int parse_container(parser_t *ps, md_json_value_t *v, int depth)
{
    const unsigned char *open = ps->p;
    int object = *open == '{';
    char close = object ? '}' : ']';
    size_t cap = 0;
    if (depth >= MD_JSON_PARSE_MAX_DEPTH)
        return fail_at(ps, open, "nesting deeper than %d levels", MD_JSON_PARSE_MAX_DEPTH);
    v->kind = object ? MD_JSON_OBJECT : MD_JSON_ARRAY;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        return MD_OK;
    }
    for (;;) {
        char *key = NULL;
        size_t keylen = 0;
        char what[24];
        skip_ws(ps);
        if (object) {
            if (ps->p >= ps->end || *ps->p != '"') {
                describe(ps, what, sizeof(what));
                return fail_at(ps, ps->p, "unexpected %s (expected a key in double quotes)", what);
            }
            if (parse_string(ps, &key, &keylen) != MD_OK)
                return MD_EINVAL;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                free(key);
                describe(ps, what, sizeof(what));
                return fail_at(ps, ps->p, "unexpected %s (expected ':')", what);
            }
            ps->p++;
        }
        if (reserve_item(ps, v, &cap) != MD_OK) {
            free(key);
            return MD_ENOMEM;
        }
        md_json_value_t *item = &v->items[v->n];
        memset(item, 0, sizeof(*item));
        if (parse_value(ps, item, depth + 1) != MD_OK) {
            free(key);
            return MD_EINVAL;
        }
        if (object)
            v->keys[v->n] = key;
        v->n++;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            break;
        }
        describe(ps, what, sizeof(what));
        return fail_at(ps, ps->p, "unexpected %s (expected ',' or '%c')", what, close);
    }
    return object ? check_duplicates(ps, v, open) : MD_OK;
}

/* Parse one value at the cursor into v (zeroed by the caller). On failure
 * v is cleared again, so the caller has nothing to release. */
static int parse_value(parser_t *ps, md_json_value_t *v, int depth)
{
    int rc;
    skip_ws(ps);
    if (ps->p >= ps->end)
        return fail_at(ps, ps->p, "unexpected end of input (expected a value)");
    switch (*ps->p) {
    case '{':
    case '[':
        rc = parse_container(ps, v, depth);
        break;
    case '"':
        v->kind = MD_JSON_STRING;
        rc = parse_string(ps, &v->text, &v->len);
        break;
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        rc = parse_number(ps, v);
        break;
    default:
        rc = parse_literal(ps, v);
        break;
    }
    if (rc != MD_OK)
        value_clear(v);
    return rc;
}

int md_json_parse(const char *text, size_t len, md_json_value_t **out, char *err, size_t errlen)
{
    parser_t ps;
    *out = NULL;
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (len > MD_JSON_PARSE_MAX_BYTES) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "the document is larger than %u bytes", MD_JSON_PARSE_MAX_BYTES);
        return MD_EINVAL;
    }
    memset(&ps, 0, sizeof(ps));
    ps.start = (const unsigned char *)text;
    ps.p = ps.start;
    ps.end = ps.start + len;
    ps.err = err;
    ps.errlen = errlen;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        ps.p += 3;
    md_json_value_t *v = calloc(1, sizeof(*v));
    if (v == NULL)
        return fail_nomem(&ps);
    int rc = parse_value(&ps, v, 0);
    if (rc == MD_OK) {
        skip_ws(&ps);
        if (ps.p < ps.end) {
            char what[24];
            describe(&ps, what, sizeof(what));
            rc = fail_at(&ps, ps.p, "unexpected %s after the value", what);
        }
    }
    if (rc != MD_OK) {
        md_json_value_free(v);
        return rc;
    }
    *out = v;
    return MD_OK;
}

/* Release what v holds (not v itself) and zero it. */
static void value_clear(md_json_value_t *v)
{
    for (size_t i = 0; i < v->n; i++) {
        value_clear(&v->items[i]);
        if (v->keys != NULL)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->text);
    memset(v, 0, sizeof(*v));
}

void md_json_value_free(md_json_value_t *v)
{
    if (v == NULL)
        return;
    value_clear(v);
    free(v);
}

const md_json_value_t *md_json_member(const md_json_value_t *obj, const char *key)
{
    if (obj == NULL || obj->kind != MD_JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < obj->n; i++) {
        if (strcmp(obj->keys[i], key) == 0)
            return &obj->items[i];
    }
    return NULL;
}

const char *md_json_kind_name(md_json_kind_t kind)
{
    switch (kind) {
    case MD_JSON_NULL:
        return "null";
    case MD_JSON_BOOL:
        return "boolean";
    case MD_JSON_NUMBER:
        return "number";
    case MD_JSON_STRING:
        return "string";
    case MD_JSON_ARRAY:
        return "array";
    case MD_JSON_OBJECT:
        return "object";
    }
    return "?";
}

int md_json_get_u64(const md_json_value_t *v, uint64_t *out)
{
    if (v == NULL || v->kind != MD_JSON_NUMBER || v->len == 0)
        return MD_EINVAL;
    uint64_t n = 0;
    for (size_t i = 0; i < v->len; i++) {
        char c = v->text[i];
        if (c < '0' || c > '9')
            return MD_EINVAL;
        unsigned d = (unsigned)(c - '0');
        if (n > (UINT64_MAX - d) / 10)
            return MD_EINVAL;
        n = n * 10 + d;
    }
    *out = n;
    return MD_OK;
}
