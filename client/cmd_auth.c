/* cmd_auth.c: the commands that start, show and end a session: login,
 * invite accept, whoami and logout. Passwords come from the first line of
 * standard input (--password-stdin, for scripts) or from the terminal with
 * echo off; they are never taken from the command line, where any user of
 * the machine could read them in the process list. Passwords and tokens are
 * wiped from memory once sent or saved, and never printed. */
#include "md_cmd.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define PASSWORD_LEN 1024

/* The terminal settings to put back if a signal arrives while echo is off;
 * without this, ^C at the prompt would leave the shell typing blind. */
static struct termios saved_tty;
static volatile sig_atomic_t tty_altered;

static void restore_tty_and_die(int sig)
{
    if (tty_altered)
        (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Read one line from f into buf without its line ending. Returns MD_OK,
 * MD_ENOTFOUND at end of input, MD_EINVAL when the line does not fit. */
static int read_line(FILE *f, char *buf, size_t len)
{
    if (fgets(buf, (int)len, f) == NULL)
        return MD_ENOTFOUND;
    size_t n = strlen(buf);
    int complete = n > 0 && buf[n - 1] == '\n';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    if (!complete && n == len - 1 && !feof(f)) {
        explicit_bzero(buf, len);
        return MD_EINVAL;
    }
    return MD_OK;
}

static int prompt_no_echo(const char *prompt, char *buf, size_t len)
{
    struct termios quiet;
    struct sigaction sa;
    struct sigaction old_int;
    struct sigaction old_term;
    struct sigaction old_hup;
    int rc;
    if (tcgetattr(STDIN_FILENO, &saved_tty) != 0)
        return MD_EIO;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = restore_tty_and_die;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGHUP, &sa, &old_hup);
    quiet = saved_tty;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tty_altered = 1;
    /* Echo goes off before the prompt appears, so nothing typed in answer
     * to it can be shown or discarded by the switch. */
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0) {
        tty_altered = 0;
        rc = MD_EIO;
    } else {
        fputs(prompt, stderr);
        fflush(stderr);
        rc = read_line(stdin, buf, len);
        (void)tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
        tty_altered = 0;
    }
    /* The user's Enter was not echoed. */
    fputc('\n', stderr);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    return rc;
}

/* Get the password as the command line asks. confirm: on a terminal, ask
 * twice, for passwords being set rather than checked. */
static int read_password(md_ctx_t *c, const md_args_t *a, int confirm, char *buf, size_t len)
{
    int rc;
    if (md_args_has(a, "password-stdin")) {
        rc = read_line(stdin, buf, len);
        if (rc == MD_ENOTFOUND)
            return md_ctx_usage(c, "--password-stdin given, but standard input is empty");
        if (rc != MD_OK)
            return md_ctx_usage(c, "the password on standard input is too long (limit %zu bytes)",
                                len - 1);
        return MD_EXIT_OK;
    }
    if (!isatty(STDIN_FILENO))
        return md_ctx_usage(c, "standard input is not a terminal: pass the password on it with "
                               "--password-stdin");
    rc = prompt_no_echo(confirm ? "New password: " : "Password: ", buf, len);
    if (rc == MD_OK && confirm) {
        char again[PASSWORD_LEN];
        rc = prompt_no_echo("Repeat password: ", again, sizeof(again));
        if (rc == MD_OK && strcmp(buf, again) != 0) {
            explicit_bzero(again, sizeof(again));
            explicit_bzero(buf, len);
            return md_ctx_usage(c, "the passwords do not match");
        }
        explicit_bzero(again, sizeof(again));
    }
    if (rc == MD_EINVAL)
        return md_ctx_usage(c, "the password is too long (limit %zu bytes)", len - 1);
    if (rc != MD_OK) {
        explicit_bzero(buf, len);
        fprintf(stderr, "mentorctl: could not read the password from the terminal\n");
        return MD_EXIT_USAGE;
    }
    return MD_EXIT_OK;
}

/* Keep the token of a fresh login and report it: shared by login and invite
 * accept, which answer with the same LoginReply. */
