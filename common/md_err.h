/* md_err.h: the one error table of mentord. Every failure inside the server
 * and the client is one of these codes; the table says which wire status it
 * becomes, which side is to blame, and whether the connection must close.
 * 0 is success; errors are negative so they can share a return value with
 * counts. */
#ifndef MD_ERR_H
#define MD_ERR_H

/* XX(name, wire status code, side, closes connection, default message) */
#define MD_ERRNO_MAP(XX)                                                                           \
    XX(INVAL, 3, CLIENT, 0, "invalid argument")                                                    \
    XX(NOTFOUND, 5, CLIENT, 0, "not found")                                                        \
    XX(EXISTS, 6, CLIENT, 0, "already exists")                                                     \
    XX(PERM, 7, CLIENT, 0, "permission denied")                                                    \
    XX(THROTTLED, 8, CLIENT, 0, "too many attempts, try again later")                              \
    XX(STATE, 9, CLIENT, 0, "not possible in the current state")                                   \
    XX(AUTH, 16, CLIENT, 0, "not authenticated")                                                   \
    XX(UNKNOWNKIND, 3, CLIENT, 0, "unknown request kind")                                          \
    XX(FRAMETOOBIG, 8, CLIENT, 1, "frame too large")                                               \
    XX(DECODE, 3, CLIENT, 1, "frame does not decode as a Request")                                 \
    XX(VERSION, 9, CLIENT, 1, "unsupported protocol version")                                      \
    XX(BUSY, 8, CLIENT, 0, "too many requests in flight")                                          \
    XX(DBDOWN, 14, DATABASE, 0, "database unavailable")                                            \
    XX(DBTIMEOUT, 14, DATABASE, 0, "database did not answer in time")                              \
    XX(DB, 13, DATABASE, 0, "database error")                                                      \
    XX(SHUTDOWN, 14, INTERNAL, 1, "server is shutting down")                                       \
    XX(NOMEM, 13, INTERNAL, 1, "out of memory")                                                    \
    XX(IO, 14, INTERNAL, 1, "i/o error")                                                           \
    XX(TLS, 14, INTERNAL, 1, "tls error")                                                          \
    XX(INTERNAL, 13, INTERNAL, 0, "internal error")

typedef enum {
    MD_OK = 0,
#define XX(name, code, side, closes, msg) MD_E##name,
    MD_ERR_FIRST_ = -1000,
    MD_ERRNO_MAP(XX)
#undef XX
} md_err_t;

/* Side of a failure: decides logging level and who is told what. */
typedef enum { MD_SIDE_CLIENT, MD_SIDE_DATABASE, MD_SIDE_INTERNAL } md_side_t;

/* Wire status code (mentor.v1.Code) for an error; 0 for MD_OK. */
int md_err_code(int err);
/* Name of the wire status code, e.g. "INVALID_ARGUMENT". */
const char *md_code_name(int code);
/* Short name of the error, e.g. "EINVAL". */
const char *md_err_name(int err);
/* Default human message. */
const char *md_err_message(int err);
md_side_t md_err_side(int err);
/* Non-zero when the connection must be closed after reporting the error. */
int md_err_closes(int err);

#include <stddef.h>

#if defined(__GNUC__)
#define MD_WUR          __attribute__((warn_unused_result))
#define MD_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define MD_WUR
#define MD_PRINTF(a, b)
#endif

/* Format an error message into a caller's buffer (NULL or 0 is allowed),
 * flattened to one line so it fits a key=value log line. */
void md_errbuf_set(char *err, size_t errlen, const char *fmt, ...) MD_PRINTF(3, 4);

#endif
