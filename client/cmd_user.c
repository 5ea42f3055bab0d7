/* cmd_user.c: the "user" command group: invite, list, show, update and
 * deactivate users of the caller's organization. Arguments are checked
 * here only as far as the command line goes (an id is a number, a role is
 * one of three names); everything that needs the database, such as whether
 * an email is taken, is left to the server so there is one rule and one
 * message for it. */
#include "md_cmd.h"

#include <stdio.h>
#include <string.h>

#include "md_directory.h"

static int parse_id(md_ctx_t *c, const char *s, uint64_t *id)
{
    if (md_parse_id(s, id) != MD_OK)
        return md_ctx_usage(c, "invalid user id '%s' (expected a positive number)", s);
    return MD_EXIT_OK;
}

static int parse_role(md_ctx_t *c, const char *s, int *role)
{
    if (md_role_parse(s, role) != MD_OK)
        return md_ctx_usage(c, "invalid role '%s' (expected member, coordinator or admin)", s);
    return MD_EXIT_OK;
}

/* Print one user: {"user": {...}} or a key/value block. */
static int print_user(md_ctx_t *c, const Mentor__V1__User *u)
{
    int rc;
    if (c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_user(&j, "user", u);
        md_json_end_object(&j);
        rc = md_ctx_print_json(c, &j);
        md_json_free(&j);
        return rc;
    }
    md_table_t t;
    md_table_init(&t, NULL, 2);
    md_kv_user(&t, u);
    rc = md_table_print_kv(&t, stdout) == MD_OK ? MD_EXIT_OK : MD_EXIT_REFUSED;
    md_table_free(&t);
    return rc;
}

/* The answer to an invitation or (reset) a password reset: the user and
 * the one-time code. */
static int print_invite_reply(md_ctx_t *c, const Mentor__V1__UserInviteReply *r, int reset)
{
    int rc = MD_EXIT_OK;
    if (c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_user(&j, "user", r->user);
        md_json_string(&j, "invite_code", r->invite_code);
        md_json_time(&j, "invite_expires_at", r->invite_expires_at);
        md_json_end_object(&j);
        rc = md_ctx_print_json(c, &j);
        md_json_free(&j);
        return rc;
    }
    char expires[MD_TIME_LEN];
    if (r->user != NULL && reset)
        md_out_line(stdout,
                    "Reset the password of %s (%s, user id %llu); their sessions have ended.",
                    r->user->email, r->user->display_name, (unsigned long long)r->user->id);
    else if (r->user != NULL)
        md_out_line(stdout, "Invited %s (%s) as %s, user id %llu.", r->user->email,
                    r->user->display_name, md_role_name(r->user->role),
                    (unsigned long long)r->user->id);
    md_out_line(stdout, "Invite code: %s (expires %s)", r->invite_code,
                md_time_text(r->invite_expires_at, expires));
    md_invite_hint(c, r->invite_code, r->user != NULL ? r->user->display_name : "them");
    return rc;
}

