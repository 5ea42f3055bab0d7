/* cmd_status.c: "admin status", the health of the server instance
 * mentorctl talks to (operator only). */
#include "md_cmd.h"

#include <stdio.h>

int md_cmd_admin_status(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    (void)a;
    int rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__AdminStatus st = MENTOR__V1__ADMIN_STATUS__INIT;
    req.kind_case = MENTOR__V1__REQUEST__KIND_ADMIN_STATUS;
    req.admin_status = &st;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_ADMIN_STATUS, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    const Mentor__V1__AdminStatusReply *r = msg->response->admin_status;
    static const Mentor__V1__DbStatus no_db = MENTOR__V1__DB_STATUS__INIT;
    const Mentor__V1__DbStatus *db = r->db != NULL ? r->db : &no_db;
    if (c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_string(&j, "version", r->version);
        md_json_time(&j, "started_at", r->started_at);
        md_json_uint(&j, "uptime_seconds", r->uptime_seconds);
        md_json_uint(&j, "connections", r->connections);
        md_json_uint(&j, "connections_accepted", r->connections_accepted);
        md_json_uint(&j, "requests", r->requests);
        md_json_uint(&j, "errors", r->errors);
        md_json_begin_object(&j, "requests_by_kind");
        for (size_t i = 0; i < r->n_requests_by_kind; i++)
            md_json_uint(&j, r->requests_by_kind[i]->kind, r->requests_by_kind[i]->count);
        md_json_end_object(&j);
        md_json_begin_object(&j, "db");
        md_json_uint(&j, "pool_size", db->pool_size);
        md_json_uint(&j, "up", db->up);
        md_json_uint(&j, "busy", db->busy);
        md_json_uint(&j, "queued", db->queued);
        md_json_uint(&j, "done", db->done);
        md_json_uint(&j, "failed", db->failed);
        md_json_uint(&j, "reconnects", db->reconnects);
        md_json_end_object(&j);
        md_json_end_object(&j);
        rc = md_ctx_print_json(c, &j);
        md_json_free(&j);
    } else {
        char started[MD_TIME_LEN], n[8][32], pool[64];
        snprintf(n[0], sizeof(n[0]), "%llu s", (unsigned long long)r->uptime_seconds);
        snprintf(n[1], sizeof(n[1]), "%u open, %llu accepted", r->connections,
                 (unsigned long long)r->connections_accepted);
        snprintf(n[2], sizeof(n[2]), "%llu", (unsigned long long)r->requests);
        snprintf(n[3], sizeof(n[3]), "%llu", (unsigned long long)r->errors);
        snprintf(pool, sizeof(pool), "%u of %u up, %u busy, %llu queued", db->up, db->pool_size,
                 db->busy, (unsigned long long)db->queued);
        snprintf(n[4], sizeof(n[4]), "%llu done, %llu failed", (unsigned long long)db->done,
                 (unsigned long long)db->failed);
        snprintf(n[5], sizeof(n[5]), "%llu", (unsigned long long)db->reconnects);
        md_table_t t;
        md_table_init(&t, NULL, 2);
        md_table_add(&t, "version", r->version);
        md_table_add(&t, "started", md_time_text(r->started_at, started));
        md_table_add(&t, "uptime", n[0]);
        md_table_add(&t, "connections", n[1]);
        md_table_add(&t, "requests", n[2]);
        md_table_add(&t, "errors", n[3]);
        md_table_add(&t, "database pool", pool);
        md_table_add(&t, "transactions", n[4]);
        md_table_add(&t, "reconnects", n[5]);
        for (size_t i = 0; i < r->n_requests_by_kind; i++) {
            char line[96];
            snprintf(line, sizeof(line), "%s %llu", r->requests_by_kind[i]->kind,
                     (unsigned long long)r->requests_by_kind[i]->count);
            md_table_add(&t, i == 0 ? "requests by kind" : "", line);
        }
        rc = md_ctx_print_kv(c, &t);
        md_table_free(&t);
    }
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}
