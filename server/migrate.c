/* migrate.c: applies the embedded sql/ migrations at start. Blocking libpq is
 * used on purpose: this runs once, before the event loop serves anything, and
 * mentord must not serve a schema older than its code. Each migration runs in
 * its own transaction together with the row recording it, so a migration is
 * either applied and recorded or neither. */
#include "md_migrate.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "md_log.h"

#define MIN_SERVER_VERSION 150000

static uint64_t now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Notices would otherwise go to stderr unformatted. */
static void log_notice(void *arg, const char *message)
{
    (void)arg;
    char q[512];
    char line[480];
    snprintf(line, sizeof(line), "%s", message);
    line[strcspn(line, "\n")] = '\0';
    md_log_warn("db_notice", "message=%s", md_log_quote(q, sizeof(q), line));
}

/* Line (1-based) of the character at 1-based position pos in sql. PostgreSQL
 * counts characters, so UTF-8 continuation bytes are skipped. */
static int line_of_position(const char *sql, long pos)
{
    int line = 1;
    long chars = 0;
    for (const unsigned char *p = (const unsigned char *)sql; *p != '\0'; p++) {
        if ((*p & 0xC0) == 0x80)
            continue;
        if (++chars >= pos)
            break;
        if (*p == '\n')
            line++;
    }
    return line;
}

/* PostgreSQL's message for a failed result: the primary message, the
 * SQLSTATE, the line in sql when the server gave a position, and the detail. */
static void describe_error(PGconn *conn, const PGresult *res, const char *sql, char *out,
                           size_t len)
{
    const char *primary = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (primary == NULL) {
        const char *m = res != NULL ? PQresultErrorMessage(res) : "";
        if (m == NULL || m[0] == '\0')
            m = PQerrorMessage(conn);
        snprintf(out, len, "%s", m);
        out[strcspn(out, "\n")] = '\0';
        return;
    }
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *position = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
    const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
    char where[32] = "";
    if (position != NULL && sql != NULL) {
        char *end = NULL;
        long pos = strtol(position, &end, 10);
        if (end != position && pos > 0)
            snprintf(where, sizeof(where), ", line %d", line_of_position(sql, pos));
    }
    snprintf(out, len, "%s (SQLSTATE %s%s)%s%s", primary, state != NULL ? state : "?", where,
             detail != NULL ? "; " : "", detail != NULL ? detail : "");
}

/* Runs a statement that returns no rows; on failure describes the error. */
static int exec_command(PGconn *conn, const char *sql, char *msg, size_t msglen)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok)
        describe_error(conn, res, sql, msg, msglen);
    PQclear(res);
    return ok ? 0 : -1;
}

/* Runs a query expected to return one boolean; -1 on error or no row. */
static int query_bool(PGconn *conn, const char *sql, char *msg, size_t msglen)
{
    PGresult *res = PQexec(conn, sql);
    int v = -1;
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        describe_error(conn, res, sql, msg, msglen);
    else if (PQntuples(res) == 0)
        snprintf(msg, msglen, "no row returned");
    else
        v = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return v;
}

static int ensure_app_role(PGconn *conn, int login, char *err, size_t errlen)
{
    char msg[512];
    PGresult *res =
        PQexec(conn, "SELECT rolcanlogin FROM pg_catalog.pg_roles WHERE rolname = 'mentord_app'");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        describe_error(conn, res, NULL, msg, sizeof(msg));
        PQclear(res);
        md_errbuf_set(err, errlen, "looking up role mentord_app: %s", msg);
        return MD_EDB;
    }
    int exists = PQntuples(res) > 0;
    int can_login = exists && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);

    if (!exists) {
        char sql[160];
        snprintf(sql, sizeof(sql),
                 "CREATE ROLE mentord_app %s NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE",
                 login ? "LOGIN" : "NOLOGIN");
        res = PQexec(conn, sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
            /* duplicate_object: another instance created it meanwhile. */
            if (state != NULL && strcmp(state, "42710") == 0) {
                PQclear(res);
                return MD_OK;
            }
            describe_error(conn, res, sql, msg, sizeof(msg));
            PQclear(res);
            md_errbuf_set(err, errlen,
                          "role mentord_app does not exist and cannot be created: %s; create it "
                          "(CREATE ROLE mentord_app NOLOGIN) or migrate as a role with CREATEROLE",
                          msg);
            return MD_EDB;
        }
        PQclear(res);
        md_log_info("db_role_created", "role=mentord_app login=%s", login ? "true" : "false");
        return MD_OK;
    }
    if (login && !can_login) {
        /* Granting LOGIN needs CREATEROLE too; without it, the deployment
         * may still connect through another role that is a member. */
        if (exec_command(conn, "ALTER ROLE mentord_app LOGIN", msg, sizeof(msg)) != 0) {
            char q[600];
            md_log_warn("db_role_nologin", "role=mentord_app error=%s",
                        md_log_quote(q, sizeof(q), msg));
        }
    }
    return MD_OK;
}

