/* main.c: mentord's command line, start-up and shutdown.
 *
 * DESIGN: start-up runs before the loop serves anyone, so it may block:
 * initdb, waiting for the embedded PostgreSQL, migrations and the first
 * argon2 hash happen here, in order. Then the loop owns everything: the
 * listener, the connections, the database pool and the PostgreSQL child.
 * SIGINT/SIGTERM stop accepting, let in-flight requests finish (bounded by a
 * drain deadline), close the pool, and stop the embedded PostgreSQL. The
 * background worker (worker.c) starts after the pool and has threads of
 * its own: it is asked to stop with the signal and joined before the pool
 * closes. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>
#include <uv.h>

#include "md_certs.h"
#include "md_crypto.h"
#include "md_db.h"
#include "md_log.h"
#include "md_metrics.h"
#include "md_migrate.h"
#include "md_model.h"
#include "md_pgembed.h"
#include "md_server.h"
#include "md_tls.h"
#include "md_worker.h"

#define DRAIN_DEADLINE_MS 15000

typedef struct {
    const char *data_dir;
    const char *db_url;
    const char *db_owner_url;
    const char *cert;
    const char *key;
    const char *pg_bindir;
    int pool_size;
    md_server_config_t server;
    /* init */
    const char *org_slug;
    const char *org_name;
    const char *admin_email;
    const char *admin_name;
    int password_stdin;
    const char *password_file;
    int check_config;
    const char *metrics_listen;
    int log_level;
    int worker_on;
    md_worker_config_t worker;
    const char *source[32]; /* where each setting came from, by index in settings[] */
} options_t;

static uv_loop_t *loop;
static md_server_t server;
static md_db_t *db;
static md_pgembed_t *pg;
static uv_signal_t sig_int, sig_term, sig_hup;
static md_metrics_t *metrics; /* NULL unless --metrics-listen */
static md_worker_t *worker;   /* NULL with --worker off */
/* The certificate and key files, read again on SIGHUP. */
static char tls_cert_path[4096], tls_key_path[4096];
static uv_timer_t drain_timer;
static int exit_code;
static int stopping;

static int conninfo_valid(const char *flag, const char *value);

static void usage(FILE *f)
{
    fprintf(f, "usage: mentord [OPTIONS]                 serve\n"
               "       mentord init [OPTIONS] --org-slug SLUG --org-name NAME --admin-email EMAIL\n"
               "                    [--admin-name NAME] (--password-stdin | --password-file FILE)\n"
               "\n"
               "Options:\n"
               "  --data-dir DIR      state directory: embedded PostgreSQL, TLS certificates\n"
               "                      (env MENTORD_DATA_DIR)\n"
               "  --db URL            use this PostgreSQL instead of the embedded one; the role\n"
               "                      should be mentord_app (env MENTORD_DB_URL)\n"
               "  --db-owner URL      connection that owns the schema and runs migrations\n"
               "                      (default: --db; env MENTORD_DB_OWNER_URL)\n"
               "  --listen HOST:PORT  address to serve on (default 127.0.0.1:7411; env "
               "MENTORD_LISTEN)\n"
               "  --cert FILE --key FILE  TLS certificate chain and key (default: a private CA\n"
               "                      and certificate created in DATA_DIR/tls)\n"
               "  --pg-bindir DIR     where PostgreSQL's programs are\n"
               "  --pool-size N       database connections (default 4)\n"
               "  --max-frame BYTES   largest request frame (default 1048576)\n"
               "  --max-in-flight N   unanswered requests per connection (default 64)\n"
               "  --session-ttl SECS  session lifetime (default 43200)\n"
               "  --session-idle SECS a session unused this long expires (default 7200)\n"
               "  --max-address-failures N  failed logins per source address in 15 minutes\n"
               "                      before it must wait (default 50)\n"
               "  --idle-timeout SECS close connections idle this long (default 600)\n"
               "  --login-deadline SECS close connections not logged in this long after\n"
               "                      the TLS handshake (default 10)\n"
               "  --log-level LEVEL   debug, info, warn or error (default info)\n"
               "  --config FILE       read settings from FILE first (env MENTORD_CONFIG): lines\n"
               "                      'name = value' with the names above, e.g. pool-size = 8;\n"
               "                      then the environment (MENTORD_POOL_SIZE, ...), then flags\n"
               "  --check-config      check the settings, print them (secrets masked), exit\n"
               "  --metrics-listen HOST:PORT  serve GET /metrics (Prometheus) and /healthz\n"
               "                      over plain HTTP there; keep it on a local address\n"
               "  --worker on|off     run the background worker: match recalculation and live\n"
               "                      notification pushes (default on)\n"
               "  --recalc-delay MS   gather changes to a program this long before recalculating\n"
               "                      its proposals (default 2000, 0-600000)\n"
               "  --worker-poll SECS  look at the recalculation queue and run housekeeping at\n"
               "                      least this often (default 10)\n"
               "  --worker-lease SECS a claimed recalculation is kept from other instances this\n"
               "                      long; after a crash it is taken over then (default 300)\n"
               "  --version, --help\n");
}

