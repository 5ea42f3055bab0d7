/* output.c: tables, key/value blocks, the JSON writer and time formatting
 * for mentorctl. Server strings are untrusted: human output neutralises
 * control characters and JSON output escapes them and repairs invalid
 * UTF-8, so neither a terminal nor a JSON parser downstream can be misled by
 * what a user typed into a name field. */
#include "md_output.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "md_utf8.h"
#include "mentor.pb-c.h"

int md_fmt_rfc3339(int64_t t, char *buf, size_t len)
{
    struct tm tm;
    time_t tt = (time_t)t;
    if (len == 0)
        return MD_EINVAL;
    if ((int64_t)tt != t || gmtime_r(&tt, &tm) == NULL ||
        strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        snprintf(buf, len, "?");
        return MD_EINVAL;
    }
    return MD_OK;
}

/* Length of the well-formed UTF-8 sequence at p (1 to 4), or 0 when the
 * bytes there are not one. Overlong forms, surrogates and code points past
 * U+10FFFF count as malformed, as RFC 3629 says. The terminating NUL is
 * never a continuation byte, so the checks cannot run past the end. */
static size_t utf8_len(const unsigned char *p)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned char lo = c == 0xE0 ? 0xA0 : 0x80;
        unsigned char hi = c == 0xED ? 0x9F : 0xBF;
        if (p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80)
            return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned char lo = c == 0xF0 ? 0x90 : 0x80;
        unsigned char hi = c == 0xF4 ? 0x8F : 0xBF;
        if (p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
            return 0;
        return 4;
    }
    return 0;
}

int md_json_escape(md_buf_t *out, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    int rc = md_buf_append(out, "\"", 1);
    while (rc == MD_OK && *p != '\0') {
        unsigned char c = *p;
        char esc[8];
        const char *put = esc;
        size_t n = 2;
        esc[0] = '\\';
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                n = 6;
            } else {
                n = utf8_len(p);
                if (n == 0) {
                    put = "\\ufffd";
                    n = 6;
                    p++;
                    rc = md_buf_append(out, put, n);
                    continue;
                }
                put = (const char *)p;
                p += n;
                rc = md_buf_append(out, put, n);
                continue;
            }
            break;
        }
        p++;
        rc = md_buf_append(out, put, n);
    }
    if (rc == MD_OK)
        rc = md_buf_append(out, "\"", 1);
    return rc;
}

const char *md_time_text(int64_t t, char buf[MD_TIME_LEN])
{
    if (t == 0) {
        snprintf(buf, MD_TIME_LEN, "-");
        return buf;
    }
    /* On failure the formatter leaves "?", which is the right thing to
     * show for a time that cannot be represented. */
    int rc = md_fmt_rfc3339(t, buf, MD_TIME_LEN);
    (void)rc;
    return buf;
}

void md_json_init(md_json_t *j)
{
    memset(j, 0, sizeof(*j));
    md_buf_init(&j->out);
}

void md_json_free(md_json_t *j)
{
    if (j == NULL)
        return;
    md_buf_free(&j->out);
}

static void json_raw(md_json_t *j, const char *s, size_t n)
{
    if (j->err != MD_OK)
        return;
    j->err = md_buf_append(&j->out, s, n);
}

/* Start a value: the comma before every member but the first, then the
 * key when inside an object. */
static void json_member(md_json_t *j, const char *key)
{
    if (j->err != MD_OK)
        return;
    if (j->depth > 0) {
        if (j->has_member[j->depth - 1])
            json_raw(j, ",", 1);
        j->has_member[j->depth - 1] = 1;
    }
    if (key != NULL) {
        if (j->err == MD_OK)
            j->err = md_json_escape(&j->out, key);
        json_raw(j, ":", 1);
    }
}

static void json_open(md_json_t *j, const char *key, const char *brace)
{
    json_member(j, key);
    if (j->err != MD_OK)
        return;
    if (j->depth >= MD_JSON_MAX_DEPTH) {
        j->err = MD_EINVAL;
        return;
    }
    json_raw(j, brace, 1);
    j->has_member[j->depth++] = 0;
}

static void json_close(md_json_t *j, const char *brace)
{
    if (j->err != MD_OK)
        return;
    if (j->depth == 0) {
        j->err = MD_EINVAL;
        return;
    }
    j->depth--;
    json_raw(j, brace, 1);
}

void md_json_begin_object(md_json_t *j, const char *key)
{
    json_open(j, key, "{");
}

void md_json_end_object(md_json_t *j)
{
    json_close(j, "}");
}

void md_json_begin_array(md_json_t *j, const char *key)
{
    json_open(j, key, "[");
}

void md_json_end_array(md_json_t *j)
{
    json_close(j, "]");
}

