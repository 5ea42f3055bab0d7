/* md_session.h: the files mentorctl keeps between runs. The config file
 * ($XDG_CONFIG_HOME/mentorctl/config) holds defaults the user writes by hand;
 * the state directory ($XDG_STATE_HOME/mentorctl, mode 0700) holds what the
 * program writes itself: the session token of the last login (file
 * "session", mode 0600) and the certificate fingerprints of servers trusted
 * on first use (file "known_servers"). Tokens are secrets: buffers that held
 * one are wiped before they are released. */
#ifndef MD_SESSION_H
#define MD_SESSION_H

#include <stddef.h>

#include "md_err.h"

#define MD_PATH_LEN   4096
#define MD_SERVER_LEN 320
#define MD_TOKEN_LEN  512
#define MD_FP_LEN     65 /* 64 hex digits of SHA-256 and a NUL */

typedef struct {
    char home[MD_PATH_LEN];
    char config_dir[MD_PATH_LEN];
    char config_file[MD_PATH_LEN];
    char state_dir[MD_PATH_LEN];
    char session_file[MD_PATH_LEN];
    char known_servers[MD_PATH_LEN];
} md_paths_t;

/* Work the paths out from XDG_CONFIG_HOME, XDG_STATE_HOME and HOME (or the
 * password database when HOME is unset). Relative XDG values are ignored,
 * as the XDG base directory specification asks. Creates nothing. */
MD_WUR int md_paths_init(md_paths_t *p, char *err, size_t errlen);

/* Create the state directory (and missing parents) with mode 0700. */
MD_WUR int md_state_dir_create(const md_paths_t *p, char *err, size_t errlen);

typedef struct {
    char server[MD_SERVER_LEN]; /* empty when the file does not set it */
    char ca[MD_PATH_LEN];       /* resolved against the config directory */
} md_config_t;

/* Split one config line. Returns 1 with key and value set (both trimmed;
 * the value may be empty), 0 for a blank or '#' comment line, MD_EINVAL for
 * a line without '=' or with an empty key, or one too long for the
 * buffers. */
MD_WUR int md_config_parse_line(const char *line, char *key, size_t keylen, char *val,
                                size_t vallen);

/* Read the config file. A missing file is an empty config. Malformed lines
 * and unknown keys are reported on stderr and skipped, so that one typo
 * does not lock the user out of every command. */
MD_WUR int md_config_load(const md_paths_t *p, md_config_t *c, char *err, size_t errlen);

typedef struct {
    char server[MD_SERVER_LEN]; /* canonical HOST:PORT the token belongs to */
    char token[MD_TOKEN_LEN];
} md_session_t;

/* Read the session file: MD_OK, MD_ENOTFOUND when there is none (or it
 * lacks a token), MD_EIO when it cannot be read or is damaged. */
MD_WUR int md_session_load(const md_paths_t *p, md_session_t *s, char *err, size_t errlen);
/* Write the session file atomically (temporary file, then rename) with
 * mode 0600, creating the state directory as needed. */
MD_WUR int md_session_save(const md_paths_t *p, const md_session_t *s, char *err, size_t errlen);
/* Remove the session file; a missing file is success. */
MD_WUR int md_session_delete(const md_paths_t *p, char *err, size_t errlen);
/* Wipe the token from memory. */
void md_session_clear(md_session_t *s);

/* Find the pinned fingerprint of server in known_servers. Returns 1 and
 * fills hex when pinned, 0 when not, MD_EIO when the file cannot be read. */
MD_WUR int md_known_lookup(const md_paths_t *p, const char *server, char hex[MD_FP_LEN], char *err,
                           size_t errlen);
/* Append "server hex" to known_servers (mode 0600). */
MD_WUR int md_known_add(const md_paths_t *p, const char *server, const char *hex, char *err,
                        size_t errlen);

#endif
