/* worker.c: the background worker of mentord: recalculation of match
 * proposals for the programs queued in match_queue, and live delivery of
 * new inbox rows to the users connected to this instance.
 *
 * DESIGN: code here runs in three places.
 * - The listener thread owns one blocking PGconn that LISTENs on
 *   mentord_match and mentord_inbox, and waits in poll() on its socket and
 *   the thread's wake pipe. A mentord_match notification means a queued
 *   program becomes due one recalculation delay later, so it adds that time
 *   to the runner's wake-up list and rings the runner's pipe. A
 *   mentord_inbox notification's "org:user:id" triples are appended to the
 *   loop's queue, followed by one uv_async_send.
 * - The runner thread owns another blocking PGconn. It sleeps in poll() on
 *   its wake pipe until the earliest wake-up time or the poll interval,
 *   then runs md_match_housekeeping() (once per interval, after a
 *   reconnection, or when poked) and claims due programs one at a time with
 *   md_match_claim. Each program runs under a session-level advisory lock on
 *   its id, which md_match_apply also takes, so one program is recalculated
 *   by one session at a time across every instance on the database.
 * - The loop thread owns everything else. The async callback takes the
 *   whole inbox queue at once (sends coalesce), keeps the announcements of
 *   users with a logged-in connection here, fetches those rows in one pool
 *   transaction per thousand ids and pushes them.
 * Two connections rather than one so a long recalculation never holds back
 * live pushes. Shared state: the wake-up list, the poke flag and the inbox
 * queue, under w->mu; counters and the stop flag are atomics; the config
 * and conninfo are read-only after start. The threads start with every
 * signal blocked, so signals reach the loop's handlers only. Shutdown sets
 * the stop flag and rings both pipes: the runner stops between programs,
 * abandons a program it has not solved yet (queued again), and finishes
 * one it has solved. */
#include "md_worker.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "md_log.h"
#include "md_match_data.h"

#define WAKE_MAX           256    /* pending wake-up times */
#define INBOX_MAX          100000 /* announcements waiting for the loop */
#define FETCH_CHUNK        1000   /* notification ids per pool transaction */
#define BACKOFF_MIN_MS     100
#define BACKOFF_MAX_MS     5000
#define CONNECT_TIMEOUT_MS 15000
#define LOCK_RETRY_MS      3000 /* wait this long for a program locked elsewhere */
#define LOCK_RETRY_STEP_MS 200
#define WAKE_MARGIN_MS     20
#define LISTENER_OPTIONS   "-c statement_timeout=10000 -c jit=off"

typedef struct {
    uint64_t org, user, id;
} inbox_item_t;

typedef struct {
    uint64_t org, program, version;
    char reason[200];
} claim_t;

struct md_worker {
    md_server_t *srv; /* loop thread only */
    uv_async_t async;
    char *conninfo;
    md_worker_config_t cfg;
    char runner_options[160];
    pthread_t runner, listener;
    int started; /* bit 0: runner, bit 1: listener */
    int runner_pipe[2], listener_pipe[2];
    atomic_int stop;

    pthread_mutex_t mu;
    /* Under mu. */
    int64_t wakes[WAKE_MAX]; /* monotonic ms, ascending */
    size_t n_wakes;
    int poke;
    inbox_item_t *inbox;
    size_t n_inbox, cap_inbox;

    _Atomic uint64_t runs, runs_failed, runs_busy, expired, reconnects, push_dropped;
    atomic_int runner_up, listener_up;

    /* Loop thread only. */
    uint64_t pushed;
    int fetches; /* pool transactions in flight */
    int closing; /* md_worker_close ran */
    int closed;  /* the async handle is closed */
};

/* Results of one program's run. */
enum { RUN_DONE, RUN_FAILED, RUN_BUSY, RUN_ABANDONED, RUN_LOST };

void md_worker_config_defaults(md_worker_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->recalc_delay_ms = 2000;
    cfg->poll_seconds = 10;
    cfg->lease_seconds = 300;
    cfg->statement_ms = 600000;
}

/* ---- small helpers (any thread) --------------------------------------- */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int stopping(md_worker_t *w)
{
    return atomic_load(&w->stop);
}

static void ring(int fd)
{
    char b = 1;
    ssize_t r = write(fd, &b, 1);
    (void)r; /* a full pipe rings already */
}

static void drain_pipe(int fd)
{
    char buf[64];
    while (read(fd, buf, sizeof(buf)) > 0) {
    }
}

/* Waits up to ms (or until the pipe rings). Returns 1 when asked to stop. */
static int nap(md_worker_t *w, int fd, int64_t ms)
{
    int64_t until = mono_ms() + ms;
    while (!stopping(w)) {
        int64_t left = until - mono_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)left) > 0)
            drain_pipe(fd);
    }
    return 1;
}

static int64_t next_backoff(int64_t b)
{
    if (b <= 0)
        return BACKOFF_MIN_MS;
    return b * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : b * 2;
}

static void u64s(char *buf, size_t len, uint64_t v)
{
    snprintf(buf, len, "%" PRIu64, v);
}

/* The primary message of a failed statement (or of the connection), on one
 * line. */
static void pq_error(PGconn *c, const PGresult *r, char *err, size_t errlen)
{
    const char *m = r != NULL ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    md_errbuf_set(err, errlen, "%s", m != NULL ? m : PQerrorMessage(c));
}

