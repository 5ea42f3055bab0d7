/* md_db.h (private to mentord): the asynchronous PostgreSQL pool.
 *
 * Work is submitted as a transaction: an ordered list of statements sent in
 * one libpq pipeline and closed by a Sync, so PostgreSQL runs them as one
 * implicit transaction that commits at the Sync or rolls back on the first
 * error. The callback runs on the loop thread once the Sync has been
 * answered, so a success means the writes are committed.
 *
 * Ownership: a txn belongs to the caller until md_db_submit, then to the
 * pool, which frees it after the callback returns. Statement SQL passed to
 * md_db_txn_add must be a string with static storage (a literal): the pool
 * prepares each distinct pointer once per connection. Parameter values are
 * copied. */
#ifndef MD_DB_H
#define MD_DB_H

#include <stdint.h>

#include <libpq-fe.h>
#include <uv.h>

#include "md_err.h"

typedef struct md_db md_db_t;
typedef struct md_db_txn md_db_txn_t;

/* err is MD_OK, MD_EDB (a statement failed: see sqlstate/message),
 * MD_EDBDOWN (no connection to the database) or MD_EDBTIMEOUT. */
typedef void (*md_db_cb)(md_db_txn_t *txn, int err, void *arg);

typedef struct {
    const char *conninfo; /* copied */
    int pool_size;        /* connections, default 4 */
    uint64_t timeout_ms;  /* a transaction not answered by then fails, default 10000 */
    /* More "-c name=value" server settings for every connection (NULL:
     * none), e.g. "-c mentord.recalc_delay_ms=2000"; copied. */
    const char *extra_options;
} md_db_config_t;

typedef struct {
    int size;
    int up;          /* connections ready or busy */
    int busy;        /* connections running a transaction */
    uint64_t queued; /* transactions waiting for a connection */
    uint64_t done;   /* transactions finished */
    uint64_t failed; /* transactions failed for any reason */
    uint64_t reconnects;
} md_db_stats_t;

MD_WUR int md_db_open(uv_loop_t *loop, const md_db_config_t *cfg, md_db_t **out);
/* Fails queued and running work with MD_EDBDOWN, closes connections; the
 * pool is freed once all handles are closed (run the loop to finish). */
void md_db_close(md_db_t *db);
void md_db_stats(const md_db_t *db, md_db_stats_t *out);
/* Number of transactions queued or running. */
int md_db_pending(const md_db_t *db);

md_db_txn_t *md_db_txn_new(void);
void md_db_txn_free(md_db_txn_t *txn);
/* Append a statement with n text parameters (NULL entries are SQL NULL). */
MD_WUR int md_db_txn_add(md_db_txn_t *txn, const char *sql, int n, const char *const *params);
int md_db_txn_count(const md_db_txn_t *txn);
/* Result of statement i, NULL when it did not run. Owned by the txn. */
PGresult *md_db_txn_result(const md_db_txn_t *txn, int i);
/* For MD_EDB: SQLSTATE and primary message of the failing statement, and
 * its index. */
const char *md_db_txn_sqlstate(const md_db_txn_t *txn);
const char *md_db_txn_message(const md_db_txn_t *txn);
int md_db_txn_failed_index(const md_db_txn_t *txn);
/* The DETAIL of the failing statement's error ("" when none). mentord's own
 * SQL functions put the offending request field there. */
const char *md_db_txn_detail(const md_db_txn_t *txn);

/* A longer (or shorter) timeout than the pool's for this transaction, for
 * the rare big one (a match run's write). The server-side statement timeout
 * is the pool's: raise it too with set_config('statement_timeout', ...,
 * true) as the transaction's first statement. */
void md_db_txn_set_timeout(md_db_txn_t *txn, uint64_t timeout_ms);

/* Queue the transaction; cb runs later on the loop thread, never inside
 * this call. */
void md_db_submit(md_db_t *db, md_db_txn_t *txn, md_db_cb cb, void *arg);

#endif