static int is_applied(const PGresult *applied, const char *name)
{
    for (int i = 0; i < PQntuples(applied); i++) {
        if (strcmp(PQgetvalue(applied, i, 0), name) == 0)
            return 1;
    }
    return 0;
}

static int is_known(const char *name)
{
    for (size_t i = 0; i < md_migrations_count; i++) {
        if (strcmp(md_migrations[i].name, name) == 0)
            return 1;
    }
    return 0;
}

static int apply_one(PGconn *conn, const struct md_migration *m, char *err, size_t errlen)
{
    char msg[768];
    if (exec_command(conn, "BEGIN", msg, sizeof(msg)) != 0) {
        md_errbuf_set(err, errlen, "migration %s failed: %s", m->name, msg);
        return MD_EDB;
    }
    /* Simple-query protocol: the file may hold many statements. */
    PGresult *res = PQexec(conn, m->sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
        describe_error(conn, res, m->sql, msg, sizeof(msg));
        PQclear(res);
        goto rollback;
    }
    PQclear(res);
    if (PQtransactionStatus(conn) != PQTRANS_INTRANS) {
        snprintf(msg, sizeof(msg), "the migration ended its transaction itself");
        goto rollback;
    }
    const char *params[1] = {m->name};
    res = PQexecParams(conn, "INSERT INTO schema_migrations (version) VALUES ($1)", 1, NULL, params,
                       NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        describe_error(conn, res, NULL, msg, sizeof(msg));
        PQclear(res);
        goto rollback;
    }
    PQclear(res);
    if (exec_command(conn, "COMMIT", msg, sizeof(msg)) != 0)
        goto rollback;
    return MD_OK;

rollback:
    res = PQexec(conn, "ROLLBACK");
    PQclear(res);
    md_errbuf_set(err, errlen, "migration %s failed: %s", m->name, msg);
    return MD_EDB;
}