/* Runs one statement; returns its result when the status is the wanted
 * one, else NULL with the error in err. */
static PGresult *exec(PGconn *c, const char *sql, int n, const char *const *params,
                      ExecStatusType want, char *err, size_t errlen)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) == want)
        return r;
    pq_error(c, r, err, errlen);
    PQclear(r);
    return NULL;
}

static int exec_cmd(PGconn *c, const char *sql, char *err, size_t errlen)
{
    PGresult *r = exec(c, sql, 0, NULL, PGRES_COMMAND_OK, err, errlen);
    PQclear(r);
    return r != NULL;
}

static int lost(PGconn *c)
{
    return PQstatus(c) != CONNECTION_OK;
}

/* Connects without blocking shutdown: libpq's non-blocking connect under
 * poll() with the thread's wake pipe. NULL on failure (err filled). */
static PGconn *connect_db(md_worker_t *w, int fd, const char *options, const char *appname,
                          char *err, size_t errlen)
{
    /* Later keywords win: the operator's conninfo may override the
     * application name and keepalives, our options override theirs (as the
     * pool's do). */
    const char *const keys[] = {"application_name",
                                "keepalives_idle",
                                "keepalives_interval",
                                "keepalives_count",
                                "dbname",
                                "options",
                                NULL};
    const char *const vals[] = {appname, "30", "10", "3", w->conninfo, options, NULL};
    PGconn *c = PQconnectStartParams(keys, vals, 1);
    if (c == NULL) {
        md_errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    int64_t deadline = mono_ms() + CONNECT_TIMEOUT_MS;
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (PQstatus(c) != CONNECTION_BAD) {
        if (st == PGRES_POLLING_OK)
            return c;
        if (st == PGRES_POLLING_FAILED)
            break;
        int64_t left = deadline - mono_ms();
        if (stopping(w) || left <= 0) {
            md_errbuf_set(err, errlen, "%s", stopping(w) ? "stopping" : "connection timed out");
            PQfinish(c);
            return NULL;
        }
        struct pollfd p[2] = {
            {.fd = PQsocket(c), .events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT},
            {.fd = fd, .events = POLLIN},
        };
        int n = poll(p, 2, (int)left);
        if (n > 0 && (p[1].revents & POLLIN))
            drain_pipe(fd);
        if (n > 0 && p[0].revents != 0)
            st = PQconnectPoll(c);
    }
    md_errbuf_set(err, errlen, "%s", PQerrorMessage(c));
    PQfinish(c);
    return NULL;
}

/* ---- the queue towards the loop, wake-ups towards the runner ---------- */

static void wake_at(md_worker_t *w, int64_t t)
{
    /* Wake-ups closer than this are merged into the later one: a burst of
     * changes costs one claim, at most this late for a program whose
     * steady stream of changes hit the 10-delay cap. */
    int64_t gran = w->cfg.recalc_delay_ms / 8;
    gran = gran < 5 ? 5 : gran > 1000 ? 1000 : gran;
    pthread_mutex_lock(&w->mu);
    if (w->n_wakes > 0 && (t - w->wakes[w->n_wakes - 1] < gran || w->n_wakes == WAKE_MAX))
        w->wakes[w->n_wakes - 1] = t;
    else
        w->wakes[w->n_wakes++] = t;
    pthread_mutex_unlock(&w->mu);
    ring(w->runner_pipe[1]);
}

static void poke_runner(md_worker_t *w)
{
    pthread_mutex_lock(&w->mu);
    w->poke = 1;
    pthread_mutex_unlock(&w->mu);
    ring(w->runner_pipe[1]);
}

/* Takes the wake-ups due by now. Returns 1 when any was due; *next is the
 * next one (INT64_MAX for none) and *poked the poke flag (cleared). */
static int take_wakes(md_worker_t *w, int64_t now, int64_t *next, int *poked)
{
    pthread_mutex_lock(&w->mu);
    size_t due = 0;
    while (due < w->n_wakes && w->wakes[due] <= now)
        due++;
    memmove(w->wakes, w->wakes + due, (w->n_wakes - due) * sizeof(w->wakes[0]));
    w->n_wakes -= due;
    *next = w->n_wakes > 0 ? w->wakes[0] : INT64_MAX;
    *poked = w->poke;
    w->poke = 0;
    pthread_mutex_unlock(&w->mu);
    return due > 0;
}

static int parse_u64(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (*s < '0' || *s > '9')
        return 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    *p = s;
    *out = v;
    return 1;
}

/* Appends a mentord_inbox payload's triples to the loop's queue. Returns
 * how many were queued; a malformed payload is dropped from the first bad
 * triple on. */
static size_t queue_inbox(md_worker_t *w, const char *payload)
{
    size_t queued = 0, dropped = 0;
    const char *p = payload;
    pthread_mutex_lock(&w->mu);
    while (*p != '\0') {
        inbox_item_t it;
        if (!parse_u64(&p, &it.org) || *p++ != ':' || !parse_u64(&p, &it.user) || *p++ != ':' ||
            !parse_u64(&p, &it.id) || (*p != ',' && *p != '\0')) {
            md_log_warn("worker_inbox_payload", "error=%s", "malformed");
            break;
        }
        if (*p == ',')
            p++;
        if (w->n_inbox == w->cap_inbox) {
            size_t cap = w->cap_inbox ? w->cap_inbox * 2 : 256;
            inbox_item_t *n = cap <= INBOX_MAX ? realloc(w->inbox, cap * sizeof(*n)) : NULL;
            if (n == NULL) {
                dropped++;
                continue;
            }
            w->inbox = n;
            w->cap_inbox = cap;
        }
        w->inbox[w->n_inbox++] = it;
        queued++;
    }
    pthread_mutex_unlock(&w->mu);
    if (dropped > 0) {
        atomic_fetch_add(&w->push_dropped, dropped);
        md_log_warn("worker_inbox_full", "dropped=%zu", dropped);
    }
    return queued;
}

/* ---- the listener thread ---------------------------------------------- */

static void listener_notifies(md_worker_t *w, PGconn *c)
{
    int match = 0;
    size_t inbox = 0;
    PGnotify *n;
    while ((n = PQnotifies(c)) != NULL) {
        if (strcmp(n->relname, "mentord_match") == 0)
            match = 1;
        else if (strcmp(n->relname, "mentord_inbox") == 0)
            inbox += queue_inbox(w, n->extra);
        PQfreemem(n);
    }
    if (match)
        wake_at(w, mono_ms() + w->cfg.recalc_delay_ms + WAKE_MARGIN_MS);
    if (inbox > 0)
        uv_async_send(&w->async);
}

static void *listener_main(void *arg)
{
    md_worker_t *w = arg;
    int fd = w->listener_pipe[0];
    PGconn *c = NULL;
    int64_t backoff = 0;
    int failures = 0;
    char err[512], q[600];
    while (!stopping(w)) {
        if (c == NULL) {
            if (backoff > 0 && nap(w, fd, backoff))
                break;
            c = connect_db(w, fd, LISTENER_OPTIONS, "mentord worker listener", err, sizeof(err));
            if (c != NULL && (!exec_cmd(c, "LISTEN mentord_match", err, sizeof(err)) ||
                              !exec_cmd(c, "LISTEN mentord_inbox", err, sizeof(err)))) {
                PQfinish(c);
                c = NULL;
            }
            if (c == NULL) {
                if (failures++ == 0 && !stopping(w))
                    md_log_warn("worker_connect_failed", "role=listener error=%s",
                                md_log_quote(q, sizeof(q), err));
                backoff = next_backoff(backoff);
                continue;
            }
            md_log_info("worker_connected", "role=listener");
            backoff = 0;
            failures = 0;
            atomic_fetch_add(&w->reconnects, 1);
            atomic_store(&w->listener_up, 1);
            /* Whatever was announced while we were away is lost: look at
             * the queue now. */
            poke_runner(w);
        }
        struct pollfd p[2] = {{.fd = PQsocket(c), .events = POLLIN}, {.fd = fd, .events = POLLIN}};
        int n = poll(p, 2, (int)w->cfg.poll_seconds * 1000);
        if (n > 0 && (p[1].revents & POLLIN))
            drain_pipe(fd);
        if (stopping(w))
            break;
        int down = 0;
        if (n == 0) {
            /* Quiet for a whole interval: make sure the session is alive. */
            PGresult *r = PQexec(c, "SELECT 1");
            down = PQresultStatus(r) != PGRES_TUPLES_OK;
            PQclear(r);
        } else if (n > 0 && p[0].revents != 0) {
            down = !PQconsumeInput(c);
        }
        listener_notifies(w, c);
        if (down || lost(c)) {
            md_log_warn("worker_db_lost", "role=listener");
            atomic_store(&w->listener_up, 0);
            PQfinish(c);
            c = NULL;
            backoff = BACKOFF_MIN_MS;
        }
    }
    atomic_store(&w->listener_up, 0);
    PQfinish(c);
    return NULL;
}

/* ---- the runner thread: one program ------------------------------------ */

static const char SQL_CLAIM[] =
    "SELECT org_id, program_id, version, reason FROM md_match_claim($1::int, 1)";
static const char SQL_RELEASE[] = "SELECT md_match_release($1::bigint, $2::bigint, $3::bigint)";
static const char SQL_REQUEUE[] = "SELECT md_match_enqueue($1::bigint, ARRAY[$2::bigint], $3)";
static const char SQL_TRY_LOCK[] = "SELECT pg_try_advisory_lock($1::bigint)";
static const char SQL_UNLOCK[] = "SELECT pg_advisory_unlock($1::bigint)";
static const char SQL_SET_ORG[] = "SELECT set_config('app.org_id', $1, true)";
static const char SQL_RUN_FAILED[] =
    "SELECT md_match_run_failed($1::bigint, $2, 1::smallint, $3::smallint, "
    "to_timestamp($4::double precision / 1000), $5)";

/* Runs one statement of a program's work; 1 on success. */
static int step(PGconn *c, const char *sql, int n, const char *const *params, char *err,
                size_t errlen)
{
    PGresult *r = exec(c, sql, n, params, PGRES_TUPLES_OK, err, errlen);
    PQclear(r);
    return r != NULL;
}

/* BEGIN and the organization's setting. */
static int begin_org(PGconn *c, const char *begin, const char *org, char *err, size_t errlen)
{
    const char *p[1] = {org};
    return exec_cmd(c, begin, err, errlen) && step(c, SQL_SET_ORG, 1, p, err, errlen);
}

static void rollback(PGconn *c)
{
    if (!lost(c) && PQtransactionStatus(c) != PQTRANS_IDLE) {
        char err[256];
        (void)exec_cmd(c, "ROLLBACK", err, sizeof(err));
    }
}

/* Ends a claim: the queue row goes unless a change came in since. */
static void release(PGconn *c, const claim_t *cl, const char *prog)
{
    char org[24], ver[24], err[256], q[300];
    u64s(org, sizeof(org), cl->org);
    u64s(ver, sizeof(ver), cl->version);
    const char *p[3] = {org, prog, ver};
    if (!step(c, SQL_RELEASE, 3, p, err, sizeof(err)) && !lost(c))
        md_log_warn("match_release_failed", "org=%" PRIu64 " program=%" PRIu64 " error=%s", cl->org,
                    cl->program, md_log_quote(q, sizeof(q), err));
}

/* Queues the program again (due after the delay) and ends our claim, for
 * a run given up before it was written. */
static int requeue(PGconn *c, const claim_t *cl)
{
    char org[24], prog[24], err[256];
    u64s(org, sizeof(org), cl->org);
    u64s(prog, sizeof(prog), cl->program);
    const char *p[3] = {org, prog, cl->reason};
    if (!step(c, SQL_REQUEUE, 3, p, err, sizeof(err)))
        return 0;
    release(c, cl, prog);
    return !lost(c);
}

/* Takes the program's advisory lock, waiting a little for a short run by
 * another session (a coordinator's own run holds it while it writes).
 * 1 got it, 0 busy, -1 failed (err filled) or told to stop. */
static int lock_program(md_worker_t *w, PGconn *c, const char *prog, char *err, size_t errlen)
{
    int64_t until = mono_ms() + LOCK_RETRY_MS;
    const char *p[1] = {prog};
    for (;;) {
        PGresult *r = exec(c, SQL_TRY_LOCK, 1, p, PGRES_TUPLES_OK, err, errlen);
        if (r == NULL)
            return -1;
        int got = PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
        PQclear(r);
        if (got)
            return 1;
        if (mono_ms() >= until)
            return 0;
        if (nap(w, w->runner_pipe[0], LOCK_RETRY_STEP_MS))
            return -1;
    }
}

static void unlock_program(PGconn *c, const char *prog)
{
    const char *p[1] = {prog};
    char err[256];
    (void)step(c, SQL_UNLOCK, 1, p, err, sizeof(err));
}

/* An integer column of the one settings row (0 when missing). */
static int settings_int(const PGresult *r, const char *name)
{
    int i = PQfnumber(r, name);
    return PQntuples(r) == 1 && i >= 0 && !PQgetisnull(r, 0, i) ? atoi(PQgetvalue(r, 0, i)) : 0;
}

static const char *column(const PGresult *r, const char *name)
{
    int i = PQfnumber(r, name);
    return r != NULL && i >= 0 && PQntuples(r) > 0 ? PQgetvalue(r, 0, i) : "-";
}

/* Records a failed run in the program's history, in its own transaction. */
static void record_failure(PGconn *c, const claim_t *cl, const char *org, const char *prog,
                           const char *reason, int objective, int64_t started_ms, const char *error)
{
    char obj[8], started[24], err[256], q[300];
    snprintf(obj, sizeof(obj), "%d", objective == 2 ? 2 : 1);
    snprintf(started, sizeof(started), "%" PRId64, started_ms);
    const char *p[5] = {prog, reason, obj, started, error};
    if (begin_org(c, "BEGIN", org, err, sizeof(err)) &&
        step(c, SQL_RUN_FAILED, 5, p, err, sizeof(err)) && exec_cmd(c, "COMMIT", err, sizeof(err)))
        return;
    rollback(c);
    if (!lost(c))
        md_log_warn("match_run_record_failed", "org=%" PRIu64 " program=%" PRIu64 " error=%s",
                    cl->org, cl->program, md_log_quote(q, sizeof(q), err));
}

static int run_program(md_worker_t *w, PGconn *c, const claim_t *cl)
{
    char org[24], prog[24], reason[240], err[512], q[600], qr[300];
    u64s(org, sizeof(org), cl->org);
    u64s(prog, sizeof(prog), cl->program);
    if (strcmp(cl->reason, "schedule") == 0)
        snprintf(reason, sizeof(reason), "schedule");
    else
        snprintf(reason, sizeof(reason), "change: %s", cl->reason);
    md_log_quote(qr, sizeof(qr), reason);

    int locked = lock_program(w, c, prog, err, sizeof(err));
    if (locked < 0 && lost(c))
        return RUN_LOST;
    if (locked < 0 && stopping(w)) {
        /* Told to stop while waiting for the lock: give the program back. */
        if (!requeue(c, cl) && lost(c))
            return RUN_LOST;
        md_log_info("match_run_abandoned", "org=%s program=%s reason=%s", org, prog, qr);
        return RUN_ABANDONED;
    }
    if (locked < 0) {
        atomic_fetch_add(&w->runs_failed, 1);
        md_log_warn("match_run_failed", "org=%s program=%s reason=%s error=%s", org, prog, qr,
                    md_log_quote(q, sizeof(q), err));
        release(c, cl, prog);
        return lost(c) ? RUN_LOST : RUN_FAILED;
    }
    if (locked == 0) {
        /* Another session runs it: its release ends the matter, or our
         * lease runs out and the program is claimed again. */
        atomic_fetch_add(&w->runs_busy, 1);
        md_log_info("match_run_busy", "org=%s program=%s reason=%s", org, prog, qr);
        return RUN_BUSY;
    }

    int result = RUN_FAILED, objective = 1;
    int64_t started_ms = wall_ms(), t0 = mono_ms();
    PGresult *settings = NULL, *people = NULL, *facts = NULL, *applied = NULL;
    md_match_program_t *p = NULL;
    md_match_result_t *res = NULL;
    md_match_apply_params_t ap;
    memset(&ap, 0, sizeof(ap));
    err[0] = '\0';

    const char *one[1] = {prog};
    const char *two[2] = {prog, NULL};
    if (!begin_org(c, "BEGIN ISOLATION LEVEL REPEATABLE READ", org, err, sizeof(err)) ||
        (settings = exec(c, MD_MATCH_SQL_SETTINGS, 1, one, PGRES_TUPLES_OK, err, sizeof(err))) ==
            NULL ||
        (people = exec(c, MD_MATCH_SQL_PEOPLE, 2, two, PGRES_TUPLES_OK, err, sizeof(err))) ==
            NULL ||
        (facts = exec(c, MD_MATCH_SQL_FACTS, 2, two, PGRES_TUPLES_OK, err, sizeof(err))) == NULL ||
        !exec_cmd(c, "COMMIT", err, sizeof(err)))
        goto fail;

    int state = settings_int(settings, "state"), mode = settings_int(settings, "match_mode");
    if (state != MENTOR__V1__PROGRAM_STATE__MATCHING &&
        state != MENTOR__V1__PROGRAM_STATE__ACTIVE) {
        /* Moved on (or gone) since it was queued: nothing to propose. */
        md_log_debug("match_run_skipped", "org=%s program=%s state=%d", org, prog, state);
        result = RUN_DONE;
        goto release;
    }
    if (mode == 2) {
        /* Self-match: mentees choose their mentors; proposals for everyone
         * would stand in the way of their requests. */
        md_log_debug("match_run_skipped", "org=%s program=%s match_mode=self", org, prog);
        result = RUN_DONE;
        goto release;
    }

    int rc = md_match_program_load(cl->program, settings, people, facts, 0, &p, err, sizeof(err));
    if (rc != MD_OK) {
        if (err[0] == '\0')
            md_errbuf_set(err, sizeof(err), "loading the program: %s", md_err_name(rc));
        goto fail;
    }
    const md_match_program_info_t *info = md_match_program_info(p);
    objective = info->objective;
    if (stopping(w)) {
        result = RUN_ABANDONED;
        goto abandon;
    }
    rc = md_match_solve(md_match_program_engine(p), MD_MATCH_OPTIMAL, &res);
    if (rc != MD_OK) {
        md_errbuf_set(err, sizeof(err), "solver: %s", md_err_name(rc));
        goto fail;
    }
    int64_t elapsed = mono_ms() - t0;
    rc =
        md_match_apply_params(p, res, reason, MD_MATCH_OPTIMAL, started_ms, (uint32_t)elapsed, &ap);
    if (rc != MD_OK) {
        md_errbuf_set(err, sizeof(err), "run parameters: %s", md_err_name(rc));
        goto fail;
    }
    if (!begin_org(c, "BEGIN", org, err, sizeof(err)) ||
        (applied = exec(c, MD_MATCH_SQL_APPLY, MD_MATCH_APPLY_NPARAMS,
                        (const char *const *)ap.values, PGRES_TUPLES_OK, err, sizeof(err))) ==
            NULL ||
        !exec_cmd(c, "COMMIT", err, sizeof(err)))
        goto fail;
    atomic_fetch_add(&w->runs, 1);
    md_log_info("match_run",
                "org=%s program=%s reason=%s run=%s mentors=%u mentees=%u proposals=%s kept=%s "
                "total_score=%s ms=%" PRId64,
                org, prog, qr, column(applied, "run_id"), info->mentors, info->mentees,
                column(applied, "proposals"), column(applied, "kept"),
                column(applied, "total_score"), mono_ms() - t0);
    result = RUN_DONE;
    goto release;

fail:
    if (lost(c)) {
        result = RUN_LOST;
        md_log_warn("match_run_failed", "org=%s program=%s reason=%s error=%s", org, prog, qr,
                    "\"database connection lost\"");
        goto out;
    }
    rollback(c);
    atomic_fetch_add(&w->runs_failed, 1);
    md_log_warn("match_run_failed", "org=%s program=%s reason=%s error=%s", org, prog, qr,
                md_log_quote(q, sizeof(q), err));
    record_failure(c, cl, org, prog, reason, objective, started_ms, err);
    result = RUN_FAILED;
release:
    unlock_program(c, prog);
    release(c, cl, prog);
    if (lost(c))
        result = RUN_LOST;
    goto out;
abandon:
    unlock_program(c, prog);
    if (!requeue(c, cl) && lost(c))
        result = RUN_LOST;
    md_log_info("match_run_abandoned", "org=%s program=%s reason=%s", org, prog, qr);
out:
    md_match_apply_params_free(&ap);
    md_match_result_free(res);
    md_match_program_free(p);
    PQclear(applied);
    PQclear(facts);
    PQclear(people);
    PQclear(settings);
    return result;
}

/* ---- the runner thread: cycles ------------------------------------------ */

/* Housekeeping (when asked), then every due program. Returns -1 when the
 * connection was lost (*cut holds a claim to queue again, if any). */
static int runner_cycle(md_worker_t *w, PGconn *c, int housekeeping, claim_t *cut, int *have_cut)
{
    char err[512], q[600];
    if (housekeeping) {
        PGresult *r =
            exec(c, "SELECT md_match_housekeeping()", 0, NULL, PGRES_TUPLES_OK, err, sizeof(err));
        if (r == NULL && lost(c))
            return -1;
        if (r == NULL) {
            md_log_warn("match_housekeeping_failed", "error=%s", md_log_quote(q, sizeof(q), err));
        } else if (PQntuples(r) == 1 && atoi(PQgetvalue(r, 0, 0)) > 0) {
            int n = atoi(PQgetvalue(r, 0, 0));
            atomic_fetch_add(&w->expired, (uint64_t)n);
            md_log_info("match_requests_expired", "count=%d", n);
        }
        PQclear(r);
    }
    char lease[16];
    snprintf(lease, sizeof(lease), "%u", w->cfg.lease_seconds);
    const char *p[1] = {lease};
    while (!stopping(w)) {
        PGresult *r = exec(c, SQL_CLAIM, 1, p, PGRES_TUPLES_OK, err, sizeof(err));
        if (r == NULL) {
            if (lost(c))
                return -1;
            md_log_warn("match_claim_failed", "error=%s", md_log_quote(q, sizeof(q), err));
            return 0;
        }
        if (PQntuples(r) == 0) {
            PQclear(r);
            return 0;
        }
        claim_t cl;
        memset(&cl, 0, sizeof(cl));
        cl.org = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
        cl.program = strtoull(PQgetvalue(r, 0, 1), NULL, 10);
        cl.version = strtoull(PQgetvalue(r, 0, 2), NULL, 10);
        snprintf(cl.reason, sizeof(cl.reason), "%s", PQgetvalue(r, 0, 3));
        PQclear(r);
        if (run_program(w, c, &cl) == RUN_LOST) {
            *cut = cl;
            *have_cut = 1;
            return -1;
        }
    }
    return 0;
}

static void *runner_main(void *arg)
{
    md_worker_t *w = arg;
    int fd = w->runner_pipe[0];
    PGconn *c = NULL;
    int64_t backoff = 0, last_hk = 0, poll_ms = (int64_t)w->cfg.poll_seconds * 1000;
    int failures = 0, hk_now = 1, have_cut = 0;
    claim_t cut;
    char err[512], q[600];
    memset(&cut, 0, sizeof(cut));
    while (!stopping(w)) {
        if (c == NULL) {
            if (backoff > 0 && nap(w, fd, backoff))
                break;
            c = connect_db(w, fd, w->runner_options, "mentord worker runner", err, sizeof(err));
            if (c == NULL) {
                if (failures++ == 0 && !stopping(w))
                    md_log_warn("worker_connect_failed", "role=runner error=%s",
                                md_log_quote(q, sizeof(q), err));
                backoff = next_backoff(backoff);
                continue;
            }
            md_log_info("worker_connected", "role=runner");
            backoff = 0;
            failures = 0;
            hk_now = 1;
            atomic_fetch_add(&w->reconnects, 1);
            atomic_store(&w->runner_up, 1);
            /* A run cut by the lost connection: make it due again now
             * rather than when its lease runs out. */
            if (have_cut && requeue(c, &cut))
                have_cut = 0;
        }
        int64_t now = mono_ms(), next;
        int poked;
        int due = take_wakes(w, now, &next, &poked);
        int hk = hk_now || poked || now - last_hk >= poll_ms;
        if (hk || due) {
            int rc = runner_cycle(w, c, hk, &cut, &have_cut);
            if (hk && rc == 0) {
                last_hk = mono_ms();
                hk_now = 0;
            }
            if (rc < 0 || lost(c)) {
                md_log_warn("worker_db_lost", "role=runner");
                atomic_store(&w->runner_up, 0);
                PQfinish(c);
                c = NULL;
                backoff = BACKOFF_MIN_MS;
            }
            continue;
        }
        int64_t until = last_hk + poll_ms < next ? last_hk + poll_ms : next;
        int64_t wait = until - now;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, wait > 3600000 ? 3600000 : (int)wait) > 0)
            drain_pipe(fd);
    }
    atomic_store(&w->runner_up, 0);
    PQfinish(c);
    return NULL;
}

