/* issues.c: the list of problems found in an imported file. Messages are
 * formatted once, when added, into strings the list owns, so that callers
 * may pass temporaries (a cell of the record being read, a server reply
 * about to be freed). */
#include "md_issues.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md_args.h"

void md_issues_init(md_issues_t *l)
{
    memset(l, 0, sizeof(*l));
}

void md_issues_free(md_issues_t *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->items[i].column);
        free(l->items[i].message);
    }
    free(l->items);
    memset(l, 0, sizeof(*l));
}

void md_issues_add(md_issues_t *l, uint32_t row, const char *column, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    if (l->err != MD_OK)
        return;
    if (l->n == l->cap) {
        size_t cap = l->cap != 0 ? l->cap * 2 : 16;
        md_issue_t *grown = realloc(l->items, cap * sizeof(*grown));
        if (grown == NULL) {
            l->err = MD_ENOMEM;
            return;
        }
        l->items = grown;
        l->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    md_issue_t *it = &l->items[l->n];
    it->row = row;
    it->column = strdup(column != NULL ? column : "");
    it->message = strdup(msg);
    if (it->column == NULL || it->message == NULL) {
        free(it->column);
        free(it->message);
        l->err = MD_ENOMEM;
        return;
    }
    l->n++;
}

/* Insertion sort: stable, and the lists are already nearly in order (each
 * batch's issues come in row order). */
void md_issues_sort(md_issues_t *l)
{
    for (size_t i = 1; i < l->n; i++) {
        md_issue_t it = l->items[i];
        size_t j = i;
        while (j > 0 && l->items[j - 1].row > it.row) {
            l->items[j] = l->items[j - 1];
            j--;
        }
        l->items[j] = it;
    }
}

static int same_issue(const md_issue_t *a, const md_issue_t *b)
{
    return a->row == b->row && strcmp(a->column, b->column) == 0 &&
           strcmp(a->message, b->message) == 0;
}

/* Sorted by row, equal issues share a row, so each is compared only with
 * the kept issues of its own row: a few per row, whatever the file's
 * length. */
void md_issues_unique(md_issues_t *l)
{
    size_t kept = 0;
    size_t row_start = 0;
    for (size_t i = 0; i < l->n; i++) {
        md_issue_t *it = &l->items[i];
        if (kept == 0 || l->items[kept - 1].row != it->row)
            row_start = kept;
        int seen = 0;
        for (size_t j = row_start; j < kept && !seen; j++)
            seen = same_issue(&l->items[j], it);
        if (seen) {
            free(it->column);
            free(it->message);
            continue;
        }
        l->items[kept++] = *it;
    }
    l->n = kept;
}

int md_issues_check_header(md_issues_t *l, const char *const *names, size_t ncols,
                           const int *required, size_t nrequired, char *const *cells, size_t n,
                           int *col)
{
    unsigned char seen[MD_ISSUES_MAX_COLUMNS] = {0};
    int rc = MD_OK;
    if (ncols > MD_ISSUES_MAX_COLUMNS)
        ncols = MD_ISSUES_MAX_COLUMNS;
    for (size_t i = 0; i < n; i++) {
        col[i] = -1;
        for (size_t c = 0; c < ncols && col[i] < 0; c++) {
            if (strcmp(cells[i], names[c]) == 0)
                col[i] = (int)c;
        }
        if (col[i] < 0) {
            const char *best = md_closest(cells[i], names, ncols);
            if (best != NULL)
                md_issues_add(l, 1, cells[i], "unknown column (did you mean '%s'?)", best);
            else
                md_issues_add(l, 1, cells[i], "unknown column");
            rc = MD_EINVAL;
        } else if (seen[col[i]]) {
            md_issues_add(l, 1, cells[i], "column given twice");
            rc = MD_EINVAL;
        } else {
            seen[col[i]] = 1;
        }
    }
    for (size_t i = 0; i < nrequired; i++) {
        if (required[i] >= 0 && (size_t)required[i] < ncols && !seen[required[i]]) {
            md_issues_add(l, 1, names[required[i]], "required column missing");
            rc = MD_EINVAL;
        }
    }
    return rc;
}
