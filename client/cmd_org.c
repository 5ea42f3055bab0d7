/* cmd_org.c: the "org" command group: show the caller's organization, and
 * for the server operator, list every organization and create new ones
 * together with their first admin. Which role may do what is the server's
 * decision; these handlers only ask and show the answer. */
#include "md_cmd.h"

#include <stdio.h>
#include <string.h>

int md_cmd_org_show(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    (void)a;
    int rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__OrgShow show = MENTOR__V1__ORG_SHOW__INIT;
    req.kind_case = MENTOR__V1__REQUEST__KIND_ORG_SHOW;
    req.org_show = &show;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_ORG, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    const Mentor__V1__Org *o = msg->response->org;
    if (c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_org(&j, "org", o);
        md_json_end_object(&j);
        rc = md_ctx_print_json(c, &j);
        md_json_free(&j);
    } else {
        md_table_t t;
        md_table_init(&t, NULL, 2);
        md_kv_org(&t, o);
        rc = md_table_print_kv(&t, stdout) == MD_OK ? MD_EXIT_OK : MD_EXIT_REFUSED;
        md_table_free(&t);
    }
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

int md_cmd_org_list(md_ctx_t *c, const md_args_t *a)
{
    static const char *const headers[] = {"ID", "SLUG", "NAME", "USERS", "CREATED"};
    Mentor__V1__ServerMessage *msg = NULL;
    (void)a;
    int rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__OrgList list = MENTOR__V1__ORG_LIST__INIT;
    req.kind_case = MENTOR__V1__REQUEST__KIND_ORG_LIST;
    req.org_list = &list;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_ORG_LIST, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    const Mentor__V1__OrgListReply *l = msg->response->org_list;
    if (c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_begin_array(&j, "orgs");
        for (size_t i = 0; i < l->n_orgs; i++)
            md_json_org(&j, NULL, l->orgs[i]);
        md_json_end_array(&j);
        md_json_end_object(&j);
        rc = md_ctx_print_json(c, &j);
        md_json_free(&j);
    } else {
        md_table_t t;
        md_table_init(&t, headers, sizeof(headers) / sizeof(headers[0]));
        for (size_t i = 0; i < l->n_orgs; i++) {
            const Mentor__V1__Org *o = l->orgs[i];
            char id[24];
            char users[16];
            char created[MD_TIME_LEN];
            snprintf(id, sizeof(id), "%llu", (unsigned long long)o->id);
            snprintf(users, sizeof(users), "%u", o->user_count);
            md_table_add(&t, id, o->slug, o->name, users, md_time_text(o->created_at, created));
        }
        rc = md_table_print(&t, stdout) == MD_OK ? MD_EXIT_OK : MD_EXIT_REFUSED;
        md_table_free(&t);
    }
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

int md_cmd_org_create(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    char admin_name[256];
    const char *email = md_args_get(a, "admin-email");
    const char *name = md_args_get(a, "admin-name");
    if (name == NULL) {
        md_email_local_part(email, admin_name, sizeof(admin_name));
        name = admin_name;
    }
    int rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__OrgCreate create = MENTOR__V1__ORG_CREATE__INIT;
    create.slug = (char *)md_args_get(a, "slug");
    create.name = (char *)md_args_get(a, "name");
    create.admin_email = (char *)email;
    create.admin_display_name = (char *)name;
    req.kind_case = MENTOR__V1__REQUEST__KIND_ORG_CREATE;
    req.org_create = &create;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_ORG_CREATE, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    const Mentor__V1__OrgCreateReply *r = msg->response->org_create;
    if (c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_org(&j, "org", r->org);
        md_json_user(&j, "admin", r->admin);
        md_json_string(&j, "invite_code", r->invite_code);
        md_json_time(&j, "invite_expires_at", r->invite_expires_at);
        md_json_end_object(&j);
        rc = md_ctx_print_json(c, &j);
        md_json_free(&j);
    } else {
        char expires[MD_TIME_LEN];
        if (r->org != NULL)
            md_out_line(stdout, "Created org %s (%s), id %llu.", r->org->slug, r->org->name,
                        (unsigned long long)r->org->id);
        if (r->admin != NULL)
            md_out_line(stdout, "First admin: %s (%s), user id %llu.", r->admin->email,
                        r->admin->display_name, (unsigned long long)r->admin->id);
        md_out_line(stdout, "Invite code: %s (expires %s)", r->invite_code,
                    md_time_text(r->invite_expires_at, expires));
        md_invite_hint(c, r->invite_code, "the admin");
    }
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}
