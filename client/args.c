/* args.c: the pure option parser behind every mentorctl command line, and
 * the edit distance used to suggest the command or option the user probably
 * meant. Nothing here prints or allocates; errors come back as one short
 * sentence in md_args_t.err so the caller decides how to show them. */
#include "md_args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

MD_PRINTF(2, 3) static void set_err(md_args_t *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->err, sizeof(a->err), fmt, ap);
    va_end(ap);
}

static int opt_by_name(const md_args_spec_t *spec, const char *name, size_t len)
{
    for (size_t i = 0; i < spec->nopts; i++) {
        const char *n = spec->opts[i].name;
        if (strlen(n) == len && memcmp(n, name, len) == 0)
            return (int)i;
    }
    return -1;
}

static int opt_by_short(const md_args_spec_t *spec, char c)
{
    for (size_t i = 0; i < spec->nopts; i++) {
        if (spec->opts[i].short_name != 0 && spec->opts[i].short_name == c)
            return (int)i;
    }
    return -1;
}

/* A following "--word" is taken as the next option, not as a value, so that
 * "--email --name x" reports the missing email instead of mailing "--name".
 * A value that really starts with "--" can still be given as --opt=--value. */
static int looks_like_long_option(const char *s)
{
    return s[0] == '-' && s[1] == '-' && s[2] != '\0';
}

static void unknown_long(md_args_t *a, const md_args_spec_t *spec, const char *name, size_t len)
{
    char word[64];
    const char *cands[MD_ARGS_MAX_OPTS];
    size_t n = 0;
    if (len >= sizeof(word))
        len = sizeof(word) - 1;
    memcpy(word, name, len);
    word[len] = '\0';
    for (size_t i = 0; i < spec->nopts && n < MD_ARGS_MAX_OPTS; i++)
        cands[n++] = spec->opts[i].name;
    const char *best = md_closest(word, cands, n);
    if (best != NULL)
        set_err(a, "unknown option '--%s' (did you mean '--%s'?)", word, best);
    else
        set_err(a, "unknown option '--%s'", word);
}

/* After an error, a "--help" further on still wins: the user asked for help
 * and is better served by it than by a complaint about the line they are
 * trying to write. */
static int help_follows(const md_args_spec_t *spec, int argc, char *const argv[], int from)
{
    if (opt_by_name(spec, "help", 4) < 0)
        return 0;
    for (int i = from; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    }
    return 0;
}

static int fail(md_args_t *a, int argc, char *const argv[], int at)
{
    if (help_follows(a->spec, argc, argv, at + 1)) {
        a->help = 1;
        a->err[0] = '\0';
        a->next = argc;
        return MD_OK;
    }
    a->bad = at;
    return MD_EINVAL;
}

int md_args_parse(md_args_t *a, const md_args_spec_t *spec, int argc, char *const argv[],
                  unsigned flags)
{
    memset(a, 0, sizeof(*a));
    a->spec = spec;
    a->bad = -1;
    if (spec->nopts > MD_ARGS_MAX_OPTS) {
        set_err(a, "too many options in the command table");
        return MD_EINVAL;
    }
    int only_pos = 0;
    int i = 0;
    for (; i < argc; i++) {
        const char *arg = argv[i];
        int idx;
        const char *inline_value = NULL;
        if (!only_pos && strcmp(arg, "--") == 0) {
            only_pos = 1;
            if (flags & MD_ARGS_STOP_AT_POSITIONAL) {
                i++;
                break;
            }
            continue;
        }
        if (!only_pos && arg[0] == '-' && arg[1] == '-') {
            const char *name = arg + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
            idx = opt_by_name(spec, name, len);
            if (idx < 0) {
                unknown_long(a, spec, name, len);
                return fail(a, argc, argv, i);
            }
            if (eq != NULL)
                inline_value = eq + 1;
        } else if (!only_pos && arg[0] == '-' && arg[1] != '\0') {
            idx = arg[2] == '\0' ? opt_by_short(spec, arg[1]) : -1;
            if (idx < 0) {
                set_err(a, "unknown option '%s'", arg);
                return fail(a, argc, argv, i);
            }
        } else {
            if (flags & MD_ARGS_STOP_AT_POSITIONAL)
                break;
            if (a->npos >= spec->max_pos || a->npos >= MD_ARGS_MAX_POS) {
                set_err(a, "unexpected argument '%s'", arg);
                return fail(a, argc, argv, i);
            }
            a->pos[a->npos++] = arg;
            continue;
        }

        const md_opt_t *opt = &spec->opts[idx];
        if (opt->kind == MD_OPT_FLAG) {
            if (inline_value != NULL) {
                set_err(a, "option --%s takes no value", opt->name);
                return fail(a, argc, argv, i);
            }
            a->values[idx] = "";
            if (strcmp(opt->name, "help") == 0) {
                a->help = 1;
                a->next = argc;
                return MD_OK;
            }
            continue;
        }
        if (inline_value == NULL) {
            if (i + 1 >= argc || looks_like_long_option(argv[i + 1])) {
                set_err(a, "option --%s needs a value (%s)", opt->name,
                        opt->metavar != NULL ? opt->metavar : "VALUE");
                return fail(a, argc, argv, i);
            }
            inline_value = argv[++i];
        }
        if (opt->kind == MD_OPT_VALUE && a->values[idx] != NULL) {
            /* Only the last value of a single-valued option counts, so its
             * earlier entry is dropped to keep md_args_nth(.., 0) honest. */
            for (size_t k = 0; k < a->ngiven; k++) {
                if (a->given[k].opt == idx)
                    a->given[k].value = inline_value;
            }
        } else {
            if (a->ngiven >= MD_ARGS_MAX_VALUES) {
                set_err(a, "too many options (at most %d values on one command line)",
                        MD_ARGS_MAX_VALUES);
                return fail(a, argc, argv, i);
            }
            a->given[a->ngiven].opt = idx;
            a->given[a->ngiven].value = inline_value;
            a->ngiven++;
        }
        a->values[idx] = inline_value;
    }
    a->next = i;

    for (size_t k = 0; k < spec->nopts; k++) {
        const md_opt_t *opt = &spec->opts[k];
        if (opt->required && a->values[k] == NULL) {
            set_err(a, "missing required option --%s %s", opt->name,
                    opt->metavar != NULL ? opt->metavar : "VALUE");
            return MD_EINVAL;
        }
    }
    if (a->npos < spec->min_pos) {
        const char *pname = spec->pos_names != NULL ? spec->pos_names[a->npos] : NULL;
        if (pname != NULL)
            set_err(a, "missing argument %s", pname);
        else
            set_err(a, "missing argument");
        return MD_EINVAL;
    }
    return MD_OK;
}