/* ---- the loop side: live delivery -------------------------------------- */

static const char SQL_NOTIFICATIONS_GET[] =
    "SELECT org_id, user_id, id, title, body, coalesce(program_id, 0), created_at "
    "FROM md_notifications_get($1::bigint[]) ORDER BY org_id, user_id, id";

static int item_cmp(const void *a, const void *b)
{
    const inbox_item_t *x = a, *y = b;
    if (x->org != y->org)
        return x->org < y->org ? -1 : 1;
    if (x->user != y->user)
        return x->user < y->user ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* The first of n items (sorted by org, user) at or after (org, user). */
static size_t lower_bound(const inbox_item_t *items, size_t n, uint64_t org, uint64_t user)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (items[mid].org < org || (items[mid].org == org && items[mid].user < user))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

typedef struct {
    const inbox_item_t *items;
    size_t n;
    unsigned char *want;
} mark_ctx_t;

static void mark_conn(md_conn_t *c, const md_auth_t *a, void *arg)
{
    (void)c;
    mark_ctx_t *m = arg;
    for (size_t i = lower_bound(m->items, m->n, a->org_id, a->user_id);
         i < m->n && m->items[i].org == a->org_id && m->items[i].user == a->user_id; i++)
        m->want[i] = 1;
}

typedef struct {
    md_worker_t *w;
    const PGresult *r;
    inbox_item_t *keys; /* per row: org, user, row index as id */
    size_t n;
} push_ctx_t;

static void push_conn(md_conn_t *c, const md_auth_t *a, void *arg)
{
    push_ctx_t *x = arg;
    for (size_t i = lower_bound(x->keys, x->n, a->org_id, a->user_id);
         i < x->n && x->keys[i].org == a->org_id && x->keys[i].user == a->user_id; i++) {
        int row = (int)x->keys[i].id;
        Mentor__V1__Push push = MENTOR__V1__PUSH__INIT;
        push.kind = (char *)"notification";
        push.title = PQgetvalue(x->r, row, 3);
        push.body = PQgetvalue(x->r, row, 4);
        push.program_id = strtoull(PQgetvalue(x->r, row, 5), NULL, 10);
        push.at = strtoll(PQgetvalue(x->r, row, 6), NULL, 10);
        push.notification_id = strtoull(PQgetvalue(x->r, row, 2), NULL, 10);
        Mentor__V1__ServerMessage sm = MENTOR__V1__SERVER_MESSAGE__INIT;
        sm.msg_case = MENTOR__V1__SERVER_MESSAGE__MSG_PUSH;
        sm.push = &push;
        md_conn_send(c, &sm, 0);
        x->w->pushed++;
    }
}

static void worker_maybe_free(md_worker_t *w)
{
    if (!w->closed || w->fetches > 0)
        return;
    free(w->inbox);
    free(w->conninfo);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

static void fetch_done(md_db_txn_t *txn, int err, void *arg)
{
    md_worker_t *w = arg;
    w->fetches--;
    PGresult *r = md_db_txn_result(txn, 0);
    if (err != MD_OK || r == NULL) {
        char q[300];
        md_log_warn("worker_push_fetch_failed", "error=%s",
                    md_log_quote(q, sizeof(q),
                                 err == MD_EDB ? md_db_txn_message(txn) : md_err_message(err)));
        atomic_fetch_add(&w->push_dropped, 1);
    } else if (!w->closing && PQntuples(r) > 0) {
        size_t n = (size_t)PQntuples(r);
        inbox_item_t *keys = malloc(n * sizeof(*keys));
        if (keys != NULL) {
            for (size_t i = 0; i < n; i++) {
                keys[i].org = strtoull(PQgetvalue(r, (int)i, 0), NULL, 10);
                keys[i].user = strtoull(PQgetvalue(r, (int)i, 1), NULL, 10);
                keys[i].id = i;
            }
            /* Rows come ordered by org and user already. */
            push_ctx_t x = {.w = w, .r = r, .keys = keys, .n = n};
            md_server_each_authed(w->srv, push_conn, &x);
            free(keys);
        }
    }
    worker_maybe_free(w);
}

static void fetch_submit(md_worker_t *w, const char *ids)
{
    md_db_txn_t *txn = md_db_txn_new();
    const char *p[1] = {ids};
    if (txn == NULL || md_db_txn_add(txn, SQL_NOTIFICATIONS_GET, 1, p) != MD_OK) {
        md_db_txn_free(txn);
        atomic_fetch_add(&w->push_dropped, 1);
        return;
    }
    w->fetches++;
    md_db_submit(w->srv->db, txn, fetch_done, w);
}

/* Keeps the announcements of users connected here and fetches their rows. */
static void deliver(md_worker_t *w, inbox_item_t *items, size_t n)
{
    qsort(items, n, sizeof(*items), item_cmp);
    unsigned char *want = calloc(n, 1);
    char *ids = malloc(FETCH_CHUNK * 21 + 3);
    if (want == NULL || ids == NULL) {
        free(want);
        free(ids);
        atomic_fetch_add(&w->push_dropped, n);
        return;
    }
    mark_ctx_t m = {.items = items, .n = n, .want = want};
    md_server_each_authed(w->srv, mark_conn, &m);
    size_t used = 0, in_chunk = 0;
    for (size_t i = 0; i < n; i++) {
        if (!want[i] || (i > 0 && item_cmp(&items[i], &items[i - 1]) == 0))
            continue;
        used += (size_t)snprintf(ids + used, 22, "%c%" PRIu64, in_chunk ? ',' : '{', items[i].id);
        if (++in_chunk == FETCH_CHUNK) {
            snprintf(ids + used, 2, "}");
            fetch_submit(w, ids);
            used = in_chunk = 0;
        }
    }
    if (in_chunk > 0) {
        snprintf(ids + used, 2, "}");
        fetch_submit(w, ids);
    }
    free(ids);
    free(want);
}

static void on_async(uv_async_t *h)
{
    md_worker_t *w = h->data;
    pthread_mutex_lock(&w->mu);
    inbox_item_t *items = w->inbox;
    size_t n = w->n_inbox;
    w->inbox = NULL;
    w->n_inbox = w->cap_inbox = 0;
    pthread_mutex_unlock(&w->mu);
    if (n > 0 && !w->closing)
        deliver(w, items, n);
    free(items);
}

/* ---- life cycle (loop thread) -------------------------------------------- */

static int make_pipe(int fds[2])
{
    return pipe2(fds, O_CLOEXEC | O_NONBLOCK);
}

static void close_pipes(md_worker_t *w)
{
    int *fds[2] = {w->runner_pipe, w->listener_pipe};
    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 2; j++) {
            if (fds[i][j] >= 0)
                close(fds[i][j]);
            fds[i][j] = -1;
        }
    }
}