int md_migrate_run(const char *owner_conninfo, int create_app_role_login, char *err, size_t errlen)
{
    char msg[512];
    char sql[128];
    int rc = MD_EDB;
    int locked = 0;
    PGresult *applied = NULL;
    const char *keys[] = {"dbname", "fallback_application_name", NULL};
    const char *values[] = {owner_conninfo, "mentord-migrate", NULL};

    if (owner_conninfo == NULL) {
        md_errbuf_set(err, errlen, "no database connection string");
        return MD_EINVAL;
    }
    for (size_t i = 1; i < md_migrations_count; i++) {
        if (strcmp(md_migrations[i - 1].name, md_migrations[i].name) >= 0) {
            md_errbuf_set(err, errlen, "embedded migrations out of order at %s",
                          md_migrations[i].name);
            return MD_EINTERNAL;
        }
    }

    /* expand_dbname: owner_conninfo is a full connection string or URI. */
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    if (PQstatus(conn) != CONNECTION_OK) {
        md_errbuf_set(err, errlen, "cannot connect to the database to migrate it: %s",
                      PQerrorMessage(conn));
        rc = MD_EDBDOWN;
        goto cleanup;
    }
    PQsetNoticeProcessor(conn, log_notice, NULL);
    int version = PQserverVersion(conn);
    if (version < MIN_SERVER_VERSION) {
        md_errbuf_set(err, errlen,
                      "PostgreSQL 15 or newer is required; the server is version %d.%d",
                      version / 10000, version % 10000);
        goto cleanup;
    }
    if (exec_command(conn, "SET client_min_messages = warning", msg, sizeof(msg)) != 0) {
        md_errbuf_set(err, errlen, "preparing to migrate: %s", msg);
        goto cleanup;
    }

    /* The lock comes first so that concurrent instances also agree on who
     * creates the role. */
    snprintf(sql, sizeof(sql), "SELECT pg_try_advisory_lock(%lld)", MD_MIGRATE_LOCK_KEY);
    int got = query_bool(conn, sql, msg, sizeof(msg));
    if (got == 0) {
        md_log_info("migration_lock_wait", "reason=\"another instance is migrating\"");
        snprintf(sql, sizeof(sql), "SELECT pg_advisory_lock(%lld) IS NOT NULL",
                 MD_MIGRATE_LOCK_KEY);
        got = query_bool(conn, sql, msg, sizeof(msg));
    }
    if (got != 1) {
        md_errbuf_set(err, errlen, "taking the migration lock: %s", msg);
        goto cleanup;
    }
    locked = 1;

    rc = ensure_app_role(conn, create_app_role_login, err, errlen);
    if (rc != MD_OK)
        goto cleanup;
    rc = MD_EDB;

    if (exec_command(conn,
                     "CREATE TABLE IF NOT EXISTS schema_migrations ("
                     " version text PRIMARY KEY,"
                     " applied_at timestamptz NOT NULL DEFAULT now())",
                     msg, sizeof(msg)) != 0) {
        md_errbuf_set(err, errlen, "creating schema_migrations: %s", msg);
        goto cleanup;
    }
    applied = PQexec(conn, "SELECT version FROM schema_migrations ORDER BY version");
    if (PQresultStatus(applied) != PGRES_TUPLES_OK) {
        describe_error(conn, applied, NULL, msg, sizeof(msg));
        md_errbuf_set(err, errlen, "reading schema_migrations: %s", msg);
        goto cleanup;
    }
    for (int i = 0; i < PQntuples(applied); i++) {
        const char *v = PQgetvalue(applied, i, 0);
        if (!is_known(v)) {
            /* A newer mentord migrated this database; this one may still
             * work if the change was additive, so it only warns. */
            char q[256];
            md_log_warn("migration_unknown", "name=%s", md_log_quote(q, sizeof(q), v));
        }
    }

    size_t count = 0;
    for (size_t i = 0; i < md_migrations_count; i++) {
        const struct md_migration *m = &md_migrations[i];
        if (is_applied(applied, m->name))
            continue;
        uint64_t t0 = now_ms();
        rc = apply_one(conn, m, err, errlen);
        if (rc != MD_OK)
            goto cleanup;
        rc = MD_EDB;
        char q[256];
        md_log_info("migration_applied", "name=%s ms=%llu", md_log_quote(q, sizeof(q), m->name),
                    (unsigned long long)(now_ms() - t0));
        count++;
    }

    snprintf(sql, sizeof(sql), "SELECT pg_advisory_unlock(%lld)", MD_MIGRATE_LOCK_KEY);
    if (query_bool(conn, sql, msg, sizeof(msg)) != 1) {
        md_errbuf_set(err, errlen, "releasing the migration lock: %s", msg);
        goto cleanup;
    }
    locked = 0;
    md_log_info("migrations_done", "applied=%zu total=%zu", count, md_migrations_count);

    /* The safety invariant: tenant isolation rests on row-level security,
     * which a superuser or a BYPASSRLS role skips. */
    PGresult *res = PQexec(conn, "SELECT rolsuper, rolbypassrls FROM pg_catalog.pg_roles"
                                 " WHERE rolname = 'mentord_app'");
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        describe_error(conn, res, NULL, msg, sizeof(msg));
        PQclear(res);
        md_errbuf_set(err, errlen, "checking role mentord_app: %s",
                      msg[0] != '\0' ? msg : "role not found");
        goto cleanup;
    }
    int super = strcmp(PQgetvalue(res, 0, 0), "f") != 0;
    int bypass = strcmp(PQgetvalue(res, 0, 1), "f") != 0;
    PQclear(res);
    if (super || bypass) {
        md_errbuf_set(
            err, errlen,
            "role mentord_app is%s%s; row-level security would not separate organizations; "
            "run ALTER ROLE mentord_app NOSUPERUSER NOBYPASSRLS",
            super ? " SUPERUSER" : "", bypass ? " BYPASSRLS" : "");
        goto cleanup;
    }
    rc = MD_OK;

cleanup:
    if (locked) {
        /* After a failure the session lock still goes with the connection;
         * releasing it first just makes the hand-over prompt. */
        snprintf(sql, sizeof(sql), "SELECT pg_advisory_unlock(%lld)", MD_MIGRATE_LOCK_KEY);
        PGresult *u = PQexec(conn, sql);
        PQclear(u);
    }
    PQclear(applied);
    PQfinish(conn);
    return rc;
}
