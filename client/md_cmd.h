/* md_cmd.h: what every mentorctl command shares: the resolved settings, the
 * connection (Hello, pinning, resuming the saved session), the one way to
 * report a refusal, and the renderers of users and organizations in both
 * output modes. Handlers have one signature and are listed in one table
 * (cli.c); they build a request, call md_ctx_call and print the reply, and
 * never touch a socket or a file themselves. */
#ifndef MD_CMD_H
#define MD_CMD_H

#include "md_args.h"
#include "md_net.h"
#include "md_output.h"
#include "md_profile.h"
#include "md_session.h"
#include "mentor.pb-c.h"

/* The exit statuses of mentorctl, part of its interface for scripts. */
typedef enum {
    MD_EXIT_OK = 0,
    MD_EXIT_REFUSED = 1, /* the server answered with an error status */
    MD_EXIT_USAGE = 2,   /* the command line is wrong */
    MD_EXIT_CONN = 3,    /* no connection, TLS failure or connection lost */
} md_exit_t;

typedef struct {
    md_paths_t paths;
    md_endpoint_t ep;
    char ca_file[MD_PATH_LEN]; /* empty: trust the server on first use */
    int json;
    const char *command; /* "user invite", for "see mentorctl ... --help" */
    md_net_t *net;
    md_session_t session; /* the session resumed, when one was */
} md_ctx_t;

typedef int (*md_cmd_fn)(md_ctx_t *ctx, const md_args_t *args);

/* Connect, check the server's identity, say Hello and, when with_session is
 * set, resume the saved session (which must exist and belong to this
 * server). Returns an md_exit_t, having told the user what went wrong. */
int md_ctx_connect(md_ctx_t *c, int with_session);
/* Read the saved session into c->session and check that it belongs to the
 * server in use. A missing session is reported as UNAUTHENTICATED (exit 1),
 * unless missing_ok, when it leaves c->session.token empty. */
int md_ctx_load_session(md_ctx_t *c, int missing_ok);
/* Send req and wait for its answer whatever its status. Returns
 * MD_EXIT_OK with *msg set (the caller frees it), or after reporting the
 * failure MD_EXIT_REFUSED (req is larger than the server accepts, so it
 * was not sent) or MD_EXIT_CONN. */
int md_ctx_send(md_ctx_t *c, Mentor__V1__Request *req, Mentor__V1__ServerMessage **msg);
/* Send req and insist on success: returns MD_EXIT_OK with *msg holding a
 * response whose result is want; otherwise reports the refusal (exit 1) or
 * the failure (exit 3) and leaves *msg NULL. */
int md_ctx_call(md_ctx_t *c, Mentor__V1__Request *req, Mentor__V1__Response__ResultCase want,
                Mentor__V1__ServerMessage **msg);
/* md_ctx_call for a request the server may answer with any of nwant
 * result kinds. */
int md_ctx_call_any(md_ctx_t *c, Mentor__V1__Request *req,
                    const Mentor__V1__Response__ResultCase *want, size_t nwant,
                    Mentor__V1__ServerMessage **msg);
/* Status of a response; a missing status reads as OK, as proto3 says. */
int md_status_code(const Mentor__V1__Response *r);
/* Report a refusal: "error: CODE: message (field: f)" on stderr, and with
 * --json the same as {"error":{...}} on stdout. Returns MD_EXIT_REFUSED. */
int md_ctx_refused(md_ctx_t *c, int code, const char *message, const char *field);
/* Report a command-line problem with a pointer to the command's help.
 * Returns MD_EXIT_USAGE. */
int md_ctx_usage(md_ctx_t *c, const char *fmt, ...) MD_PRINTF(2, 3);
/* Print a finished JSON document on stdout. */
int md_ctx_print_json(md_ctx_t *c, md_json_t *j);
/* Report a done action: {"ok": true} (with "id" when id is not 0) under
 * --json, the sentence text otherwise. */
