/* cmd_token.c: "token create", "token list" and "token revoke": API tokens
 * for automation. A token is used by setting MENTORCTL_TOKEN (see
 * md_ctx_load_session); the secret is printed once, at creation. */
#include "md_cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *scope_name(int scope)
{
    switch (scope) {
    case MENTOR__V1__TOKEN_SCOPE__TOKEN_READ:
        return "read";
    case MENTOR__V1__TOKEN_SCOPE__TOKEN_WRITE:
        return "write";
    default:
        return "unspecified";
    }
}

static void json_token(md_json_t *j, const char *key, const Mentor__V1__ApiToken *t)
{
    md_json_begin_object(j, key);
    md_json_uint(j, "id", t->id);
    md_json_string(j, "name", t->name);
    md_json_string(j, "scope", scope_name(t->scope));
    md_json_time(j, "created_at", t->created_at);
    md_json_time(j, "expires_at", t->expires_at);
    if (t->last_used_at != 0)
        md_json_time(j, "last_used_at", t->last_used_at);
    else
        md_json_null(j, "last_used_at");
    md_json_bool(j, "revoked", t->revoked);
    md_json_end_object(j);
}

int md_cmd_token_create(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    const char *scope_s = md_args_get(a, "scope");
    int scope = 0;
    if (strcmp(scope_s, "read") == 0)
        scope = MENTOR__V1__TOKEN_SCOPE__TOKEN_READ;
    else if (strcmp(scope_s, "write") == 0)
        scope = MENTOR__V1__TOKEN_SCOPE__TOKEN_WRITE;
    else
        return md_ctx_usage(c, "--scope must be read or write, not '%s'", scope_s);
    uint64_t days = 0;
    const char *days_s = md_args_get(a, "expires-days");
    if (days_s != NULL && (md_parse_id(days_s, &days) != MD_OK || days > 365))
        return md_ctx_usage(c, "--expires-days must be a number of days from 1 to 365");
    int rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__TokenCreate tc = MENTOR__V1__TOKEN_CREATE__INIT;
    tc.name = (char *)md_args_get(a, "name");
    tc.scope = (Mentor__V1__TokenScope)scope;
    tc.expires_days = (uint32_t)days;
    req.kind_case = MENTOR__V1__REQUEST__KIND_TOKEN_CREATE;
    req.token_create = &tc;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_TOKEN_CREATE, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    const Mentor__V1__TokenCreateReply *r = msg->response->token_create;
    if (c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        json_token(&j, "token", r->token);
        md_json_string(&j, "secret", r->secret);
        md_json_end_object(&j);
        rc = md_ctx_print_json(c, &j);
        md_json_free(&j);
    } else {
        char expires[MD_TIME_LEN];
        md_out_line(stdout, "Token %llu (%s, %s) expires %s. Its secret, shown only now:",
                    (unsigned long long)r->token->id, r->token->name, scope_name(r->token->scope),
                    md_time_text(r->token->expires_at, expires));
        md_out_line(stdout, "%s", r->secret);
        md_out_line(stderr, "Use it with: MENTORCTL_TOKEN=<secret> mentorctl ...");
    }
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

int md_cmd_token_list(md_ctx_t *c, const md_args_t *a)
{
    static const char *const headers[] = {"ID",      "NAME",      "SCOPE", "CREATED",
                                          "EXPIRES", "LAST USED", "STATUS"};
    Mentor__V1__ServerMessage *msg = NULL;
    (void)a;
    int rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__TokenList tl = MENTOR__V1__TOKEN_LIST__INIT;
    req.kind_case = MENTOR__V1__REQUEST__KIND_TOKEN_LIST;
    req.token_list = &tl;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_TOKEN_LIST, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    const Mentor__V1__TokenListReply *r = msg->response->token_list;
    if (c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_begin_array(&j, "tokens");
        for (size_t i = 0; i < r->n_tokens; i++)
            json_token(&j, NULL, r->tokens[i]);
        md_json_end_array(&j);
        md_json_end_object(&j);
        rc = md_ctx_print_json(c, &j);
        md_json_free(&j);
    } else {
        md_table_t t;
        md_table_init(&t, headers, 7);
        for (size_t i = 0; i < r->n_tokens; i++) {
            const Mentor__V1__ApiToken *k = r->tokens[i];
            char id[24], created[MD_TIME_LEN], expires[MD_TIME_LEN], used[MD_TIME_LEN];
            snprintf(id, sizeof(id), "%llu", (unsigned long long)k->id);
            md_table_add(&t, id, k->name, scope_name(k->scope),
                         md_time_text(k->created_at, created), md_time_text(k->expires_at, expires),
                         k->last_used_at ? md_time_text(k->last_used_at, used) : "never",
                         k->revoked ? "revoked" : "active");
        }
        rc = md_table_print(&t, stdout) == MD_OK ? MD_EXIT_OK : MD_EXIT_REFUSED;
        md_table_free(&t);
    }
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

int md_cmd_token_revoke(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    uint64_t id = 0;
    int rc = md_ctx_parse_id(c, a->pos[0], "token id", &id);
    if (rc != MD_EXIT_OK)
        return rc;
    rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__TokenRevoke tr = MENTOR__V1__TOKEN_REVOKE__INIT;
    tr.id = id;
    req.kind_case = MENTOR__V1__REQUEST__KIND_TOKEN_REVOKE;
    req.token_revoke = &tr;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_EMPTY, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    mentor__v1__server_message__free_unpacked(msg, NULL);
    char text[64];
    snprintf(text, sizeof(text), "Token %llu revoked.", (unsigned long long)id);
    return md_ctx_print_done(c, id, text);
}
