/* md_net.h: mentorctl's connection to a mentord server: TCP, then TLS
 * through common/md_tls over a socket driven with poll(), then framed
 * protobuf requests and replies. The client is strictly request/response,
 * one request at a time, so a blocking design with a timeout on every wait
 * is all it needs; the server's pushes are read and dropped while waiting.
 * This layer knows nothing of sessions, pinning policy or commands.
 * Ownership: an md_net_t owns its socket, SSL_CTX, md_tls_t and buffers;
 * a ServerMessage returned by md_net_call belongs to the caller, who frees
 * it with mentor__v1__server_message__free_unpacked. */
#ifndef MD_NET_H
#define MD_NET_H

#include <stddef.h>
#include <stdint.h>

#include "md_err.h"
#include "md_session.h"
#include "mentor.pb-c.h"

#define MD_NET_DEFAULT_PORT "7411"
#define MD_NET_TIMEOUT_MS   30000
/* The largest reply accepted: well above any list the server sends today,
 * low enough that a broken peer cannot make the client allocate without
 * bound. */
#define MD_NET_MAX_REPLY (16u * 1024u * 1024u)

typedef struct {
    char host[256];           /* name or address, IPv6 without brackets */
    char port[8];             /* decimal */
    char name[MD_SERVER_LEN]; /* canonical "host:port" or "[v6]:port" */
} md_endpoint_t;

/* Parse "HOST:PORT", "HOST", "[V6]:PORT", "[V6]" or a bare IPv6 address;
 * the port defaults to 7411. The canonical name lowercases the host, so it
 * can key the session and known_servers files. MD_EINVAL when malformed. */
MD_WUR int md_endpoint_parse(const char *s, md_endpoint_t *ep);

typedef struct md_net md_net_t;

/* Connect and complete the TLS handshake. With ca_file the chain and the
 * host name (or IP address) are verified; without, nothing is, and the
 * caller must pin md_net_fingerprint before sending anything. On failure
 * returns MD_EIO or MD_ETLS with a sentence in err. */
MD_WUR int md_net_open(md_net_t **out, const md_endpoint_t *ep, const char *ca_file, int timeout_ms,
                       char *err, size_t errlen);
/* SHA-256 of the server's certificate, 64 lowercase hex digits. */
MD_WUR int md_net_fingerprint(md_net_t *n, char hex[MD_FP_LEN]);
/* The TLS version negotiated, e.g. "TLSv1.3". */
const char *md_net_tls_version(md_net_t *n);
/* Refuse to send requests larger than this (the server's announced
 * max_frame_bytes); 0 means no limit is known. */
void md_net_set_max_request(md_net_t *n, uint32_t max);
/* The limit set by md_net_set_max_request (0: unknown). */
uint32_t md_net_max_request(const md_net_t *n);
/* Give req the next request id, send it and wait for the response with that
 * id, or for a connection-level error (id 0), which ends the conversation.
 * On error returns MD_EINVAL when req is larger than the server accepts
 * (nothing was sent and the connection is still usable), or MD_EIO,
 * MD_ETLS, MD_EDECODE or MD_EFRAMETOOBIG when the connection failed; in
 * both cases md_net_error says what happened. The request's packed bytes
 * are wiped after sending, since a request may carry a password. */
MD_WUR int md_net_call(md_net_t *n, Mentor__V1__Request *req, Mentor__V1__ServerMessage **out);
/* The last failure of n as a sentence. */
const char *md_net_error(const md_net_t *n);
/* Send close_notify (best effort) and release everything; NULL is fine. */
void md_net_close(md_net_t *n);

#endif
