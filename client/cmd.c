/* cmd.c: the conversation every mentorctl command starts with, and the
 * reporting every command ends with. The server's identity is settled here
 * once (CA verification or the known_servers pin), so no command can talk
 * to an unchecked peer; refusals are printed here once, so every command
 * shows them the same way and scripts can rely on the exit status. */
#include "md_cmd.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md_directory.h"

static void conn_error(const char *msg)
{
    fprintf(stderr, "mentorctl: ");
    md_out_safe(stderr, msg);
    fputc('\n', stderr);
}

int md_status_code(const Mentor__V1__Response *r)
{
    return r->status != NULL ? (int)r->status->code : MENTOR__V1__CODE__OK;
}

int md_ctx_refused(md_ctx_t *c, int code, const char *message, const char *field)
{
    const char *name = md_code_name(code);
    if (message == NULL || message[0] == '\0')
        message = "(no message)";
    if (field != NULL && field[0] != '\0')
        md_out_line(stderr, "error: %s: %s (field: %s)", name, message, field);
    else
        md_out_line(stderr, "error: %s: %s", name, message);
    if (c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_begin_object(&j, "error");
        md_json_string(&j, "code", name);
        md_json_string(&j, "message", message);
        md_json_string(&j, "field", field != NULL ? field : "");
        md_json_end_object(&j);
        md_json_end_object(&j);
        (void)md_ctx_print_json(c, &j);
        md_json_free(&j);
    }
    return MD_EXIT_REFUSED;
}

int md_ctx_usage(md_ctx_t *c, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "mentorctl: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    if (c->command != NULL && c->command[0] != '\0')
        fprintf(stderr, "\nsee 'mentorctl %s --help'\n", c->command);
    else
        fprintf(stderr, "\nsee 'mentorctl --help'\n");
    return MD_EXIT_USAGE;
}

int md_ctx_print_done(md_ctx_t *c, uint64_t id, const char *text)
{
    if (!c->json) {
        md_out_line(stdout, "%s", text);
        return MD_EXIT_OK;
    }
    md_json_t j;
    md_json_init(&j);
    md_json_begin_object(&j, NULL);
    md_json_bool(&j, "ok", 1);
    if (id != 0)
        md_json_uint(&j, "id", id);
    md_json_end_object(&j);
    int rc = md_ctx_print_json(c, &j);
    md_json_free(&j);
    return rc;
}

int md_ctx_print_json(md_ctx_t *c, md_json_t *j)
{
    (void)c;
    const char *doc = md_json_finish(j);
    if (doc == NULL) {
        fprintf(stderr, "mentorctl: out of memory while writing JSON\n");
        return MD_EXIT_REFUSED;
    }
    fputs(doc, stdout);
    fputc('\n', stdout);
    return MD_EXIT_OK;
}

int md_ctx_print_kv(md_ctx_t *c, const md_table_t *t)
{
    (void)c;
    if (md_table_print_kv(t, stdout) != MD_OK) {
        fprintf(stderr, "mentorctl: out of memory while formatting the output\n");
        return MD_EXIT_REFUSED;
    }
    return MD_EXIT_OK;
}

int md_ctx_parse_id(md_ctx_t *c, const char *s, const char *what, uint64_t *id)
{
    if (md_parse_id(s, id) != MD_OK)
        return md_ctx_usage(c, "invalid %s id '%s' (expected a positive number)", what, s);
    return MD_EXIT_OK;
}

int md_ctx_program_user(md_ctx_t *c, const md_args_t *a, uint64_t *program, uint64_t *user)
{
    const char *u = md_args_get(a, "user");
    int rc = md_ctx_parse_id(c, md_args_get(a, "program"), "program", program);
    if (rc != MD_EXIT_OK)
        return rc;
    *user = 0;
    if (u != NULL)
        rc = md_ctx_parse_id(c, u, "user", user);
    return rc;
}

int md_ctx_user_arg(md_ctx_t *c, const md_args_t *a, const char *flag, md_user_ref_t *r)
{
    const char *s = md_args_get(a, flag);
    r->id = 0;
    r->email = NULL;
    if (s != NULL && md_parse_user_ref(s, &r->id, &r->email) != MD_OK)
        return md_ctx_usage(c, "invalid --%s '%s' (expected a user id or an e-mail address)", flag,
                            s);
    return MD_EXIT_OK;
}