static int finish_login(md_ctx_t *c, const Mentor__V1__LoginReply *lr, int welcome)
{
    char err[MD_PATH_LEN + 128];
    md_session_t s;
    memset(&s, 0, sizeof(s));
    if (lr->session_token[0] == '\0' || strlen(lr->session_token) >= sizeof(s.token) ||
        strpbrk(lr->session_token, "\r\n") != NULL) {
        fprintf(stderr, "mentorctl: the server sent no usable session token\n");
        return MD_EXIT_CONN;
    }
    snprintf(s.server, sizeof(s.server), "%s", c->ep.name);
    snprintf(s.token, sizeof(s.token), "%s", lr->session_token);
    int rc = md_session_save(&c->paths, &s, err, sizeof(err));
    md_session_clear(&s);
    if (rc != MD_OK) {
        fprintf(stderr, "mentorctl: logged in, but the session could not be saved: ");
        md_out_safe(stderr, err);
        fputc('\n', stderr);
        return MD_EXIT_REFUSED;
    }

    const char *email = lr->user != NULL ? lr->user->email : "";
    const char *slug = lr->org != NULL ? lr->org->slug : "";
    if (c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_user(&j, "user", lr->user);
        md_json_org(&j, "org", lr->org);
        md_json_time(&j, "expires_at", lr->expires_at);
        md_json_end_object(&j);
        rc = md_ctx_print_json(c, &j);
        md_json_free(&j);
        return rc;
    }
    if (welcome)
        md_out_line(stdout, "Welcome, %s. Logged in as %s in org %s.",
                    lr->user != NULL ? lr->user->display_name : "", email, slug);
    else
        md_out_line(stdout, "Logged in as %s (%s) in org %s.", email,
                    md_role_name(lr->user != NULL ? (int)lr->user->role : 0), slug);
    return MD_EXIT_OK;
}

int md_cmd_login(md_ctx_t *c, const md_args_t *a)
{
    char password[PASSWORD_LEN];
    Mentor__V1__ServerMessage *msg = NULL;
    /* Ask before connecting, so no connection idles while the user types. */
    int rc = read_password(c, a, 0, password, sizeof(password));
    if (rc != MD_EXIT_OK)
        return rc;
    rc = md_ctx_connect(c, 0);
    if (rc == MD_EXIT_OK) {
        Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
        Mentor__V1__Login login = MENTOR__V1__LOGIN__INIT;
        login.org = (char *)md_args_get(a, "org");
        login.email = (char *)md_args_get(a, "email");
        login.password = password;
        req.kind_case = MENTOR__V1__REQUEST__KIND_LOGIN;
        req.login = &login;
        rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_LOGIN, &msg);
    }
    explicit_bzero(password, sizeof(password));
    if (rc == MD_EXIT_OK)
        rc = finish_login(c, msg->response->login, 0);
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

int md_cmd_invite_accept(md_ctx_t *c, const md_args_t *a)
{
    char password[PASSWORD_LEN];
    Mentor__V1__ServerMessage *msg = NULL;
    int rc = read_password(c, a, 1, password, sizeof(password));
    if (rc != MD_EXIT_OK)
        return rc;
    rc = md_ctx_connect(c, 0);
    if (rc == MD_EXIT_OK) {
        Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
        Mentor__V1__InviteAccept accept = MENTOR__V1__INVITE_ACCEPT__INIT;
        accept.code = (char *)a->pos[0];
        accept.password = password;
        req.kind_case = MENTOR__V1__REQUEST__KIND_INVITE_ACCEPT;
        req.invite_accept = &accept;
        rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_INVITE_ACCEPT, &msg);
    }
    explicit_bzero(password, sizeof(password));
    if (rc == MD_EXIT_OK)
        rc = finish_login(c, msg->response->invite_accept, 1);
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

static int forget_session(md_ctx_t *c)
{
    char err[MD_PATH_LEN + 128];
    if (md_session_delete(&c->paths, err, sizeof(err)) != MD_OK) {
        fprintf(stderr, "mentorctl: ");
        md_out_safe(stderr, err);
        fputc('\n', stderr);
        return MD_EXIT_REFUSED;
    }
    return MD_EXIT_OK;
}

static int logged_out(md_ctx_t *c, const char *text)
{
    return md_ctx_print_done(c, 0, text);
}

