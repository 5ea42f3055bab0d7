/* md_metrics.h (private to mentord): an optional plain-HTTP listener for
 * monitoring, meant for a local address: GET /metrics (Prometheus text
 * format) and GET /healthz (200 when the database pool has a connection up,
 * 503 otherwise). Anything else is answered 400, 404, 405 or 431 and the
 * connection closed; a client that does not finish its request within a
 * few seconds is dropped. */
#ifndef MD_METRICS_H
#define MD_METRICS_H

#include <stddef.h>

#include <uv.h>

#include "md_server.h"

typedef struct md_metrics md_metrics_t;

/* Listen on HOST:PORT. Returns MD_OK or an error with err filled. */
int md_metrics_start(uv_loop_t *loop, const char *listen, md_server_t *srv, md_metrics_t **out,
                     char *err, size_t errlen);
/* Stop listening; connections still open are closed by the loop's end. */
void md_metrics_stop(md_metrics_t *m);

#endif
