/* md_model.h (private to mentord): the SQL column lists shared by handlers
 * and the functions that turn one result row into a protocol message, so
 * users and organizations look the same in every reply. Also the input
 * checks shared by several handlers. */
#ifndef MD_MODEL_H
#define MD_MODEL_H

#include "md_req.h"

/* Columns of a user row, in the order md_model_user reads them. */
#define MD_USER_COLS                                                                               \
    "u.id, u.email, u.display_name, u.role, u.active, u.is_operator, "                             \
    "extract(epoch FROM u.created_at)::bigint, (u.password_hash IS NULL), "                        \
    "coalesce(u.employee_id, ''), u.department, u.title, coalesce(u.manager_id, 0), u.employment"
#define MD_USER_NCOLS 13

/* Columns of an organization row, in the order md_model_org reads them. */
#define MD_ORG_COLS                                                                                \
    "o.id, o.slug, o.name, extract(epoch FROM o.created_at)::bigint, "                             \
    "(SELECT count(*) FROM users x WHERE x.org_id = o.id AND x.active)"
#define MD_ORG_NCOLS 5

Mentor__V1__User *md_model_user(md_req_t *req, const PGresult *r, int row, int col);
Mentor__V1__Org *md_model_org(md_req_t *req, const PGresult *r, int row, int col);

/* Statements reading the caller's own user and organization ($1 org id,
 * $2 user id), used after login and by WhoAmI. */
extern const char md_sql_self_user[];
extern const char md_sql_self_org[];

/* Lowercases and checks an e-mail address into out; 0 when invalid. */
int md_model_email(const char *in, char *out, size_t outlen);
/* Checks an organization slug: 2-40 of [a-z0-9-], starting with a letter. */
int md_model_slug(const char *s);
/* Checks a display or organization name: 1-200 characters (code points),
 * no control characters. Strings are UTF-8, checked at dispatch. */
int md_model_name(const char *s);
const char *md_model_role_name(int role);

/* Free text of at most max characters: printable, newlines and tabs allowed. */
int md_model_text(const char *s, size_t max);
/* A calendar date "YYYY-MM-DD" that exists (or "" when allow_empty). */
int md_model_date(const char *s, int allow_empty);
/* Normalizes a skill or tag name in place: trims, collapses inner white
 * space to one space, lowercases ASCII. Returns its length. */
size_t md_model_normalize_name(char *s);

/* PostgreSQL text[] literal of n strings, in the request arena. */
const char *md_model_text_array(md_req_t *req, char *const *items, size_t n);
/* Parses a PostgreSQL text[] value into arena strings; -1 when malformed. */
int md_model_parse_text_array(md_req_t *req, const char *s, char ***out, size_t *n);
/* bytea parameter ("\x" + hex) for n bytes, in the request arena. */
const char *md_model_bytea(md_req_t *req, const uint8_t *p, size_t n);
/* A ProtobufCAllocator that takes memory from the request arena, so
 * unpacked messages live as long as the request and are never freed one by
 * one. */
void md_model_arena_allocator(md_req_t *req, ProtobufCAllocator *a);

#endif