void md_json_string(md_json_t *j, const char *key, const char *s)
{
    json_member(j, key);
    if (s == NULL) {
        json_raw(j, "null", 4);
        return;
    }
    if (j->err == MD_OK)
        j->err = md_json_escape(&j->out, s);
}

void md_json_uint(md_json_t *j, const char *key, uint64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
    json_member(j, key);
    json_raw(j, num, (size_t)n);
}

void md_json_int(md_json_t *j, const char *key, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof(num), "%lld", (long long)v);
    json_member(j, key);
    json_raw(j, num, (size_t)n);
}

void md_json_bool(md_json_t *j, const char *key, int v)
{
    json_member(j, key);
    if (v)
        json_raw(j, "true", 4);
    else
        json_raw(j, "false", 5);
}

void md_json_null(md_json_t *j, const char *key)
{
    json_member(j, key);
    json_raw(j, "null", 4);
}

void md_json_time(md_json_t *j, const char *key, int64_t unix_secs)
{
    char ts[MD_TIME_LEN];
    if (unix_secs == 0 || md_fmt_rfc3339(unix_secs, ts, sizeof(ts)) != MD_OK) {
        md_json_null(j, key);
        return;
    }
    md_json_string(j, key, ts);
}

const char *md_json_finish(md_json_t *j)
{
    if (j->err != MD_OK || j->depth != 0 || md_buf_avail(&j->out) == 0)
        return NULL;
    /* The terminator lives past len, so the buffer's content stays the
     * document alone. */
    if (md_buf_reserve(&j->out, 1) != MD_OK)
        return NULL;
    j->out.data[j->out.len] = '\0';
    return (const char *)md_buf_head(&j->out);
}

void md_str_init(md_str_t *s)
{
    memset(s, 0, sizeof(*s));
    md_buf_init(&s->buf);
}

void md_str_free(md_str_t *s)
{
    if (s == NULL)
        return;
    md_buf_free(&s->buf);
}

void md_str_add(md_str_t *s, const char *fmt, ...)
{
    va_list ap;
    if (s->err != MD_OK)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        s->err = MD_EINVAL;
        return;
    }
    /* One byte more for the terminator vsnprintf writes; it is not
     * counted in len, so the next piece overwrites it. */
    s->err = md_buf_reserve(&s->buf, (size_t)n + 1);
    if (s->err != MD_OK)
        return;
    va_start(ap, fmt);
    vsnprintf((char *)s->buf.data + s->buf.len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    s->buf.len += (size_t)n;
}

const char *md_str_get(md_str_t *s)
{
    if (s->err != MD_OK)
        return NULL;
    if (md_buf_avail(&s->buf) == 0)
        return "";
    return (const char *)md_buf_head(&s->buf);
}

void md_table_init(md_table_t *t, const char *const *headers, size_t ncols)
{
    memset(t, 0, sizeof(*t));
    t->headers = headers;
    t->ncols = ncols;
}

void md_table_free(md_table_t *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof(*t));
}

void md_table_add(md_table_t *t, ...)
{
    if (t->err != MD_OK || t->ncols == 0)
        return;
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        if (cap > SIZE_MAX / sizeof(char *) / t->ncols) {
            t->err = MD_ENOMEM;
            return;
        }
        char **cells = realloc(t->cells, cap * t->ncols * sizeof(char *));
        if (cells == NULL) {
            t->err = MD_ENOMEM;
            return;
        }
        t->cells = cells;
        t->cap = cap;
    }
    char **row = t->cells + t->nrows * t->ncols;
    va_list ap;
    va_start(ap, t);
    for (size_t c = 0; c < t->ncols; c++) {
        const char *s = va_arg(ap, const char *);
        row[c] = strdup(s != NULL ? s : "");
        if (row[c] == NULL)
            t->err = MD_ENOMEM;
    }
    va_end(ap);
    /* The row counts even when a copy failed, so md_table_free releases the
     * cells that were made; the error keeps it from being printed. */
    t->nrows++;
}

/* Terminal cells taken by code point cp: 0 for combining marks, 2 for the
 * wide East Asian ranges (CJK, Hangul, full-width forms, most emoji), 1
 * otherwise. A table of ranges rather than wcwidth, which would tie output
 * to the locale. */
static size_t cp_width(uint32_t cp)
{
    static const uint32_t zero[][2] = {
        {0x0300, 0x036F}, {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x200B, 0x200F},
        {0x20D0, 0x20FF}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F},
    };
    static const uint32_t wide[][2] = {
        {0x1100, 0x115F},   {0x2E80, 0x303E},   {0x3041, 0x33FF},   {0x3400, 0x4DBF},
        {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},
        {0xFE30, 0xFE4F},   {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x1F300, 0x1F64F},
        {0x1F900, 0x1F9FF}, {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
    };
    for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++) {
        if (cp >= zero[i][0] && cp <= zero[i][1])
            return 0;
    }
    for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++) {
        if (cp >= wide[i][0] && cp <= wide[i][1])
            return 2;
    }
    return 1;
}