int md_ctx_user_resolve(md_ctx_t *c, md_user_ref_t *r)
{
    if (r->email == NULL || r->id != 0)
        return MD_EXIT_OK;
    Mentor__V1__ServerMessage *msg = NULL;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__UserShow show = MENTOR__V1__USER_SHOW__INIT;
    show.email = (char *)r->email;
    req.kind_case = MENTOR__V1__REQUEST__KIND_USER_SHOW;
    req.user_show = &show;
    int rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_USER, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    r->id = msg->response->user->id;
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return MD_EXIT_OK;
}

/* Without a CA the only evidence of the server's identity is the key it
 * showed last time. A change is either a new certificate or an attack, and
 * only a human can tell which, so it stops everything. */
static int check_pin(md_ctx_t *c)
{
    char seen[MD_FP_LEN];
    char pinned[MD_FP_LEN];
    char err[MD_PATH_LEN + 128];
    if (md_net_fingerprint(c->net, seen) != MD_OK) {
        conn_error("TLS: the server presented no certificate");
        return MD_EXIT_CONN;
    }
    int found = md_known_lookup(&c->paths, c->ep.name, pinned, err, sizeof(err));
    if (found < 0) {
        conn_error(err);
        return MD_EXIT_CONN;
    }
    if (found) {
        if (strcmp(seen, pinned) == 0)
            return MD_EXIT_OK;
        fprintf(stderr,
                "mentorctl: WARNING: the server's certificate fingerprint has changed!\n"
                "  server:   %s\n"
                "  expected: SHA256:%s\n"
                "  received: SHA256:%s\n"
                "Someone may be intercepting the connection, or the server's certificate was\n"
                "replaced. Refusing to connect; if the change is expected, remove the line\n"
                "for %s from %s and run the command again.\n",
                c->ep.name, pinned, seen, c->ep.name, c->paths.known_servers);
        return MD_EXIT_CONN;
    }
    if (md_known_add(&c->paths, c->ep.name, seen, err, sizeof(err)) != MD_OK) {
        /* The connection is no less safe for this run; the next run will
         * simply pin again. */
        fprintf(stderr, "mentorctl: warning: could not save the server's fingerprint: ");
        md_out_safe(stderr, err);
        fputc('\n', stderr);
    }
    fprintf(stderr,
            "mentorctl: pinned server %s with fingerprint SHA256:%s (trust on first use; see %s)\n",
            c->ep.name, seen, c->paths.known_servers);
    return MD_EXIT_OK;
}

int md_ctx_load_session(md_ctx_t *c, int missing_ok)
{
    char err[MD_PATH_LEN + 128];
    char msg[MD_SERVER_LEN * 2 + 128];
    /* An API token in the environment stands in for the saved session,
     * for this command only; it is never written anywhere. */
    const char *token = getenv("MENTORCTL_TOKEN");
    if (token != NULL && token[0] != '\0') {
        if (strlen(token) >= sizeof(c->session.token))
            return md_ctx_usage(c, "MENTORCTL_TOKEN is too long to be a token");
        snprintf(c->session.server, sizeof(c->session.server), "%s", c->ep.name);
        snprintf(c->session.token, sizeof(c->session.token), "%s", token);
        return MD_EXIT_OK;
    }
    int rc = md_session_load(&c->paths, &c->session, err, sizeof(err));
    if (rc == MD_ENOTFOUND && missing_ok)
        return MD_EXIT_OK;
    if (rc == MD_ENOTFOUND) {
        snprintf(msg, sizeof(msg), "not logged in to %s; run 'mentorctl login' first", c->ep.name);
        return md_ctx_refused(c, MENTOR__V1__CODE__UNAUTHENTICATED, msg, NULL);
    }
    if (rc != MD_OK) {
        fprintf(stderr, "mentorctl: ");
        md_out_safe(stderr, err);
        fputc('\n', stderr);
        return MD_EXIT_REFUSED;
    }
    if (strcmp(c->session.server, c->ep.name) != 0) {
        snprintf(msg, sizeof(msg),
                 "not logged in to %s (the saved session is for %s; use --server or log in)",
                 c->ep.name, c->session.server);
        md_session_clear(&c->session);
        return md_ctx_refused(c, MENTOR__V1__CODE__UNAUTHENTICATED, msg, NULL);
    }
    return MD_EXIT_OK;
}

