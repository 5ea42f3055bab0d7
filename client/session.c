/* session.c: mentorctl's config file, session file and known_servers file.
 * The session file is replaced atomically so an interrupted login never
 * leaves half a token behind, and it is created 0600 inside a 0700 directory
 * because whoever reads it can act as the user until the session expires.
 * known_servers only grows: a changed fingerprint is a question for the
 * human, never something this code rewrites on its own. */
#include "md_session.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* snprintf that reports truncation, because a cut path names another
 * file. */
MD_PRINTF(3, 4) static int path_fmt(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < len ? MD_OK : MD_EINVAL;
}

static const char *xdg_dir(const char *var)
{
    const char *v = getenv(var);
    /* The specification says relative values are invalid and to be
     * ignored. */
    if (v == NULL || v[0] != '/')
        return NULL;
    return v;
}

int md_paths_init(md_paths_t *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof(*p));
    const char *home = getenv("HOME");
    if (home == NULL || home[0] == '\0') {
        struct passwd *pw = getpwuid(getuid());
        home = pw != NULL ? pw->pw_dir : NULL;
    }
    if (home == NULL || home[0] == '\0') {
        md_errbuf_set(err, errlen, "cannot find the home directory (set HOME)");
        return MD_EINVAL;
    }
    int rc = path_fmt(p->home, sizeof(p->home), "%s", home);
    const char *cfg = xdg_dir("XDG_CONFIG_HOME");
    const char *state = xdg_dir("XDG_STATE_HOME");
    if (rc == MD_OK) {
        if (cfg != NULL)
            rc = path_fmt(p->config_dir, sizeof(p->config_dir), "%s/mentorctl", cfg);
        else
            rc = path_fmt(p->config_dir, sizeof(p->config_dir), "%s/.config/mentorctl", home);
    }
    if (rc == MD_OK)
        rc = path_fmt(p->config_file, sizeof(p->config_file), "%s/config", p->config_dir);
    if (rc == MD_OK) {
        if (state != NULL)
            rc = path_fmt(p->state_dir, sizeof(p->state_dir), "%s/mentorctl", state);
        else
            rc = path_fmt(p->state_dir, sizeof(p->state_dir), "%s/.local/state/mentorctl", home);
    }
    if (rc == MD_OK)
        rc = path_fmt(p->session_file, sizeof(p->session_file), "%s/session", p->state_dir);
    if (rc == MD_OK)
        rc = path_fmt(p->known_servers, sizeof(p->known_servers), "%s/known_servers", p->state_dir);
    if (rc != MD_OK)
        md_errbuf_set(err, errlen, "the configuration or state path is too long");
    return rc;
}

int md_state_dir_create(const md_paths_t *p, char *err, size_t errlen)
{
    char path[MD_PATH_LEN];
    if (path_fmt(path, sizeof(path), "%s", p->state_dir) != MD_OK)
        return MD_EINVAL;
    /* Walk the path and create each missing component; the parents made
     * here (such as ~/.local/state) get 0700 too, as XDG asks. */
    for (char *s = path + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char saved = *s;
        *s = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            md_errbuf_set(err, errlen, "cannot create %s: %s", path, strerror(errno));
            return MD_EIO;
        }
        *s = saved;
        if (saved == '\0')
            break;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        md_errbuf_set(err, errlen, "%s is not a directory", path);
        return MD_EIO;
    }
    return MD_OK;
}

