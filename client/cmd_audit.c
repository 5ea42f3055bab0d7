/* cmd_audit.c: "audit list", the organization's audit log. The table
 * summarizes each entry (created, removed, or the fields that changed with
 * their old and new values); --json gives the rows before and after whole. */
#include "md_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md_json.h"

#define CHANGES_MAX 400

/* Copy a parsed JSON value into the writer under key. */
static void json_copy(md_json_t *j, const char *key, const md_json_value_t *v)
{
    switch (v->kind) {
    case MD_JSON_NULL:
        md_json_null(j, key);
        break;
    case MD_JSON_BOOL:
        md_json_bool(j, key, v->boolean);
        break;
    case MD_JSON_NUMBER: {
        char *end = NULL;
        long long n = strtoll(v->text, &end, 10);
        if (end != NULL && *end == '\0')
            md_json_int(j, key, n);
        else
            md_json_string(j, key, v->text); /* not an integer: kept exactly, as text */
        break;
    }
    case MD_JSON_STRING:
        md_json_string(j, key, v->text);
        break;
    case MD_JSON_ARRAY:
        md_json_begin_array(j, key);
        for (size_t i = 0; i < v->n; i++)
            json_copy(j, NULL, &v->items[i]);
        md_json_end_array(j);
        break;
    case MD_JSON_OBJECT:
        md_json_begin_object(j, key);
        for (size_t i = 0; i < v->n; i++)
            json_copy(j, v->keys[i], &v->items[i]);
        md_json_end_object(j);
        break;
    }
}

static md_json_value_t *parse_row(const char *text)
{
    md_json_value_t *v = NULL;
    char err[160];
    if (text[0] == '\0' || md_json_parse(text, strlen(text), &v, err, sizeof(err)) != MD_OK)
        return NULL;
    return v;
}

/* A value as short text for the table: strings bare, others as written. */
static void value_text(const md_json_value_t *v, char *buf, size_t len)
{
    if (v == NULL)
        snprintf(buf, len, "-");
    else if (v->kind == MD_JSON_STRING || v->kind == MD_JSON_NUMBER)
        snprintf(buf, len, "%.60s%s", v->text, v->len > 60 ? "..." : "");
    else if (v->kind == MD_JSON_BOOL)
        snprintf(buf, len, "%s", v->boolean ? "true" : "false");
    else if (v->kind == MD_JSON_NULL)
        snprintf(buf, len, "null");
    else
        snprintf(buf, len, "(%s)", md_json_kind_name(v->kind));
}

static int same(const md_json_value_t *a, const md_json_value_t *b)
{
    if (a == NULL || b == NULL || a->kind != b->kind)
        return a == b;
    switch (a->kind) {
    case MD_JSON_NULL:
        return 1;
    case MD_JSON_BOOL:
        return a->boolean == b->boolean;
    case MD_JSON_NUMBER:
    case MD_JSON_STRING:
        return a->len == b->len && memcmp(a->text, b->text, a->len) == 0;
    default:
        if (a->n != b->n)
            return 0;
        for (size_t i = 0; i < a->n; i++) {
            if (a->kind == MD_JSON_OBJECT && strcmp(a->keys[i], b->keys[i]) != 0)
                return 0;
            if (!same(&a->items[i], &b->items[i]))
                return 0;
        }
        return 1;
    }
}

/* "created", "removed", or "field: old -> new; ..." for the fields that
 * differ (updated_at and the like included: they are part of the record). */
