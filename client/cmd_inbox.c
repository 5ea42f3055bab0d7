/* cmd_inbox.c: "inbox", the caller's notifications (new proposals,
 * requests, expiries ...), newest first, and "inbox read", which marks
 * some or all of them read. One command with an optional "read" word
 * rather than a group, so that plain "mentorctl inbox" lists. Ranges (the
 * limit, how many ids) are the server's call. */
#include "md_cmd.h"

#include <stdio.h>
#include <string.h>

static void json_notification(md_json_t *j, const Mentor__V1__Notification *n)
{
    md_json_begin_object(j, NULL);
    md_json_uint(j, "id", n->id);
    md_json_string(j, "kind", n->kind);
    md_json_string(j, "title", n->title);
    md_json_string(j, "body", n->body);
    if (n->program_id != 0)
        md_json_uint(j, "program_id", n->program_id);
    else
        md_json_null(j, "program_id");
    md_json_time(j, "created_at", n->created_at);
    md_json_time(j, "read_at", n->read_at);
    md_json_end_object(j);
}

static int inbox_list(md_ctx_t *c, const md_args_t *a)
{
    static const char *const headers[] = {"ID", "TIME", "KIND", "PROGRAM", "TITLE"};
    Mentor__V1__ServerMessage *msg = NULL;
    Mentor__V1__InboxList il = MENTOR__V1__INBOX_LIST__INIT;
    const char *limit_s = md_args_get(a, "limit");
    const char *before_s = md_args_get(a, "before");
    uint64_t limit = 0;
    if (limit_s != NULL && (md_parse_id(limit_s, &limit) != MD_OK || limit > UINT32_MAX))
        return md_ctx_usage(c, "--limit takes a positive number, not '%s'", limit_s);
    int rc =
        before_s != NULL ? md_ctx_parse_id(c, before_s, "notification", &il.before_id) : MD_EXIT_OK;
    if (rc == MD_EXIT_OK && md_args_has(a, "all"))
        rc = md_ctx_usage(c, "--all goes with 'inbox read'");
    if (rc == MD_EXIT_OK)
        rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    il.unread_only = md_args_has(a, "unread");
    il.limit = (uint32_t)limit;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    req.kind_case = MENTOR__V1__REQUEST__KIND_INBOX_LIST;
    req.inbox_list = &il;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_INBOX_LIST, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    const Mentor__V1__InboxListReply *r = msg->response->inbox_list;
    if (c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_begin_array(&j, "notifications");
        for (size_t i = 0; i < r->n_notifications; i++)
            json_notification(&j, r->notifications[i]);
        md_json_end_array(&j);
        md_json_uint(&j, "unread", r->unread);
        md_json_end_object(&j);
        rc = md_ctx_print_json(c, &j);
        md_json_free(&j);
    } else {
        md_table_t t;
        md_table_init(&t, headers, 5);
        for (size_t i = 0; i < r->n_notifications; i++) {
            const Mentor__V1__Notification *n = r->notifications[i];
            char id[24], program[24], at[MD_TIME_LEN];
            snprintf(id, sizeof(id), "%llu", (unsigned long long)n->id);
            snprintf(program, sizeof(program), "%llu", (unsigned long long)n->program_id);
            md_table_add(&t, id, md_time_text(n->created_at, at), n->kind,
                         n->program_id ? program : "-", n->title);
        }
        rc = md_table_print(&t, stdout) == MD_OK ? MD_EXIT_OK : MD_EXIT_REFUSED;
        md_table_free(&t);
        if (rc == MD_EXIT_OK)
            md_out_line(stdout, "%u unread", (unsigned)r->unread);
    }
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

static int inbox_read(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    Mentor__V1__InboxRead ir = MENTOR__V1__INBOX_READ__INIT;
    uint64_t ids[MD_ARGS_MAX_POS];
    if (md_args_has(a, "unread") || md_args_get(a, "limit") != NULL ||
        md_args_get(a, "before") != NULL)
        return md_ctx_usage(c, "--unread, --limit and --before go with 'inbox' alone");
    for (size_t i = 1; i < a->npos; i++) {
        int rc = md_ctx_parse_id(c, a->pos[i], "notification", &ids[i - 1]);
        if (rc != MD_EXIT_OK)
            return rc;
    }
    int rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    ir.ids = ids;
    ir.n_ids = a->npos - 1;
    ir.all = md_args_has(a, "all");
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    req.kind_case = MENTOR__V1__REQUEST__KIND_INBOX_READ;
    req.inbox_read = &ir;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_INBOX_READ, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    uint32_t marked = msg->response->inbox_read->marked;
    mentor__v1__server_message__free_unpacked(msg, NULL);
    if (c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_uint(&j, "marked", marked);
        md_json_end_object(&j);
        rc = md_ctx_print_json(c, &j);
        md_json_free(&j);
    } else {
        md_out_line(stdout, "marked %u", (unsigned)marked);
    }
    return rc;
}

int md_cmd_inbox(md_ctx_t *c, const md_args_t *a)
{
    if (a->npos == 0)
        return inbox_list(c, a);
    if (strcmp(a->pos[0], "read") != 0)
        return md_ctx_usage(c, "expected 'read' or nothing after 'inbox', not '%s'", a->pos[0]);
    return inbox_read(c, a);
}
