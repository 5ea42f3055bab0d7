/* csv.c: the RFC 4180 reader and writer of md_csv.h. The reader is a
 * small state machine over bytes pulled from a read-ahead buffer; it keeps
 * one record at a time, checks each cell's size as it grows (so a file
 * without a closing quote cannot make it allocate without bound) and each
 * cell's UTF-8 once the cell is complete. */
#include "md_csv.h"

#include <stdarg.h>
#include <string.h>

#define END_OF_FILE (-1)
#define READ_ERROR  (-2)

void md_csv_reader_init(md_csv_reader_t *r, FILE *f)
{
    memset(r, 0, sizeof(*r));
    r->f = f;
    r->line = 1;
    md_buf_init(&r->cells);
}

void md_csv_reader_free(md_csv_reader_t *r)
{
    if (r == NULL)
        return;
    md_buf_free(&r->cells);
    r->nfields = 0;
}

/* Make at least need bytes available unless the file ends first. Returns
 * the number available, or READ_ERROR. */
static int fill(md_csv_reader_t *r, size_t need)
{
    while (r->in_len - r->in_pos < need && !r->eof) {
        if (r->in_pos > 0) {
            memmove(r->in, r->in + r->in_pos, r->in_len - r->in_pos);
            r->in_len -= r->in_pos;
            r->in_pos = 0;
        }
        size_t got = fread(r->in + r->in_len, 1, sizeof(r->in) - r->in_len, r->f);
        if (got == 0) {
            if (ferror(r->f))
                return READ_ERROR;
            r->eof = 1;
        }
        r->in_len += got;
    }
    return (int)(r->in_len - r->in_pos);
}

static int peek(md_csv_reader_t *r)
{
    int n = fill(r, 1);
    if (n < 0)
        return READ_ERROR;
    return n == 0 ? END_OF_FILE : r->in[r->in_pos];
}

static int next(md_csv_reader_t *r)
{
    int c = peek(r);
    if (c >= 0) {
        r->in_pos++;
        r->consumed++;
        if (c == '\n')
            r->line++;
    }
    return c;
}

MD_PRINTF(4, 5)
static int fail(md_csv_reader_t *r, uint32_t row, uint32_t column, const char *fmt, ...)
{
    va_list ap;
    r->err_row = row;
    r->err_column = column;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof(r->err), fmt, ap);
    va_end(ap);
    return MD_EINVAL;
}

/* Length of the well-formed UTF-8 sequence at p (n bytes left), or 0.
 * Overlong forms, surrogates and code points past U+10FFFF are malformed
 * (RFC 3629). */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return n >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned char lo = c == 0xE0 ? 0xA0 : 0x80;
        unsigned char hi = c == 0xED ? 0x9F : 0xBF;
        if (n < 3 || p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80)
            return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned char lo = c == 0xF0 ? 0x90 : 0x80;
        unsigned char hi = c == 0xF4 ? 0x8F : 0xBF;
        if (n < 4 || p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80)
            return 0;
        return 4;
    }
    return 0;
}

static int add_byte(md_csv_reader_t *r, int c)
{
    size_t len = r->cells.len - r->starts[r->nfields];
    if (c == 0)
        return fail(r, r->row, (uint32_t)r->nfields + 1, "NUL character in a cell");
    if (len >= MD_CSV_MAX_CELL)
        return fail(r, r->row, (uint32_t)r->nfields + 1, "cell larger than %u bytes",
                    MD_CSV_MAX_CELL);
    unsigned char b = (unsigned char)c;
    return md_buf_append(&r->cells, &b, 1);
}

/* Close the current cell: check its UTF-8 and terminate it. */
static int end_cell(md_csv_reader_t *r)
{
    size_t start = r->starts[r->nfields];
    const unsigned char *p = r->cells.data != NULL ? r->cells.data + start : NULL;
    size_t n = r->cells.len - start;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq(p + i, n - i);
        if (k == 0)
            return fail(r, r->row, (uint32_t)r->nfields + 1,
                        "invalid UTF-8 (byte %zu of the cell); save the file as UTF-8", i + 1);
        i += k;
    }
    static const unsigned char nul = 0;
    int rc = md_buf_append(&r->cells, &nul, 1);
    if (rc != MD_OK)
        return rc;
    r->nfields++;
    return MD_OK;
}

static int start_cell(md_csv_reader_t *r)
{
    if (r->nfields >= MD_CSV_MAX_FIELDS)
        return fail(r, r->row, 0, "more than %u columns", MD_CSV_MAX_FIELDS);
    r->starts[r->nfields] = r->cells.len;
    return MD_OK;
}