int md_ctx_print_done(md_ctx_t *c, uint64_t id, const char *text);
/* Print a key/value table on stdout. Returns an md_exit_t. */
int md_ctx_print_kv(md_ctx_t *c, const md_table_t *t);
/* Parse s as the positive id of what ("program", "user") for the command
 * line; a usage error (exit 2) otherwise. Returns an md_exit_t. */
int md_ctx_parse_id(md_ctx_t *c, const char *s, const char *what, uint64_t *id);
/* Read --program PID and the optional --user UID of a; a missing --user
 * leaves *user 0, which the protocol reads as the caller. Returns an
 * md_exit_t. */
int md_ctx_program_user(md_ctx_t *c, const md_args_t *a, uint64_t *program, uint64_t *user);
/* A user named on the command line by id or e-mail address (see
 * md_parse_user_ref). */
typedef struct {
    uint64_t id;       /* 0 until an e-mail address is resolved */
    const char *email; /* points into argv, or NULL */
} md_user_ref_t;
/* Read option flag of a (e.g. "mentee") into r. A missing option leaves r
 * empty (id 0, no e-mail). Returns an md_exit_t: a usage error when the
 * value is neither an id nor an e-mail address. */
int md_ctx_user_arg(md_ctx_t *c, const md_args_t *a, const char *flag, md_user_ref_t *r);
/* Once connected: turn an e-mail address in r into the user's id with
 * UserShow, so the server's rules about who may see whom apply (members
 * may look up only themselves). Returns an md_exit_t. */
int md_ctx_user_resolve(md_ctx_t *c, md_user_ref_t *r);
/* Assemble a profile from --from-file (a JSON file, "-" for standard
 * input) and the profile flags of a. Returns an md_exit_t, having reported
 * a usage error with the file and key at fault. */
int md_ctx_profile_from_args(md_ctx_t *c, const md_args_t *a, md_profile_edit_t *e);
void md_ctx_close(md_ctx_t *c);

/* Renderers shared by the command groups. */
const char *md_user_status(const Mentor__V1__User *u);
/* Whether u carries data from the HR directory (an employee id, or an
 * employment other than active), which output then shows. */
int md_user_synced(const Mentor__V1__User *u);
void md_json_user(md_json_t *j, const char *key, const Mentor__V1__User *u);
void md_json_org(md_json_t *j, const char *key, const Mentor__V1__Org *o);
/* Append the rows describing u (or o) to a key/value table. */
void md_kv_user(md_table_t *t, const Mentor__V1__User *u);
void md_kv_org(md_table_t *t, const Mentor__V1__Org *o);
/* The part of an email address before the '@' (all of it when there is
 * none), as the default display name of an invited person. */
void md_email_local_part(const char *email, char *buf, size_t len);
/* The command that accepts an invitation on this server, with --server
 * when it is not the default one, for the user to pass on. */
void md_invite_hint(md_ctx_t *c, const char *code, const char *who);