static int parse_long(const char *s, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return 0;
    *out = v;
    return 1;
}

/* ---- settings: config file, environment, flags ------------------------
 *
 * Every server setting is one row here, known by the same name as flag
 * ("--pool-size"), config file key ("pool-size" or "pool_size") and
 * environment variable ("MENTORD_POOL_SIZE", with the older names kept for
 * the database URLs). Later sources win: defaults, then the config file,
 * then the environment, then the command line. */

#define SRC_DEFAULT "default"
#define SRC_CONFIG  "config"
#define SRC_ENV     "environment"
#define SRC_FLAG    "flag"

typedef enum { SET_TEXT, SET_NUM, SET_LEVEL, SET_BOOL } setting_kind_t;

typedef struct {
    const char *name;
    const char *env;
    setting_kind_t kind;
    long min, max;
    int secret; /* a connection string that may hold a password */
} setting_t;

static const setting_t settings[] = {
    {"data-dir", "MENTORD_DATA_DIR", SET_TEXT, 0, 0, 0},
    {"db", "MENTORD_DB_URL", SET_TEXT, 0, 0, 1},
    {"db-owner", "MENTORD_DB_OWNER_URL", SET_TEXT, 0, 0, 1},
    {"listen", "MENTORD_LISTEN", SET_TEXT, 0, 0, 0},
    {"cert", "MENTORD_CERT", SET_TEXT, 0, 0, 0},
    {"key", "MENTORD_KEY", SET_TEXT, 0, 0, 0},
    {"pg-bindir", "MENTORD_PG_BINDIR", SET_TEXT, 0, 0, 0},
    {"pool-size", "MENTORD_POOL_SIZE", SET_NUM, 1, 256, 0},
    {"max-frame", "MENTORD_MAX_FRAME", SET_NUM, 1024, 64L * 1024 * 1024, 0},
    {"max-in-flight", "MENTORD_MAX_IN_FLIGHT", SET_NUM, 1, 10000, 0},
    {"session-ttl", "MENTORD_SESSION_TTL", SET_NUM, 60, 90L * 24 * 3600, 0},
    {"session-idle", "MENTORD_SESSION_IDLE", SET_NUM, 2, 90L * 24 * 3600, 0},
    {"max-address-failures", "MENTORD_MAX_ADDRESS_FAILURES", SET_NUM, 1, 1000000, 0},
    {"login-deadline", "MENTORD_LOGIN_DEADLINE", SET_NUM, 1, 3600, 0},
    {"idle-timeout", "MENTORD_IDLE_TIMEOUT", SET_NUM, 1, 7L * 24 * 3600, 0},
    {"log-level", "MENTORD_LOG_LEVEL", SET_LEVEL, 0, 0, 0},
    {"metrics-listen", "MENTORD_METRICS_LISTEN", SET_TEXT, 0, 0, 0},
    {"worker", "MENTORD_WORKER", SET_BOOL, 0, 0, 0},
    {"recalc-delay", "MENTORD_RECALC_DELAY", SET_NUM, 0, 600000, 0},
    {"worker-poll", "MENTORD_WORKER_POLL", SET_NUM, 1, 3600, 0},
    {"worker-lease", "MENTORD_WORKER_LEASE", SET_NUM, 2, 86400, 0},
};
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

/* Values read from the config file live as long as the process. */
static char *owned_values[NSETTINGS * 2];
static size_t n_owned;

static const setting_t *find_setting(const char *name)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        const char *a = settings[i].name, *b = name;
        while (*a != '\0' && (*a == *b || (*a == '-' && *b == '_'))) {
            a++;
            b++;
        }
        if (*a == '\0' && *b == '\0')
            return &settings[i];
    }
    return NULL;
}

