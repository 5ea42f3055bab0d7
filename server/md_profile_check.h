/* md_profile_check.h (private to mentord): profile checks shared by the
 * participant and import handlers. */
#ifndef MD_PROFILE_CHECK_H
#define MD_PROFILE_CHECK_H

#include <stddef.h>

#include "md_req.h"

/* Normalizes and checks every field of p (as at enrollment). On a problem
 * writes the offending field name (without prefix, e.g. "time_zone") and a
 * message, and returns -1. */
int md_profile_check_all(Mentor__V1__Profile *p, char *field, size_t fieldlen, char *msg,
                         size_t msglen);
/* Copies the field named f (as in ProfileUpdate.update_mask) from src to
 * dst, sharing its storage; -1 when f names no profile field. */
int md_profile_copy_field(Mentor__V1__Profile *dst, const Mentor__V1__Profile *src, const char *f);
/* The stored form of a profile (without the manager, kept in
 * participants.manager_id) as a bytea parameter, in the request arena. */
const char *md_profile_bytea(md_req_t *req, const Mentor__V1__Profile *p);
/* Every skill name of the profile as a text[] parameter. */
const char *md_profile_skill_names(md_req_t *req, const Mentor__V1__Profile *p);

#endif
