/* md_roster.h: the participants file of "mentorctl import participants"
 * and "export participants": its columns, the conversion of a CSV record
 * into an ImportRow and of a Participant back into a record. Problems go
 * to an md_issues_t ("row N, column C: message", md_issues.h). Checks
 * here are only about notation (a number where a number is needed, the
 * NAME:LEVEL shape of a skill, the availability spec) and about the one
 * value the wire cannot carry (0 for a capacity or a seniority level,
 * which the protocol reads as "not given"); the server checks everything
 * else, and its issues are reported in the same form. Pure code (no
 * network, no files), covered by the unit tests. */
#ifndef MD_ROSTER_H
#define MD_ROSTER_H

#include <stddef.h>
#include <stdint.h>

#include "md_csv.h"
#include "md_err.h"
#include "md_issues.h"
#include "mentor.pb-c.h"

/* The columns, in the order export writes them. */
typedef enum {
    MD_RC_EMAIL,
    MD_RC_DISPLAY_NAME,
    MD_RC_ROLE,
    MD_RC_SKILLS_OFFERED,
    MD_RC_SKILLS_WANTED,
    MD_RC_CAREER_GOALS,
    MD_RC_INTERESTS,
    MD_RC_DEPARTMENT,
    MD_RC_SENIORITY_LEVEL,
    MD_RC_SENIORITY_YEARS,
    MD_RC_TIME_ZONE,
    MD_RC_LANGUAGES,
    MD_RC_AVAILABILITY,
    MD_RC_MANAGER_EMAIL,
    MD_RC_CAPACITY,
    MD_RC_COUNT
} md_roster_col_t;

/* The name of a column ("skills_offered" ...), or NULL. */
const char *md_roster_col_name(int col);

/* Which column each cell of a record holds. */
typedef struct {
    int col[MD_CSV_MAX_FIELDS]; /* an md_roster_col_t per cell */
    size_t n;
} md_roster_header_t;

/* Read the header record (cells n). Every cell must name a column, once;
 * email and role are required. Returns MD_OK, or MD_EINVAL with the
 * problems added to issues (as row 1). */
MD_WUR int md_roster_header(md_roster_header_t *h, char *const *cells, size_t n,
                            md_issues_t *issues);

/* The profile fields the file provides, named as ParticipantImport.columns
 * names them (the column names, "manager_email" included; email,
 * display_name and role are not profile fields), in header order. Returns
 * how many were put in out. */
size_t md_roster_fields(const md_roster_header_t *h, const char *out[MD_RC_COUNT]);

/* Convert the record at row (cells n) into *out, a newly allocated
 * ImportRow the caller releases with mentor__v1__import_row__free_unpacked.
 * Returns MD_OK, MD_EINVAL when the record has problems of notation (all
 * of them added to issues, *out left NULL) or MD_ENOMEM. */
MD_WUR int md_roster_row(const md_roster_header_t *h, uint32_t row, char *const *cells, size_t n,
                         md_issues_t *issues, Mentor__V1__ImportRow **out);

/* Append the availability slots as a spec md_availability_parse reads
 * back to the same slots: "mon-fri:9-17,sat:10-12". */
MD_WUR int md_roster_availability_spec(const uint32_t *slots, size_t n, md_buf_t *out);

/* The cells of p in column order, as NUL-terminated strings in one
 * buffer: cells[i] points into buf, which the caller frees with
 * md_buf_free. manager_email is the e-mail of the manager ("" for none). */
MD_WUR int md_roster_cells(const Mentor__V1__Participant *p, const char *manager_email,
                           md_buf_t *buf, const char *cells[MD_RC_COUNT]);

#endif