/* Store value for setting st; 0, or -1 with err filled. */
static int apply_setting(options_t *o, const setting_t *st, const char *v, const char *source,
                         char *err, size_t errlen)
{
    long n = 0;
    if (st->kind == SET_NUM && !parse_long(v, st->min, st->max, &n)) {
        snprintf(err, errlen, "wants a number from %ld to %ld, not '%s'", st->min, st->max, v);
        return -1;
    }
    if (st->kind == SET_LEVEL) {
        n = md_log_parse_level(v);
        if (n < 0) {
            snprintf(err, errlen, "unknown log level '%s' (debug, info, warn, error)", v);
            return -1;
        }
    }
    if (st->kind == SET_BOOL) {
        if (strcmp(v, "on") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 ||
            strcmp(v, "1") == 0) {
            n = 1;
        } else if (strcmp(v, "off") == 0 || strcmp(v, "false") == 0 || strcmp(v, "no") == 0 ||
                   strcmp(v, "0") == 0) {
            n = 0;
        } else {
            snprintf(err, errlen, "wants on or off, not '%s'", v);
            return -1;
        }
    }
    if (st->kind == SET_TEXT && v[0] == '\0') {
        snprintf(err, errlen, "needs a value");
        return -1;
    }
    const char *name = st->name;
    if (strcmp(name, "data-dir") == 0)
        o->data_dir = v;
    else if (strcmp(name, "db") == 0)
        o->db_url = v;
    else if (strcmp(name, "db-owner") == 0)
        o->db_owner_url = v;
    else if (strcmp(name, "listen") == 0)
        snprintf(o->server.listen, sizeof(o->server.listen), "%s", v);
    else if (strcmp(name, "cert") == 0)
        o->cert = v;
    else if (strcmp(name, "key") == 0)
        o->key = v;
    else if (strcmp(name, "pg-bindir") == 0)
        o->pg_bindir = v;
    else if (strcmp(name, "pool-size") == 0)
        o->pool_size = (int)n;
    else if (strcmp(name, "max-frame") == 0)
        o->server.max_frame = (size_t)n;
    else if (strcmp(name, "max-in-flight") == 0)
        o->server.max_in_flight = (uint32_t)n;
    else if (strcmp(name, "session-ttl") == 0)
        o->server.session_ttl_seconds = (int)n;
    else if (strcmp(name, "session-idle") == 0)
        o->server.session_idle_seconds = (int)n;
    else if (strcmp(name, "max-address-failures") == 0)
        o->server.max_address_failures = (int)n;
    else if (strcmp(name, "login-deadline") == 0)
        o->server.login_ms = (uint64_t)n * 1000;
    else if (strcmp(name, "idle-timeout") == 0)
        o->server.idle_ms = (uint64_t)n * 1000;
    else if (strcmp(name, "log-level") == 0)
        o->log_level = (int)n;
    else if (strcmp(name, "metrics-listen") == 0)
        o->metrics_listen = v;
    else if (strcmp(name, "worker") == 0)
        o->worker_on = (int)n;
    else if (strcmp(name, "recalc-delay") == 0)
        o->worker.recalc_delay_ms = (uint32_t)n;
    else if (strcmp(name, "worker-poll") == 0)
        o->worker.poll_seconds = (uint32_t)n;
    else if (strcmp(name, "worker-lease") == 0)
        o->worker.lease_seconds = (uint32_t)n;
    o->source[st - settings] = source;
    return 0;
}

typedef struct {
    options_t *o;
    char err[300];
} ini_ctx_t;

static int ini_entry(void *user, const char *section, const char *name, const char *value)
{
    ini_ctx_t *ctx = user;
    if (section[0] != '\0' && strcmp(section, "mentord") != 0) {
        snprintf(ctx->err, sizeof(ctx->err),
                 "unknown section [%s] (settings go at the top or "
                 "under [mentord])",
                 section);
        return 0;
    }
    const setting_t *st = find_setting(name);
    if (st == NULL) {
        snprintf(ctx->err, sizeof(ctx->err), "unknown setting '%s'", name);
        return 0;
    }
    char *copy = n_owned < sizeof(owned_values) / sizeof(owned_values[0]) ? strdup(value) : NULL;
    if (copy == NULL) {
        snprintf(ctx->err, sizeof(ctx->err), "too many settings (or out of memory)");
        return 0;
    }
    owned_values[n_owned++] = copy;
    char e[256];
    if (apply_setting(ctx->o, st, copy, SRC_CONFIG, e, sizeof(e)) != 0) {
        snprintf(ctx->err, sizeof(ctx->err), "%s: %s", st->name, e);
        return 0;
    }
    return 1;
}

/* The config file (--config FILE, else MENTORD_CONFIG), then the
 * environment. Returns 0, or 2 after reporting a problem. */