/* After a CR outside quotes only LF may follow. */
static int crlf(md_csv_reader_t *r)
{
    int c = next(r);
    if (c == '\n')
        return MD_OK;
    if (c == READ_ERROR)
        return MD_EIO;
    /* Called once the cell before the line end is complete. */
    return fail(r, r->row, r->nfields > 0 ? (uint32_t)r->nfields : 1,
                "carriage return not followed by a line feed");
}

/* Read one quoted cell, the opening quote consumed. Sets *after to the
 * character that follows the closing quote. */
static int quoted_cell(md_csv_reader_t *r, int *after)
{
    uint32_t column = (uint32_t)r->nfields + 1;
    for (;;) {
        int c = next(r);
        if (c == READ_ERROR)
            return MD_EIO;
        if (c == END_OF_FILE)
            return fail(r, r->row, column, "quoted cell not closed before the end of the file");
        if (c == '"') {
            if (peek(r) != '"')
                break;
            c = next(r);
        }
        int rc = add_byte(r, c);
        if (rc != MD_OK)
            return rc;
    }
    int c = next(r);
    if (c == READ_ERROR)
        return MD_EIO;
    if (c != ',' && c != '\n' && c != '\r' && c != END_OF_FILE)
        return fail(r, r->row, column,
                    "unexpected character after a closing quote (a quote inside a quoted "
                    "cell is written \"\")");
    *after = c;
    return MD_OK;
}

/* Read one unquoted cell, its first character c already consumed. */
static int plain_cell(md_csv_reader_t *r, int c, int *after)
{
    for (;;) {
        if (c == READ_ERROR)
            return MD_EIO;
        if (c == ',' || c == '\n' || c == '\r' || c == END_OF_FILE)
            break;
        if (c == '"')
            return fail(r, r->row, (uint32_t)r->nfields + 1,
                        "quote inside an unquoted cell (quote the whole cell and write the "
                        "quote as \"\")");
        int rc = add_byte(r, c);
        if (rc != MD_OK)
            return rc;
        c = next(r);
    }
    *after = c;
    return MD_OK;
}

int md_csv_read(md_csv_reader_t *r)
{
    int c;
    md_buf_reset(&r->cells);
    r->nfields = 0;
    if (!r->started) {
        r->started = 1;
        int n = fill(r, 3);
        if (n < 0)
            return MD_EIO;
        if (n >= 3 && memcmp(r->in + r->in_pos, "\xEF\xBB\xBF", 3) == 0) {
            r->in_pos += 3;
            r->consumed += 3;
        }
    }
    /* Skip empty lines. */
    for (;;) {
        c = peek(r);
        if (c == READ_ERROR)
            return MD_EIO;
        if (c == END_OF_FILE)
            return MD_ENOTFOUND;
        if (c == '\n') {
            (void)next(r);
            continue;
        }
        if (c == '\r') {
            r->row = r->line;
            (void)next(r);
            int rc = crlf(r);
            if (rc != MD_OK)
                return rc;
            continue;
        }
        break;
    }
    r->row = r->line;
    for (;;) {
        int rc = start_cell(r);
        if (rc != MD_OK)
            return rc;
        int after = 0;
        c = next(r);
        if (c == '"')
            rc = quoted_cell(r, &after);
        else
            rc = plain_cell(r, c, &after);
        if (rc == MD_OK)
            rc = end_cell(r);
        if (rc == MD_OK && after == '\r')
            rc = crlf(r);
        if (rc != MD_OK)
            return rc;
        if (after != ',')
            break;
    }
    for (size_t i = 0; i < r->nfields; i++)
        r->fields[i] = (char *)r->cells.data + r->starts[i];
    return MD_OK;
}

static int needs_quotes(const char *s)
{
    size_t n = strlen(s);
    if (n == 0)
        return 0;
    if (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t')
        return 1;
    return strpbrk(s, ",\"\r\n") != NULL;
}

int md_csv_cell(md_buf_t *out, const char *s)
{
    if (!needs_quotes(s))
        return md_buf_append(out, s, strlen(s));
    int rc = md_buf_append(out, "\"", 1);
    for (const char *p = s; rc == MD_OK && *p != '\0';) {
        size_t n = strcspn(p, "\"");
        rc = md_buf_append(out, p, n);
        p += n;
        if (rc == MD_OK && *p == '"') {
            rc = md_buf_append(out, "\"\"", 2);
            p++;
        }
    }
    if (rc == MD_OK)
        rc = md_buf_append(out, "\"", 1);
    return rc;
}

int md_csv_record(md_buf_t *out, const char *const *cells, size_t n)
{
    int rc = MD_OK;
    for (size_t i = 0; rc == MD_OK && i < n; i++) {
        if (i > 0)
            rc = md_buf_append(out, ",", 1);
        if (rc == MD_OK)
            rc = md_csv_cell(out, cells[i] != NULL ? cells[i] : "");
    }
    if (rc == MD_OK)
        rc = md_buf_append(out, "\n", 1);
    return rc;
}