/* The handlers, one per command. */
int md_cmd_login(md_ctx_t *c, const md_args_t *a);
int md_cmd_logout(md_ctx_t *c, const md_args_t *a);
int md_cmd_password_change(md_ctx_t *c, const md_args_t *a);
int md_cmd_user_reset_password(md_ctx_t *c, const md_args_t *a);
int md_cmd_token_create(md_ctx_t *c, const md_args_t *a);
int md_cmd_token_list(md_ctx_t *c, const md_args_t *a);
int md_cmd_token_revoke(md_ctx_t *c, const md_args_t *a);
int md_cmd_audit_list(md_ctx_t *c, const md_args_t *a);
int md_cmd_admin_status(md_ctx_t *c, const md_args_t *a);
int md_cmd_whoami(md_ctx_t *c, const md_args_t *a);
int md_cmd_invite_accept(md_ctx_t *c, const md_args_t *a);
int md_cmd_org_show(md_ctx_t *c, const md_args_t *a);
int md_cmd_org_list(md_ctx_t *c, const md_args_t *a);
int md_cmd_org_create(md_ctx_t *c, const md_args_t *a);
int md_cmd_user_invite(md_ctx_t *c, const md_args_t *a);
int md_cmd_user_list(md_ctx_t *c, const md_args_t *a);
int md_cmd_user_show(md_ctx_t *c, const md_args_t *a);
int md_cmd_user_update(md_ctx_t *c, const md_args_t *a);
int md_cmd_user_deactivate(md_ctx_t *c, const md_args_t *a);
int md_cmd_program_create(md_ctx_t *c, const md_args_t *a);
int md_cmd_program_list(md_ctx_t *c, const md_args_t *a);
int md_cmd_program_show(md_ctx_t *c, const md_args_t *a);
int md_cmd_program_update(md_ctx_t *c, const md_args_t *a);
int md_cmd_program_transition(md_ctx_t *c, const md_args_t *a);
int md_cmd_program_assign_coordinator(md_ctx_t *c, const md_args_t *a);
int md_cmd_participant_enroll(md_ctx_t *c, const md_args_t *a);
int md_cmd_participant_list(md_ctx_t *c, const md_args_t *a);
int md_cmd_participant_show(md_ctx_t *c, const md_args_t *a);
/* ParticipantShow for --program and --user (default: the caller), shared
 * by "participant show" and "profile show". */
int md_participant_fetch(md_ctx_t *c, const md_args_t *a, Mentor__V1__ServerMessage **msg);
int md_cmd_participant_withdraw(md_ctx_t *c, const md_args_t *a);
int md_cmd_participant_training(md_ctx_t *c, const md_args_t *a);
int md_cmd_profile_show(md_ctx_t *c, const md_args_t *a);
int md_cmd_profile_edit(md_ctx_t *c, const md_args_t *a);
int md_cmd_match_run(md_ctx_t *c, const md_args_t *a);
int md_cmd_match_list(md_ctx_t *c, const md_args_t *a);
int md_cmd_match_explain(md_ctx_t *c, const md_args_t *a);
int md_cmd_match_approve(md_ctx_t *c, const md_args_t *a);
int md_cmd_match_reject(md_ctx_t *c, const md_args_t *a);
int md_cmd_match_accept(md_ctx_t *c, const md_args_t *a);
int md_cmd_match_decline(md_ctx_t *c, const md_args_t *a);
int md_cmd_match_pin(md_ctx_t *c, const md_args_t *a);
int md_cmd_match_unpin(md_ctx_t *c, const md_args_t *a);
int md_cmd_match_exclude(md_ctx_t *c, const md_args_t *a);
int md_cmd_match_unexclude(md_ctx_t *c, const md_args_t *a);
int md_cmd_match_reassign(md_ctx_t *c, const md_args_t *a);
int md_cmd_match_prefer(md_ctx_t *c, const md_args_t *a);
int md_cmd_match_avoid(md_ctx_t *c, const md_args_t *a);
int md_cmd_match_clear_preference(md_ctx_t *c, const md_args_t *a);
int md_cmd_match_preferences(md_ctx_t *c, const md_args_t *a);
int md_cmd_match_suggest(md_ctx_t *c, const md_args_t *a);
int md_cmd_match_request(md_ctx_t *c, const md_args_t *a);
int md_cmd_match_runs(md_ctx_t *c, const md_args_t *a);
int md_cmd_pair_list(md_ctx_t *c, const md_args_t *a);
int md_cmd_rematch_request(md_ctx_t *c, const md_args_t *a);
int md_cmd_inbox(md_ctx_t *c, const md_args_t *a);
int md_cmd_import_participants(md_ctx_t *c, const md_args_t *a);
int md_cmd_import_users(md_ctx_t *c, const md_args_t *a);
int md_cmd_export_participants(md_ctx_t *c, const md_args_t *a);

#endif
