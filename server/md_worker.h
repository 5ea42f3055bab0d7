/* md_worker.h (private to mentord): the background worker. It recalculates
 * match proposals for the programs queued in match_queue (see
 * sql/009_matching.sql) and delivers new inbox rows live to the users
 * connected to this instance.
 *
 * Two threads with blocking libpq connections of their own, as the runtime
 * role: a listener (LISTEN mentord_match and mentord_inbox) and a runner
 * (housekeeping, claims, solver runs). Neither touches loop-owned data; the
 * listener hands inbox announcements to the loop through a mutex-protected
 * queue and uv_async_send, and the loop fetches and pushes them. See the
 * DESIGN comment at the top of worker.c. */
#ifndef MD_WORKER_H
#define MD_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "md_err.h"
#include "md_server.h"

typedef struct md_worker md_worker_t;

typedef struct {
    const char *conninfo;     /* the runtime role (the pool's); copied */
    uint32_t recalc_delay_ms; /* gather a burst of changes this long (0-600000) */
    uint32_t poll_seconds;    /* housekeeping and a queue check at least this often */
    uint32_t lease_seconds;   /* a claim keeps other instances off this long */
    uint32_t statement_ms;    /* the runner's statement_timeout (big programs) */
} md_worker_config_t;

/* Counters since start. Runs and failures are counted by the runner
 * thread, pushes on the loop; reading them is safe from the loop. */
typedef struct {
    uint64_t runs;             /* recalculations written */
    uint64_t runs_failed;      /* recalculations that failed */
    uint64_t runs_busy;        /* claims left because another session ran the program */
    uint64_t requests_expired; /* self-match requests expired by housekeeping */
    uint64_t pushed;           /* Push messages sent to connections */
    uint64_t push_dropped;     /* announcements dropped (queue full or fetch failed) */
    uint64_t reconnects;       /* database connections (re)established */
    int connected;             /* 1 while both connections are up */
} md_worker_stats_t;

void md_worker_config_defaults(md_worker_config_t *cfg);

/* Starts both threads; the loop is srv->loop and pushes go through srv and
 * its pool (srv->db). Fails with MD_ENOMEM or MD_EIO (err filled). */
MD_WUR int md_worker_start(md_server_t *srv, const md_worker_config_t *cfg, md_worker_t **out,
                           char *err, size_t errlen);
/* Asks the threads to stop at their next safe point and returns at once. */
void md_worker_shutdown(md_worker_t *w);
/* Stops (if not asked yet) and joins the threads, then closes the loop
 * handle; the memory goes once the handle is closed and the last fetch
 * from the pool has answered. Call before the pool is closed. NULL is
 * allowed. */
void md_worker_close(md_worker_t *w);
void md_worker_stats(const md_worker_t *w, md_worker_stats_t *out);

#endif