static int load_config_and_env(int argc, char **argv, options_t *o)
{
    const char *path = getenv("MENTORD_CONFIG");
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--config") == 0)
            path = argv[i + 1];
    }
    if (path != NULL && path[0] != '\0') {
        ini_ctx_t ctx = {.o = o, .err = ""};
        int rc = ini_parse(path, ini_entry, &ctx);
        if (rc < 0) {
            fprintf(stderr, "mentord: cannot read the config file %s\n", path);
            return 2;
        }
        if (rc > 0) {
            fprintf(stderr, "mentord: %s line %d: %s\n", path, rc,
                    ctx.err[0] ? ctx.err : "not a 'key = value' line");
            return 2;
        }
    }
    for (size_t i = 0; i < NSETTINGS; i++) {
        const char *v = getenv(settings[i].env);
        char err[256];
        if (v == NULL)
            continue;
        if (apply_setting(o, &settings[i], v, SRC_ENV, err, sizeof(err)) != 0) {
            fprintf(stderr, "mentord: %s: %s\n", settings[i].env, err);
            return 2;
        }
    }
    return 0;
}

/* A connection string with its password replaced, for printing. */
static void masked_conninfo(const char *url, char *out, size_t len)
{
    char *errmsg = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &errmsg);
    PQfreemem(errmsg);
    if (opts == NULL) {
        snprintf(out, len, "(not a valid connection string)");
        return;
    }
    size_t used = 0;
    out[0] = '\0';
    for (PQconninfoOption *p = opts; p->keyword != NULL && used < len; p++) {
        if (p->val == NULL || p->val[0] == '\0')
            continue;
        int secret = strcmp(p->keyword, "password") == 0;
        int w = snprintf(out + used, len - used, "%s%s=%s", used ? " " : "", p->keyword,
                         secret ? "********" : p->val);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    PQconninfoFree(opts);
}

/* --check-config: the effective settings, one per line, with where each
 * came from; secrets masked. */
static void print_settings(const options_t *o)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        const setting_t *st = &settings[i];
        char buf[1024];
        const char *v = NULL;
        const char *name = st->name;
        if (strcmp(name, "data-dir") == 0)
            v = o->data_dir;
        else if (strcmp(name, "db") == 0)
            v = o->db_url;
        else if (strcmp(name, "db-owner") == 0)
            v = o->db_owner_url;
        else if (strcmp(name, "listen") == 0)
            v = o->server.listen;
        else if (strcmp(name, "cert") == 0)
            v = o->cert;
        else if (strcmp(name, "key") == 0)
            v = o->key;
        else if (strcmp(name, "pg-bindir") == 0)
            v = o->pg_bindir;
        else if (strcmp(name, "log-level") == 0)
            v = md_log_level_name((md_log_level_t)o->log_level);
        else if (strcmp(name, "metrics-listen") == 0)
            v = o->metrics_listen;
        else if (strcmp(name, "worker") == 0)
            v = o->worker_on ? "on" : "off";
        if (st->secret && v != NULL) {
            masked_conninfo(v, buf, sizeof(buf));
            v = buf;
        } else if (st->kind == SET_NUM) {
            long n = 0;
            if (strcmp(name, "pool-size") == 0)
                n = o->pool_size;
            else if (strcmp(name, "max-frame") == 0)
                n = (long)o->server.max_frame;
            else if (strcmp(name, "max-in-flight") == 0)
                n = (long)o->server.max_in_flight;
            else if (strcmp(name, "session-ttl") == 0)
                n = o->server.session_ttl_seconds;
            else if (strcmp(name, "session-idle") == 0)
                n = o->server.session_idle_seconds;
            else if (strcmp(name, "max-address-failures") == 0)
                n = o->server.max_address_failures;
            else if (strcmp(name, "login-deadline") == 0)
                n = (long)(o->server.login_ms / 1000);
            else if (strcmp(name, "idle-timeout") == 0)
                n = (long)(o->server.idle_ms / 1000);
            else if (strcmp(name, "recalc-delay") == 0)
                n = (long)o->worker.recalc_delay_ms;
            else if (strcmp(name, "worker-poll") == 0)
                n = (long)o->worker.poll_seconds;
            else if (strcmp(name, "worker-lease") == 0)
                n = (long)o->worker.lease_seconds;
            snprintf(buf, sizeof(buf), "%ld", n);
            v = buf;
        }
        printf("%-22s = %-40s (%s)\n", name, v != NULL ? v : "-",
               o->source[i] != NULL ? o->source[i] : SRC_DEFAULT);
    }
}