const char *md_args_get(const md_args_t *a, const char *name)
{
    if (a->spec == NULL)
        return NULL;
    int idx = opt_by_name(a->spec, name, strlen(name));
    return idx < 0 ? NULL : a->values[idx];
}

int md_args_has(const md_args_t *a, const char *name)
{
    return md_args_get(a, name) != NULL;
}

size_t md_args_count(const md_args_t *a, const char *name)
{
    if (a->spec == NULL)
        return 0;
    int idx = opt_by_name(a->spec, name, strlen(name));
    size_t n = 0;
    for (size_t k = 0; idx >= 0 && k < a->ngiven; k++) {
        if (a->given[k].opt == idx)
            n++;
    }
    return n;
}

const char *md_args_nth(const md_args_t *a, const char *name, size_t i)
{
    if (a->spec == NULL)
        return NULL;
    int idx = opt_by_name(a->spec, name, strlen(name));
    size_t seen = 0;
    for (size_t k = 0; idx >= 0 && k < a->ngiven; k++) {
        if (a->given[k].opt != idx)
            continue;
        if (seen == i)
            return a->given[k].value;
        seen++;
    }
    return NULL;
}

#define EDIT_MAX 64

size_t md_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a);
    size_t lb = strlen(b);
    if (la > EDIT_MAX || lb > EDIT_MAX)
        return (size_t)-1;
    /* Distances never exceed EDIT_MAX, so a byte per cell is enough. */
    unsigned char d[EDIT_MAX + 1][EDIT_MAX + 1];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (unsigned char)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (unsigned char)j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            unsigned cost = a[i - 1] == b[j - 1] ? 0 : 1;
            unsigned best = d[i - 1][j] + 1u;
            if (d[i][j - 1] + 1u < best)
                best = d[i][j - 1] + 1u;
            if (d[i - 1][j - 1] + cost < best)
                best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1u < best)
                best = d[i - 2][j - 2] + 1u;
            d[i][j] = (unsigned char)best;
        }
    }
    return d[la][lb];
}

const char *md_closest(const char *word, const char *const *cands, size_t n)
{
    size_t limit = strlen(word) <= 4 ? 1 : 2;
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        size_t dist = md_edit_distance(word, cands[i]);
        if (dist < best_d) {
            best_d = dist;
            best = cands[i];
        }
    }
    /* Distance 0 means the word is valid where the caller looked, so there
     * is nothing better to suggest. */
    if (best == NULL || best_d == 0 || best_d > limit)
        return NULL;
    return best;
}

int md_parse_id(const char *s, uint64_t *out)
{
    if (s == NULL || s[0] < '0' || s[0] > '9')
        return MD_EINVAL;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return MD_EINVAL;
    }
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v == 0)
        return MD_EINVAL;
    *out = (uint64_t)v;
    return MD_OK;
}

int md_parse_user_ref(const char *s, uint64_t *id, const char **email)
{
    if (s == NULL || s[0] == '\0')
        return MD_EINVAL;
    const char *at = strchr(s, '@');
    if (at == NULL) {
        if (md_parse_id(s, id) != MD_OK)
            return MD_EINVAL;
        *email = NULL;
        return MD_OK;
    }
    if (at == s || at[1] == '\0')
        return MD_EINVAL;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p <= ' ' || *p == 0x7f)
            return MD_EINVAL;
    }
    *id = 0;
    *email = s;
    return MD_OK;
}

/* Days from 1970-01-01 to the date (proleptic Gregorian calendar). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int md_parse_date_time(const char *s, int64_t *out)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h = 0, mi = 0, se = 0;
    char tail = 0;
    size_t n = strlen(s);
    if (n == 10) {
        if (sscanf(s, "%4d-%2d-%2d%c", &y, &mo, &d, &tail) != 3)
            return MD_EINVAL;
    } else if (n == 20) {
        if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &se, &tail) != 7 ||
            tail != 'Z')
            return MD_EINVAL;
    } else {
        return MD_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (i == 4 || i == 7 || i == 10 || i == 13 || i == 16 || i == 19)
            continue;
        if (s[i] < '0' || s[i] > '9')
            return MD_EINVAL;
    }
    if (s[4] != '-' || s[7] != '-' || y < 1970 || y > 9999 || mo < 1 || mo > 12 || h > 23 ||
        mi > 59 || se > 59)
        return MD_EINVAL;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d < 1 || d > mdays[mo - 1] + (mo == 2 && leap))
        return MD_EINVAL;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    return MD_OK;
}

int md_parse_u32(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    if (s == NULL || s[0] == '\0')
        return MD_EINVAL;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return MD_EINVAL;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT32_MAX - d) / 10)
            return MD_EINVAL;
        v = v * 10 + d;
    }
    *out = v;
    return MD_OK;
}
