/* md_match_data.h (private to mentord): between the database and the
 * matching engine. Builds an engine for one program from the rows of the
 * md_match_settings / md_match_people / md_match_facts functions
 * (sql/009_matching.sql), and turns a run's result into the parameters of
 * md_match_apply. Shared by the request handlers (which read through the
 * pool) and the background worker (which reads on its own connection), so
 * both see the same input the same way.
 *
 * The statements take $1 = program id and $2 = a bigint[] of user ids to
 * restrict the people and facts to (NULL: the whole program). Ownership:
 * md_match_program_load copies what it keeps; the PGresults stay the
 * caller's. An md_match_program_t is read-only after loading and may be
 * used from any one thread at a time (the engine inside allows several). */
#ifndef MD_MATCH_DATA_H
#define MD_MATCH_DATA_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "md_match.h"

extern const char MD_MATCH_SQL_SETTINGS[]; /* $1 program */
extern const char MD_MATCH_SQL_PEOPLE[];   /* $1 program, $2 users or NULL */
extern const char MD_MATCH_SQL_FACTS[];    /* $1 program, $2 users or NULL */
/* md_match_apply with the 17 parameters of md_match_apply_params_t. */
extern const char MD_MATCH_SQL_APPLY[];
#define MD_MATCH_APPLY_NPARAMS 17

typedef struct md_match_program md_match_program_t;

typedef struct {
    uint64_t program_id;
    int state;      /* mentor.v1.ProgramState */
    int match_mode; /* 1 admin-led, 2 self-match */
    int objective;  /* 1 participation, 2 score */
    uint32_t mentors_per_mentee;
    uint32_t mentors; /* active mentors loaded */
    uint32_t mentees;
    const char *name; /* the program's name */
} md_match_program_info_t;

/* Builds the engine. threads: solver threads (0: one per CPU). Fails with
 * MD_EINVAL (message in err) when the program does not exist or the data
 * cannot be used, MD_ENOMEM. */
MD_WUR int md_match_program_load(uint64_t program_id, const PGresult *settings,
                                 const PGresult *people, const PGresult *facts, uint32_t threads,
                                 md_match_program_t **out, char *err, size_t errlen);
void md_match_program_free(md_match_program_t *p);
const md_match_program_info_t *md_match_program_info(const md_match_program_t *p);
const md_match_t *md_match_program_engine(const md_match_program_t *p);
/* The display name of a loaded participant ("" when unknown). */
const char *md_match_program_name(const md_match_program_t *p, uint64_t user_id);
/* The role of a loaded participant: 1 mentor, 2 mentee, 0 not loaded. */
int md_match_program_role(const md_match_program_t *p, uint64_t user_id);
/* A mentor's capacity left: capacity minus active pairs and kept
 * proposals (0 when full or unknown). */
uint32_t md_match_program_room(const md_match_program_t *p, uint64_t mentor_id);

/* A factor's explanation in words, e.g. "covers 3 of 4 wanted skills". */
void md_match_factor_detail(const md_match_explain_t *ex, int factor, char *buf, size_t len);
/* Rule bits as "reporting_line, history" ("" for none). */
void md_match_rules_text(uint32_t rules, char *buf, size_t len);
/* The contributions of an explanation as a PostgreSQL int[] literal. */
void md_match_factors_literal(const md_match_explain_t *ex, char *buf, size_t len);

/* A run's result as md_match_apply's parameters; strings owned by the
 * struct. started_ms: Unix milliseconds when the run began. */
typedef struct {
    char *values[MD_MATCH_APPLY_NPARAMS];
} md_match_apply_params_t;

MD_WUR int md_match_apply_params(const md_match_program_t *p, const md_match_result_t *r,
                                 const char *reason, int solver, int64_t started_ms,
                                 uint32_t duration_ms, md_match_apply_params_t *out);
void md_match_apply_params_free(md_match_apply_params_t *a);

#endif
