/* err.c: lookups into the error table of md_err.h, so that code and
 * message choices live in one place. */
#include "md_err.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

struct err_entry {
    int err;
    int code;
    md_side_t side;
    int closes;
    const char *name;
    const char *msg;
};

static const struct err_entry err_table[] = {
#define XX(name, code, side, closes, msg)                                                          \
    {MD_E##name, code, MD_SIDE_##side, closes, "E" #name, msg},
    MD_ERRNO_MAP(XX)
#undef XX
};

static const struct err_entry *err_find(int err)
{
    for (size_t i = 0; i < sizeof(err_table) / sizeof(err_table[0]); i++) {
        if (err_table[i].err == err)
            return &err_table[i];
    }
    return NULL;
}

int md_err_code(int err)
{
    if (err == MD_OK)
        return 0;
    const struct err_entry *e = err_find(err);
    return e ? e->code : 13;
}

const char *md_err_name(int err)
{
    if (err == MD_OK)
        return "OK";
    const struct err_entry *e = err_find(err);
    return e ? e->name : "EUNKNOWN";
}

const char *md_err_message(int err)
{
    if (err == MD_OK)
        return "ok";
    const struct err_entry *e = err_find(err);
    return e ? e->msg : "unknown error";
}

md_side_t md_err_side(int err)
{
    const struct err_entry *e = err_find(err);
    return e ? e->side : MD_SIDE_INTERNAL;
}

int md_err_closes(int err)
{
    const struct err_entry *e = err_find(err);
    return e ? e->closes : 1;
}

const char *md_code_name(int code)
{
    switch (code) {
    case 0:
        return "OK";
    case 3:
        return "INVALID_ARGUMENT";
    case 5:
        return "NOT_FOUND";
    case 6:
        return "ALREADY_EXISTS";
    case 7:
        return "PERMISSION_DENIED";
    case 8:
        return "RESOURCE_EXHAUSTED";
    case 9:
        return "FAILED_PRECONDITION";
    case 13:
        return "INTERNAL";
    case 14:
        return "UNAVAILABLE";
    case 16:
        return "UNAUTHENTICATED";
    default:
        return "UNKNOWN";
    }
}

void md_errbuf_set(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    for (char *p = err; *p != '\0'; p++) {
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    }
    size_t n = strlen(err);
    while (n > 0 && err[n - 1] == ' ')
        err[--n] = '\0';
}
