/* md_profile.h: participants and their profiles as mentorctl reads and
 * shows them: participant role names, the "SKILL:LEVEL" and availability
 * notations of the command line, the assembly of a Profile and its update
 * mask from flags and/or a JSON file, and the renderers of participants in
 * both output modes. Pure code (no network, no files), covered by the unit
 * tests. Values are checked only as far as their notation goes; ranges
 * (skill levels 1-5, slots 0-167, capacity 1-10 ...) are left to the
 * server, so its message about them is the one the user sees. */
#ifndef MD_PROFILE_H
#define MD_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "md_args.h"
#include "md_json.h"
#include "md_output.h"
#include "mentor.pb-c.h"

/* "mentor", "mentee"; "unspecified" otherwise. Parsing ignores case. */
const char *md_participant_role_name(int role);
MD_WUR int md_participant_role_parse(const char *s, int *role);

/* Split "SKILL:LEVEL" at its last ':'. The name is s[0..*namelen) and may
 * itself hold ':'; the level must be a decimal number fitting 32 bits,
 * whatever its range. MD_EINVAL when there is no ':', the name is empty or
 * the level is not a number. */
MD_WUR int md_skill_parse(const char *s, size_t *namelen, uint32_t *level);

#define MD_WEEK_HOURS 168

/* Parse an availability spec: comma-separated DAY:START-END items, DAY
 * one of mon..sun or a range such as mon-fri, hours 0-24 with END
 * exclusive ("mon-fri:9-17,sat:10-12"). Fills slots with the hour-of-week
 * numbers (Monday 00:00 is 0; slot = day * 24 + hour) in ascending order,
 * overlaps merged, and *n with their count. MD_EINVAL with a sentence in
 * err when the spec is malformed or empty. */
MD_WUR int md_availability_parse(const char *spec, uint32_t slots[MD_WEEK_HOURS], size_t *n,
                                 char *err, size_t errlen);
/* Append the slots as compact day ranges: "mon-fri 09-17, sat 10-12";
 * several spans on one day are separated by spaces ("mon 09-12 14-17").
 * Slots outside 0-167 are skipped. Nothing is appended for no slots. */
void md_availability_text(const uint32_t *slots, size_t n, md_str_t *out);

/* The fields of Profile, in Profile order, as bits of md_profile_edit_t. */
typedef enum {
    MD_PF_SKILLS_OFFERED,
    MD_PF_SKILLS_WANTED,
    MD_PF_CAREER_GOALS,
    MD_PF_INTERESTS,
    MD_PF_DEPARTMENT,
    MD_PF_SENIORITY_LEVEL,
    MD_PF_SENIORITY_YEARS,
    MD_PF_TIME_ZONE,
    MD_PF_LANGUAGES,
    MD_PF_AVAILABILITY,
    MD_PF_MANAGER_ID,
    MD_PF_CAPACITY,
    MD_PF_ATTRIBUTES,
    MD_PF_COUNT
} md_profile_field_t;

/* The protocol name of a field ("skills_offered" ...), or NULL. */
const char *md_profile_field_name(int field);
/* The field called name, or -1. */
int md_profile_field_by_name(const char *name);

/* A profile assembled from a JSON file and command-line flags, with the
 * fields that were given. Ownership: every string and array reachable from
 * pb belongs to the edit and is released by md_profile_edit_free. */
typedef struct {
    Mentor__V1__Profile pb;
    unsigned set;        /* bits of md_profile_field_t given in any way */
    unsigned from_flags; /* the subset given by flags (which beat the file) */
    char err[256];
} md_profile_edit_t;

void md_profile_edit_init(md_profile_edit_t *e);
void md_profile_edit_free(md_profile_edit_t *e);
/* Take the fields of doc, a JSON object with Profile's field names and
 * types (skills as [{"name": "c", "level": 4}], attributes as an object of
 * strings, numbers as whole numbers). A key that is not a Profile field,
 * or a value of the wrong type, is MD_EINVAL with e->err naming it (e.g.
 * "skills_offered[1].level: expected a whole number, got a string"). */
MD_WUR int md_profile_edit_json(md_profile_edit_t *e, const md_json_value_t *doc);
/* Take the profile flags of a (--offer, --want, --goal, --interest,
 * --department, --level, --years, --time-zone, --language, --availability,
 * --manager, --capacity, --attribute) and then any --clear FIELD. A flag
 * replaces what the file gave for its field; a repeated flag makes the
 * whole list. MD_EINVAL with e->err on a malformed value, an unknown
 * --clear field or a --clear of a field a flag also sets. */
MD_WUR int md_profile_edit_args(md_profile_edit_t *e, const md_args_t *a);
/* The update mask: names of the fields given, in Profile order. */
size_t md_profile_edit_mask(const md_profile_edit_t *e, const char *mask[MD_PF_COUNT]);

/* Renderers. A missing profile renders as an empty one. */
void md_json_profile(md_json_t *j, const char *key, const Mentor__V1__Profile *p);
void md_json_participant(md_json_t *j, const char *key, const Mentor__V1__Participant *p);
/* Rows about the participant (program, user, role, status, enrolled, and
 * for mentors whether their training is done). */
void md_kv_participant(md_table_t *t, const Mentor__V1__Participant *p);
/* Rows of the profile of a participant with role; with all, every field
 * (unset ones as "-"), else only those that are set. Attributes appear
 * only when present, as the server sends them only to their owner. */
void md_kv_profile(md_table_t *t, const Mentor__V1__Profile *p, int role, int all);
/* "c (4), go (3)". */
void md_skills_text(Mentor__V1__Skill *const *skills, size_t n, md_str_t *out);

#endif