static const char *skip_space(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* Copy s[0..n) without surrounding blanks into out; MD_EINVAL when it does
 * not fit. */
static int copy_trimmed(const char *s, size_t n, char *out, size_t outlen)
{
    while (n > 0 && isspace((unsigned char)s[0])) {
        s++;
        n--;
    }
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    if (n >= outlen)
        return MD_EINVAL;
    memcpy(out, s, n);
    out[n] = '\0';
    return MD_OK;
}

int md_config_parse_line(const char *line, char *key, size_t keylen, char *val, size_t vallen)
{
    const char *s = skip_space(line);
    if (*s == '\0' || *s == '#' || *s == '\n' || *s == '\r')
        return 0;
    const char *eq = strchr(s, '=');
    if (eq == NULL)
        return MD_EINVAL;
    if (copy_trimmed(s, (size_t)(eq - s), key, keylen) != MD_OK || key[0] == '\0')
        return MD_EINVAL;
    if (copy_trimmed(eq + 1, strlen(eq + 1), val, vallen) != MD_OK)
        return MD_EINVAL;
    return 1;
}

/* A config path is taken relative to the config directory, with "~/"
 * meaning the home directory, so the file means the same thing whatever
 * directory mentorctl runs in. */
static int resolve_config_path(const md_paths_t *p, const char *v, char *out, size_t outlen)
{
    if (v[0] == '/')
        return path_fmt(out, outlen, "%s", v);
    if (v[0] == '~' && v[1] == '/')
        return path_fmt(out, outlen, "%s/%s", p->home, v + 2);
    return path_fmt(out, outlen, "%s/%s", p->config_dir, v);
}

int md_config_load(const md_paths_t *p, md_config_t *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof(*c));
    FILE *f = fopen(p->config_file, "r");
    if (f == NULL) {
        if (errno == ENOENT || errno == ENOTDIR)
            return MD_OK;
        md_errbuf_set(err, errlen, "cannot read %s: %s", p->config_file, strerror(errno));
        return MD_EIO;
    }
    char *line = NULL;
    size_t cap = 0;
    unsigned lineno = 0;
    while (getline(&line, &cap, f) >= 0) {
        char key[64];
        char val[MD_PATH_LEN];
        lineno++;
        int r = md_config_parse_line(line, key, sizeof(key), val, sizeof(val));
        if (r == 0)
            continue;
        if (r < 0) {
            fprintf(stderr, "mentorctl: %s:%u: expected 'key = value', line ignored\n",
                    p->config_file, lineno);
            continue;
        }
        if (strcmp(key, "server") == 0) {
            if (path_fmt(c->server, sizeof(c->server), "%s", val) != MD_OK)
                fprintf(stderr, "mentorctl: %s:%u: server is too long, ignored\n", p->config_file,
                        lineno);
        } else if (strcmp(key, "ca") == 0) {
            if (val[0] == '\0')
                c->ca[0] = '\0';
            else if (resolve_config_path(p, val, c->ca, sizeof(c->ca)) != MD_OK)
                fprintf(stderr, "mentorctl: %s:%u: ca path is too long, ignored\n", p->config_file,
                        lineno);
        } else {
            fprintf(stderr, "mentorctl: %s:%u: unknown key '%s' ignored (known: server, ca)\n",
                    p->config_file, lineno, key);
        }
    }
    int rc = ferror(f) ? MD_EIO : MD_OK;
    if (rc != MD_OK)
        md_errbuf_set(err, errlen, "cannot read %s", p->config_file);
    free(line);
    fclose(f);
    return rc;
}

void md_session_clear(md_session_t *s)
{
    explicit_bzero(s, sizeof(*s));
}

int md_session_load(const md_paths_t *p, md_session_t *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    FILE *f = fopen(p->session_file, "r");
    if (f == NULL) {
        if (errno == ENOENT || errno == ENOTDIR)
            return MD_ENOTFOUND;
        md_errbuf_set(err, errlen, "cannot read %s: %s", p->session_file, strerror(errno));
        return MD_EIO;
    }
    int rc = MD_OK;
    char *line = NULL;
    size_t cap = 0;
    while (rc == MD_OK) {
        ssize_t n = getline(&line, &cap, f);
        if (n < 0)
            break;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (strncmp(line, "server=", 7) == 0) {
            if (path_fmt(s->server, sizeof(s->server), "%s", line + 7) != MD_OK)
                rc = MD_EIO;
        } else if (strncmp(line, "token=", 6) == 0) {
            if (path_fmt(s->token, sizeof(s->token), "%s", line + 6) != MD_OK)
                rc = MD_EIO;
        }
    }
    if (rc == MD_OK && ferror(f))
        rc = MD_EIO;
    if (line != NULL)
        explicit_bzero(line, cap);
    free(line);
    fclose(f);
    if (rc != MD_OK) {
        md_session_clear(s);
        md_errbuf_set(err, errlen, "%s is damaged; run 'mentorctl login' again", p->session_file);
        return rc;
    }
    if (s->token[0] == '\0') {
        md_session_clear(s);
        return MD_ENOTFOUND;
    }
    return MD_OK;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return MD_EIO;
        }
        p += w;
        n -= (size_t)w;
    }
    return MD_OK;
}