/* Returns 0 to continue, 1 to exit 0, 2 for a usage error. */
static int parse_args(int argc, char **argv, int first, options_t *o)
{
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE                                                                                 \
    do {                                                                                           \
        if (v == NULL) {                                                                           \
            fprintf(stderr, "mentord: %s needs a value\n", a);                                     \
            return 2;                                                                              \
        }                                                                                          \
        i++;                                                                                       \
    } while (0)
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 1;
        } else if (strcmp(a, "--version") == 0) {
            printf("mentord %s\n", MENTORD_VERSION);
            return 1;
        } else if (strcmp(a, "--config") == 0) {
            NEED_VALUE; /* read before the other options, by load_config */
        } else if (strcmp(a, "--check-config") == 0) {
            o->check_config = 1;
        } else if (strncmp(a, "--", 2) == 0 && find_setting(a + 2) != NULL) {
            NEED_VALUE;
            char err[256];
            if (apply_setting(o, find_setting(a + 2), v, SRC_FLAG, err, sizeof(err)) != 0) {
                fprintf(stderr, "mentord: %s: %s\n", a, err);
                return 2;
            }
        } else if (strcmp(a, "--org-slug") == 0) {
            NEED_VALUE;
            o->org_slug = v;
        } else if (strcmp(a, "--org-name") == 0) {
            NEED_VALUE;
            o->org_name = v;
        } else if (strcmp(a, "--admin-email") == 0) {
            NEED_VALUE;
            o->admin_email = v;
        } else if (strcmp(a, "--admin-name") == 0) {
            NEED_VALUE;
            o->admin_name = v;
        } else if (strcmp(a, "--password-stdin") == 0) {
            o->password_stdin = 1;
        } else if (strcmp(a, "--password-file") == 0) {
            NEED_VALUE;
            o->password_file = v;
        } else {
            fprintf(stderr, "mentord: unknown option '%s' (see mentord --help)\n", a);
            return 2;
        }
#undef NEED_VALUE
    }
    if ((o->cert == NULL) != (o->key == NULL)) {
        fprintf(stderr, "mentord: --cert and --key go together\n");
        return 2;
    }
    if (o->db_url == NULL && o->data_dir == NULL) {
        fprintf(stderr, "mentord: give --data-dir DIR (embedded PostgreSQL) or --db URL\n");
        return 2;
    }
    if (o->db_url != NULL && !conninfo_valid("--db", o->db_url))
        return 2;
    if (o->db_owner_url != NULL && !conninfo_valid("--db-owner", o->db_owner_url))
        return 2;
    if (o->cert == NULL && o->data_dir == NULL) {
        fprintf(stderr, "mentord: give --cert/--key, or --data-dir for a generated certificate\n");
        return 2;
    }
    return 0;
}

static void pg_exited(md_pgembed_t *p, int64_t status, int signal)
{
    (void)p;
    md_log_error("postgres_exited", "status=%lld signal=%d", (long long)status, signal);
    fprintf(stderr, "mentord: the embedded PostgreSQL exited unexpectedly; see its log\n");
    exit_code = 1;
    stopping = 1;
    uv_stop(loop);
}

/* Starts the database side: the embedded PostgreSQL when no URL is given,
 * then migrations. Fills the connection strings. */
static int start_database(const options_t *o, int embedded_login, const char **owner,
                          const char **app)
{
    char err[1024];
    if (o->db_url == NULL) {
        if (md_pgembed_prepare(pg, o->data_dir, o->pg_bindir, err, sizeof(err)) != MD_OK ||
            md_pgembed_start(pg, loop, pg_exited, err, sizeof(err)) != MD_OK) {
            fprintf(stderr, "mentord: %s\n", err);
            return 1;
        }
        *owner = md_pgembed_owner_conninfo(pg);
        *app = md_pgembed_app_conninfo(pg);
    } else {
        *app = o->db_url;
        *owner = o->db_owner_url ? o->db_owner_url : o->db_url;
        embedded_login = 0;
    }
    if (md_migrate_run(*owner, embedded_login, err, sizeof(err)) != MD_OK) {
        fprintf(stderr, "mentord: %s\n", err);
        return 1;
    }
    return 0;
}

/* Checks a connection string's syntax. libpq's message names the problem
 * but may quote the whole string, password included, so every copy of the
 * string is cut out of it before it is printed. */
