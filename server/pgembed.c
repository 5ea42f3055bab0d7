/* pgembed.c: mentord's private PostgreSQL. Finds the server binaries, runs
 * initdb on first use, runs `postgres` as a child process of the event loop
 * with a Unix socket in the data directory as its only listener, and stops it
 * on shutdown. Everything here blocks the calling thread and runs before the
 * loop serves (or after it stopped); the only code that runs from the loop
 * proper is the child's exit callback, which tells mentord when its database
 * died under it. The postgres child is started in its own session so that a
 * Ctrl-C aimed at mentord does not also reach postgres: mentord decides when
 * the database stops. */
#include "md_pgembed.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "md_log.h"

/* With listen_addresses empty the port only names the socket file
 * (.s.PGSQL.5432); it is fixed so that PGPORT in the environment cannot make
 * the server and mentord's libpq disagree. */
#define PG_PORT          "5432"
#define PG_SOCKET_NAME   "/.s.PGSQL." PG_PORT
#define START_TIMEOUT_MS 60000
#define STOP_TIMEOUT_MS  30000
#define PING_INTERVAL_MS 50
#define TAIL_BYTES       600

/* Joins dir and name into out; -1 when the result would not fit. */
static int path_join(char *out, size_t len, const char *dir, const char *name)
{
    int n = snprintf(out, len, "%s/%s", dir, name);
    return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

static int is_executable(const char *dir, const char *name)
{
    char path[PATH_MAX];
    if (path_join(path, sizeof(path), dir, name) != 0)
        return 0;
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* The binaries mentord runs (initdb, postgres) and the one it names in
 * messages for manual recovery (pg_ctl) must all be there. */
static const char *missing_binary(const char *dir)
{
    static const char *const names[] = {"initdb", "postgres", "pg_ctl"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!is_executable(dir, names[i]))
            return names[i];
    }
    return NULL;
}

/* Output of `pg_config --bindir`, or -1 when pg_config is absent or fails. */
static int pg_config_bindir(char *out, size_t len)
{
    FILE *p = popen("pg_config --bindir 2>/dev/null", "r");
    if (p == NULL)
        return -1;
    int ok = fgets(out, (int)len, p) != NULL;
    int status = pclose(p);
    if (!ok || status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    out[strcspn(out, "\r\n")] = '\0';
    return out[0] == '/' ? 0 : -1;
}

/* Parses a directory name made only of digits (a Debian major version). */
static long major_version(const char *name)
{
    if (name[0] < '1' || name[0] > '9' || strlen(name) > 6)
        return -1;
    long v = 0;
    for (const char *p = name; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v;
}

/* The newest /usr/lib/postgresql/<N>/bin holding all the binaries. */
static int newest_debian_bindir(char *out, size_t len)
{
    const char *root = "/usr/lib/postgresql";
    DIR *d = opendir(root);
    if (d == NULL)
        return -1;
    long best = -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        long v = major_version(e->d_name);
        if (v <= best)
            continue;
        char bin[PATH_MAX];
        int n = snprintf(bin, sizeof(bin), "%s/%s/bin", root, e->d_name);
        if (n < 0 || (size_t)n >= sizeof(bin) || missing_binary(bin) != NULL)
            continue;
        if ((size_t)n >= len)
            continue;
        memcpy(out, bin, (size_t)n + 1);
        best = v;
    }
    closedir(d);
    return best < 0 ? -1 : 0;
}

static int find_bindir(md_pgembed_t *pg, const char *bindir, char *err, size_t errlen)
{
    if (bindir != NULL && bindir[0] != '\0') {
        /* An explicit choice is never second-guessed. */
        const char *missing = missing_binary(bindir);
        if (missing != NULL) {
            md_errbuf_set(err, errlen, "PostgreSQL binary %s not found or not executable in %s",
                          missing, bindir);
            return MD_EINVAL;
        }
        snprintf(pg->bindir, sizeof(pg->bindir), "%s", bindir);
        return MD_OK;
    }
    char found[PATH_MAX];
    if (pg_config_bindir(found, sizeof(found)) == 0 && missing_binary(found) == NULL) {
        snprintf(pg->bindir, sizeof(pg->bindir), "%s", found);
        return MD_OK;
    }
    if (newest_debian_bindir(found, sizeof(found)) == 0) {
        snprintf(pg->bindir, sizeof(pg->bindir), "%s", found);
        return MD_OK;
    }
    md_errbuf_set(err, errlen,
                  "PostgreSQL server binaries (initdb, postgres, pg_ctl) not found via pg_config "
                  "--bindir or in /usr/lib/postgresql/<version>/bin; install the PostgreSQL server "
                  "or name its bin directory explicitly");
    return MD_ENOTFOUND;
}

/* Creates dir with mode unless it exists as a directory. */
static int ensure_dir(const char *path, mode_t mode, char *err, size_t errlen)
{
    if (mkdir(path, mode) == 0)
        return MD_OK;
    int e = errno;
    struct stat st;
    if (e == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return MD_OK;
    md_errbuf_set(err, errlen, "cannot create directory %s: %s", path,
                  e == EEXIST ? "exists and is not a directory" : strerror(e));
    return MD_EIO;
}

static int give_to_run_user(const md_pgembed_t *pg, const char *path, char *err, size_t errlen)
{
    if (!pg->drop_privileges)
        return MD_OK;
    if (chown(path, pg->run_uid, pg->run_gid) != 0) {
        md_errbuf_set(err, errlen, "cannot give %s to the postgres user: %s", path,
                      strerror(errno));
        return MD_EIO;
    }
    return MD_OK;
}

/* Copies the last lines of a log file written since offset `from` into out,
 * lines joined with " | ", so a failure message shows what the child said. */
static void file_tail(const char *path, off_t from, char *out, size_t outlen)
{
    if (outlen == 0)
        return;
    out[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size <= from) {
        close(fd);
        return;
    }
    off_t start = st.st_size - TAIL_BYTES > from ? st.st_size - TAIL_BYTES : from;
    char buf[TAIL_BYTES + 1];
    ssize_t n = pread(fd, buf, (size_t)(st.st_size - start), start);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    const char *p = buf;
    if (start > from) {
        /* Cut in the middle of a line: begin at the next whole line. */
        const char *nl = strchr(buf, '\n');
        if (nl != NULL && nl[1] != '\0')
            p = nl + 1;
    }
    size_t o = 0;
    for (; *p != '\0' && o + 4 < outlen; p++) {
        if (*p == '\n') {
            /* Blank lines and the final newline add nothing. */
            if (o == 0 || p[1] == '\n' || p[1] == '\0')
                continue;
            memcpy(out + o, " | ", 3);
            o += 3;
        } else if ((unsigned char)*p >= 0x20 || *p == '\t') {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

/* Writes name=value for a libpq connection string, quoting the value when it
 * holds characters libpq would otherwise split on. */
static int conninfo_append(char *out, size_t len, const char *name, const char *value)
{
    size_t o = strlen(out);
    int need_quote = value[0] == '\0' || strpbrk(value, " \t\n\r'\\=") != NULL;
    int n = snprintf(out + o, len - o, "%s%s=%s", o > 0 ? " " : "", name, need_quote ? "'" : "");
    if (n < 0 || (size_t)n >= len - o)
        return -1;
    o += (size_t)n;
    for (const char *p = value; *p != '\0'; p++) {
        if (need_quote && (*p == '\'' || *p == '\\')) {
            if (o + 1 >= len)
                return -1;
            out[o++] = '\\';
        }
        if (o + 1 >= len)
            return -1;
        out[o++] = *p;
    }
    if (need_quote) {
        if (o + 1 >= len)
            return -1;
        out[o++] = '\'';
    }
    out[o] = '\0';
    return 0;
}

static int build_conninfo(const md_pgembed_t *pg, char *out, size_t len, const char *dbname,
                          const char *user)
{
    out[0] = '\0';
    if (conninfo_append(out, len, "host", pg->run_dir) != 0 ||
        conninfo_append(out, len, "port", PG_PORT) != 0 ||
        conninfo_append(out, len, "dbname", dbname) != 0 ||
        conninfo_append(out, len, "user", user) != 0)
        return -1;
    return 0;
}

/* Switches the calling (forked) process to the cluster's user. Only
 * async-signal-safe calls. Supplementary groups are dropped, as libuv does
 * for the postgres child, so a probe sees what postgres will see. */
static int child_drop_privileges(const md_pgembed_t *pg)
{
    if (!pg->drop_privileges)
        return 0;
    if (setgroups(0, NULL) != 0 || setgid(pg->run_gid) != 0 || setuid(pg->run_uid) != 0)
        return -1;
    return 0;
}

/* When running as root, checks in a child switched to the postgres user that
 * it can enter the cluster and socket directories: a data directory under an
 * unreadable parent (such as /root) fails here with a clear message instead
 * of deep inside initdb or postgres. */
static int probe_run_user_access(const md_pgembed_t *pg, char *err, size_t errlen)
{
    if (!pg->drop_privileges)
        return MD_OK;
    pid_t pid = fork();
    if (pid < 0) {
        md_errbuf_set(err, errlen, "cannot fork: %s", strerror(errno));
        return MD_EIO;
    }
    if (pid == 0) {
        if (child_drop_privileges(pg) != 0)
            _exit(255);
        if (access(pg->pgdata, R_OK | W_OK | X_OK) != 0 ||
            access(pg->run_dir, R_OK | W_OK | X_OK) != 0)
            _exit(errno > 0 && errno < 255 ? errno : 254);
        _exit(0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            md_errbuf_set(err, errlen, "waiting for a child: %s", strerror(errno));
            return MD_EIO;
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return MD_OK;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 255;
    if (code == 255) {
        md_errbuf_set(err, errlen, "cannot switch to the postgres user (uid %d)", (int)pg->run_uid);
        return MD_EPERM;
    }
    md_errbuf_set(err, errlen,
                  "the postgres user cannot use %s (%s); PostgreSQL runs as that user, so every "
                  "directory above the data directory must be searchable by it (choose a data "
                  "directory outside private places such as /root)",
                  pg->pgdata, strerror(code));
    return MD_EPERM;
}

/* Runs initdb as the cluster's user, output to DATA_DIR/pg-initdb.log. */
static int run_initdb(md_pgembed_t *pg, char *err, size_t errlen)
{
    char initdb[PATH_MAX], log_path[PATH_MAX];
    if (path_join(initdb, sizeof(initdb), pg->bindir, "initdb") != 0 ||
        path_join(log_path, sizeof(log_path), pg->data_dir, "pg-initdb.log") != 0) {
        md_errbuf_set(err, errlen, "path too long under %s", pg->data_dir);
        return MD_EINVAL;
    }
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        md_errbuf_set(err, errlen, "cannot open %s: %s", log_path, strerror(errno));
        return MD_EIO;
    }
    if (pg->drop_privileges && fchown(fd, pg->run_uid, pg->run_gid) != 0) {
        md_errbuf_set(err, errlen, "cannot give %s to the postgres user: %s", log_path,
                      strerror(errno));
        close(fd);
        return MD_EIO;
    }
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull < 0) {
        md_errbuf_set(err, errlen, "cannot open /dev/null: %s", strerror(errno));
        close(fd);
        return MD_EIO;
    }
    char pgdata_arg[PATH_MAX];
    snprintf(pgdata_arg, sizeof(pgdata_arg), "%s", pg->pgdata);
    char *argv[] = {
        initdb,       "-D", pgdata_arg, "-U", "mentord_owner", "--auth=trust", "--encoding=UTF8",
        "--locale=C", NULL,
    };
    md_log_info("pg_initdb", "pgdata=%s bindir=%s", pg->pgdata, pg->bindir);

    pid_t pid = fork();
    if (pid < 0) {
        md_errbuf_set(err, errlen, "cannot fork for initdb: %s", strerror(errno));
        close(devnull);
        close(fd);
        return MD_EIO;
    }
    if (pid == 0) {
        /* Child: only async-signal-safe calls until exec. */
        static const char drop_failed[] = "mentord: cannot switch to the postgres user\n";
        if (dup2(devnull, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0 ||
            dup2(fd, STDERR_FILENO) < 0)
            _exit(126);
        if (child_drop_privileges(pg) != 0) {
            ssize_t w = write(STDERR_FILENO, drop_failed, sizeof(drop_failed) - 1);
            (void)w;
            _exit(126);
        }
        if (chdir(pg->data_dir) != 0)
            _exit(126);
        execv(initdb, argv);
        _exit(127);
    }
    close(devnull);
    close(fd);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            md_errbuf_set(err, errlen, "waiting for initdb: %s", strerror(errno));
            return MD_EIO;
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        md_log_info("pg_initdb_done", "pgdata=%s", pg->pgdata);
        return MD_OK;
    }
    char tail[TAIL_BYTES + 64];
    file_tail(log_path, 0, tail, sizeof(tail));
    if (WIFEXITED(status))
        md_errbuf_set(err, errlen, "initdb failed (exit %d): %s (full output in %s)",
                      WEXITSTATUS(status), tail, log_path);
    else
        md_errbuf_set(err, errlen, "initdb killed by signal %d: %s (full output in %s)",
                      WIFSIGNALED(status) ? WTERMSIG(status) : 0, tail, log_path);
    return MD_EIO;
}

int md_pgembed_prepare(md_pgembed_t *pg, const char *data_dir, const char *bindir, char *err,
                       size_t errlen)
{
    if (pg == NULL || data_dir == NULL || data_dir[0] == '\0') {
        md_errbuf_set(err, errlen, "no data directory given");
        return MD_EINVAL;
    }
    if (pg->state != MD_PGEMBED_IDLE && pg->state != MD_PGEMBED_PREPARED &&
        !(pg->state == MD_PGEMBED_EXITED && !pg->proc_open)) {
        md_errbuf_set(err, errlen, "embedded PostgreSQL is still running");
        return MD_ESTATE;
    }
    int rc = find_bindir(pg, bindir, err, errlen);
    if (rc != MD_OK)
        return rc;
    if (path_join(pg->postgres_bin, sizeof(pg->postgres_bin), pg->bindir, "postgres") != 0) {
        md_errbuf_set(err, errlen, "path too long: %s", pg->bindir);
        return MD_EINVAL;
    }

    pg->drop_privileges = geteuid() == 0;
    if (pg->drop_privileges) {
        /* PostgreSQL refuses to run as root; it runs as `postgres` instead. */
        struct passwd *pw = getpwnam("postgres");
        if (pw == NULL) {
            md_errbuf_set(err, errlen,
                          "running as root, but PostgreSQL refuses to run as root and there is no "
                          "`postgres` system user to run it as; create one, or run mentord as an "
                          "unprivileged user");
            return MD_EPERM;
        }
        pg->run_uid = pw->pw_uid;
        pg->run_gid = pw->pw_gid;
    }

    rc = ensure_dir(data_dir, 0700, err, errlen);
    if (rc != MD_OK)
        return rc;
    /* Absolute: postgres changes into its data directory before it creates
     * the socket, and the conninfo must work from any working directory. */
    char abs[PATH_MAX];
    if (realpath(data_dir, abs) == NULL) {
        md_errbuf_set(err, errlen, "cannot resolve %s: %s", data_dir, strerror(errno));
        return MD_EIO;
    }
    snprintf(pg->data_dir, sizeof(pg->data_dir), "%s", abs);
    if (path_join(pg->pgdata, sizeof(pg->pgdata), abs, "pg") != 0 ||
        path_join(pg->run_dir, sizeof(pg->run_dir), abs, "run") != 0 ||
        path_join(pg->log_path, sizeof(pg->log_path), abs, "postgres.log") != 0) {
        md_errbuf_set(err, errlen, "data directory path too long: %s", abs);
        return MD_EINVAL;
    }
    size_t sun_path_len = sizeof(((struct sockaddr_un *)0)->sun_path);
    if (strlen(pg->run_dir) + strlen(PG_SOCKET_NAME) >= sun_path_len) {
        md_errbuf_set(err, errlen,
                      "data directory path %s is too long for a Unix socket inside it (at most %zu "
                      "characters)",
                      abs, sun_path_len - strlen(PG_SOCKET_NAME) - strlen("/run") - 1);
        return MD_EINVAL;
    }
    if (pg->drop_privileges && chmod(abs, 0711) != 0) {
        /* The postgres user must traverse DATA_DIR but has no business
         * listing it or reading mentord's other files (keys, logs). */
        md_errbuf_set(err, errlen, "cannot chmod %s: %s", abs, strerror(errno));
        return MD_EIO;
    }
    if ((rc = ensure_dir(pg->pgdata, 0700, err, errlen)) != MD_OK ||
        (rc = give_to_run_user(pg, pg->pgdata, err, errlen)) != MD_OK ||
        (rc = ensure_dir(pg->run_dir, 0700, err, errlen)) != MD_OK ||
        (rc = give_to_run_user(pg, pg->run_dir, err, errlen)) != MD_OK)
        return rc;
    /* The socket directory's mode is what keeps other local users away
     * from a cluster that trusts local connections. */
    if (chmod(pg->run_dir, 0700) != 0) {
        md_errbuf_set(err, errlen, "cannot chmod %s: %s", pg->run_dir, strerror(errno));
        return MD_EIO;
    }

    rc = probe_run_user_access(pg, err, errlen);
    if (rc != MD_OK)
        return rc;

    char version_file[PATH_MAX];
    if (path_join(version_file, sizeof(version_file), pg->pgdata, "PG_VERSION") != 0) {
        md_errbuf_set(err, errlen, "data directory path too long: %s", abs);
        return MD_EINVAL;
    }
    if (access(version_file, F_OK) != 0) {
        rc = run_initdb(pg, err, errlen);
        if (rc != MD_OK)
            return rc;
    }
    pg->owner_conninfo[0] = '\0';
    pg->app_conninfo[0] = '\0';
    pg->state = MD_PGEMBED_PREPARED;
    return MD_OK;
}

/* PID on the first line of postmaster.pid, or 0. */
static pid_t postmaster_pid(const md_pgembed_t *pg)
{
    char path[PATH_MAX];
    if (path_join(path, sizeof(path), pg->pgdata, "postmaster.pid") != 0)
        return 0;
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return 0;
    char line[32];
    pid_t pid = 0;
    if (fgets(line, sizeof(line), f) != NULL) {
        char *end = NULL;
        errno = 0;
        long v = strtol(line, &end, 10);
        if (errno == 0 && end != line && v > 0 && v <= INT_MAX)
            pid = (pid_t)v;
    }
    fclose(f);
    return pid;
}

static int process_alive(pid_t pid)
{
    return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void on_proc_close(uv_handle_t *h)
{
    md_pgembed_t *pg = h->data;
    pg->proc_open = 0;
}

static void on_timer_close(uv_handle_t *h)
{
    md_pgembed_t *pg = h->data;
    pg->timer_open = 0;
}

static void on_proc_exit(uv_process_t *proc, int64_t exit_status, int term_signal)
{
    md_pgembed_t *pg = proc->data;
    md_pgembed_state_t was = pg->state;
    pg->state = MD_PGEMBED_EXITED;
    pg->exit_status = exit_status;
    pg->term_signal = term_signal;
    uv_close((uv_handle_t *)proc, on_proc_close);
    if (was == MD_PGEMBED_STOPPING) {
        md_log_info("pg_stopped", "pid=%d status=%lld signal=%d", proc->pid, (long long)exit_status,
                    term_signal);
        return;
    }
    if (was == MD_PGEMBED_RUNNING) {
        char q[PATH_MAX + 8];
        md_log_error("pg_exited", "pid=%d status=%lld signal=%d log=%s", proc->pid,
                     (long long)exit_status, term_signal, md_log_quote(q, sizeof(q), pg->log_path));
        if (pg->on_exit != NULL)
            pg->on_exit(pg, exit_status, term_signal);
    }
    /* While starting, md_pgembed_start notices the exit itself. */
}

static void on_stop_timeout(uv_timer_t *t)
{
    md_pgembed_t *pg = t->data;
    pg->stop_timed_out = 1;
}

/* Runs the loop until the process and timer handles are closed. */
static void drain_handles(md_pgembed_t *pg)
{
    /* Closing handles keep the loop alive and make UV_RUN_ONCE not block. */
    while (pg->proc_open || pg->timer_open)
        uv_run(pg->loop, UV_RUN_ONCE);
}

void md_pgembed_stop(md_pgembed_t *pg)
{
    if (pg == NULL || pg->loop == NULL)
        return;
    if (pg->state == MD_PGEMBED_STARTING || pg->state == MD_PGEMBED_RUNNING) {
        uint64_t t0 = uv_hrtime();
        pg->state = MD_PGEMBED_STOPPING;
        pg->stop_timed_out = 0;
        uv_timer_init(pg->loop, &pg->stop_timer);
        pg->stop_timer.data = pg;
        pg->timer_open = 1;
        uv_timer_start(&pg->stop_timer, on_stop_timeout, STOP_TIMEOUT_MS, 0);
        /* SIGINT is PostgreSQL's fast shutdown: sessions are cut, and the
         * cluster is checkpointed so the next start needs no recovery. An
         * error here (ESRCH) means the exit is already on its way to us. */
        int rc = uv_process_kill(&pg->proc, SIGINT);
        if (rc != 0)
            md_log_debug("pg_stop_signal", "error=%s", uv_strerror(rc));
        while (pg->state != MD_PGEMBED_EXITED && !pg->stop_timed_out)
            uv_run(pg->loop, UV_RUN_ONCE);
        if (pg->state != MD_PGEMBED_EXITED) {
            md_log_warn("pg_stop_timeout", "pid=%d waited_ms=%d action=SIGKILL", pg->proc.pid,
                        STOP_TIMEOUT_MS);
            uv_process_kill(&pg->proc, SIGKILL);
            while (pg->state != MD_PGEMBED_EXITED)
                uv_run(pg->loop, UV_RUN_ONCE);
        }
        uv_close((uv_handle_t *)&pg->stop_timer, on_timer_close);
        md_log_debug("pg_stop_done", "ms=%llu", (unsigned long long)((uv_hrtime() - t0) / 1000000));
    }
    drain_handles(pg);
}

/* The owner's first connection after start: create what mentord needs and
 * cannot create from inside its own database. */
static int bootstrap_cluster(md_pgembed_t *pg, char *err, size_t errlen)
{
    char conninfo[MD_PGEMBED_CONNINFO_MAX];
    if (build_conninfo(pg, conninfo, sizeof(conninfo), "postgres", "mentord_owner") != 0) {
        md_errbuf_set(err, errlen, "connection string too long");
        return MD_EINVAL;
    }
    int rc = MD_EDB;
    PGresult *res = NULL;
    PGconn *conn = PQconnectdb(conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        md_errbuf_set(err, errlen, "cannot connect to the embedded PostgreSQL as mentord_owner: %s",
                      PQerrorMessage(conn));
        rc = MD_EDBDOWN;
        goto cleanup;
    }

    res = PQexec(conn, "SELECT 1 FROM pg_database WHERE datname = 'mentord'");
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        goto sql_error;
    int have_db = PQntuples(res) > 0;
    PQclear(res);
    res = NULL;
    if (!have_db) {
        /* CREATE DATABASE cannot run in a transaction block; PQexec of a
         * single statement does not open one. */
        res = PQexec(conn, "CREATE DATABASE mentord");
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            goto sql_error;
        PQclear(res);
        res = NULL;
        md_log_info("pg_database_created", "name=mentord");
    }

    res = PQexec(conn, "SELECT rolcanlogin AND NOT rolsuper AND NOT rolbypassrls"
                       " AND NOT rolcreatedb AND NOT rolcreaterole"
                       " FROM pg_roles WHERE rolname = 'mentord_app'");
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        goto sql_error;
    int have_role = PQntuples(res) > 0;
    int role_ok = have_role && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    res = NULL;
    static const char attrs[] = "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE";
    if (!have_role || !role_ok) {
        /* The cluster is mentord's own: the runtime role is put back into
         * shape rather than trusted as found. */
        char sql[128];
        snprintf(sql, sizeof(sql), "%s ROLE mentord_app %s", have_role ? "ALTER" : "CREATE", attrs);
        res = PQexec(conn, sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            goto sql_error;
        PQclear(res);
        res = NULL;
        md_log_info(have_role ? "pg_role_fixed" : "pg_role_created", "role=mentord_app");
    }
    rc = MD_OK;
    goto cleanup;

sql_error:
    md_errbuf_set(err, errlen, "preparing the embedded PostgreSQL: %s",
                  res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(conn));
    rc = MD_EDB;
cleanup:
    if (err != NULL && rc != MD_OK)
        err[strcspn(err, "\n")] = '\0';
    PQclear(res);
    PQfinish(conn);
    return rc;
}

/* Value for unix_socket_directories: a comma-separated list whose items may
 * be double-quoted, so a path holding a comma or space is quoted. */
static int socket_dirs_setting(const char *dir, char *out, size_t len)
{
    int quote = strpbrk(dir, ", \t\"") != NULL;
    size_t o = 0;
    int n = snprintf(out, len, "unix_socket_directories=%s", quote ? "\"" : "");
    if (n < 0 || (size_t)n >= len)
        return -1;
    o = (size_t)n;
    for (const char *p = dir; *p != '\0'; p++) {
        if (o + 3 >= len)
            return -1;
        if (quote && *p == '"')
            out[o++] = '"';
        out[o++] = *p;
    }
    if (quote)
        out[o++] = '"';
    out[o] = '\0';
    return 0;
}

int md_pgembed_start(md_pgembed_t *pg, uv_loop_t *loop, md_pgembed_exit_cb on_exit, char *err,
                     size_t errlen)
{
    if (pg == NULL || loop == NULL) {
        md_errbuf_set(err, errlen, "no loop given");
        return MD_EINVAL;
    }
    if (pg->state != MD_PGEMBED_PREPARED &&
        !(pg->state == MD_PGEMBED_EXITED && !pg->proc_open && pg->pgdata[0] != '\0')) {
        md_errbuf_set(err, errlen, "embedded PostgreSQL is not prepared or already running");
        return MD_ESTATE;
    }
    pg->loop = loop;
    pg->on_exit = on_exit;
    pg->exit_status = 0;
    pg->term_signal = 0;

    char ping_conninfo[MD_PGEMBED_CONNINFO_MAX];
    if (build_conninfo(pg, ping_conninfo, sizeof(ping_conninfo), "postgres", "mentord_owner") !=
        0) {
        md_errbuf_set(err, errlen, "connection string too long");
        return MD_EINVAL;
    }

    /* postgres would refuse too, but only after we have waited for it; and
     * its message does not say which program holds the directory. */
    pid_t other = postmaster_pid(pg);
    if (other > 0 && process_alive(other) && PQping(ping_conninfo) == PQPING_OK) {
        md_errbuf_set(
            err, errlen,
            "another postgres (pid %d) is already running on %s; stop the other mentord "
            "using this data directory, or if none is left, stop it with: %s/pg_ctl -D %s "
            "stop -m fast",
            (int)other, pg->pgdata, pg->bindir, pg->pgdata);
        return MD_EEXISTS;
    }

    int fd = open(pg->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        md_errbuf_set(err, errlen, "cannot open %s: %s", pg->log_path, strerror(errno));
        return MD_EIO;
    }
    if (pg->drop_privileges && fchown(fd, pg->run_uid, pg->run_gid) != 0) {
        md_errbuf_set(err, errlen, "cannot give %s to the postgres user: %s", pg->log_path,
                      strerror(errno));
        close(fd);
        return MD_EIO;
    }
    off_t log_start = lseek(fd, 0, SEEK_END);
    if (log_start < 0)
        log_start = 0;

    char sockdirs[PATH_MAX + 64];
    if (socket_dirs_setting(pg->run_dir, sockdirs, sizeof(sockdirs)) != 0) {
        md_errbuf_set(err, errlen, "socket directory path too long");
        close(fd);
        return MD_EINVAL;
    }
    char *args[] = {pg->postgres_bin,
                    "-D",
                    pg->pgdata,
                    "-c",
                    "listen_addresses=",
                    "-c",
                    sockdirs,
                    "-c",
                    "unix_socket_permissions=0700",
                    "-c",
                    "port=" PG_PORT,
                    "-c",
                    "max_connections=100",
                    "-c",
                    "fsync=on",
                    NULL};
    uv_stdio_container_t stdio[3];
    stdio[0].flags = UV_IGNORE;
    stdio[1].flags = UV_INHERIT_FD;
    stdio[1].data.fd = fd;
    stdio[2].flags = UV_INHERIT_FD;
    stdio[2].data.fd = fd;
    uv_process_options_t opts;
    memset(&opts, 0, sizeof(opts));
    opts.exit_cb = on_proc_exit;
    opts.file = pg->postgres_bin;
    opts.args = args;
    opts.cwd = pg->pgdata;
    opts.stdio = stdio;
    opts.stdio_count = 3;
    opts.flags = UV_PROCESS_DETACHED;
    if (pg->drop_privileges) {
        opts.flags |= UV_PROCESS_SETUID | UV_PROCESS_SETGID;
        opts.uid = pg->run_uid;
        opts.gid = pg->run_gid;
    }

    pg->proc.data = pg;
    int rc = uv_spawn(loop, &pg->proc, &opts);
    close(fd);
    pg->proc_open = 1;
    if (rc != 0) {
        /* A failed spawn leaves an initialized handle that must be closed. */
        pg->state = MD_PGEMBED_EXITED;
        uv_close((uv_handle_t *)&pg->proc, on_proc_close);
        drain_handles(pg);
        md_errbuf_set(err, errlen, "cannot start %s: %s", pg->postgres_bin, uv_strerror(rc));
        return MD_EIO;
    }
    pg->state = MD_PGEMBED_STARTING;
    int pid = pg->proc.pid;
    {
        char q[PATH_MAX + 8];
        md_log_info("pg_starting", "pid=%d socket_dir=%s", pid,
                    md_log_quote(q, sizeof(q), pg->run_dir));
    }

    uint64_t t0 = uv_hrtime();
    for (;;) {
        uv_run(loop, UV_RUN_NOWAIT);
        if (pg->state == MD_PGEMBED_EXITED) {
            char tail[TAIL_BYTES + 64];
            file_tail(pg->log_path, log_start, tail, sizeof(tail));
            if (pg->term_signal != 0)
                md_errbuf_set(err, errlen, "postgres was killed by signal %d while starting: %s",
                              pg->term_signal, tail);
            else
                md_errbuf_set(err, errlen, "postgres exited with status %lld while starting: %s",
                              (long long)pg->exit_status, tail);
            drain_handles(pg);
            return MD_EDBDOWN;
        }
        PGPing ping = PQping(ping_conninfo);
        if (ping == PQPING_NO_ATTEMPT) {
            md_errbuf_set(err, errlen, "invalid connection parameters for the embedded PostgreSQL");
            rc = MD_EINVAL;
            goto fail;
        }
        /* An answer counts only from our own child, not from a stranger
         * that still holds the socket directory. */
        if (ping == PQPING_OK && postmaster_pid(pg) == pid)
            break;
        if ((uv_hrtime() - t0) / 1000000 >= START_TIMEOUT_MS) {
            char tail[TAIL_BYTES + 64];
            file_tail(pg->log_path, log_start, tail, sizeof(tail));
            md_errbuf_set(err, errlen, "postgres did not accept connections within %d s: %s",
                          START_TIMEOUT_MS / 1000, tail);
            rc = MD_EDBTIMEOUT;
            goto fail;
        }
        sleep_ms(PING_INTERVAL_MS);
    }
    pg->state = MD_PGEMBED_RUNNING;
    md_log_info("pg_ready", "pid=%d ms=%llu", pid,
                (unsigned long long)((uv_hrtime() - t0) / 1000000));

    rc = bootstrap_cluster(pg, err, errlen);
    if (rc != MD_OK)
        goto fail;
    if (build_conninfo(pg, pg->owner_conninfo, sizeof(pg->owner_conninfo), "mentord",
                       "mentord_owner") != 0 ||
        build_conninfo(pg, pg->app_conninfo, sizeof(pg->app_conninfo), "mentord", "mentord_app") !=
            0) {
        md_errbuf_set(err, errlen, "connection string too long");
        rc = MD_EINVAL;
        goto fail;
    }
    return MD_OK;

fail:
    md_pgembed_stop(pg);
    pg->owner_conninfo[0] = '\0';
    pg->app_conninfo[0] = '\0';
    return rc;
}

const char *md_pgembed_owner_conninfo(const md_pgembed_t *pg)
{
    return pg->owner_conninfo;
}

const char *md_pgembed_app_conninfo(const md_pgembed_t *pg)
{
    return pg->app_conninfo;
}