static void summarize(const md_json_value_t *before, const md_json_value_t *after, char *out,
                      size_t len)
{
    if (before == NULL) {
        snprintf(out, len, "created");
        return;
    }
    if (after == NULL) {
        snprintf(out, len, "removed");
        return;
    }
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < after->n && used < len; i++) {
        const md_json_value_t *old = md_json_member(before, after->keys[i]);
        if (same(old, &after->items[i]))
            continue;
        char a[80], b[80];
        value_text(old, a, sizeof(a));
        value_text(&after->items[i], b, sizeof(b));
        int w = snprintf(out + used, len - used, "%s%s: %s -> %s", used ? "; " : "", after->keys[i],
                         a, b);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

int md_cmd_audit_list(md_ctx_t *c, const md_args_t *a)
{
    static const char *const headers[] = {"ID", "AT", "ACTOR", "ACTION", "OBJECT", "CHANGES"};
    Mentor__V1__ServerMessage *msg = NULL;
    Mentor__V1__AuditList al = MENTOR__V1__AUDIT_LIST__INIT;
    uint64_t v = 0;
    const char *s;
    if ((s = md_args_get(a, "since")) != NULL && md_parse_date_time(s, &al.since) != MD_OK)
        return md_ctx_usage(c, "--since takes YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, not '%s'", s);
    if ((s = md_args_get(a, "actor")) != NULL) {
        int rc = md_ctx_parse_id(c, s, "actor user id", &al.actor_id);
        if (rc != MD_EXIT_OK)
            return rc;
    }
    char kind[32] = "";
    if ((s = md_args_get(a, "object")) != NULL) {
        const char *colon = strchr(s, ':');
        if (colon == NULL || (size_t)(colon - s) >= sizeof(kind) ||
            md_parse_id(colon + 1, &al.object_id) != MD_OK)
            return md_ctx_usage(c, "--object takes KIND:ID, e.g. user:1042");
        snprintf(kind, sizeof(kind), "%.*s", (int)(colon - s), s);
        al.object_kind = kind;
    }
    if ((s = md_args_get(a, "limit")) != NULL) {
        if (md_parse_id(s, &v) != MD_OK || v > 1000)
            return md_ctx_usage(c, "--limit takes 1 to 1000");
        al.limit = (uint32_t)v;
    }
    int rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    req.kind_case = MENTOR__V1__REQUEST__KIND_AUDIT_LIST;
    req.audit_list = &al;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_AUDIT_LIST, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    const Mentor__V1__AuditListReply *r = msg->response->audit_list;
    md_json_t j;
    md_table_t t;
    if (c->json) {
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_begin_array(&j, "entries");
    } else {
        md_table_init(&t, headers, 6);
    }
    for (size_t i = 0; i < r->n_entries; i++) {
        const Mentor__V1__AuditEntry *e = r->entries[i];
        md_json_value_t *before = parse_row(e->before_json);
        md_json_value_t *after = parse_row(e->after_json);
        if (c->json) {
            md_json_begin_object(&j, NULL);
            md_json_uint(&j, "id", e->id);
            md_json_time(&j, "at", e->at);
            md_json_uint(&j, "actor_id", e->actor_id);
            md_json_string(&j, "actor_email", e->actor_email);
            md_json_string(&j, "action", e->action);
            md_json_string(&j, "object_kind", e->object_kind);
            md_json_uint(&j, "object_id", e->object_id);
            if (before != NULL)
                json_copy(&j, "before", before);
            else
                md_json_null(&j, "before");
            if (after != NULL)
                json_copy(&j, "after", after);
            else
                md_json_null(&j, "after");
            md_json_end_object(&j);
        } else {
            char id[24], at[MD_TIME_LEN], object[64], changes[CHANGES_MAX];
            snprintf(id, sizeof(id), "%llu", (unsigned long long)e->id);
            snprintf(object, sizeof(object), "%s %llu", e->object_kind,
                     (unsigned long long)e->object_id);
            summarize(before, after, changes, sizeof(changes));
            md_table_add(&t, id, md_time_text(e->at, at), e->actor_email, e->action, object,
                         changes);
        }
        md_json_value_free(before);
        md_json_value_free(after);
    }
    if (c->json) {
        md_json_end_array(&j);
        md_json_end_object(&j);
        rc = md_ctx_print_json(c, &j);
        md_json_free(&j);
    } else {
        rc = md_table_print(&t, stdout) == MD_OK ? MD_EXIT_OK : MD_EXIT_REFUSED;
        md_table_free(&t);
    }
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}