static int conninfo_valid(const char *flag, const char *value)
{
    char *errmsg = NULL;
    PQconninfoOption *opts = PQconninfoParse(value, &errmsg);
    if (opts != NULL) {
        PQconninfoFree(opts);
        return 1;
    }
    char msg[1024] = "";
    size_t o = 0, vlen = strlen(value);
    for (const char *p = errmsg ? errmsg : ""; *p != '\0' && o + 16 < sizeof(msg);) {
        if (vlen > 0 && strncmp(p, value, vlen) == 0) {
            o += (size_t)snprintf(msg + o, sizeof(msg) - o, "<%s>", flag);
            p += vlen;
        } else {
            msg[o++] = *p == '\n' ? ' ' : *p;
            p++;
        }
    }
    msg[o] = '\0';
    fprintf(stderr, "mentord: %s is not a valid database connection string or URI: %s\n", flag,
            msg);
    PQfreemem(errmsg);
    return 0;
}

/* Connects once as the runtime role before serving: a runtime connection
 * that cannot work should stop mentord now with a clear message, not make
 * every request answer UNAVAILABLE. Also refuses a runtime role that would
 * bypass row-level security (a superuser or BYPASSRLS role). */
static int check_runtime_connection(const char *app)
{
    PGconn *c = PQconnectdb(app);
    if (PQstatus(c) != CONNECTION_OK) {
        char msg[600];
        md_errbuf_set(msg, sizeof(msg), "%s", PQerrorMessage(c));
        fprintf(stderr, "mentord: cannot connect to the database as the runtime role: %s\n", msg);
        PQfinish(c);
        return 0;
    }
    int ok = 0;
    PGresult *r = PQexec(c, "SELECT current_user, rolsuper, rolbypassrls FROM pg_roles "
                            "WHERE rolname = current_user");
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        if (PQgetvalue(r, 0, 1)[0] == 't' || PQgetvalue(r, 0, 2)[0] == 't') {
            fprintf(stderr,
                    "mentord: the runtime database role '%s' is a superuser or has BYPASSRLS; "
                    "row-level security would not isolate organizations. Connect as "
                    "mentord_app (see README)\n",
                    PQgetvalue(r, 0, 0));
        } else {
            ok = 1;
        }
    } else {
        fprintf(stderr, "mentord: cannot check the runtime database role: %s",
                PQresultErrorMessage(r));
    }
    PQclear(r);
    PQfinish(c);
    return ok;
}

static int read_password(const options_t *o, char *buf, size_t len)
{
    FILE *f = NULL;
    if (o->password_file != NULL) {
        f = fopen(o->password_file, "r");
        if (f == NULL) {
            fprintf(stderr, "mentord: cannot open %s: %s\n", o->password_file, strerror(errno));
            return 0;
        }
    } else if (o->password_stdin) {
        f = stdin;
    } else {
        fprintf(stderr, "mentord: give --password-stdin or --password-file FILE\n");
        return 0;
    }
    int ok = fgets(buf, (int)len, f) != NULL;
    if (f != stdin)
        fclose(f);
    if (!ok) {
        fprintf(stderr, "mentord: no password given\n");
        return 0;
    }
    buf[strcspn(buf, "\r\n")] = '\0';
    size_t n = strlen(buf);
    if (n < 10 || n > 1024) {
        fprintf(stderr, "mentord: the admin password must be 10 to 1024 characters long\n");
        return 0;
    }
    return 1;
}

static int run_init(const options_t *o)
{
    char email[256];
    if (o->org_slug == NULL || !md_model_slug(o->org_slug)) {
        fprintf(stderr, "mentord: --org-slug wants 2-40 characters of a-z, 0-9 and '-', "
                        "starting with a letter\n");
        return 2;
    }
    if (o->org_name == NULL || !md_model_name(o->org_name)) {
        fprintf(stderr, "mentord: --org-name wants 1-200 printable characters\n");
        return 2;
    }
    if (o->admin_email == NULL || !md_model_email(o->admin_email, email, sizeof(email))) {
        fprintf(stderr, "mentord: --admin-email wants a valid e-mail address\n");
        return 2;
    }
    const char *admin_name = o->admin_name ? o->admin_name : email;
    if (!md_model_name(admin_name)) {
        fprintf(stderr, "mentord: --admin-name wants 1-200 printable characters\n");
        return 2;
    }
    char password[1100];
    if (!read_password(o, password, sizeof(password)))
        return 2;
    char hash[MD_PWHASH_MAX];
    int rc = md_crypto_hash_password(password, hash, sizeof(hash));
    OPENSSL_cleanse(password, sizeof(password));
    if (rc != MD_OK) {
        fprintf(stderr, "mentord: password hashing failed\n");
        return 1;
    }
    const char *owner, *app;
    if (start_database(o, 1, &owner, &app) != 0)
        return 1;
    if (o->cert == NULL) {
        char cert[4096], key[4096], ca[4096], err[512];
        if (md_certs_ensure(o->data_dir, cert, key, ca, sizeof(cert), err, sizeof(err)) != MD_OK) {
            fprintf(stderr, "mentord: %s\n", err);
            return 1;
        }
    }
    int result = 1;
    PGconn *c = PQconnectdb(owner);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "mentord: cannot connect to the database: %s", PQerrorMessage(c));
        PQfinish(c);
        return 1;
    }
    const char *p[5] = {o->org_slug, o->org_name, email, admin_name, hash};
    PGresult *r = PQexecParams(c,
                               "SELECT org_id, user_id FROM md_org_create($1, $2, $3, $4, $5, "
                               "NULL, true)",
                               5, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        printf("Initialized: organization '%s' (id %s) with admin %s (user id %s), who is also "
               "the server operator.\n",
               o->org_slug, PQgetvalue(r, 0, 0), email, PQgetvalue(r, 0, 1));
        result = 0;
    } else {
        const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (st != NULL && strcmp(st, "MDA09") == 0)
            fprintf(stderr, "mentord: the server is already initialized; nothing was changed\n");
        else
            fprintf(stderr, "mentord: initialization failed: %s", PQresultErrorMessage(r));
    }
    PQclear(r);
    PQfinish(c);
    return result;
}

