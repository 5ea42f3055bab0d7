/* md_conn.h (private to mentord): the connection calls the listener makes.
 * Everything else about a connection is in md_server.h. */
#ifndef MD_CONN_H
#define MD_CONN_H

#include "md_server.h"

/* Accept a pending connection on srv->listener and start its handshake. */
MD_WUR int md_conn_accept(md_server_t *srv);
/* Server shutdown: stop reading, close once in-flight requests are done. */
void md_conn_shutdown(md_conn_t *c);
void md_conn_close_after_output(md_conn_t *c);
md_conn_t *md_conn_next(md_conn_t *c);
uint32_t md_conn_in_flight(const md_conn_t *c);

#endif
