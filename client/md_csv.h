/* md_csv.h: CSV files as RFC 4180 describes them, for the participant
 * files mentorctl imports and exports. The reader streams from a FILE*,
 * one record at a time, so a file of any length is read in bounded memory:
 * a cell may hold at most MD_CSV_MAX_CELL bytes and a record at most
 * MD_CSV_MAX_FIELDS cells. It accepts what spreadsheets write: optional
 * double quotes, "" for a quote inside quotes, commas and line breaks
 * inside quoted cells, CRLF or LF line ends, a leading UTF-8 byte order
 * mark; it refuses invalid UTF-8, NUL bytes and a quote inside an unquoted
 * cell, naming the row and column. Rows are physical line numbers (the
 * first line is row 1) where the record starts, so they match what an
 * editor shows even when a quoted cell spans lines. The writer quotes a
 * cell only when it must. Ownership: a reader owns the cells it returns;
 * they stay valid until the next md_csv_read or md_csv_reader_free. */
#ifndef MD_CSV_H
#define MD_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "md_buf.h"
#include "md_err.h"

#define MD_CSV_MAX_CELL   (1024u * 1024u)
#define MD_CSV_MAX_FIELDS 256u
#define MD_CSV_ERR_LEN    160

typedef struct {
    FILE *f;
    unsigned char in[65536]; /* read-ahead from f */
    size_t in_pos;
    size_t in_len;
    int eof;
    int started;       /* the byte order mark check is done */
    uint64_t consumed; /* bytes of f consumed so far, for progress */
    uint32_t line;     /* the physical line being read, from 1 */
    md_buf_t cells;    /* the current record's cells, each NUL-terminated */
    size_t starts[MD_CSV_MAX_FIELDS];
    char *fields[MD_CSV_MAX_FIELDS];
    size_t nfields;
    uint32_t row;        /* where the current record starts */
    uint32_t err_row;    /* after an error: its row and 1-based column */
    uint32_t err_column; /* 0 when the error is about the whole row */
    char err[MD_CSV_ERR_LEN];
} md_csv_reader_t;

/* The reader does not own f; it only reads from it. */
void md_csv_reader_init(md_csv_reader_t *r, FILE *f);
void md_csv_reader_free(md_csv_reader_t *r);
/* Read the next record into r->fields[0..r->nfields) with its row in
 * r->row. Lines that are entirely empty are skipped, not returned as a
 * record of one empty cell. Returns MD_OK, MD_ENOTFOUND at the end of the
 * file, MD_EIO when reading fails, or MD_EINVAL with r->err_row,
 * r->err_column and a sentence in r->err; after an error the reader must
 * not be used again but to free it. */
MD_WUR int md_csv_read(md_csv_reader_t *r);

/* Append s as one CSV cell: quoted, with '"' doubled, when it holds a
 * comma, a quote, CR or LF, or begins or ends with a space or tab; as is
 * otherwise. */
MD_WUR int md_csv_cell(md_buf_t *out, const char *s);
/* Append a record of n cells ended by "\n". */
MD_WUR int md_csv_record(md_buf_t *out, const char *const *cells, size_t n);

#endif