static void handle_closed_noop(uv_handle_t *h)
{
    (void)h;
}

static void drained(md_server_t *srv)
{
    (void)srv;
    md_log_info("shutdown_drained", "%s", "ok");
    uv_stop(loop);
}

static void drain_deadline(uv_timer_t *t)
{
    (void)t;
    md_log_warn("shutdown_deadline", "connections=%d", server.stats.connections);
    uv_stop(loop);
}

static void on_signal(uv_signal_t *h, int signum)
{
    (void)h;
    if (stopping) {
        md_log_warn("shutdown_forced", "signal=%d", signum);
        uv_stop(loop);
        return;
    }
    stopping = 1;
    md_metrics_stop(metrics);
    metrics = NULL;
    md_worker_shutdown(worker);
    md_log_info("signal", "signal=%d action=shutdown", signum);
    uv_timer_start(&drain_timer, drain_deadline, DRAIN_DEADLINE_MS, 0);
    md_server_shutdown(&server, drained);
}

/* SIGHUP: load the certificate and key again. New connections get the new
 * pair; live ones go on with theirs. A pair that does not load is logged
 * and the old one kept. */
static void on_hup(uv_signal_t *h, int signum)
{
    (void)h;
    (void)signum;
    char err[512], q[600];
    SSL_CTX *ctx = md_tls_server_ctx(tls_cert_path, tls_key_path, err, sizeof(err));
    if (ctx == NULL) {
        md_log_error("tls_reload_failed", "cert=%s error=%s action=kept_previous", tls_cert_path,
                     md_log_quote(q, sizeof(q), err));
        return;
    }
    SSL_CTX_free(md_server_swap_tls(&server, ctx));
    md_log_info("tls_reloaded", "cert=%s", tls_cert_path);
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h) && h->type != UV_PROCESS)
        uv_close(h, NULL);
}

