/* directory.c: the HR directory file, read into DirectoryRow messages.
 * Every problem of a record is reported, not just the first, so that one
 * pass over a file shows everything to fix. Cells are sent as written:
 * normalizing an e-mail or an employee id is the server's business, since
 * it is the server that matches them against the users it has. Only the
 * status word is read leniently (case, blanks, "on leave"), because it is
 * the one cell the client turns into something else. */
#include "md_directory.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const col_names[MD_DC_COUNT] = {
    "employee_id", "email", "name", "department", "title", "manager_employee_id", "status",
};

const char *md_directory_col_name(int col)
{
    return col >= 0 && col < MD_DC_COUNT ? col_names[col] : NULL;
}

/* ------------------------------------------------------------------ */
/* Employment status */

/* The words of the file and what they mean; the first word of each
 * status is its name. */
static const struct {
    const char *word;
    int status;
} status_words[] = {
    {"active", MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_ACTIVE},
    {"leave", MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_LEAVE},
    {"terminated", MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_TERMINATED},
    {"on leave", MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_LEAVE},
    {"on_leave", MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_LEAVE},
};

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* s without the blanks around it: *start and *len. */
static void trim(const char *s, const char **start, size_t *len)
{
    size_t n = strlen(s);
    while (n > 0 && is_blank(*s)) {
        s++;
        n--;
    }
    while (n > 0 && is_blank(s[n - 1]))
        n--;
    *start = s;
    *len = n;
}

int md_employment_parse(const char *s, int *status)
{
    const char *word;
    size_t len;
    trim(s, &word, &len);
    for (size_t i = 0; i < COUNT(status_words); i++) {
        if (strlen(status_words[i].word) == len &&
            strncasecmp(word, status_words[i].word, len) == 0) {
            *status = status_words[i].status;
            return MD_OK;
        }
    }
    return MD_EINVAL;
}

const char *md_employment_name(int status)
{
    for (size_t i = 0; i < COUNT(status_words); i++) {
        if (status_words[i].status == status)
            return status_words[i].word;
    }
    return "unspecified";
}

/* ------------------------------------------------------------------ */
/* Header */

int md_directory_header(md_directory_header_t *h, char *const *cells, size_t n, md_issues_t *issues)
{
    static const int required[] = {MD_DC_EMPLOYEE_ID, MD_DC_EMAIL, MD_DC_STATUS};
    h->n = n < MD_CSV_MAX_FIELDS ? n : MD_CSV_MAX_FIELDS;
    return md_issues_check_header(issues, col_names, MD_DC_COUNT, required, COUNT(required), cells,
                                  h->n, h->col);
}

/* ------------------------------------------------------------------ */
/* Record -> DirectoryRow */

/* Characters in s, which the CSV reader has checked to be valid UTF-8:
 * every byte but a continuation byte starts one. */
static size_t characters(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
        n += (*p & 0xC0) != 0x80;
    return n;
}

/* The longest a cell of column col may be, in characters. */
static size_t max_chars(int col)
{
    switch (col) {
    case MD_DC_EMPLOYEE_ID:
    case MD_DC_MANAGER_EMPLOYEE_ID:
        return MD_DIRECTORY_MAX_ID;
    case MD_DC_EMAIL:
        return MD_DIRECTORY_MAX_EMAIL;
    default:
        return MD_DIRECTORY_MAX_TEXT;
    }
}

/* Check cell s of column col, reading the status into *status. Returns
 * MD_OK, or MD_EINVAL with an issue added. */
static int check_cell(int col, const char *s, uint32_t row, md_issues_t *issues, int *status)
{
    const char *name = md_directory_col_name(col);
    const char *word;
    size_t len;
    if (name == NULL)
        return MD_OK;
    trim(s, &word, &len);
    if (col == MD_DC_STATUS) {
        if (len == 0) {
            md_issues_add(issues, row, name, "required (active, leave or terminated)");
            return MD_EINVAL;
        }
        if (md_employment_parse(s, status) != MD_OK) {
            md_issues_add(issues, row, name,
                          "invalid status '%.40s' (expected active, leave or terminated)", s);
            return MD_EINVAL;
        }
        return MD_OK;
    }
    if (len == 0 && (col == MD_DC_EMPLOYEE_ID || col == MD_DC_EMAIL)) {
        md_issues_add(issues, row, name, "required");
        return MD_EINVAL;
    }
    size_t chars = characters(s);
    if (chars > max_chars(col)) {
        md_issues_add(issues, row, name, "too long: %zu characters (at most %zu)", chars,
                      max_chars(col));
        return MD_EINVAL;
    }
    return MD_OK;
}

/* A DirectoryRow holding copies of the cells text[] (by column). Every
 * string is allocated, empty ones too, so that free_unpacked releases the
 * row whatever was set. NULL when memory runs out. */
static Mentor__V1__DirectoryRow *row_build(const char *const text[MD_DC_COUNT], uint32_t row,
                                           int status)
{
    Mentor__V1__DirectoryRow *r = malloc(sizeof(*r));
    if (r == NULL)
        return NULL;
    mentor__v1__directory_row__init(r);
    r->row = row;
    r->status = (Mentor__V1__EmploymentStatus)status;
    r->employee_id = strdup(text[MD_DC_EMPLOYEE_ID]);
    r->email = strdup(text[MD_DC_EMAIL]);
    r->display_name = strdup(text[MD_DC_NAME]);
    r->department = strdup(text[MD_DC_DEPARTMENT]);
    r->title = strdup(text[MD_DC_TITLE]);
    r->manager_employee_id = strdup(text[MD_DC_MANAGER_EMPLOYEE_ID]);
    if (r->employee_id == NULL || r->email == NULL || r->display_name == NULL ||
        r->department == NULL || r->title == NULL || r->manager_employee_id == NULL) {
        mentor__v1__directory_row__free_unpacked(r, NULL);
        return NULL;
    }
    return r;
}

int md_directory_row(const md_directory_header_t *h, uint32_t row, char *const *cells, size_t n,
                     md_issues_t *issues, Mentor__V1__DirectoryRow **out)
{
    const char *text[MD_DC_COUNT] = {"", "", "", "", "", "", ""};
    int status = MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_STATUS_UNSPECIFIED;
    int bad = 0;
    *out = NULL;
    if (n != h->n) {
        md_issues_add(issues, row, "", "expected %zu cells as in the header, found %zu", h->n, n);
        return MD_EINVAL;
    }
    /* Every cell is checked, so that all the record's problems are
     * reported at once; the row is built only from a clean record. */
    for (size_t i = 0; i < n; i++) {
        if (check_cell(h->col[i], cells[i], row, issues, &status) != MD_OK)
            bad = 1;
        else if (h->col[i] >= 0 && h->col[i] < MD_DC_COUNT)
            text[h->col[i]] = cells[i];
    }
    if (issues->err != MD_OK)
        return issues->err;
    if (bad)
        return MD_EINVAL;
    *out = row_build(text, row, status);
    return *out != NULL ? MD_OK : MD_ENOMEM;
}
