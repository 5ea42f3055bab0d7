/* md_pgembed.h: private to mentord (not an installed interface).
 *
 * The embedded default: with no database URL, mentord owns a PostgreSQL
 * cluster inside its data directory. md_pgembed_prepare finds the server
 * binaries and runs initdb on first use; md_pgembed_start runs `postgres` as a
 * child of the loop, listening only on a Unix socket in DATA_DIR/run, and
 * creates the `mentord` database and the `mentord_app` role; md_pgembed_stop
 * shuts it down. Layout:
 *
 *   DATA_DIR/pg              the cluster (PGDATA)
 *   DATA_DIR/run             the socket directory (mode 0700)
 *   DATA_DIR/pg-initdb.log   output of the last initdb
 *   DATA_DIR/postgres.log    the server's own log (appended)
 *
 * The cluster trusts every local connection on its socket; the socket
 * directory's permissions are what keep other users out. When mentord runs as
 * root, initdb and postgres run as the `postgres` system user, which owns
 * DATA_DIR/pg and DATA_DIR/run.
 *
 * Prepare, start and stop block the calling thread. Call them when the loop
 * is not running (before uv_run, or after it returned): they drive the loop
 * themselves to see the child's exit. */
#ifndef MD_PGEMBED_H
#define MD_PGEMBED_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <uv.h>

#include "md_err.h"

#define MD_PGEMBED_CONNINFO_MAX (PATH_MAX + 128)

typedef struct md_pgembed_s md_pgembed_t;

typedef void (*md_pgembed_exit_cb)(md_pgembed_t *pg, int64_t exit_status, int term_signal);

typedef enum {
    MD_PGEMBED_IDLE = 0, /* nothing prepared */
    MD_PGEMBED_PREPARED, /* binaries found, cluster initialized, no child */
    MD_PGEMBED_STARTING, /* child spawned, not yet accepting connections */
    MD_PGEMBED_RUNNING,  /* child accepting connections */
    MD_PGEMBED_STOPPING, /* md_pgembed_stop asked the child to exit */
    MD_PGEMBED_EXITED    /* child gone; process handle may still be closing */
} md_pgembed_state_t;

/* Zero-initialize before md_pgembed_prepare. All strings are owned by the
 * struct. The struct must outlive the process handle: after start, free it
 * only once md_pgembed_stop has returned. */
struct md_pgembed_s {
    md_pgembed_state_t state;
    char data_dir[PATH_MAX]; /* absolute */
    char pgdata[PATH_MAX];   /* DATA_DIR/pg */
    char run_dir[PATH_MAX];  /* DATA_DIR/run */
    char bindir[PATH_MAX];   /* where initdb and postgres live */
    char postgres_bin[PATH_MAX];
    char log_path[PATH_MAX]; /* DATA_DIR/postgres.log */
    char owner_conninfo[MD_PGEMBED_CONNINFO_MAX];
    char app_conninfo[MD_PGEMBED_CONNINFO_MAX];
    int drop_privileges; /* running as root: children run as `postgres` */
    uid_t run_uid;
    gid_t run_gid;
    uv_loop_t *loop;
    uv_process_t proc;
    int proc_open;         /* proc initialized and its close callback not yet run */
    uv_timer_t stop_timer; /* bounds md_pgembed_stop's wait */
    int timer_open;
    int stop_timed_out;
    int64_t exit_status;
    int term_signal;
    md_pgembed_exit_cb on_exit;
    void *data; /* for the caller; untouched by this module */
};

/* Locate the binaries (bindir, else `pg_config --bindir`, else the newest
 * /usr/lib/postgresql/<N>/bin), create DATA_DIR, DATA_DIR/run and
 * DATA_DIR/pg, and run initdb when DATA_DIR/pg/PG_VERSION is missing. */
MD_WUR int md_pgembed_prepare(md_pgembed_t *pg, const char *data_dir, const char *bindir, char *err,
                              size_t errlen);

/* Spawn postgres on loop, wait up to 60 s until it accepts connections, then
 * create the `mentord` database and the `mentord_app` login role if missing.
 * on_exit (may be NULL) is called from the loop if postgres exits without
 * md_pgembed_stop having asked it to. On failure the child is stopped. */
MD_WUR int md_pgembed_start(md_pgembed_t *pg, uv_loop_t *loop, md_pgembed_exit_cb on_exit,
                            char *err, size_t errlen);

/* libpq connection strings for the cluster's superuser (mentord_owner, for
 * migrations) and for the runtime role (mentord_app). Empty before start. */
const char *md_pgembed_owner_conninfo(const md_pgembed_t *pg);
const char *md_pgembed_app_conninfo(const md_pgembed_t *pg);

/* Fast shutdown (SIGINT), waiting up to 30 s before SIGKILL, then close the
 * process handle. Safe to call when never started or already exited. Must not
 * be called from inside a callback of the running loop. */
void md_pgembed_stop(md_pgembed_t *pg);

#endif
