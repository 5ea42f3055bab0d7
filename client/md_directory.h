/* md_directory.h: the HR directory file of "mentorctl import users": its
 * columns, the employment status words, and the conversion of a CSV record
 * into a DirectoryRow. As for the participants file (md_roster.h), the
 * checks here are about notation only: the status is one of the known
 * words, the required cells are not blank, no cell is longer than the
 * protocol allows. Whether an e-mail is well formed, an employee id unique
 * in the file or a manager known is for the server to say, in the same
 * "row N, column C: message" form (md_issues.h). Pure code (no network, no
 * files), covered by the unit tests. */
#ifndef MD_DIRECTORY_H
#define MD_DIRECTORY_H

#include <stddef.h>
#include <stdint.h>

#include "md_csv.h"
#include "md_err.h"
#include "md_issues.h"
#include "mentor.pb-c.h"

/* The columns, in the order the documentation lists them. */
typedef enum {
    MD_DC_EMPLOYEE_ID,
    MD_DC_EMAIL,
    MD_DC_NAME,
    MD_DC_DEPARTMENT,
    MD_DC_TITLE,
    MD_DC_MANAGER_EMPLOYEE_ID,
    MD_DC_STATUS,
    MD_DC_COUNT
} md_directory_col_t;

/* The longest cells accepted, in characters (UTF-8 code points): the
 * protocol's limits for an employee id, an e-mail address and the other
 * texts (names, departments, titles). */
#define MD_DIRECTORY_MAX_ID    64
#define MD_DIRECTORY_MAX_EMAIL 254
#define MD_DIRECTORY_MAX_TEXT  200

/* The name of a column ("employee_id" ...), or NULL. */
const char *md_directory_col_name(int col);

/* Parse an employment status as the file writes it: "active", "leave" or
 * "terminated", in any case, with blanks around it ignored; "on leave" and
 * "on_leave" are read as "leave". Sets *status to a
 * Mentor__V1__EmploymentStatus. Returns MD_OK or MD_EINVAL. */
MD_WUR int md_employment_parse(const char *s, int *status);
/* "active", "leave", "terminated", or "unspecified" for anything else. */
const char *md_employment_name(int status);

/* Which column each cell of a record holds. */
typedef struct {
    int col[MD_CSV_MAX_FIELDS]; /* an md_directory_col_t per cell */
    size_t n;
} md_directory_header_t;

/* Read the header record (cells n). Every cell must name a column, once;
 * employee_id, email and status are required. Returns MD_OK, or MD_EINVAL
 * with the problems added to issues (as row 1). */
MD_WUR int md_directory_header(md_directory_header_t *h, char *const *cells, size_t n,
                               md_issues_t *issues);

/* Convert the record at row (cells n) into *out, a newly allocated
 * DirectoryRow the caller releases with
 * mentor__v1__directory_row__free_unpacked. Returns MD_OK, MD_EINVAL when
 * the record has problems of notation (all of them added to issues, *out
 * left NULL) or MD_ENOMEM. */
MD_WUR int md_directory_row(const md_directory_header_t *h, uint32_t row, char *const *cells,
                            size_t n, md_issues_t *issues, Mentor__V1__DirectoryRow **out);

#endif
