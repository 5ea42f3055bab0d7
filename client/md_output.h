/* md_output.h: how mentorctl shows results. Human output is aligned tables
 * (lists) and "key: value" blocks (single objects), with control characters
 * from the server replaced so a hostile name cannot drive the terminal.
 * Machine output is one JSON document per command, built in memory by a
 * small writer that escapes strings itself. Times are RFC 3339 in UTC in
 * both. Everything here is free of network and file access so the unit
 * tests can check it byte for byte. */
#ifndef MD_OUTPUT_H
#define MD_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "md_buf.h"
#include "md_err.h"

/* Room for any RFC 3339 time the formatter produces, NUL included. */
#define MD_TIME_LEN 32

/* Format unix seconds as "2026-11-23T10:00:00Z". Returns MD_OK, or MD_EINVAL
 * when the time cannot be represented (the buffer then holds "?"). */
MD_WUR int md_fmt_rfc3339(int64_t t, char *buf, size_t len);

/* Append s as a JSON string literal, quotes included: '"' and '\\'
 * escaped, control characters as \n, \t ... or \u00XX, valid UTF-8 passed
 * through and each byte of an invalid sequence replaced by \ufffd (so the
 * document stays valid whatever the server sent). */
MD_WUR int md_json_escape(md_buf_t *out, const char *s);

#define MD_JSON_MAX_DEPTH 16

/* A JSON document under construction. Errors are sticky: after the first
 * one, further calls do nothing and md_json_finish reports it. The writer
 * owns its buffer. */
typedef struct {
    md_buf_t out;
    int depth;
    unsigned char has_member[MD_JSON_MAX_DEPTH];
    int err;
} md_json_t;

void md_json_init(md_json_t *j);
void md_json_free(md_json_t *j);
/* In every call, key names the member inside an object; pass NULL for an
 * array element or the top-level value. */
void md_json_begin_object(md_json_t *j, const char *key);
void md_json_end_object(md_json_t *j);
void md_json_begin_array(md_json_t *j, const char *key);
void md_json_end_array(md_json_t *j);
/* A NULL s writes null. */
void md_json_string(md_json_t *j, const char *key, const char *s);
void md_json_uint(md_json_t *j, const char *key, uint64_t v);
void md_json_int(md_json_t *j, const char *key, int64_t v);
void md_json_bool(md_json_t *j, const char *key, int v);
void md_json_null(md_json_t *j, const char *key);
/* An RFC 3339 string, or null for 0 (the protocol's "not set"). */
void md_json_time(md_json_t *j, const char *key, int64_t unix_secs);
/* Terminate the document. Returns it as a NUL-terminated string owned by j,
 * or NULL when building it failed or containers are left open. */
const char *md_json_finish(md_json_t *j);

/* Format a time for people: RFC 3339, or "-" when unset (0). */
const char *md_time_text(int64_t t, char buf[MD_TIME_LEN]);

/* A string built piece by piece, for joining list items into one cell.
 * Errors are sticky; the string owns its buffer. */
typedef struct {
    md_buf_t buf;
    int err;
} md_str_t;

void md_str_init(md_str_t *s);
void md_str_free(md_str_t *s);
/* Append printf-formatted text. */
void md_str_add(md_str_t *s, const char *fmt, ...) MD_PRINTF(2, 3);
/* The text so far, NUL-terminated ("" when nothing was added), or NULL
 * after an error. Valid until the next call on s. */
const char *md_str_get(md_str_t *s);

/* A table of strings; cells are copied, so callers may pass temporaries. */
typedef struct {
    size_t ncols;
    const char *const *headers; /* ncols names, or NULL for a key/value block */
    char **cells;               /* owned, row-major, nrows * ncols */
    size_t nrows;
    size_t cap;
    int err;
} md_table_t;

void md_table_init(md_table_t *t, const char *const *headers, size_t ncols);
void md_table_free(md_table_t *t);
/* Add one row: exactly ncols strings follow (NULL prints as empty). */
void md_table_add(md_table_t *t, ...);
/* Columns separated by two spaces, each as wide as its widest cell (in
 * terminal cells: wide East Asian characters count two), the header first,
 * no trailing blanks. */
MD_WUR int md_table_print(const md_table_t *t, FILE *f);
/* Print a two-column table as "key:  value" lines with the values aligned.
 * A row with an empty key continues the row above: its value is aligned
 * under the values, with no key or colon. */
MD_WUR int md_table_print_kv(const md_table_t *t, FILE *f);

/* Write text for a terminal: control characters (C0, DEL and C1) become
 * '?', everything else is written as is. */
void md_out_safe(FILE *f, const char *s);
/* printf into a line for the terminal, made safe as md_out_safe does; a
 * newline is added. */
void md_out_line(FILE *f, const char *fmt, ...) MD_PRINTF(2, 3);

/* Names of mentor.v1.Role values as shown to users: "member",
 * "coordinator", "admin"; "unspecified" for anything else. */
const char *md_role_name(int role);
/* Parse a role name (case-insensitive); MD_EINVAL when unknown. */
MD_WUR int md_role_parse(const char *s, int *role);

#endif
