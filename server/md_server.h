/* md_server.h (private to mentord): the listener and its connections.
 *
 * The server owns the listening socket, the TLS context and the list of
 * connections. A connection owns its TCP handle, its TLS state (md_tls_t)
 * and its frame decoder; it knows nothing of programs or users beyond the
 * authentication facts dispatch stores in it. Requests (md_req_t) hold a
 * reference on their connection, so a connection closed by the peer stays
 * allocated until its last request has finished. */
#ifndef MD_SERVER_H
#define MD_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <uv.h>

#include "md_db.h"
#include "md_err.h"
#include "mentor.pb-c.h"

typedef struct md_conn md_conn_t;
typedef struct md_server md_server_t;
struct md_worker;

typedef struct {
    char listen[300];          /* HOST:PORT */
    size_t max_frame;          /* payload bytes */
    uint32_t max_in_flight;    /* unanswered requests per connection */
    size_t output_soft_cap;    /* stop reading above this much queued output */
    size_t output_hard_cap;    /* close above this */
    uint64_t handshake_ms;     /* TLS handshake deadline */
    uint64_t idle_ms;          /* close after this long without a request */
    uint64_t login_ms;         /* close when not logged in this long after the handshake */
    size_t prelogin_max_frame; /* payload bytes accepted before login */
    int session_ttl_seconds;   /* absolute session lifetime */
    int session_idle_seconds;  /* a session unused this long expires */
    int max_address_failures;  /* failed logins per address per 15 minutes */
    int max_connections;       /* total */
} md_server_config_t;

void md_server_config_defaults(md_server_config_t *cfg);

/* Facts about the logged-in caller, kept per connection. */
typedef struct {
    int authed;
    uint64_t org_id;
    uint64_t session_id;
    uint64_t user_id;
    int role; /* mentor.v1.Role */
    int is_operator;
    int read_only; /* a read-scope API token: only MD_F_READ kinds */
} md_auth_t;

typedef enum {
    MD_CONN_HANDSHAKE, /* TLS handshake running */
    MD_CONN_HELLO,     /* waiting for Hello */
    MD_CONN_OPEN,      /* Hello done; requests flow */
    MD_CONN_CLOSING    /* flushing the last output, then close */
} md_conn_state_t;

#define MD_STATS_KINDS 128 /* rows of the dispatch table counted */

typedef struct {
    uint64_t accepted;
    uint64_t requests;
    uint64_t errors;
    int connections;
    int64_t started_at;               /* Unix seconds */
    uint64_t by_kind[MD_STATS_KINDS]; /* by row of md_dispatch_table */
} md_server_stats_t;

struct md_server {
    uv_loop_t *loop;
    md_server_config_t cfg;
    SSL_CTX *ssl_ctx;         /* owned */
    md_db_t *db;              /* not owned */
    struct md_worker *worker; /* the background worker, not owned; NULL when off */
    uv_tcp_t listener;
    int listening;
    int shutting_down;
    md_conn_t *conns; /* doubly linked list of live connections */
    md_server_stats_t stats;
    uint8_t readbuf[65536];  /* shared: reads are handled synchronously */
    uint8_t plainbuf[65536]; /* shared: decrypted bytes */
    void (*on_drained)(md_server_t *srv);
};

MD_WUR int md_server_start(md_server_t *srv, uv_loop_t *loop, const md_server_config_t *cfg,
                           SSL_CTX *ctx, md_db_t *db, char *err, size_t errlen);
/* New connections use ctx from now on; returns the previous one, which the
 * caller frees (live connections keep their own reference to it). */
SSL_CTX *md_server_swap_tls(md_server_t *srv, SSL_CTX *ctx);
/* Stop accepting; close idle connections; when every connection is gone
 * call on_drained. */
void md_server_shutdown(md_server_t *srv, void (*on_drained)(md_server_t *srv));

/* Connection services used by dispatch and requests. */
md_server_t *md_conn_server(md_conn_t *c);
md_conn_state_t md_conn_state(const md_conn_t *c);
void md_conn_set_state(md_conn_t *c, md_conn_state_t st);
md_auth_t *md_conn_auth(md_conn_t *c);
const char *md_conn_peer(const md_conn_t *c);
/* The peer's address without the port ("" when unknown). */
const char *md_conn_peer_host(const md_conn_t *c);
void md_conn_ref(md_conn_t *c);
void md_conn_unref(md_conn_t *c);
/* Queue a ServerMessage; closes the connection after sending when
 * close_after is set. No effect on a closing connection. */
void md_conn_send(md_conn_t *c, const Mentor__V1__ServerMessage *msg, int close_after);
/* Called when a request finished, to resume reading if it was paused. */
void md_conn_request_done(md_conn_t *c);
/* End every session of a user on this server's connections (logout,
 * deactivation): they become unauthenticated. */
void md_server_forget_sessions(md_server_t *srv, uint64_t org_id, uint64_t user_id,
                               uint64_t session_id);
/* Calls fn for every open, logged-in connection on this server. fn may send
 * on the connection it is given (and so close it), nothing else. */
typedef void (*md_server_conn_fn)(md_conn_t *c, const md_auth_t *auth, void *arg);
void md_server_each_authed(md_server_t *srv, md_server_conn_fn fn, void *arg);
/* Sends push to every logged-in connection of the user on this server
 * (a user may have several); returns how many connections got it. */
int md_server_push(md_server_t *srv, uint64_t org_id, uint64_t user_id,
                   const Mentor__V1__Push *push);

#endif