/* Display width of a UTF-8 string on a terminal. Malformed bytes count one
 * cell each. */
static size_t text_width(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = p + strlen(s);
    size_t w = 0;
    while (p < end) {
        size_t k = md_utf8_seq(p, (size_t)(end - p));
        uint32_t cp = *p;
        if (k == 0) {
            k = 1;
        } else if (k > 1) {
            cp = *p & (0x7F >> k);
            for (size_t i = 1; i < k; i++)
                cp = (cp << 6) | (p[i] & 0x3F);
        }
        w += cp_width(cp);
        p += k;
    }
    return w;
}

static void pad(FILE *f, size_t n)
{
    while (n-- > 0)
        fputc(' ', f);
}

static int table_widths(const md_table_t *t, size_t **out)
{
    size_t *w = calloc(t->ncols, sizeof(*w));
    if (w == NULL)
        return MD_ENOMEM;
    for (size_t c = 0; c < t->ncols; c++) {
        if (t->headers != NULL)
            w[c] = text_width(t->headers[c]);
        for (size_t r = 0; r < t->nrows; r++) {
            size_t cw = text_width(t->cells[r * t->ncols + c]);
            if (cw > w[c])
                w[c] = cw;
        }
    }
    *out = w;
    return MD_OK;
}

int md_table_print(const md_table_t *t, FILE *f)
{
    if (t->err != MD_OK)
        return t->err;
    size_t *w = NULL;
    int rc = table_widths(t, &w);
    if (rc != MD_OK)
        return rc;
    for (size_t r = 0; r < t->nrows + 1; r++) {
        if (r == 0 && t->headers == NULL)
            continue;
        const char *const *row = r == 0 ? (const char *const *)t->headers
                                        : (const char *const *)t->cells + (r - 1) * t->ncols;
        /* Cells after the last non-empty one are left out, padding and
         * all, so that no line ends in blanks. */
        size_t n = t->ncols;
        while (n > 0 && row[n - 1][0] == '\0')
            n--;
        for (size_t c = 0; c < n; c++) {
            md_out_safe(f, row[c]);
            if (c + 1 < n)
                pad(f, w[c] - text_width(row[c]) + 2);
        }
        fputc('\n', f);
    }
    free(w);
    return MD_OK;
}

int md_table_print_kv(const md_table_t *t, FILE *f)
{
    if (t->err != MD_OK)
        return t->err;
    if (t->ncols != 2)
        return MD_EINVAL;
    size_t kw = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        size_t w = text_width(t->cells[r * 2]);
        if (w > kw)
            kw = w;
    }
    for (size_t r = 0; r < t->nrows; r++) {
        const char *k = t->cells[r * 2];
        if (k[0] == '\0') {
            pad(f, kw + 3);
        } else {
            md_out_safe(f, k);
            fputc(':', f);
            pad(f, kw - text_width(k) + 2);
        }
        md_out_safe(f, t->cells[r * 2 + 1]);
        fputc('\n', f);
    }
    return MD_OK;
}

void md_out_safe(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            fputc('?', f);
        } else if (*p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) {
            /* U+0080..U+009F: C1 controls, which some terminals obey. */
            fputc('?', f);
            p++;
        } else {
            fputc(*p, f);
        }
    }
}

void md_out_line(FILE *f, const char *fmt, ...)
{
    char small[512];
    char *line = small;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(small)) {
        line = malloc((size_t)n + 1);
        if (line == NULL) {
            /* Out of memory: show the truncated line rather than nothing. */
            line = small;
        } else {
            va_start(ap, fmt);
            vsnprintf(line, (size_t)n + 1, fmt, ap);
            va_end(ap);
        }
    }
    md_out_safe(f, line);
    fputc('\n', f);
    if (line != small)
        free(line);
}

const char *md_role_name(int role)
{
    switch (role) {
    case MENTOR__V1__ROLE__MEMBER:
        return "member";
    case MENTOR__V1__ROLE__COORDINATOR:
        return "coordinator";
    case MENTOR__V1__ROLE__ADMIN:
        return "admin";
    default:
        return "unspecified";
    }
}

int md_role_parse(const char *s, int *role)
{
    static const int roles[] = {MENTOR__V1__ROLE__MEMBER, MENTOR__V1__ROLE__COORDINATOR,
                                MENTOR__V1__ROLE__ADMIN};
    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
        int r = roles[i];
        if (strcasecmp(s, md_role_name(r)) == 0) {
            *role = r;
            return MD_OK;
        }
    }
    return MD_EINVAL;
}