int md_cmd_user_invite(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    char default_name[256];
    const char *email = md_args_get(a, "email");
    const char *name = md_args_get(a, "name");
    const char *role_s = md_args_get(a, "role");
    int role = MENTOR__V1__ROLE__MEMBER;
    int rc;
    if (role_s != NULL) {
        rc = parse_role(c, role_s, &role);
        if (rc != MD_EXIT_OK)
            return rc;
    }
    if (name == NULL) {
        md_email_local_part(email, default_name, sizeof(default_name));
        name = default_name;
    }
    rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__UserInvite invite = MENTOR__V1__USER_INVITE__INIT;
    invite.email = (char *)email;
    invite.display_name = (char *)name;
    invite.role = (Mentor__V1__Role)role;
    req.kind_case = MENTOR__V1__REQUEST__KIND_USER_INVITE;
    req.user_invite = &invite;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_USER_INVITE, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    rc = print_invite_reply(c, msg->response->user_invite, 0);
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

/* "user reset-password ID": the user's password and sessions end; a new
 * one-time code lets them set another. */
int md_cmd_user_reset_password(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    uint64_t id = 0;
    int rc = md_ctx_parse_id(c, a->pos[0], "user id", &id);
    if (rc != MD_EXIT_OK)
        return rc;
    rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__UserResetPassword reset = MENTOR__V1__USER_RESET_PASSWORD__INIT;
    reset.id = id;
    req.kind_case = MENTOR__V1__REQUEST__KIND_USER_RESET_PASSWORD;
    req.user_reset_password = &reset;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_USER_INVITE, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    rc = print_invite_reply(c, msg->response->user_invite, 1);
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

int md_cmd_user_list(md_ctx_t *c, const md_args_t *a)
{
    static const char *const headers[] = {"ID",      "EMAIL",     "NAME",       "ROLE",
                                          "STATUS",  "EMPLOYEE",  "DEPARTMENT", "TITLE",
                                          "MANAGER", "EMPLOYMENT"};
    Mentor__V1__ServerMessage *msg = NULL;
    int rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__UserList list = MENTOR__V1__USER_LIST__INIT;
    list.include_inactive = md_args_has(a, "all");
    req.kind_case = MENTOR__V1__REQUEST__KIND_USER_LIST;
    req.user_list = &list;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_USER_LIST, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    const Mentor__V1__UserListReply *l = msg->response->user_list;
    if (c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_begin_array(&j, "users");
        for (size_t i = 0; i < l->n_users; i++)
            md_json_user(&j, NULL, l->users[i]);
        md_json_end_array(&j);
        md_json_end_object(&j);
        rc = md_ctx_print_json(c, &j);
        md_json_free(&j);
    } else {
        /* The directory's columns only when some user has been synced
         * with it, so that an organization without one sees no empty
         * columns. */
        int synced = 0;
        for (size_t i = 0; i < l->n_users && !synced; i++)
            synced = md_user_synced(l->users[i]);
        md_table_t t;
        md_table_init(&t, headers, synced ? 10 : 5);
        for (size_t i = 0; i < l->n_users; i++) {
            const Mentor__V1__User *u = l->users[i];
            char id[24];
            char manager[24] = "";
            snprintf(id, sizeof(id), "%llu", (unsigned long long)u->id);
            if (u->manager_id != 0)
                snprintf(manager, sizeof(manager), "%llu", (unsigned long long)u->manager_id);
            if (synced)
                md_table_add(&t, id, u->email, u->display_name, md_role_name(u->role),
                             md_user_status(u), u->employee_id, u->department, u->title, manager,
                             md_user_synced(u) ? md_employment_name(u->employment) : "");
            else
                md_table_add(&t, id, u->email, u->display_name, md_role_name(u->role),
                             md_user_status(u));
        }
        rc = md_table_print(&t, stdout) == MD_OK ? MD_EXIT_OK : MD_EXIT_REFUSED;
        md_table_free(&t);
    }
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

int md_cmd_user_show(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    const char *email = md_args_get(a, "email");
    uint64_t id = 0;
    int rc;
    if (a->npos == 0 && email == NULL)
        return md_ctx_usage(c, "give a user ID or --email EMAIL");
    if (a->npos > 0 && email != NULL)
        return md_ctx_usage(c, "give either a user ID or --email EMAIL, not both");
    if (a->npos > 0) {
        rc = parse_id(c, a->pos[0], &id);
        if (rc != MD_EXIT_OK)
            return rc;
    }
    rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__UserShow show = MENTOR__V1__USER_SHOW__INIT;
    show.id = id;
    if (email != NULL)
        show.email = (char *)email;
    req.kind_case = MENTOR__V1__REQUEST__KIND_USER_SHOW;
    req.user_show = &show;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_USER, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    rc = print_user(c, msg->response->user);
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

int md_cmd_user_update(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    const char *role_s = md_args_get(a, "role");
    const char *name = md_args_get(a, "name");
    uint64_t id = 0;
    int role = MENTOR__V1__ROLE__ROLE_UNSPECIFIED;
    int rc = parse_id(c, a->pos[0], &id);
    if (rc != MD_EXIT_OK)
        return rc;
    if (role_s == NULL && name == NULL)
        return md_ctx_usage(c, "nothing to change: give --role, --name or both");
    if (role_s != NULL) {
        rc = parse_role(c, role_s, &role);
        if (rc != MD_EXIT_OK)
            return rc;
    }
    /* The protocol reads an empty name as "unchanged", so asking for one
     * would silently do nothing. */
    if (name != NULL && name[0] == '\0')
        return md_ctx_usage(c, "--name cannot be empty");
    rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__UserUpdate update = MENTOR__V1__USER_UPDATE__INIT;
    update.id = id;
    update.role = (Mentor__V1__Role)role;
    if (name != NULL)
        update.display_name = (char *)name;
    req.kind_case = MENTOR__V1__REQUEST__KIND_USER_UPDATE;
    req.user_update = &update;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_USER, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    rc = print_user(c, msg->response->user);
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

int md_cmd_user_deactivate(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    uint64_t id = 0;
    int rc = parse_id(c, a->pos[0], &id);
    if (rc != MD_EXIT_OK)
        return rc;
    rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__UserDeactivate deactivate = MENTOR__V1__USER_DEACTIVATE__INIT;
    deactivate.id = id;
    req.kind_case = MENTOR__V1__REQUEST__KIND_USER_DEACTIVATE;
    req.user_deactivate = &deactivate;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_EMPTY, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    mentor__v1__server_message__free_unpacked(msg, NULL);
    char text[64];
    snprintf(text, sizeof(text), "Deactivated user %llu.", (unsigned long long)id);
    return md_ctx_print_done(c, id, text);
}
