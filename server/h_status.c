/* h_status.c: AdminStatus, the health of this instance from its own
 * counters (no database work, so it answers during an outage too). */
#include <time.h>

#include "md_dispatch.h"

void md_h_admin_status(md_req_t *req)
{
    md_server_t *srv = md_req_server(req);
    Mentor__V1__AdminStatusReply *rep = md_req_alloc(req, sizeof(*rep));
    Mentor__V1__DbStatus *db = md_req_alloc(req, sizeof(*db));
    Mentor__V1__KindCount **kinds =
        md_req_alloc(req, sizeof(*kinds) * md_dispatch_table_size + sizeof(*kinds));
    if (rep == NULL || db == NULL || kinds == NULL) {
        md_req_fail(req, MD_ENOMEM, NULL, NULL);
        return;
    }
    mentor__v1__admin_status_reply__init(rep);
    mentor__v1__db_status__init(db);
    rep->version = MENTORD_VERSION;
    rep->started_at = srv->stats.started_at;
    int64_t now = (int64_t)time(NULL);
    rep->uptime_seconds = now > srv->stats.started_at ? (uint64_t)(now - srv->stats.started_at) : 0;
    rep->connections = (uint32_t)srv->stats.connections;
    rep->connections_accepted = srv->stats.accepted;
    rep->requests = srv->stats.requests;
    rep->errors = srv->stats.errors;
    for (size_t i = 0; i < md_dispatch_table_size && i < MD_STATS_KINDS; i++) {
        if (srv->stats.by_kind[i] == 0)
            continue;
        Mentor__V1__KindCount *k = md_req_alloc(req, sizeof(*k));
        if (k == NULL) {
            md_req_fail(req, MD_ENOMEM, NULL, NULL);
            return;
        }
        mentor__v1__kind_count__init(k);
        k->kind = (char *)md_dispatch_table[i].name;
        k->count = srv->stats.by_kind[i];
        kinds[rep->n_requests_by_kind++] = k;
    }
    rep->requests_by_kind = kinds;
    md_db_stats_t ds;
    md_db_stats(srv->db, &ds);
    db->pool_size = (uint32_t)ds.size;
    db->up = (uint32_t)ds.up;
    db->busy = (uint32_t)ds.busy;
    db->queued = ds.queued;
    db->done = ds.done;
    db->failed = ds.failed;
    db->reconnects = ds.reconnects;
    rep->db = db;
    Mentor__V1__Response resp = MENTOR__V1__RESPONSE__INIT;
    resp.result_case = MENTOR__V1__RESPONSE__RESULT_ADMIN_STATUS;
    resp.admin_status = rep;
    md_req_reply(req, &resp);
}