int md_ctx_connect(md_ctx_t *c, int with_session)
{
    char err[512];
    int rc;
    const char *ca = c->ca_file[0] != '\0' ? c->ca_file : NULL;
    if (md_net_open(&c->net, &c->ep, ca, MD_NET_TIMEOUT_MS, err, sizeof(err)) != MD_OK) {
        conn_error(err);
        return MD_EXIT_CONN;
    }
    if (ca == NULL) {
        rc = check_pin(c);
        if (rc != MD_EXIT_OK)
            return rc;
    }

    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__Hello hello = MENTOR__V1__HELLO__INIT;
    Mentor__V1__ServerMessage *msg = NULL;
    hello.protocol_major = 1;
    hello.protocol_minor = 0;
    hello.client_name = "mentorctl " MENTORD_VERSION;
    req.kind_case = MENTOR__V1__REQUEST__KIND_HELLO;
    req.hello = &hello;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_HELLO, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    md_net_set_max_request(c->net, msg->response->hello->max_frame_bytes);
    mentor__v1__server_message__free_unpacked(msg, NULL);
    if (!with_session)
        return MD_EXIT_OK;

    /* The session is looked at only now, so that an unreachable server is
     * reported as such (exit 3) whether or not anyone is logged in. */
    rc = md_ctx_load_session(c, 0);
    if (rc != MD_EXIT_OK)
        return rc;

    Mentor__V1__Login login = MENTOR__V1__LOGIN__INIT;
    login.session_token = c->session.token;
    req = (Mentor__V1__Request)MENTOR__V1__REQUEST__INIT;
    req.kind_case = MENTOR__V1__REQUEST__KIND_LOGIN;
    req.login = &login;
    rc = md_ctx_send(c, &req, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    const Mentor__V1__Response *r = msg->response;
    int code = md_status_code(r);
    if (code != MENTOR__V1__CODE__OK) {
        rc = md_ctx_refused(c, code, r->status->message, r->status->field);
        if (code == MENTOR__V1__CODE__UNAUTHENTICATED)
            fprintf(stderr, "hint: the saved session has ended; run 'mentorctl login' again\n");
    } else if (r->result_case != MENTOR__V1__RESPONSE__RESULT_LOGIN) {
        conn_error("the server sent an unexpected reply to Login");
        rc = MD_EXIT_CONN;
    }
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

int md_ctx_send(md_ctx_t *c, Mentor__V1__Request *req, Mentor__V1__ServerMessage **msg)
{
    *msg = NULL;
    int rc = md_net_call(c->net, req, msg);
    if (rc == MD_OK)
        return MD_EXIT_OK;
    conn_error(md_net_error(c->net));
    /* A request too large to send is refused here, not lost on the way:
     * the connection is fine, so it is not a connection failure. */
    return rc == MD_EINVAL ? MD_EXIT_REFUSED : MD_EXIT_CONN;
}

int md_ctx_call(md_ctx_t *c, Mentor__V1__Request *req, Mentor__V1__Response__ResultCase want,
                Mentor__V1__ServerMessage **msg)
{
    return md_ctx_call_any(c, req, &want, 1, msg);
}

int md_ctx_call_any(md_ctx_t *c, Mentor__V1__Request *req,
                    const Mentor__V1__Response__ResultCase *want, size_t nwant,
                    Mentor__V1__ServerMessage **msg)
{
    Mentor__V1__ServerMessage *m = NULL;
    int rc = md_ctx_send(c, req, &m);
    if (rc != MD_EXIT_OK)
        return rc;
    const Mentor__V1__Response *r = m->response;
    int code = md_status_code(r);
    int wanted = 0;
    for (size_t i = 0; i < nwant; i++)
        wanted = wanted || r->result_case == want[i];
    if (code != MENTOR__V1__CODE__OK) {
        rc = md_ctx_refused(c, code, r->status->message, r->status->field);
    } else if (!wanted || r->id == 0) {
        /* Every result is a message, so a matching case with a NULL
         * pointer cannot come out of the decoder. */
        conn_error("the server sent a reply of the wrong kind (is it a mentord server of "
                   "the same protocol version?)");
        rc = MD_EXIT_CONN;
    }
    if (rc != MD_EXIT_OK) {
        mentor__v1__server_message__free_unpacked(m, NULL);
        return rc;
    }
    *msg = m;
    return MD_EXIT_OK;
}

void md_ctx_close(md_ctx_t *c)
{
    md_net_close(c->net);
    c->net = NULL;
    md_session_clear(&c->session);
}

const char *md_user_status(const Mentor__V1__User *u)
{
    if (!u->active)
        return "deactivated";
    if (u->invite_pending)
        return "invited";
    return "active";
}

int md_user_synced(const Mentor__V1__User *u)
{
    return u->employee_id[0] != '\0' ||
           u->employment == MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_LEAVE ||
           u->employment == MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_TERMINATED;
}

void md_json_user(md_json_t *j, const char *key, const Mentor__V1__User *u)
{
    if (u == NULL) {
        md_json_null(j, key);
        return;
    }
    md_json_begin_object(j, key);
    md_json_uint(j, "id", u->id);
    md_json_string(j, "email", u->email);
    md_json_string(j, "display_name", u->display_name);
    md_json_string(j, "role", md_role_name(u->role));
    md_json_bool(j, "active", u->active);
    md_json_bool(j, "operator", u->operator_);
    md_json_time(j, "created_at", u->created_at);
    md_json_bool(j, "invite_pending", u->invite_pending);
    md_json_string(j, "employee_id", u->employee_id);
    md_json_string(j, "department", u->department);
    md_json_string(j, "title", u->title);
    md_json_uint(j, "manager_id", u->manager_id);
    if (u->employment != MENTOR__V1__EMPLOYMENT_STATUS__EMPLOYMENT_STATUS_UNSPECIFIED)
        md_json_string(j, "employment", md_employment_name(u->employment));
    else
        md_json_null(j, "employment");
    md_json_end_object(j);
}

void md_json_org(md_json_t *j, const char *key, const Mentor__V1__Org *o)
{
    if (o == NULL) {
        md_json_null(j, key);
        return;
    }
    md_json_begin_object(j, key);
    md_json_uint(j, "id", o->id);
    md_json_string(j, "slug", o->slug);
    md_json_string(j, "name", o->name);
    md_json_time(j, "created_at", o->created_at);
    md_json_uint(j, "user_count", o->user_count);
    md_json_end_object(j);
}

void md_kv_user(md_table_t *t, const Mentor__V1__User *u)
{
    char id[24];
    char created[MD_TIME_LEN];
    if (u == NULL)
        return;
    snprintf(id, sizeof(id), "%llu", (unsigned long long)u->id);
    md_table_add(t, "id", id);
    md_table_add(t, "email", u->email);
    md_table_add(t, "name", u->display_name);
    md_table_add(t, "role", md_role_name(u->role));
    md_table_add(t, "status", md_user_status(u));
    md_table_add(t, "operator", u->operator_ ? "yes" : "no");
    md_table_add(t, "created", md_time_text(u->created_at, created));
    /* What the HR directory says, for users it has been synced with. */
    if (u->employee_id[0] != '\0')
        md_table_add(t, "employee id", u->employee_id);
    if (u->department[0] != '\0')
        md_table_add(t, "department", u->department);
    if (u->title[0] != '\0')
        md_table_add(t, "title", u->title);
    if (u->manager_id != 0) {
        snprintf(id, sizeof(id), "%llu", (unsigned long long)u->manager_id);
        md_table_add(t, "manager", id);
    }
    if (md_user_synced(u))
        md_table_add(t, "employment", md_employment_name(u->employment));
}

void md_kv_org(md_table_t *t, const Mentor__V1__Org *o)
{
    char id[24];
    char users[16];
    char created[MD_TIME_LEN];
    if (o == NULL)
        return;
    snprintf(id, sizeof(id), "%llu", (unsigned long long)o->id);
    snprintf(users, sizeof(users), "%u", o->user_count);
    md_table_add(t, "id", id);
    md_table_add(t, "slug", o->slug);
    md_table_add(t, "name", o->name);
    md_table_add(t, "active users", users);
    md_table_add(t, "created", md_time_text(o->created_at, created));
}

void md_email_local_part(const char *email, char *buf, size_t len)
{
    size_t n = strcspn(email, "@");
    if (n >= len)
        n = len - 1;
    memcpy(buf, email, n);
    buf[n] = '\0';
}

void md_invite_hint(md_ctx_t *c, const char *code, const char *who)
{
    md_endpoint_t def;
    int is_default = md_endpoint_parse("127.0.0.1:" MD_NET_DEFAULT_PORT, &def) == MD_OK &&
                     strcmp(def.name, c->ep.name) == 0;
    md_out_line(stdout, "Give the code to %s, who sets a password and logs in with:", who);
    if (is_default)
        md_out_line(stdout, "  mentorctl invite accept %s", code);
    else
        md_out_line(stdout, "  mentorctl --server %s invite accept %s", c->ep.name, code);
}
