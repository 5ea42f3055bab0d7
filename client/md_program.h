/* md_program.h: what mentorctl knows about programs, apart from talking to
 * the server: the names of states, department rules and matching factors
 * as users type and read them, the translation of the program command-line
 * flags into a Program message and its update mask, and the renderers of a
 * program in both output modes. All of it is pure, so the unit tests cover
 * it without a server. */
#ifndef MD_PROGRAM_H
#define MD_PROGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "md_args.h"
#include "md_output.h"
#include "mentor.pb-c.h"

/* "draft", "enrolling", "matching", "active", "closed"; "unspecified"
 * otherwise. Parsing is case-insensitive; MD_EINVAL when unknown. */
const char *md_program_state_name(int state);
MD_WUR int md_program_state_parse(const char *s, int *state);
/* "any" (also for DEPARTMENT_RULE_UNSPECIFIED, which the server treats as
 * any), "same", "different". */
const char *md_department_rule_name(int rule);
MD_WUR int md_department_rule_parse(const char *s, int *rule);

/* The matching factors in MatchingWeights order. */
#define MD_WEIGHT_COUNT 9
/* "skills", "goals", ... as in MatchingWeights; NULL past the end. */
const char *md_weight_name(size_t i);
/* The weight the server gives factor i when a program is created without
 * weights. */
uint32_t md_weight_default(size_t i);
/* The field of w holding factor i. */
uint32_t *md_weight_slot(Mentor__V1__MatchingWeights *w, size_t i);
uint32_t md_weight_get(const Mentor__V1__MatchingWeights *w, size_t i);

/* Fields of Program that ProgramUpdate can change, as bits of
 * md_program_edit_t.set; md_program_field_name gives the mask name. */
typedef enum {
    MD_PG_NAME,
    MD_PG_DESCRIPTION,
    MD_PG_OBJECTIVES,
    MD_PG_MENTOR_EXPECTATIONS,
    MD_PG_MENTEE_EXPECTATIONS,
    MD_PG_CHECKIN_CADENCE_DAYS,
    MD_PG_START_DATE,
    MD_PG_END_DATE,
    MD_PG_DEFAULT_MENTOR_CAPACITY,
    MD_PG_WEIGHTS,
    MD_PG_RULES,
    MD_PG_MENTORS_PER_MENTEE,
    MD_PG_OBJECTIVE,
    MD_PG_MATCH_MODE,
    MD_PG_RESPONSE_WINDOW_DAYS,
    MD_PG_AUTO_RECALC,
    MD_PG_RECALC_HOURS,
    MD_PG_COUNT
} md_program_field_t;

const char *md_program_field_name(int field);

/* A program assembled from "program create" or "program update" flags.
 * Strings in pb point into argv; the objectives array is owned. Weights and
 * rules given on the command line are partial: md_program_edit_merge fills
 * in the rest from a base (the defaults, or the program as it is). */
typedef struct {
    Mentor__V1__Program pb;
    Mentor__V1__MatchingWeights weights;
    Mentor__V1__MatchingRules rules;
    unsigned set;                           /* bits of md_program_field_t */
    uint32_t weight_given[MD_WEIGHT_COUNT]; /* values from --weight */
    unsigned weight_mask;                   /* which factors --weight named */
    int rule_department;                    /* from --department-rule, or -1 */
    int64_t rule_gap;                       /* from --min-seniority-gap, or -1 */
    int rule_language;                      /* --require-shared-language, or -1 */
    int rule_training;                      /* --require-mentor-training, or -1 */
    int auto_recalc;                        /* --auto-recalc on (1), off (0), or -1 */
    char err[MD_ARGS_ERR_LEN];
} md_program_edit_t;

void md_program_edit_init(md_program_edit_t *e);
void md_program_edit_free(md_program_edit_t *e);
/* Read the program flags of a (see the option tables in cli.c), and
 * "--clear FIELD" where the command has it. Returns MD_OK, or MD_EINVAL
 * with a sentence in e->err. */
MD_WUR int md_program_edit_args(md_program_edit_t *e, const md_args_t *a);
/* "on" or "off" (also "yes" or "no", as the rule flags take), ignoring
 * case; MD_EINVAL otherwise. */
MD_WUR int md_on_off_parse(const char *s, int *on);
/* Non-zero when weights or rules were given, so the whole message must be
 * built on top of the program's current values. */
int md_program_edit_needs_base(const md_program_edit_t *e);
/* Complete weights and rules (when given) from base, or from the creation
 * defaults when base is NULL, and point pb at them. With base NULL the
 * program is being created, so "--auto-recalc off" also becomes
 * auto_recalc_off, the field ProgramCreate reads. */
void md_program_edit_merge(md_program_edit_t *e, const Mentor__V1__Program *base);
/* The update mask: names of the fields set, in Program order. Returns how
 * many were stored in mask. */
size_t md_program_edit_mask(const md_program_edit_t *e, const char *mask[MD_PG_COUNT]);

/* Renderers. JSON uses the field names of the protocol, enums as lowercase
 * names, dates as given ("YYYY-MM-DD", null when unset). */
void md_json_program(md_json_t *j, const char *key, const Mentor__V1__Program *p);
void md_kv_program(md_table_t *t, const Mentor__V1__Program *p);
/* Add value to a key/value table as one row per line of text, the later
 * ones as continuation rows (empty key); "-" when text is empty. */
void md_kv_text(md_table_t *t, const char *key, const char *text);

#endif
