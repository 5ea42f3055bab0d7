/* md_log.h: one line per event on stderr: "ts=... level=info event=name
 * key=value ...". Callers format the key=value part; md_log_quote makes a
 * value safe (quoted, escaped) when it may hold spaces. Never pass secrets
 * (passwords, tokens, invite codes, check-in notes) to the logger. */
#ifndef MD_LOG_H
#define MD_LOG_H

#include <stddef.h>

#include "md_err.h"

typedef enum { MD_LOG_DEBUG, MD_LOG_INFO, MD_LOG_WARN, MD_LOG_ERROR } md_log_level_t;

void md_log_set_level(md_log_level_t level);
/* Parse "debug", "info", "warn", "error"; -1 when unknown. */
int md_log_parse_level(const char *s);
/* "debug", "info", "warn" or "error". */
const char *md_log_level_name(md_log_level_t level);
void md_log(md_log_level_t level, const char *event, const char *fmt, ...) MD_PRINTF(3, 4);
/* Quote s into buf for a key=value line (always NUL-terminated). */
const char *md_log_quote(char *buf, size_t len, const char *s);

#define md_log_debug(ev, ...) md_log(MD_LOG_DEBUG, ev, __VA_ARGS__)
#define md_log_info(ev, ...)  md_log(MD_LOG_INFO, ev, __VA_ARGS__)
#define md_log_warn(ev, ...)  md_log(MD_LOG_WARN, ev, __VA_ARGS__)
#define md_log_error(ev, ...) md_log(MD_LOG_ERROR, ev, __VA_ARGS__)

#endif