int md_session_save(const md_paths_t *p, const md_session_t *s, char *err, size_t errlen)
{
    char tmp[MD_PATH_LEN];
    char body[MD_SERVER_LEN + MD_TOKEN_LEN + 32];
    int rc = md_state_dir_create(p, err, errlen);
    if (rc != MD_OK)
        return rc;
    if (path_fmt(tmp, sizeof(tmp), "%s.tmp.%ld", p->session_file, (long)getpid()) != MD_OK ||
        path_fmt(body, sizeof(body), "server=%s\ntoken=%s\n", s->server, s->token) != MD_OK) {
        md_errbuf_set(err, errlen, "session path or token too long");
        return MD_EINVAL;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        md_errbuf_set(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        rc = MD_EIO;
        goto cleanup;
    }
    /* A stale temporary file from a crashed run may carry other bits. */
    if (fchmod(fd, 0600) != 0 || write_all(fd, body, strlen(body)) != MD_OK || fsync(fd) != 0) {
        md_errbuf_set(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        rc = MD_EIO;
    }
    if (close(fd) != 0 && rc == MD_OK) {
        md_errbuf_set(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        rc = MD_EIO;
    }
    if (rc == MD_OK && rename(tmp, p->session_file) != 0) {
        md_errbuf_set(err, errlen, "cannot write %s: %s", p->session_file, strerror(errno));
        rc = MD_EIO;
    }
    if (rc != MD_OK)
        unlink(tmp);
cleanup:
    explicit_bzero(body, sizeof(body));
    return rc;
}

int md_session_delete(const md_paths_t *p, char *err, size_t errlen)
{
    if (unlink(p->session_file) != 0 && errno != ENOENT) {
        md_errbuf_set(err, errlen, "cannot remove %s: %s", p->session_file, strerror(errno));
        return MD_EIO;
    }
    return MD_OK;
}

static int is_hex64(const char *s, size_t n)
{
    if (n != 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!isxdigit((unsigned char)s[i]))
            return 0;
    }
    return 1;
}

int md_known_lookup(const md_paths_t *p, const char *server, char hex[MD_FP_LEN], char *err,
                    size_t errlen)
{
    FILE *f = fopen(p->known_servers, "r");
    if (f == NULL) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        md_errbuf_set(err, errlen, "cannot read %s: %s", p->known_servers, strerror(errno));
        return MD_EIO;
    }
    int found = 0;
    char *line = NULL;
    size_t cap = 0;
    size_t slen = strlen(server);
    while (!found && getline(&line, &cap, f) >= 0) {
        const char *s = skip_space(line);
        if (*s == '#' || strncmp(s, server, slen) != 0 || (s[slen] != ' ' && s[slen] != '\t'))
            continue;
        const char *fp = skip_space(s + slen);
        /* Accept the "SHA256:" form that mentorctl prints, in case a user
         * pasted it in by hand. */
        if (strncasecmp(fp, "sha256:", 7) == 0)
            fp += 7;
        size_t n = strcspn(fp, " \t\r\n");
        if (!is_hex64(fp, n))
            continue;
        for (size_t i = 0; i < n; i++)
            hex[i] = (char)tolower((unsigned char)fp[i]);
        hex[n] = '\0';
        found = 1;
    }
    int rc = found;
    if (!found && ferror(f)) {
        md_errbuf_set(err, errlen, "cannot read %s", p->known_servers);
        rc = MD_EIO;
    }
    free(line);
    fclose(f);
    return rc;
}

int md_known_add(const md_paths_t *p, const char *server, const char *hex, char *err, size_t errlen)
{
    char line[MD_SERVER_LEN + MD_FP_LEN + 4];
    int rc = md_state_dir_create(p, err, errlen);
    if (rc != MD_OK)
        return rc;
    if (path_fmt(line, sizeof(line), "%s %s\n", server, hex) != MD_OK)
        return MD_EINVAL;
    /* O_APPEND writes one whole line at a time, so two mentorctl runs
     * pinning at once cannot interleave their entries. */
    int fd = open(p->known_servers, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        md_errbuf_set(err, errlen, "cannot write %s: %s", p->known_servers, strerror(errno));
        return MD_EIO;
    }
    rc = write_all(fd, line, strlen(line));
    if (close(fd) != 0)
        rc = MD_EIO;
    if (rc != MD_OK)
        md_errbuf_set(err, errlen, "cannot write %s: %s", p->known_servers, strerror(errno));
    return rc;
}
