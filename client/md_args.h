/* md_args.h: the option parser of mentorctl. It is pure (no I/O, no
 * allocation): it reads an argv slice against a table of long options and
 * reports values, flags and positionals, or one error message that names the
 * problem. Keeping it free of side effects lets the unit tests cover every
 * corner of the command line without running the program. The edit-distance
 * helpers that suggest "did you mean ...?" live here for the same reason. */
#ifndef MD_ARGS_H
#define MD_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include "md_err.h"

#define MD_ARGS_MAX_OPTS 32
#define MD_ARGS_MAX_POS  8
#define MD_ARGS_ERR_LEN  192
/* Every value given on one command line, repeated options included. Far
 * more than a person types; a longer list belongs in a file. */
#define MD_ARGS_MAX_VALUES 512

/* MD_OPT_VALUE keeps the value given last; MD_OPT_LIST may be repeated and
 * keeps every value in the order given (see md_args_count, md_args_nth). */
typedef enum { MD_OPT_FLAG = 0, MD_OPT_VALUE = 1, MD_OPT_LIST = 2 } md_opt_kind_t;

/* One accepted option. An option named "help" is special: when it appears,
 * parsing succeeds at once and required checks are skipped, so that
 * "--help" works even on an otherwise incomplete command line. */
typedef struct {
    const char *name;    /* long name without the dashes, e.g. "email" */
    char short_name;     /* single-letter alias such as 'h', or 0 */
    md_opt_kind_t kind;  /* a flag, or an option that takes a value */
    int required;        /* non-zero: parsing fails when it is absent */
    const char *metavar; /* placeholder for the value in help, e.g. "EMAIL" */
    const char *help;    /* one line for the help text */
} md_opt_t;

/* What a command accepts: its options and how many positionals. */
typedef struct {
    const md_opt_t *opts;
    size_t nopts;
    size_t min_pos;
    size_t max_pos;
    /* Names of the positionals, for "missing argument ID" messages; may be
     * NULL or shorter than max_pos. */
    const char *const *pos_names;
} md_args_spec_t;

/* Parsing stops at the first positional instead of collecting it, leaving
 * the rest of argv to a command; used for the global options. */
#define MD_ARGS_STOP_AT_POSITIONAL 1u

/* The result of a parse. The strings point into argv, which must outlive
 * it. */
typedef struct {
    const md_args_spec_t *spec;
    /* Per option in spec order: the value given last, or "" for a flag
     * that is set; NULL when absent. */
    const char *values[MD_ARGS_MAX_OPTS];
    /* Every value-taking option given, in command-line order: the index
     * of the option in spec and its value. */
    struct {
        int opt;
        const char *value;
    } given[MD_ARGS_MAX_VALUES];
    size_t ngiven;
    const char *pos[MD_ARGS_MAX_POS];
    size_t npos;
    int help; /* "--help" or "-h" was given */
    int next; /* index of the first argv element not consumed */
    int bad;  /* index of the element an error is about, or -1 */
    char err[MD_ARGS_ERR_LEN];
} md_args_t;

/* Parse argv[0..argc-1] (argv[0] is an argument, not the program name).
 * Long options take "--name value" or "--name=value"; flags refuse a value;
 * "--" ends the options. Returns MD_OK, or MD_EINVAL with a message in
 * a->err such as "unknown option '--emial' (did you mean '--email'?)". */
MD_WUR int md_args_parse(md_args_t *a, const md_args_spec_t *spec, int argc, char *const argv[],
                         unsigned flags);

/* The value of option name, or NULL when it was not given. */
const char *md_args_get(const md_args_t *a, const char *name);
/* Non-zero when option name (usually a flag) was given. */
int md_args_has(const md_args_t *a, const char *name);
/* How many times option name was given with a value: any number for an
 * MD_OPT_LIST option, at most 1 for others (repeats of an MD_OPT_VALUE
 * option count once, as only the last one is kept). */
size_t md_args_count(const md_args_t *a, const char *name);
/* The i-th value (from 0, in command-line order) of option name, or NULL
 * when there are not that many. */
const char *md_args_nth(const md_args_t *a, const char *name, size_t i);

/* Edit distance with adjacent transpositions (optimal string alignment),
 * so "whaomi" is one step from "whoami". Strings longer than 64 bytes are
 * reported as far from everything. */
size_t md_edit_distance(const char *a, const char *b);

/* The candidate closest to word, or NULL when none is close enough for a
 * suggestion to help (at most 1 edit for words up to 4 bytes, 2 beyond).
 * A tie keeps the first candidate. */
const char *md_closest(const char *word, const char *const *cands, size_t n);

/* Parse a positive decimal identifier in full ("12"; not "12x", "-1", "0"
 * or beyond 2^64-1). Returns MD_OK or MD_EINVAL. */
MD_WUR int md_parse_id(const char *s, uint64_t *out);

/* Parse a user as the command line names one: a positive decimal id
 * ("12"), or an e-mail address (text with an '@' that is neither its first
 * nor its last character, and no space or control character). Sets *id
 * (and *email to NULL) or *email (pointing into s, and *id to 0). Returns
 * MD_OK or MD_EINVAL. */
MD_WUR int md_parse_user_ref(const char *s, uint64_t *id, const char **email);

/* Parse a point in time, UTC: "YYYY-MM-DD" (its midnight) or
 * "YYYY-MM-DDTHH:MM:SSZ", into Unix seconds. Dates must exist. Returns
 * MD_OK or MD_EINVAL. */
MD_WUR int md_parse_date_time(const char *s, int64_t *out);

/* Parse a decimal number in full that fits in 32 bits, zero included
 * ("0", "14"; not "", "-1", "1.5" or "4294967296"). Ranges are left to the
 * server, which owns the rules. Returns MD_OK or MD_EINVAL. */
MD_WUR int md_parse_u32(const char *s, uint32_t *out);

#endif
