/* md_json.h: a small strict JSON parser (RFC 8259) for the files mentorctl
 * reads, such as a profile given with --from-file. It builds a tree of
 * values in memory and refuses anything that is not plain JSON: comments,
 * trailing commas, single quotes, leading zeros, invalid UTF-8, lone
 * surrogates, duplicate keys, NUL characters in strings (which C strings
 * cannot carry), nesting deeper than MD_JSON_PARSE_MAX_DEPTH and input
 * larger than MD_JSON_PARSE_MAX_BYTES. Errors name the line and column.
 * The JSON writer for command output is a separate thing in md_output.h.
 * Ownership: the tree returned by md_json_parse belongs to the caller and
 * is released with md_json_value_free; every string in it is owned by it. */
#ifndef MD_JSON_H
#define MD_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "md_err.h"

#define MD_JSON_PARSE_MAX_DEPTH 32
#define MD_JSON_PARSE_MAX_BYTES (1024u * 1024u)

typedef enum {
    MD_JSON_NULL,
    MD_JSON_BOOL,
    MD_JSON_NUMBER,
    MD_JSON_STRING,
    MD_JSON_ARRAY,
    MD_JSON_OBJECT,
} md_json_kind_t;

typedef struct md_json_value md_json_value_t;

struct md_json_value {
    md_json_kind_t kind;
    int boolean; /* MD_JSON_BOOL: 0 or 1 */
    /* MD_JSON_STRING: the decoded text as UTF-8, NUL-terminated (it holds
     * no other NUL). MD_JSON_NUMBER: the number exactly as written, so
     * that 64-bit integers survive without a trip through double. */
    char *text;
    size_t len;             /* bytes in text, without the NUL */
    size_t n;               /* MD_JSON_ARRAY, MD_JSON_OBJECT: elements */
    md_json_value_t *items; /* the elements, or the members' values */
    char **keys;            /* MD_JSON_OBJECT: member names, parallel to items */
};

/* Parse text[0..len-1] (no NUL terminator needed) as one JSON value,
 * surrounded by optional whitespace. A leading UTF-8 byte order mark is
 * skipped. Returns MD_OK with *out set, or MD_EINVAL (MD_ENOMEM) with a
 * sentence such as "line 3, column 7: expected ',' or '}'" in err. */
MD_WUR int md_json_parse(const char *text, size_t len, md_json_value_t **out, char *err,
                         size_t errlen);
/* Release a tree from md_json_parse; NULL is fine. */
void md_json_value_free(md_json_value_t *v);

/* The value of member key of object obj, or NULL when obj is not an
 * object or has no such member. */
const md_json_value_t *md_json_member(const md_json_value_t *obj, const char *key);
/* "null", "boolean", "number", "string", "array" or "object". */
const char *md_json_kind_name(md_json_kind_t kind);
/* A number written as a whole non-negative decimal ("0", "42"; not "4.0",
 * "1e3" or "-1") that fits in 64 bits. Returns MD_OK or MD_EINVAL. */
MD_WUR int md_json_get_u64(const md_json_value_t *v, uint64_t *out);

#endif