static void async_closed(uv_handle_t *h)
{
    md_worker_t *w = h->data;
    w->closed = 1;
    worker_maybe_free(w);
}

int md_worker_start(md_server_t *srv, const md_worker_config_t *cfg, md_worker_t **out, char *err,
                    size_t errlen)
{
    *out = NULL;
    md_worker_t *w = calloc(1, sizeof(*w));
    if (w == NULL || (w->conninfo = strdup(cfg->conninfo)) == NULL) {
        free(w);
        md_errbuf_set(err, errlen, "out of memory");
        return MD_ENOMEM;
    }
    w->srv = srv;
    w->cfg = *cfg;
    w->cfg.conninfo = NULL;
    if (w->cfg.poll_seconds == 0)
        w->cfg.poll_seconds = 10;
    if (w->cfg.lease_seconds == 0)
        w->cfg.lease_seconds = 300;
    if (w->cfg.statement_ms == 0)
        w->cfg.statement_ms = 600000;
    snprintf(w->runner_options, sizeof(w->runner_options),
             "-c mentord.recalc_delay_ms=%u -c statement_timeout=%u -c jit=off",
             w->cfg.recalc_delay_ms, w->cfg.statement_ms);
    w->runner_pipe[0] = w->runner_pipe[1] = w->listener_pipe[0] = w->listener_pipe[1] = -1;
    pthread_mutex_init(&w->mu, NULL);
    if (make_pipe(w->runner_pipe) != 0 || make_pipe(w->listener_pipe) != 0) {
        md_errbuf_set(err, errlen, "worker pipes: %s", strerror(errno));
        close_pipes(w);
        pthread_mutex_destroy(&w->mu);
        free(w->conninfo);
        free(w);
        return MD_EIO;
    }
    uv_async_init(srv->loop, &w->async, on_async);
    w->async.data = w;

    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int r1 = pthread_create(&w->runner, NULL, runner_main, w);
    if (r1 == 0)
        w->started |= 1;
    int r2 = r1 == 0 ? pthread_create(&w->listener, NULL, listener_main, w) : r1;
    if (r2 == 0)
        w->started |= 2;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r1 != 0 || r2 != 0) {
        md_errbuf_set(err, errlen, "worker threads: %s", strerror(r1 != 0 ? r1 : r2));
        md_worker_close(w);
        return MD_EIO;
    }
    srv->worker = w;
    md_log_info("worker_started", "recalc_delay_ms=%u poll_s=%u lease_s=%u", w->cfg.recalc_delay_ms,
                w->cfg.poll_seconds, w->cfg.lease_seconds);
    *out = w;
    return MD_OK;
}