int md_cmd_logout(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    int rc = md_ctx_load_session(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    if (c->session.token[0] == '\0')
        return logged_out(c, "Not logged in.");
    rc = md_ctx_connect(c, 0);
    if (rc != MD_EXIT_OK)
        return rc;

    /* Resume the session, then end it. A session the server no longer
     * knows (expired, or ended elsewhere) is as good as logged out: only
     * the local file is left to remove. */
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__Login login = MENTOR__V1__LOGIN__INIT;
    login.session_token = c->session.token;
    req.kind_case = MENTOR__V1__REQUEST__KIND_LOGIN;
    req.login = &login;
    rc = md_ctx_send(c, &req, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    int code = md_status_code(msg->response);
    if (code == MENTOR__V1__CODE__OK) {
        mentor__v1__server_message__free_unpacked(msg, NULL);
        msg = NULL;
        Mentor__V1__Logout logout = MENTOR__V1__LOGOUT__INIT;
        logout.all = md_args_has(a, "all");
        req = (Mentor__V1__Request)MENTOR__V1__REQUEST__INIT;
        req.kind_case = MENTOR__V1__REQUEST__KIND_LOGOUT;
        req.logout = &logout;
        rc = md_ctx_send(c, &req, &msg);
        if (rc != MD_EXIT_OK)
            return rc;
        code = md_status_code(msg->response);
    }
    if (code != MENTOR__V1__CODE__OK && code != MENTOR__V1__CODE__UNAUTHENTICATED) {
        rc = md_ctx_refused(c, code, msg->response->status->message, msg->response->status->field);
        mentor__v1__server_message__free_unpacked(msg, NULL);
        return rc;
    }
    mentor__v1__server_message__free_unpacked(msg, NULL);
    rc = forget_session(c);
    if (rc != MD_EXIT_OK)
        return rc;
    if (md_args_has(a, "all"))
        return logged_out(c, code == MENTOR__V1__CODE__OK
                                 ? "Logged out of every session."
                                 : "The saved session had already ended; log in again to end "
                                   "your other sessions.");
    return logged_out(c, "Logged out.");
}

int md_cmd_whoami(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    (void)a;
    int rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__WhoAmI who = MENTOR__V1__WHO_AM_I__INIT;
    req.kind_case = MENTOR__V1__REQUEST__KIND_WHOAMI;
    req.whoami = &who;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_WHOAMI, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    const Mentor__V1__WhoAmIReply *w = msg->response->whoami;
    if (c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_user(&j, "user", w->user);
        md_json_org(&j, "org", w->org);
        md_json_time(&j, "session_expires_at", w->session_expires_at);
        md_json_end_object(&j);
        rc = md_ctx_print_json(c, &j);
        md_json_free(&j);
    } else {
        char id[24] = "";
        char expires[MD_TIME_LEN];
        md_table_t t;
        md_table_init(&t, NULL, 2);
        if (w->user != NULL) {
            snprintf(id, sizeof(id), "%llu", (unsigned long long)w->user->id);
            md_table_add(&t, "user id", id);
            md_table_add(&t, "email", w->user->email);
            md_table_add(&t, "name", w->user->display_name);
            md_table_add(&t, "role", md_role_name(w->user->role));
            md_table_add(&t, "operator", w->user->operator_ ? "yes" : "no");
        }
        if (w->org != NULL) {
            md_table_add(&t, "org slug", w->org->slug);
            md_table_add(&t, "org name", w->org->name);
        }
        md_table_add(&t, "session expires", md_time_text(w->session_expires_at, expires));
        rc = md_table_print_kv(&t, stdout) == MD_OK ? MD_EXIT_OK : MD_EXIT_REFUSED;
        md_table_free(&t);
    }
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

/* "password change": the current password, then the new one (asked twice
 * on a terminal); with --password-stdin, two lines: current, then new. */
int md_cmd_password_change(md_ctx_t *c, const md_args_t *a)
{
    char current[PASSWORD_LEN];
    char next[PASSWORD_LEN];
    Mentor__V1__ServerMessage *msg = NULL;
    int rc = MD_EXIT_OK;
    if (md_args_has(a, "password-stdin")) {
        int r1 = read_line(stdin, current, sizeof(current));
        int r2 = r1 == MD_OK ? read_line(stdin, next, sizeof(next)) : r1;
        if (r1 != MD_OK || r2 != MD_OK)
            rc = md_ctx_usage(c,
                              "--password-stdin: give the current password and the new one "
                              "on two lines (each at most %d bytes)",
                              PASSWORD_LEN - 1);
    } else if (!isatty(STDIN_FILENO)) {
        rc = md_ctx_usage(c, "standard input is not a terminal: pass the current and the new "
                             "password on two lines with --password-stdin");
    } else if (prompt_no_echo("Current password: ", current, sizeof(current)) != MD_OK) {
        fprintf(stderr, "mentorctl: could not read the password from the terminal\n");
        rc = MD_EXIT_USAGE;
    } else {
        rc = read_password(c, a, 1, next, sizeof(next));
    }
    if (rc == MD_EXIT_OK)
        rc = md_ctx_connect(c, 1);
    if (rc == MD_EXIT_OK) {
        Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
        Mentor__V1__PasswordChange pc = MENTOR__V1__PASSWORD_CHANGE__INIT;
        pc.current_password = current;
        pc.new_password = next;
        req.kind_case = MENTOR__V1__REQUEST__KIND_PASSWORD_CHANGE;
        req.password_change = &pc;
        rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_EMPTY, &msg);
    }
    explicit_bzero(current, sizeof(current));
    explicit_bzero(next, sizeof(next));
    mentor__v1__server_message__free_unpacked(msg, NULL);
    if (rc != MD_EXIT_OK)
        return rc;
    return logged_out(c, "Password changed. Your other sessions have ended.");
}