static int run_server(options_t *o)
{
    const char *owner, *app;
    if (start_database(o, 1, &owner, &app) != 0)
        return 1;
    if (!check_runtime_connection(app))
        return 1;
    char certbuf[4096], keybuf[4096], cabuf[4096], err[1024];
    const char *cert = o->cert, *key = o->key;
    if (cert == NULL) {
        if (md_certs_ensure(o->data_dir, certbuf, keybuf, cabuf, sizeof(certbuf), err,
                            sizeof(err)) != MD_OK) {
            fprintf(stderr, "mentord: %s\n", err);
            return 1;
        }
        cert = certbuf;
        key = keybuf;
    }
    snprintf(tls_cert_path, sizeof(tls_cert_path), "%s", cert);
    snprintf(tls_key_path, sizeof(tls_key_path), "%s", key);
    SSL_CTX *ctx = md_tls_server_ctx(cert, key, err, sizeof(err));
    if (ctx == NULL) {
        fprintf(stderr, "mentord: TLS setup failed: %s\n", err);
        return 1;
    }
    if (md_crypto_init() != MD_OK) {
        fprintf(stderr, "mentord: password hashing self-test failed\n");
        SSL_CTX_free(ctx);
        return 1;
    }
    /* The pool's sessions queue recalculations (triggers read the delay). */
    char pool_options[64];
    snprintf(pool_options, sizeof(pool_options), "-c mentord.recalc_delay_ms=%u",
             o->worker.recalc_delay_ms);
    md_db_config_t dbc = {.conninfo = app,
                          .pool_size = o->pool_size,
                          .timeout_ms = 10000,
                          .extra_options = pool_options};
    if (md_db_open(loop, &dbc, &db) != MD_OK) {
        fprintf(stderr, "mentord: database pool setup failed\n");
        SSL_CTX_free(ctx);
        return 1;
    }
    if (md_server_start(&server, loop, &o->server, ctx, db, err, sizeof(err)) != MD_OK) {
        fprintf(stderr, "mentord: %s\n", err);
        md_db_close(db);
        SSL_CTX_free(ctx);
        return 1;
    }
    if (o->metrics_listen != NULL &&
        md_metrics_start(loop, o->metrics_listen, &server, &metrics, err, sizeof(err)) != MD_OK) {
        fprintf(stderr, "mentord: %s\n", err);
        md_server_shutdown(&server, NULL);
        md_db_close(db);
        uv_run(loop, UV_RUN_NOWAIT);
        SSL_CTX_free(md_server_swap_tls(&server, NULL));
        return 1;
    }
    if (metrics != NULL)
        md_log_info("metrics_listening", "addr=%s", o->metrics_listen);
    if (o->worker_on) {
        o->worker.conninfo = app;
        if (md_worker_start(&server, &o->worker, &worker, err, sizeof(err)) != MD_OK) {
            fprintf(stderr, "mentord: %s\n", err);
            md_metrics_stop(metrics);
            metrics = NULL;
            md_server_shutdown(&server, NULL);
            md_db_close(db);
            uv_run(loop, UV_RUN_NOWAIT);
            SSL_CTX_free(md_server_swap_tls(&server, NULL));
            return 1;
        }
    }
    uv_signal_init(loop, &sig_int);
    uv_signal_init(loop, &sig_term);
    uv_signal_start(&sig_int, on_signal, SIGINT);
    uv_signal_start(&sig_term, on_signal, SIGTERM);
    uv_signal_init(loop, &sig_hup);
    uv_signal_start(&sig_hup, on_hup, SIGHUP);
    uv_timer_init(loop, &drain_timer);
    md_log_info("listening", "addr=%s version=%s pool=%d", o->server.listen, MENTORD_VERSION,
                o->pool_size);

    uv_run(loop, UV_RUN_DEFAULT);

    /* Drained (or forced): stop the worker (it finishes or gives up the
     * program it is on), close the pool, then the listener's leftovers. */
    md_metrics_stop(metrics);
    metrics = NULL;
    md_worker_close(worker);
    worker = NULL;
    md_db_close(db);
    uv_close((uv_handle_t *)&sig_int, handle_closed_noop);
    uv_close((uv_handle_t *)&sig_term, handle_closed_noop);
    uv_close((uv_handle_t *)&sig_hup, handle_closed_noop);
    uv_close((uv_handle_t *)&drain_timer, handle_closed_noop);
    md_server_shutdown(&server, NULL);
    uv_walk(loop, close_walk, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    SSL_CTX_free(md_server_swap_tls(&server, NULL));
    return exit_code;
}

int main(int argc, char **argv)
{
    options_t o;
    memset(&o, 0, sizeof(o));
    md_server_config_defaults(&o.server);
    o.pool_size = 4;
    o.log_level = MD_LOG_INFO;
    o.worker_on = 1;
    md_worker_config_defaults(&o.worker);

    int is_init = argc > 1 && strcmp(argv[1], "init") == 0;
    int pr = load_config_and_env(argc, argv, &o);
    if (pr == 0)
        pr = parse_args(argc, argv, is_init ? 2 : 1, &o);
    for (size_t i = 0; i < n_owned && pr != 0; i++)
        free(owned_values[i]);
    if (pr == 1)
        return 0;
    if (pr == 2)
        return 2;
    md_log_set_level((md_log_level_t)o.log_level);
    if (o.check_config) {
        print_settings(&o);
        for (size_t i = 0; i < n_owned; i++)
            free(owned_values[i]);
        return 0;
    }

    signal(SIGPIPE, SIG_IGN);
    loop = uv_default_loop();
    static md_pgembed_t pg_store;
    pg = &pg_store;
    int rc = is_init ? run_init(&o) : run_server(&o);
    md_pgembed_stop(pg);
    uv_walk(loop, close_walk, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    if (uv_loop_close(loop) != 0)
        md_log_warn("loop_not_empty", "%s", "handles left open");
    if (!is_init)
        md_log_info("stopped", "exit=%d", rc);
    for (size_t i = 0; i < n_owned; i++)
        free(owned_values[i]);
    return rc;
}