void md_worker_shutdown(md_worker_t *w)
{
    if (w == NULL || atomic_exchange(&w->stop, 1))
        return;
    ring(w->runner_pipe[1]);
    ring(w->listener_pipe[1]);
}

void md_worker_close(md_worker_t *w)
{
    if (w == NULL || w->closing)
        return;
    md_worker_shutdown(w);
    w->closing = 1;
    if (w->started & 1)
        pthread_join(w->runner, NULL);
    if (w->started & 2)
        pthread_join(w->listener, NULL);
    w->started = 0;
    close_pipes(w);
    if (w->srv->worker == w)
        w->srv->worker = NULL;
    md_log_info("worker_stopped", "runs=%" PRIu64 " failed=%" PRIu64 " pushed=%" PRIu64,
                (uint64_t)atomic_load(&w->runs), (uint64_t)atomic_load(&w->runs_failed), w->pushed);
    uv_close((uv_handle_t *)&w->async, async_closed);
}

void md_worker_stats(const md_worker_t *w, md_worker_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    if (w == NULL)
        return;
    md_worker_t *m = (md_worker_t *)w; /* atomics are read-only here */
    out->runs = atomic_load(&m->runs);
    out->runs_failed = atomic_load(&m->runs_failed);
    out->runs_busy = atomic_load(&m->runs_busy);
    out->requests_expired = atomic_load(&m->expired);
    out->push_dropped = atomic_load(&m->push_dropped);
    out->reconnects = atomic_load(&m->reconnects);
    out->pushed = w->pushed;
    out->connected = atomic_load(&m->runner_up) && atomic_load(&m->listener_up);
}
