/* md_issues.h: the problems found in a file mentorctl imports, each tied
 * to a row (the line of the file on which the record starts) and a column
 * name, and printed as "row N, column C: message". Both the participants
 * file (md_roster.h) and the directory file (md_directory.h) report into
 * one of these lists, and so do the server's answers, so that the client's
 * findings and the server's come out sorted together. The header check
 * shared by those files lives here too, as it is the first thing to
 * report problems. Pure code. */
#ifndef MD_ISSUES_H
#define MD_ISSUES_H

#include <stddef.h>
#include <stdint.h>

#include "md_err.h"

/* One problem with the file. */
typedef struct {
    uint32_t row;
    char *column; /* "" when about the whole row */
    char *message;
} md_issue_t;

/* The problems found so far; owns its strings. Errors are sticky: once
 * memory ran out, err says so and further additions are dropped. */
typedef struct {
    md_issue_t *items;
    size_t n;
    size_t cap;
    int err;
} md_issues_t;

void md_issues_init(md_issues_t *l);
void md_issues_free(md_issues_t *l);
void md_issues_add(md_issues_t *l, uint32_t row, const char *column, const char *fmt, ...)
    MD_PRINTF(4, 5);
/* Order by row, keeping the order of discovery within a row. */
void md_issues_sort(md_issues_t *l);
/* After md_issues_sort: drop every issue equal (row, column and message)
 * to an earlier one, keeping the first. The server may report a row's
 * problem both in the reply to the batch that carried the row and in its
 * verdict on the whole file; the user should read it once. */
void md_issues_unique(md_issues_t *l);

/* The most columns a file format may define. */
#define MD_ISSUES_MAX_COLUMNS 64

/* Check the header record of a file (cells n) against the columns the
 * file may have, names[0..ncols), and set col[i] to the column cell i
 * names (-1 for none). Every cell must name a column, once, and the
 * columns listed in required[0..nrequired) must be there. Returns MD_OK,
 * or MD_EINVAL with each problem added to l as row 1 (an unknown column
 * with the nearest known name as a suggestion). */
MD_WUR int md_issues_check_header(md_issues_t *l, const char *const *names, size_t ncols,
                                  const int *required, size_t nrequired, char *const *cells,
                                  size_t n, int *col);

#endif
