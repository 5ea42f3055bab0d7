/* cli.c: the front of mentorctl. One static table lists every command with
 * its handler, options, usage and help; dispatch, the help pages and the
 * "did you mean" suggestions are all read from it, so a new command is one
 * new row. This file also settles the settings every command needs (which
 * server, which CA, text or JSON) from flags, environment, config file and
 * saved session, in that order of precedence, before any handler runs. */
#include "md_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md_cmd.h"

typedef struct {
    const char *group; /* NULL for a top-level command */
    const char *name;
    md_cmd_fn fn;
    const char *usage;   /* the synopsis after "mentorctl " */
    const char *summary; /* one line for command lists */
    const char *help;    /* the paragraph of the command's help page */
    md_args_spec_t spec;
} command_t;

typedef struct {
    const char *name;
    const char *summary;
} group_t;

#define OPT_JSON                                                                                   \
    {                                                                                              \
        "json", 0, MD_OPT_FLAG, 0, NULL, "print the result as one JSON document"                   \
    }
#define OPT_HELP                                                                                   \
    {                                                                                              \
        "help", 'h', MD_OPT_FLAG, 0, NULL, "show this help"                                        \
    }
#define OPT_PASSWORD_STDIN                                                                         \
    {                                                                                              \
        "password-stdin", 0, MD_OPT_FLAG, 0, NULL,                                                 \
            "read the password from the first line of standard input"                              \
    }
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define SPEC(opts, min, max, names)                                                                \
    {                                                                                              \
        opts, COUNT(opts), min, max, names                                                         \
    }

static const md_opt_t opts_plain[] = {OPT_JSON, OPT_HELP};
static const md_opt_t opts_token_create[] = {
    {"name", 0, MD_OPT_VALUE, 1, "NAME", "what the token is for, e.g. nightly-report"},
    {"scope", 0, MD_OPT_VALUE, 1, "SCOPE", "read (list and show only) or write"},
    {"expires-days", 0, MD_OPT_VALUE, 0, "DAYS", "lifetime, 1-365 (default 90)"},
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_audit_list[] = {
    {"since", 0, MD_OPT_VALUE, 0, "TIME", "from this time on (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)"},
    {"actor", 0, MD_OPT_VALUE, 0, "UID", "only what this user did"},
    {"object", 0, MD_OPT_VALUE, 0, "KIND:ID", "only this object, e.g. user:1042, program:1007"},
    {"limit", 0, MD_OPT_VALUE, 0, "N", "at most N entries, newest first (default 100)"},
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_logout[] = {
    {"all", 0, MD_OPT_FLAG, 0, NULL, "end every session of yours, on every device"},
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_login[] = {
    {"org", 0, MD_OPT_VALUE, 1, "SLUG", "the organization's slug"},
    {"email", 0, MD_OPT_VALUE, 1, "EMAIL", "your email address"},
    OPT_PASSWORD_STDIN,
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_invite_accept[] = {OPT_PASSWORD_STDIN, OPT_JSON, OPT_HELP};
static const md_opt_t opts_org_create[] = {
    {"slug", 0, MD_OPT_VALUE, 1, "SLUG", "short name: 2-40 of a-z, 0-9 and '-', first a letter"},
    {"name", 0, MD_OPT_VALUE, 1, "NAME", "the organization's full name"},
    {"admin-email", 0, MD_OPT_VALUE, 1, "EMAIL", "email address of the first admin"},
    {"admin-name", 0, MD_OPT_VALUE, 0, "NAME",
     "the admin's display name (default: the email before '@')"},
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_user_invite[] = {
    {"email", 0, MD_OPT_VALUE, 1, "EMAIL", "the person's email address"},
    {"name", 0, MD_OPT_VALUE, 0, "NAME", "display name (default: the email before '@')"},
    {"role", 0, MD_OPT_VALUE, 0, "ROLE", "member, coordinator or admin (default: member)"},
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_user_list[] = {
    {"all", 0, MD_OPT_FLAG, 0, NULL, "include deactivated users"},
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_user_show[] = {
    {"email", 0, MD_OPT_VALUE, 0, "EMAIL", "find the user by email address instead of id"},
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_user_update[] = {
    {"role", 0, MD_OPT_VALUE, 0, "ROLE", "new role: member, coordinator or admin"},
    {"name", 0, MD_OPT_VALUE, 0, "NAME", "new display name"},
    OPT_JSON,
    OPT_HELP,
};

/* The fields of a program, shared by "program create" and "program
 * update"; only create insists on a name. */
#define OPTS_PROGRAM_FIELDS(name_required)                                                         \
    {"name", 0, MD_OPT_VALUE, name_required, "NAME", "the program's name, unique in the org"},     \
        {"description", 0, MD_OPT_VALUE, 0, "TEXT", "what the program is about"},                  \
        {"objective", 0, MD_OPT_LIST, 0, "TEXT", "an objective"},                                  \
        {"mentor-expectations", 0, MD_OPT_VALUE, 0, "TEXT", "what is expected of mentors"},        \
        {"mentee-expectations", 0, MD_OPT_VALUE, 0, "TEXT", "what is expected of mentees"},        \
        {"cadence", 0, MD_OPT_VALUE, 0, "DAYS", "days between check-ins, 1-365 (default 14)"},     \
        {"start", 0, MD_OPT_VALUE, 0, "YYYY-MM-DD", "start date"},                                 \
        {"end", 0, MD_OPT_VALUE, 0, "YYYY-MM-DD", "end date"},                                     \
        {"capacity", 0, MD_OPT_VALUE, 0, "N", "default mentees per mentor, 1-10 (default 2)"},     \
        {"weight", 0, MD_OPT_LIST, 0, "FACTOR=N", "a matching factor's weight, 0-100"},            \
        {"department-rule",                                                                        \
         0,                                                                                        \
         MD_OPT_VALUE,                                                                             \
         0,                                                                                        \
         "RULE",                                                                                   \
         "pairs from any, same or different "                                                      \
         "departments"},                                                                           \
        {"min-seniority-gap",                                                                      \
         0,                                                                                        \
         MD_OPT_VALUE,                                                                             \
         0,                                                                                        \
         "N",                                                                                      \
         "mentor's seniority level minus mentee's, at least (0-10)"},                              \
        {"require-shared-language", 0, MD_OPT_VALUE, 0, "yes|no", "pairs must share a language"},  \
        {"require-mentor-training",                                                                \
         0,                                                                                        \
         MD_OPT_VALUE,                                                                             \
         0,                                                                                        \
         "yes|no",                                                                                 \
         "mentors must have completed the training"},                                              \
        {"mentors-per-mentee", 0, MD_OPT_VALUE, 0, "N", "mentors per mentee, 1-3 (default 1)"},    \
        {"match-objective", 0, MD_OPT_VALUE, 0, "GOAL", "participation (default) or score"},       \
        {"match-mode", 0, MD_OPT_VALUE, 0, "MODE", "admin (default) or self (mentees request)"},   \
        {"response-window-days", 0, MD_OPT_VALUE, 0, "N", "days to answer, 1-30 (default 3)"},     \
        {"auto-recalc", 0, MD_OPT_VALUE, 0, "on|off", "recompute proposals after changes"},        \
    {                                                                                              \
        "recalc-hours", 0, MD_OPT_VALUE, 0, "N", "and every N hours, 0-720 (0: never)"             \
    }

/* The fields of a profile, shared by "participant enroll" (the initial
 * profile) and "profile edit". */
#define OPTS_PROFILE_FIELDS                                                                        \
    {"offer", 0, MD_OPT_LIST, 0, "SKILL:LEVEL", "a skill offered, level 1-5, e.g. c:4"},           \
        {"want", 0, MD_OPT_LIST, 0, "SKILL:LEVEL", "a skill wanted, level 1-5"},                   \
        {"goal", 0, MD_OPT_LIST, 0, "GOAL", "a career goal"},                                      \
        {"interest", 0, MD_OPT_LIST, 0, "TOPIC", "an interest"},                                   \
        {"department", 0, MD_OPT_VALUE, 0, "NAME", "department"},                                  \
        {"level", 0, MD_OPT_VALUE, 0, "N", "seniority level, 1-20"},                               \
        {"years", 0, MD_OPT_VALUE, 0, "N", "years of experience, 0-60"},                           \
        {"time-zone", 0, MD_OPT_VALUE, 0, "TZ", "IANA time zone, e.g. Europe/Paris"},              \
        {"language", 0, MD_OPT_LIST, 0, "CODE", "a language, ISO 639-1, e.g. en"},                 \
        {"availability", 0, MD_OPT_VALUE, 0, "SPEC", "weekly hours, e.g. mon-fri:9-17,sat:10-12"}, \
        {"manager", 0, MD_OPT_VALUE, 0, "UID", "the manager's user id"},                           \
        {"capacity", 0, MD_OPT_VALUE, 0, "N", "mentors: how many mentees, 1-10"},                  \
        {"attribute", 0, MD_OPT_LIST, 0, "KEY=VALUE", "an opt-in self-identified attribute"},      \
    {                                                                                              \
        "from-file", 0, MD_OPT_VALUE, 0, "FILE", "profile fields from a JSON file ('-': stdin)"    \
    }

static const md_opt_t opts_program_create[] = {OPTS_PROGRAM_FIELDS(1), OPT_JSON, OPT_HELP};
static const md_opt_t opts_program_update[] = {
    OPTS_PROGRAM_FIELDS(0),
    {"clear", 0, MD_OPT_LIST, 0, "FIELD", "empty a field (description, objectives, ...)"},
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_program_list[] = {
    {"state", 0, MD_OPT_VALUE, 0, "STATE", "only programs in this state"},
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_program_assign[] = {
    {"user", 0, MD_OPT_VALUE, 1, "UID", "the coordinator's (or admin's) user id"},
    {"remove", 0, MD_OPT_FLAG, 0, NULL, "unassign instead"},
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_participant_enroll[] = {
    {"program", 0, MD_OPT_VALUE, 1, "PID", "the program's id"},
    {"user", 0, MD_OPT_VALUE, 0, "UID", "whom to enroll (default: yourself)"},
    {"email", 0, MD_OPT_VALUE, 0, "EMAIL", "whom to enroll, by email address"},
    {"role", 0, MD_OPT_VALUE, 1, "ROLE", "mentor or mentee"},
    OPTS_PROFILE_FIELDS,
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_import_participants[] = {
    {"program", 0, MD_OPT_VALUE, 1, "PID", "the program"},
    {"skip-invalid", 0, MD_OPT_FLAG, 0, NULL, "import the valid rows even if others have problems"},
    {"dry-run", 0, MD_OPT_FLAG, 0, NULL, "check the file only; change nothing"},
    {"invites", 0, MD_OPT_VALUE, 0, "FILE",
     "write the invitation codes of new users to FILE (CSV, mode 0600)"},
    OPT_JSON,
    OPT_HELP,
};
static const char *const pos_import[] = {"FILE"};
static const md_opt_t opts_import_users[] = {
    {"skip-invalid", 0, MD_OPT_FLAG, 0, NULL, "import the valid rows even if others have problems"},
    {"dry-run", 0, MD_OPT_FLAG, 0, NULL, "check the file only; change nothing"},
    {"invites", 0, MD_OPT_VALUE, 0, "FILE",
     "write the invitation codes of new users to FILE (CSV, mode 0600)"},
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_export_participants[] = {
    {"program", 0, MD_OPT_VALUE, 1, "PID", "the program"},
    {"csv", 0, MD_OPT_FLAG, 0, NULL, "write CSV, the format import reads (the default)"},
    {"output", 0, MD_OPT_VALUE, 0, "FILE", "write to FILE (mode 0600) instead of standard output"},
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_participant_list[] = {
    {"program", 0, MD_OPT_VALUE, 1, "PID", "the program's id"},
    {"role", 0, MD_OPT_VALUE, 0, "ROLE", "only mentors or only mentees"},
    {"all", 0, MD_OPT_FLAG, 0, NULL, "include withdrawn participants"},
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_participant_one[] = {
    {"program", 0, MD_OPT_VALUE, 1, "PID", "the program's id"},
    {"user", 0, MD_OPT_VALUE, 0, "UID", "the participant (default: yourself)"},
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_profile_edit[] = {
    {"program", 0, MD_OPT_VALUE, 1, "PID", "the program's id"},
    {"user", 0, MD_OPT_VALUE, 0, "UID", "whose profile (default: yours)"},
    OPTS_PROFILE_FIELDS,
    {"clear", 0, MD_OPT_LIST, 0, "FIELD", "empty a profile field, e.g. skills_wanted"},
    OPT_JSON,
    OPT_HELP,
};

/* Matching. USER is a user id or an e-mail address, as md_parse_user_ref
 * reads it. */
static const md_opt_t opts_match_run[] = {
    {"program", 0, MD_OPT_VALUE, 1, "PID", "the program's id"},
    {"solver", 0, MD_OPT_VALUE, 0, "SOLVER", "optimal (the default) or stable"},
    {"dry-run", 0, MD_OPT_FLAG, 0, NULL, "show what would be proposed; change nothing"},
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_match_list[] = {
    {"program", 0, MD_OPT_VALUE, 1, "PID", "the program's id"},
    {"status", 0, MD_OPT_VALUE, 0, "STATUS", "only proposals in this status (default: proposed)"},
    {"all", 0, MD_OPT_FLAG, 0, NULL, "proposals in every status"},
    {"mine", 0, MD_OPT_FLAG, 0, NULL, "only your own proposals"},
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_match_explain[] = {
    {"id", 0, MD_OPT_VALUE, 0, "ID", "the proposal to explain"},
    {"program", 0, MD_OPT_VALUE, 0, "PID", "the program's id (with --mentee and --mentor)"},
    {"mentee", 0, MD_OPT_VALUE, 0, "USER", "the mentee, by id or e-mail"},
    {"mentor", 0, MD_OPT_VALUE, 0, "USER", "the mentor, by id or e-mail"},
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_match_note[] = {
    {"note", 0, MD_OPT_VALUE, 0, "TEXT", "why, up to 1000 characters"},
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_match_pair[] = {
    {"program", 0, MD_OPT_VALUE, 1, "PID", "the program's id"},
    {"mentee", 0, MD_OPT_VALUE, 1, "USER", "the mentee, by id or e-mail"},
    {"mentor", 0, MD_OPT_VALUE, 1, "USER", "the mentor, by id or e-mail"},
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_match_exclude[] = {
    {"program", 0, MD_OPT_VALUE, 1, "PID", "the program's id"},
    {"mentee", 0, MD_OPT_VALUE, 1, "USER", "the mentee, by id or e-mail"},
    {"mentor", 0, MD_OPT_VALUE, 1, "USER", "the mentor, by id or e-mail"},
    {"reason", 0, MD_OPT_VALUE, 0, "TEXT", "why, up to 1000 characters"},
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_match_reassign[] = {
    {"mentor", 0, MD_OPT_VALUE, 1, "USER", "the new mentor, by id or e-mail"},
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_match_prefer[] = {
    {"program", 0, MD_OPT_VALUE, 1, "PID", "the program's id"},
    {"mentor", 0, MD_OPT_VALUE, 1, "USER", "the mentor, by id or e-mail"},
    {"rank", 0, MD_OPT_VALUE, 1, "N", "1 (most wanted) to 100"},
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_match_other[] = {
    {"program", 0, MD_OPT_VALUE, 1, "PID", "the program's id"},
    {"user", 0, MD_OPT_VALUE, 1, "USER", "the other participant, by id or e-mail"},
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_match_program[] = {
    {"program", 0, MD_OPT_VALUE, 1, "PID", "the program's id"},
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_match_suggest[] = {
    {"program", 0, MD_OPT_VALUE, 1, "PID", "the program's id"},
    {"limit", 0, MD_OPT_VALUE, 0, "N", "at most N mentors, 1-50 (default 5)"},
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_match_request[] = {
    {"program", 0, MD_OPT_VALUE, 1, "PID", "the program's id"},
    {"mentor", 0, MD_OPT_VALUE, 1, "USER", "the mentor to ask, by id or e-mail"},
    {"message", 0, MD_OPT_VALUE, 0, "TEXT", "a word for the mentor, up to 1000 characters"},
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_match_runs[] = {
    {"program", 0, MD_OPT_VALUE, 1, "PID", "the program's id"},
    {"limit", 0, MD_OPT_VALUE, 0, "N", "at most N runs, newest first, 1-200 (default 20)"},
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_pair_list[] = {
    {"program", 0, MD_OPT_VALUE, 0, "PID", "only this program's pairs"},
    {"ended", 0, MD_OPT_FLAG, 0, NULL, "include pairs that ended"},
    {"mine", 0, MD_OPT_FLAG, 0, NULL, "only pairs you are in"},
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_rematch_request[] = {
    {"pair", 0, MD_OPT_VALUE, 1, "ID", "the pair you are in"},
    {"reason", 0, MD_OPT_VALUE, 1, "TEXT", "why, up to 1000 characters"},
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_inbox[] = {
    {"unread", 0, MD_OPT_FLAG, 0, NULL, "only notifications not read yet"},
    {"limit", 0, MD_OPT_VALUE, 0, "N", "at most N notifications, 1-500 (default 50)"},
    {"before", 0, MD_OPT_VALUE, 0, "ID", "only notifications older than this one (paging)"},
    {"all", 0, MD_OPT_FLAG, 0, NULL, "with 'read': mark every notification read"},
    OPT_JSON,
    OPT_HELP,
};
static const md_opt_t opts_participant_training[] = {
    {"program", 0, MD_OPT_VALUE, 1, "PID", "the program's id"},
    {"user", 0, MD_OPT_VALUE, 1, "USER", "the mentor, by id or e-mail"},
    {"not-done", 0, MD_OPT_FLAG, 0, NULL, "record the training as not done (again)"},
    OPT_JSON,
    OPT_HELP,
};

static const char *const pos_code[] = {"CODE"};
static const char *const pos_id[] = {"ID"};
static const char *const pos_id_state[] = {"ID", "STATE"};
static const char *const pos_inbox[] = {"read", "ID"};

#define PROGRAM_FIELDS_HELP                                                                        \
    "FACTOR is one of skills, goals, interests, seniority, department,\n"                          \
    "time_zone, language, availability, preferences. Dates are YYYY-MM-DD.\n"                      \
    "--match-objective steers the optimal solver: participation matches the\n"                     \
    "most mentees, then the highest total score; score the highest total even\n"                   \
    "if fewer are matched. In --match-mode self, mentees request mentors, who\n"                   \
    "answer within --response-window-days. With --auto-recalc on, proposals\n"                     \
    "are recomputed after changes while the program is matching or active\n"                       \
    "(and every --recalc-hours hours when not 0). Ranges are checked by the\n"                     \
    "server."

#define USER_HELP                                                                                  \
    "USER is a user id or an e-mail address; looking up an address needs the\n"                    \
    "right to see that user (admins and coordinators), so members give ids\n"                      \
    "(shown by 'match suggest' and 'match list')."

#define PROFILE_FIELDS_HELP                                                                        \
    "A repeated flag (--offer, --want, --goal, --interest, --language,\n"                          \
    "--attribute) gives the whole list. SPEC is comma-separated DAY:START-END\n"                   \
    "items: DAY is mon..sun or a range like mon-fri, hours 0-24, END exclusive,\n"                 \
    "in your time zone. --from-file reads a JSON object with the Profile\n"                        \
    "fields of the protocol, e.g. {\"skills_offered\": [{\"name\": \"c\", \"level\": 4}],\n"       \
    "\"availability\": [33, 34], \"attributes\": {\"pronouns\": \"she/her\"}};\n"                  \
    "flags given alongside win over the file's keys."

static const command_t commands[] = {
    {NULL, "login", md_cmd_login, "login --org SLUG --email EMAIL [--password-stdin]",
     "Log in and save the session",
     "Log in to the server with your organization, email and password, and save\n"
     "the session so later commands are authenticated. The password is asked\n"
     "for on the terminal, or read from standard input with --password-stdin.",
     SPEC(opts_login, 0, 0, NULL)},
    {NULL, "logout", md_cmd_logout, "logout [--all]", "End the session and forget it",
     "End the saved session on the server and remove it from this machine. With\n"
     "--all, every session of yours ends, on every device and client.",
     SPEC(opts_logout, 0, 0, NULL)},
    {NULL, "whoami", md_cmd_whoami, "whoami", "Show who you are logged in as",
     "Show the user, organization and expiry of the saved session.", SPEC(opts_plain, 0, 0, NULL)},
    {"password", "change", md_cmd_password_change, "password change [--password-stdin]",
     "Change your password",
     "Change your own password: give the current one, then the new one (at least\n"
     "10 characters; asked twice on the terminal). With --password-stdin, give\n"
     "them on two lines of standard input. Your other sessions end; this one\n"
     "goes on.",
     SPEC(opts_invite_accept, 0, 0, NULL)},
    {"token", "create", md_cmd_token_create,
     "token create --name NAME --scope read|write [--expires-days DAYS]",
     "Make an API token for scripts",
     "Make an API token: a credential for automation, used by setting\n"
     "MENTORCTL_TOKEN=SECRET in the environment of mentorctl. The secret is\n"
     "printed once. A read token may only list and show; a write token may do\n"
     "what you may. Tokens do not expire when idle; they end at their expiry,\n"
     "when revoked, or when your account is deactivated or reset. Only from a\n"
     "session opened with your password.",
     SPEC(opts_token_create, 0, 0, NULL)},
    {"token", "list", md_cmd_token_list, "token list", "List your API tokens",
     "List your API tokens, newest first: id, name, scope, dates, status.",
     SPEC(opts_plain, 0, 0, NULL)},
    {"token", "revoke", md_cmd_token_revoke, "token revoke ID", "Revoke one of your API tokens",
     "End one of your API tokens at once.", SPEC(opts_plain, 1, 1, pos_id)},
    {"admin", "status", md_cmd_admin_status, "admin status", "The health of the server (operator)",
     "Show the server instance's version, uptime, connections, requests (in\n"
     "all and by kind), errors and database pool, from the server's memory.\n"
     "Only the server operator may.",
     SPEC(opts_plain, 0, 0, NULL)},
    {"audit", "list", md_cmd_audit_list,
     "audit list [--since TIME] [--actor UID] [--object KIND:ID] [--limit N]",
     "What admins and coordinators changed (admin)",
     "List the audit log, newest first: every change an admin or a coordinator\n"
     "made to users, programs, coordinators and participants, with who, when,\n"
     "the request and what changed. --json gives the rows before and after.\n"
     "Only admins may.",
     SPEC(opts_audit_list, 0, 0, NULL)},
    {"invite", "accept", md_cmd_invite_accept, "invite accept CODE [--password-stdin]",
     "Accept an invitation, set your password and log in",
     "Redeem the invitation CODE you were given, choose your password (at least\n"
     "10 characters) and log in. The password is asked for twice on the terminal,\n"
     "or read once from standard input with --password-stdin.",
     SPEC(opts_invite_accept, 1, 1, pos_code)},
    {"org", "show", md_cmd_org_show, "org show", "Show your organization",
     "Show the organization you are logged in to.", SPEC(opts_plain, 0, 0, NULL)},
    {"org", "list", md_cmd_org_list, "org list", "List every organization (operator)",
     "List every organization on the server. Only the server operator may.",
     SPEC(opts_plain, 0, 0, NULL)},
    {"org", "create", md_cmd_org_create,
     "org create --slug SLUG --name NAME --admin-email EMAIL [--admin-name NAME]",
     "Create an organization and invite its first admin (operator)",
     "Create an organization and its first admin, and print the admin's one-time\n"
     "invitation code. Only the server operator may.",
     SPEC(opts_org_create, 0, 0, NULL)},
    {"user", "invite", md_cmd_user_invite, "user invite --email EMAIL [--name NAME] [--role ROLE]",
     "Invite a user to your organization (admin)",
     "Create a user in your organization and print their one-time invitation\n"
     "code, valid for 7 days. Only admins may.",
     SPEC(opts_user_invite, 0, 0, NULL)},
    {"user", "list", md_cmd_user_list, "user list [--all]", "List the users of your organization",
     "List the users of your organization: active and invited ones, and with\n"
     "--all deactivated ones too. Admins and coordinators may.",
     SPEC(opts_user_list, 0, 0, NULL)},
    {"user", "show", md_cmd_user_show, "user show (ID | --email EMAIL)", "Show one user",
     "Show one user of your organization, by id or by email. Members may only\n"
     "see themselves.",
     SPEC(opts_user_show, 0, 1, pos_id)},
    {"user", "update", md_cmd_user_update, "user update ID [--role ROLE] [--name NAME]",
     "Change a user's role or name (admin)",
     "Change the role and/or display name of a user. Only admins may, and an\n"
     "admin cannot take away their own admin role.",
     SPEC(opts_user_update, 1, 1, pos_id)},
    {"user", "deactivate", md_cmd_user_deactivate, "user deactivate ID",
     "Deactivate a user (admin)",
     "Deactivate a user: their sessions end at once and they can no longer log\n"
     "in. Only admins may, and not on themselves.",
     SPEC(opts_plain, 1, 1, pos_id)},
    {"user", "reset-password", md_cmd_user_reset_password, "user reset-password ID",
     "Make a user choose a new password (admin)",
     "The user's password stops working and their sessions end at once; the\n"
     "one-time code printed (valid 7 days) lets them set a new password with\n"
     "'mentorctl invite accept CODE'. Earlier codes stop working. Only admins\n"
     "may, and not on themselves (use 'password change').",
     SPEC(opts_plain, 1, 1, pos_id)},
    {"program", "create", md_cmd_program_create, "program create --name NAME [FIELD OPTIONS]",
     "Create a program in state draft (admin)",
     "Create a mentorship program; it starts in state draft. Only admins may.\n"
     "Weights not given with --weight get the defaults skills 30, goals 15,\n"
     "interests 10, seniority 10, department 5, time_zone 10, language 10,\n"
     "availability 5, preferences 5.\n\n" PROGRAM_FIELDS_HELP,
     SPEC(opts_program_create, 0, 0, NULL)},
    {"program", "list", md_cmd_program_list, "program list [--state STATE]",
     "List the programs you may see",
     "List programs, newest first: all of them for admins, the ones they run for\n"
     "coordinators, enrolling ones and their own for members. STATE is draft,\n"
     "enrolling, matching, active or closed.",
     SPEC(opts_program_list, 0, 0, NULL)},
    {"program", "show", md_cmd_program_show, "program show ID", "Show one program",
     "Show a program: its texts, objectives, dates, matching weights, rules and\n"
     "settings, coordinators and participant counts.",
     SPEC(opts_plain, 1, 1, pos_id)},
    {"program", "update", md_cmd_program_update,
     "program update ID [FIELD OPTIONS] [--clear FIELD]",
     "Change a program (admin, its coordinators)",
     "Change the fields given and nothing else. --objective replaces the whole\n"
     "list of objectives. --weight and the rule flags change only what they\n"
     "name: the other weights and rules keep their current values. --clear\n"
     "empties description, objectives, mentor_expectations,\n"
     "mentee_expectations, start_date or end_date. A closed program cannot\n"
     "change.\n\n" PROGRAM_FIELDS_HELP,
     SPEC(opts_program_update, 1, 1, pos_id)},
    {"program", "transition", md_cmd_program_transition, "program transition ID STATE",
     "Move a program to another state",
     "Move a program along its lifecycle: draft -> enrolling -> matching ->\n"
     "active -> closed, or back from enrolling to draft and from matching to\n"
     "enrolling; any state but closed may go to closed.",
     SPEC(opts_plain, 2, 2, pos_id_state)},
    {"program", "assign-coordinator", md_cmd_program_assign_coordinator,
     "program assign-coordinator ID --user UID [--remove]",
     "Assign a coordinator to a program (admin)",
     "Assign a user with the coordinator or admin role to run a program, or with\n"
     "--remove unassign them. Only admins may.",
     SPEC(opts_program_assign, 1, 1, pos_id)},
    {"participant", "enroll", md_cmd_participant_enroll,
     "participant enroll --program PID [--user UID | --email EMAIL] --role ROLE [PROFILE OPTIONS]",
     "Enroll yourself or someone in a program",
     "Enroll a user as mentor or mentee, with an optional initial profile.\n"
     "Without --user or --email you enroll yourself (members may, while the\n"
     "program is enrolling); admins and the program's coordinators may enroll\n"
     "anyone. Enrolling a withdrawn participant again reactivates them.\n\n" PROFILE_FIELDS_HELP,
     SPEC(opts_participant_enroll, 0, 0, NULL)},
    {"participant", "list", md_cmd_participant_list,
     "participant list --program PID [--role ROLE] [--all]", "List a program's participants",
     "List the participants of a program (with --all, withdrawn ones too).\n"
     "Admins and the program's coordinators may.",
     SPEC(opts_participant_list, 0, 0, NULL)},
    {"participant", "show", md_cmd_participant_show, "participant show --program PID [--user UID]",
     "Show a participant and their profile",
     "Show a participant of a program and the profile fields that are set.\n"
     "Without --user, yourself.",
     SPEC(opts_participant_one, 0, 0, NULL)},
    {"participant", "withdraw", md_cmd_participant_withdraw,
     "participant withdraw --program PID [--user UID]", "Withdraw from a program",
     "Withdraw a participant from a program (without --user, yourself). Their\n"
     "history is kept; enrolling again reactivates them.",
     SPEC(opts_participant_one, 0, 0, NULL)},
    {"participant", "training", md_cmd_participant_training,
     "participant training --program PID --user USER [--not-done]",
     "Record a mentor's required training (admin, its coordinators)",
     "Record that a mentor has done the program's required mentor training (or\n"
     "with --not-done, that they have not), which matching checks when the\n"
     "program requires it. Admins and the program's coordinators may.\n\n" USER_HELP,
     SPEC(opts_participant_training, 0, 0, NULL)},
    {"profile", "show", md_cmd_profile_show, "profile show --program PID [--user UID]",
     "Show a profile in a program",
     "Show every field of a participant's profile in a program (without --user,\n"
     "yours). Attributes are shown only to their owner.",
     SPEC(opts_participant_one, 0, 0, NULL)},
    {"profile", "edit", md_cmd_profile_edit,
     "profile edit --program PID [--user UID] [PROFILE OPTIONS] [--clear FIELD]",
     "Change a profile in a program",
     "Change the profile fields given, and only those: flags, keys of the\n"
     "--from-file document, and fields named by --clear (which empties them:\n"
     "skills_offered, skills_wanted, career_goals, interests, department,\n"
     "seniority_level, seniority_years, time_zone, languages, availability,\n"
     "manager_id, capacity, attributes).\n\n" PROFILE_FIELDS_HELP,
     SPEC(opts_profile_edit, 0, 0, NULL)},
    {"match", "run", md_cmd_match_run,
     "match run --program PID [--solver optimal|stable] [--dry-run]",
     "Compute match proposals (admin, its coordinators)",
     "Score every allowed mentor/mentee pair of the program and propose pairs\n"
     "for the participants not yet in one. Proposals nobody acted on are\n"
     "replaced; pinned, approved and accepted ones are kept. The optimal solver\n"
     "finds the largest total score (see the program's match objective); the\n"
     "stable one runs mentee-proposing deferred acceptance. Prints the run's\n"
     "summary; with --dry-run, the proposals it would make, changing nothing.\n"
     "The program must be matching or active (dry runs: also enrolling).",
     SPEC(opts_match_run, 0, 0, NULL)},
    {"match", "list", md_cmd_match_list,
     "match list --program PID [--status STATUS | --all] [--mine]", "List match proposals",
     "List a program's proposals: ID MENTEE MENTOR SCORE STATUS FLAGS and the\n"
     "three factors that gave most points. STATUS is proposed (the default),\n"
     "paired, declined, rejected, superseded, expired or withdrawn; --all lists\n"
     "every status. Admins and coordinators see the program's proposals,\n"
     "participants their own.",
     SPEC(opts_match_list, 0, 0, NULL)},
    {"match", "explain", md_cmd_match_explain,
     "match explain (--id ID | --program PID --mentee USER --mentor USER)",
     "Explain the score of a pair, factor by factor",
     "Show how a mentee and a mentor score together: each factor's weight,\n"
     "value (0-100), the points it gives and why, factors that took their\n"
     "neutral value because data was missing, and the hard rules that forbid\n"
     "the pair. Give a proposal (--id ID, or ID alone) or the program, mentee\n"
     "and mentor. Admins and coordinators for any pair; participants for their\n"
     "own.\n\n" USER_HELP,
     SPEC(opts_match_explain, 0, 1, pos_id)},
    {"match", "approve", md_cmd_match_approve, "match approve ID",
     "Approve a proposal (admin, its coordinators)",
     "Approve a proposed match. It becomes a pair once the mentee and the\n"
     "mentor have both accepted it too.",
     SPEC(opts_plain, 1, 1, pos_id)},
    {"match", "reject", md_cmd_match_reject, "match reject ID [--note TEXT]",
     "Reject a proposal (admin, its coordinators)",
     "Reject a proposed match; the pair is never proposed again in the program.",
     SPEC(opts_match_note, 1, 1, pos_id)},
    {"match", "accept", md_cmd_match_accept, "match accept ID", "Accept a proposal you are in",
     "Accept a match proposed to you, as its mentee or its mentor. It becomes\n"
     "a pair once approved and accepted by both (in a self-match program, the\n"
     "mentor's acceptance of a request makes the pair).",
     SPEC(opts_plain, 1, 1, pos_id)},
    {"match", "decline", md_cmd_match_decline, "match decline ID [--note TEXT]",
     "Decline a proposal you are in",
     "Decline a match proposed to you; the pair is never proposed again in the\n"
     "program.",
     SPEC(opts_match_note, 1, 1, pos_id)},
    {"match", "pin", md_cmd_match_pin, "match pin --program PID --mentee USER --mentor USER",
     "Pin a pair: every run keeps it (admin, its coordinators)",
     "Pin a mentee to a mentor: a proposal that counts as approved and that\n"
     "every run keeps.\n\n" USER_HELP,
     SPEC(opts_match_pair, 0, 0, NULL)},
    {"match", "unpin", md_cmd_match_unpin, "match unpin --program PID --mentee USER --mentor USER",
     "Take a pin away (admin, its coordinators)",
     "Take away a pin; its proposal is superseded.\n\n" USER_HELP,
     SPEC(opts_match_pair, 0, 0, NULL)},
    {"match", "exclude", md_cmd_match_exclude,
     "match exclude --program PID --mentee USER --mentor USER [--reason TEXT]",
     "Never propose a pair (admin, its coordinators)",
     "Forbid a mentee/mentor pair in the program; an open proposal for it is\n"
     "rejected.\n\n" USER_HELP,
     SPEC(opts_match_exclude, 0, 0, NULL)},
    {"match", "unexclude", md_cmd_match_unexclude,
     "match unexclude --program PID --mentee USER --mentor USER",
     "Allow an excluded pair again (admin, its coordinators)",
     "Take away an exclusion, so later runs may propose the pair.\n\n" USER_HELP,
     SPEC(opts_match_pair, 0, 0, NULL)},
    {"match", "reassign", md_cmd_match_reassign, "match reassign ID --mentor USER",
     "Give a proposal's mentee another mentor (admin, its coordinators)",
     "Supersede a proposal and make an approved one for its mentee with another\n"
     "mentor.\n\n" USER_HELP,
     SPEC(opts_match_reassign, 1, 1, pos_id)},
    {"match", "prefer", md_cmd_match_prefer, "match prefer --program PID --mentor USER --rank N",
     "Rank a mentor you would like (mentees)",
     "As a mentee, rank a mentor of the program: 1 is the one you want most.\n"
     "Rankings count in the preferences factor of the score.\n\n" USER_HELP,
     SPEC(opts_match_prefer, 0, 0, NULL)},
    {"match", "avoid", md_cmd_match_avoid, "match avoid --program PID --user USER",
     "Never be paired with someone (participants)",
     "Never be paired with this participant of the program: mentees may avoid\n"
     "mentors and mentors mentees. Nobody else sees it.\n\n" USER_HELP,
     SPEC(opts_match_other, 0, 0, NULL)},
    {"match", "clear-preference", md_cmd_match_clear_preference,
     "match clear-preference --program PID --user USER", "Forget a ranking or an avoid",
     "Clear your ranking of, or avoid of, a participant of the program.\n\n" USER_HELP,
     SPEC(opts_match_other, 0, 0, NULL)},
    {"match", "preferences", md_cmd_match_preferences, "match preferences --program PID",
     "List your rankings and avoids",
     "List your own preferences in a program: USER NAME RANK AVOID.",
     SPEC(opts_match_program, 0, 0, NULL)},
    {"match", "suggest", md_cmd_match_suggest, "match suggest --program PID [--limit N]",
     "Mentors you may request (mentees, self-match)",
     "In a self-match program, list the mentors you may request, best first:\n"
     "MENTOR (the id to request) NAME SCORE OPEN PLACES and the three factors\n"
     "that gave most points. Use 'match explain' for the whole story.",
     SPEC(opts_match_suggest, 0, 0, NULL)},
    {"match", "request", md_cmd_match_request,
     "match request --program PID --mentor USER [--message TEXT]",
     "Ask a mentor to mentor you (mentees, self-match)",
     "In a self-match program, ask a mentor. The mentor accepts or declines\n"
     "with 'match accept' or 'match decline' within the program's response\n"
     "window; then the request expires and you may ask someone else. One open\n"
     "request per place.\n\n" USER_HELP,
     SPEC(opts_match_request, 0, 0, NULL)},
    {"match", "runs", md_cmd_match_runs, "match runs --program PID [--limit N]",
     "List a program's match runs (admin, its coordinators)",
     "List the program's match runs, newest first, manual and background:\n"
     "ID STARTED REASON SOLVER PROPOSALS KEPT UNMATCHED TOTAL SCORE DURATION MS\n"
     "STATUS.",
     SPEC(opts_match_runs, 0, 0, NULL)},
    {"pair", "list", md_cmd_pair_list, "pair list [--program PID] [--ended] [--mine]",
     "List mentor/mentee pairs",
     "List pairs (active ones; with --ended, ended ones too): ID PROGRAM\n"
     "MENTEE MENTOR SCORE STATUS STARTED REMATCH. Admins and coordinators see\n"
     "their programs' pairs, participants their own.",
     SPEC(opts_pair_list, 0, 0, NULL)},
    {"rematch", "request", md_cmd_rematch_request, "rematch request --pair ID --reason TEXT",
     "Ask for another match (a pair's mentee or mentor)",
     "Flag a pair you are in for the program's coordinators, who are told and\n"
     "decide what happens; the pair stays active until someone ends it.",
     SPEC(opts_rematch_request, 0, 0, NULL)},
    {NULL, "inbox", md_cmd_inbox,
     "inbox [--unread] [--limit N] [--before ID] | inbox read (ID... | --all)",
     "Your notifications; mark them read",
     "List your notifications, newest first: ID TIME KIND PROGRAM TITLE, then\n"
     "how many are unread. New proposals, requests and their outcomes land\n"
     "here (and are shown live to clients that are connected). Page with\n"
     "--before, giving the last ID shown. 'inbox read ID...' marks the given\n"
     "notifications read (up to 7 on one command line), 'inbox read --all'\n"
     "every one, and prints how many changed.",
     SPEC(opts_inbox, 0, MD_ARGS_MAX_POS, pos_inbox)},
    {"import", "participants", md_cmd_import_participants,
     "import participants --program PID FILE.csv [--skip-invalid] [--dry-run] [--invites FILE]",
     "Enroll participants from a CSV file",
     "Create, enroll and update the participants listed in a CSV file (\"-\" for\n"
     "standard input); see the README for its columns. Rows are matched to users\n"
     "by e-mail, so importing the same file again changes nothing. By default\n"
     "nothing is written if any row has a problem; every problem is printed as\n"
     "'row N, column C: message'. Users the import creates get invitation codes,\n"
     "written to --invites FILE or else printed. Admins and the program's\n"
     "coordinators may. Exit status 1 when the file was refused.",
     SPEC(opts_import_participants, 1, 1, pos_import)},
    {"import", "users", md_cmd_import_users,
     "import users FILE.csv [--skip-invalid] [--dry-run] [--invites FILE]",
     "Bring users in line with an HR directory file (admin)",
     "Create, update and deactivate the users of your organization from a CSV\n"
     "export of the HR directory (\"-\" for standard input); columns employee_id,\n"
     "email and status (active, leave or terminated) are required, name,\n"
     "department, title and manager_employee_id optional (see the README).\n"
     "Rows are matched to users by employee id, then by e-mail, so importing\n"
     "the same file again changes nothing. New people become members with an\n"
     "invitation code, written to --invites FILE or else printed; terminated\n"
     "ones are deactivated and their sessions end; users not in the file are\n"
     "left alone. By default nothing is written if any row has a problem;\n"
     "every problem is printed as 'row N, column C: message'. Only admins may.\n"
     "Exit status 1 when the file was refused.",
     SPEC(opts_import_users, 1, 1, pos_import)},
    {"export", "participants", md_cmd_export_participants,
     "export participants --program PID [--csv|--json] [--output FILE]",
     "Write a program's participants as CSV or JSON",
     "Write the active participants of a program and their profiles, as the CSV\n"
     "file 'import participants' reads (so that importing it back changes\n"
     "nothing), or with --json as 'participant list --json' prints them.\n"
     "Admins and the program's coordinators may.",
     SPEC(opts_export_participants, 0, 0, NULL)},
};

static const group_t groups[] = {
    {"password", "Your password"},
    {"token", "API tokens for automation"},
    {"audit", "The audit log"},
    {"admin", "Operating the server"},
    {"invite", "Accept an invitation"},
    {"org", "Organizations"},
    {"user", "Users of your organization"},
    {"program", "Mentorship programs"},
    {"participant", "Participants of a program"},
    {"profile", "Participant profiles"},
    {"match", "Matching mentees with mentors"},
    {"pair", "Mentor/mentee pairs"},
    {"rematch", "Asking for another match"},
    {"import", "Import from files"},
    {"export", "Export to files"},
};

static const md_opt_t global_opts[] = {
    {"server", 0, MD_OPT_VALUE, 0, "HOST:PORT", "the server (default 127.0.0.1:7411)"},
    {"ca", 0, MD_OPT_VALUE, 0, "FILE", "verify the server's certificate against this CA"},
    {"json", 0, MD_OPT_FLAG, 0, NULL, "print results as JSON"},
    {"version", 0, MD_OPT_FLAG, 0, NULL, "print the version and exit"},
    OPT_HELP,
};
static const md_args_spec_t global_spec = SPEC(global_opts, 0, 0, NULL);

#define DEFAULT_SERVER "127.0.0.1:" MD_NET_DEFAULT_PORT

static const group_t *find_group(const char *name)
{
    for (size_t i = 0; i < COUNT(groups); i++) {
        if (strcmp(groups[i].name, name) == 0)
            return &groups[i];
    }
    return NULL;
}

static const command_t *find_command(const char *group, const char *name)
{
    for (size_t i = 0; i < COUNT(commands); i++) {
        const command_t *c = &commands[i];
        int same_group =
            group == NULL ? c->group == NULL : c->group != NULL && strcmp(c->group, group) == 0;
        if (same_group && strcmp(c->name, name) == 0)
            return c;
    }
    return NULL;
}

size_t md_cli_command_names(const char *group, const char **out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < COUNT(commands) && n < cap; i++) {
        const command_t *c = &commands[i];
        if (group == NULL ? c->group == NULL : c->group != NULL && strcmp(c->group, group) == 0)
            out[n++] = c->name;
    }
    if (group == NULL) {
        for (size_t i = 0; i < COUNT(groups) && n < cap; i++)
            out[n++] = groups[i].name;
        if (n < cap)
            out[n++] = "help";
    }
    return n;
}

static void full_name(const command_t *c, char *buf, size_t len)
{
    if (c->group != NULL)
        snprintf(buf, len, "%s %s", c->group, c->name);
    else
        snprintf(buf, len, "%s", c->name);
}

static int in_listing(const command_t *c, const char *group)
{
    return group == NULL || (c->group != NULL && strcmp(c->group, group) == 0);
}

static void print_command_list(FILE *f, const char *group)
{
    size_t width = 0;
    char name[64];
    for (size_t i = 0; i < COUNT(commands); i++) {
        if (!in_listing(&commands[i], group))
            continue;
        full_name(&commands[i], name, sizeof(name));
        if (strlen(name) > width)
            width = strlen(name);
    }
    for (size_t i = 0; i < COUNT(commands); i++) {
        const command_t *c = &commands[i];
        if (!in_listing(c, group))
            continue;
        full_name(c, name, sizeof(name));
        fprintf(f, "  %-*s  %s\n", (int)width, name, c->summary);
    }
}

static void print_options(FILE *f, const md_opt_t *opts, size_t n)
{
    char left[MD_ARGS_MAX_OPTS][64];
    size_t width = 0;
    if (n > MD_ARGS_MAX_OPTS)
        n = MD_ARGS_MAX_OPTS;
    for (size_t i = 0; i < n; i++) {
        const md_opt_t *o = &opts[i];
        char shortpart[8] = "";
        if (o->short_name != 0)
            snprintf(shortpart, sizeof(shortpart), "-%c, ", o->short_name);
        snprintf(left[i], sizeof(left[i]), "%s--%s%s%s", shortpart, o->name,
                 o->kind != MD_OPT_FLAG ? " " : "", o->kind != MD_OPT_FLAG ? o->metavar : "");
        if (strlen(left[i]) > width)
            width = strlen(left[i]);
    }
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %-*s  %s%s%s\n", (int)width, left[i], opts[i].help,
                opts[i].required ? " (required)" : "",
                opts[i].kind == MD_OPT_LIST ? " (repeatable)" : "");
}

static void print_main_help(FILE *f)
{
    fprintf(f, "usage: mentorctl [--server HOST:PORT] [--ca FILE] [--json] COMMAND [ARGS...]\n"
               "\n"
               "mentorctl is the command-line client of mentord, the mentorship-program\n"
               "server.\n"
               "\n"
               "Commands:\n");
    print_command_list(f, NULL);
    fprintf(f, "\nGlobal options (before the command; --json may also follow it):\n");
    print_options(f, global_opts, COUNT(global_opts));
    fprintf(f,
            "\n"
            "Run 'mentorctl COMMAND --help' for the options of a command.\n"
            "\n"
            "The server is taken from --server, else $MENTORCTL_SERVER, else 'server' in\n"
            "the config file, else the server of the saved session, else %s.\n"
            "Without --ca (or 'ca' in the config file) the server's certificate is\n"
            "trusted on first use and its fingerprint pinned in known_servers.\n"
            "\n"
            "Files:\n"
            "  $XDG_CONFIG_HOME/mentorctl/config (default ~/.config/mentorctl/config)\n"
            "      'key = value' lines: server = HOST:PORT, ca = FILE; '#' comments\n"
            "  $XDG_STATE_HOME/mentorctl/session (default ~/.local/state/mentorctl/session)\n"
            "      the saved session of the last login\n"
            "  $XDG_STATE_HOME/mentorctl/known_servers\n"
            "      'HOST:PORT fingerprint' lines of servers trusted on first use\n"
            "\n"
            "Exit status: 0 success, 1 refused by the server, 2 usage error,\n"
            "3 connection or TLS failure.\n",
            DEFAULT_SERVER);
}

static void print_group_help(FILE *f, const group_t *g)
{
    fprintf(f, "usage: mentorctl %s COMMAND [ARGS...]\n\n%s.\n\nCommands:\n", g->name, g->summary);
    print_command_list(f, g->name);
    fprintf(f, "\nRun 'mentorctl %s COMMAND --help' for the options of a command.\n", g->name);
}

static void print_command_help(FILE *f, const command_t *c)
{
    fprintf(f, "usage: mentorctl %s [--json]\n\n%s\n\nOptions:\n", c->usage, c->help);
    print_options(f, c->spec.opts, c->spec.nopts);
}

static int usage_error(const char *see, const char *msg, const char *suggestion)
{
    fprintf(stderr, "mentorctl: %s", msg);
    if (suggestion != NULL)
        fprintf(stderr, " (did you mean '%s'?)", suggestion);
    if (see != NULL)
        fprintf(stderr, "\nsee 'mentorctl %s --help'\n", see);
    else
        fprintf(stderr, "\nsee 'mentorctl --help'\n");
    return MD_EXIT_USAGE;
}

static int unknown_command(const char *group, const char *word)
{
    const char *names[COUNT(commands) + COUNT(groups) + 1];
    size_t n = md_cli_command_names(group, names, COUNT(names));
    const char *best = md_closest(word, names, n);
    char msg[160];
    char sugg[128];
    if (group == NULL) {
        snprintf(msg, sizeof(msg), "unknown command '%s'", word);
        return usage_error(NULL, msg, best);
    }
    snprintf(msg, sizeof(msg), "unknown command '%s %s'", group, word);
    if (best != NULL)
        snprintf(sugg, sizeof(sugg), "%s %s", group, best);
    return usage_error(group, msg, best != NULL ? sugg : NULL);
}

/* "mentorctl help [GROUP [COMMAND]]", the spelling git and many others
 * accept, shows the same pages as --help. */
static int help_command(int argc, char *argv[])
{
    if (argc == 0) {
        print_main_help(stdout);
        return MD_EXIT_OK;
    }
    const command_t *c = argc == 1 ? find_command(NULL, argv[0]) : NULL;
    const group_t *g = find_group(argv[0]);
    if (c == NULL && g != NULL && argc >= 2)
        c = find_command(g->name, argv[1]);
    if (c != NULL) {
        print_command_help(stdout, c);
        return MD_EXIT_OK;
    }
    if (g != NULL && argc == 1) {
        print_group_help(stdout, g);
        return MD_EXIT_OK;
    }
    if (g != NULL)
        return unknown_command(g->name, argv[1]);
    return unknown_command(NULL, argv[0]);
}

/* Pick the server: --server, then $MENTORCTL_SERVER, then the config file,
 * then the server of the saved session (so that after logging in to a
 * server, later commands go to it without repeating --server), then the
 * default. */
static int resolve_server(md_ctx_t *ctx, const char *flag, const md_config_t *cfg)
{
    const char *env = getenv("MENTORCTL_SERVER");
    const char *value = DEFAULT_SERVER;
    const char *source = "the default";
    md_session_t s;
    char err[MD_PATH_LEN + 128];
    if (flag != NULL) {
        value = flag;
        source = "--server";
    } else if (env != NULL && env[0] != '\0') {
        value = env;
        source = "MENTORCTL_SERVER";
    } else if (cfg->server[0] != '\0') {
        value = cfg->server;
        source = ctx->paths.config_file;
    } else if (md_session_load(&ctx->paths, &s, err, sizeof(err)) == MD_OK) {
        if (md_endpoint_parse(s.server, &ctx->ep) == MD_OK) {
            md_session_clear(&s);
            return MD_EXIT_OK;
        }
        md_session_clear(&s);
    }
    if (md_endpoint_parse(value, &ctx->ep) != MD_OK) {
        fprintf(stderr,
                "mentorctl: invalid server address '%s' from %s (expected HOST:PORT)\n"
                "see 'mentorctl --help'\n",
                value, source);
        return MD_EXIT_USAGE;
    }
    return MD_EXIT_OK;
}

static int resolve_settings(md_ctx_t *ctx, const md_args_t *global)
{
    char err[MD_PATH_LEN + 128];
    md_config_t cfg;
    if (md_paths_init(&ctx->paths, err, sizeof(err)) != MD_OK ||
        md_config_load(&ctx->paths, &cfg, err, sizeof(err)) != MD_OK) {
        fprintf(stderr, "mentorctl: %s\n", err);
        return MD_EXIT_USAGE;
    }
    int rc = resolve_server(ctx, md_args_get(global, "server"), &cfg);
    if (rc != MD_EXIT_OK)
        return rc;
    const char *ca = md_args_get(global, "ca");
    if (ca == NULL)
        ca = cfg.ca;
    if (snprintf(ctx->ca_file, sizeof(ctx->ca_file), "%s", ca) >= (int)sizeof(ctx->ca_file)) {
        fprintf(stderr, "mentorctl: the CA file path is too long\n");
        return MD_EXIT_USAGE;
    }
    return MD_EXIT_OK;
}

/* The global option taking a value (--server, --ca) that arg names, if
 * any, so that one misplaced after the command gets a precise hint instead
 * of "unknown option". */
static const md_opt_t *global_option(const char *arg)
{
    if (arg[0] != '-' || arg[1] != '-')
        return NULL;
    size_t len = strcspn(arg + 2, "=");
    for (size_t i = 0; i < COUNT(global_opts); i++) {
        const char *n = global_opts[i].name;
        if (global_opts[i].kind == MD_OPT_VALUE && strlen(n) == len &&
            strncmp(arg + 2, n, len) == 0)
            return &global_opts[i];
    }
    return NULL;
}

/* The bash completion script, written from the tables above so that it
 * always knows every group, command and option. */
static void print_opts_words(FILE *f, const md_opt_t *opts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, " --%s", opts[i].name);
}

static void print_bash_completion(FILE *f)
{
    const size_t ncmd = sizeof(commands) / sizeof(commands[0]);
    const size_t ngroup = sizeof(groups) / sizeof(groups[0]);
    fputs("# bash completion for mentorctl (generated by 'mentorctl completion bash')\n"
          "_mentorctl() {\n"
          "    local cur=${COMP_WORDS[COMP_CWORD]} i w key\n"
          "    local words=()\n"
          "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
          "        w=${COMP_WORDS[i]}\n"
          "        case \"$w\" in\n"
          "        --server | --ca) ((i++)); continue ;;\n"
          "        -*) continue ;;\n"
          "        esac\n"
          "        words+=(\"$w\")\n"
          "    done\n"
          "    if [ ${#words[@]} -eq 0 ]; then\n"
          "        COMPREPLY=($(compgen -W \"help completion",
          f);
    for (size_t i = 0; i < ngroup; i++)
        fprintf(f, " %s", groups[i].name);
    for (size_t i = 0; i < ncmd; i++) {
        if (commands[i].group == NULL)
            fprintf(f, " %s", commands[i].name);
    }
    print_opts_words(f, global_opts, sizeof(global_opts) / sizeof(global_opts[0]));
    fputs("\" -- \"$cur\"))\n"
          "        return\n"
          "    fi\n"
          "    if [ ${#words[@]} -eq 1 ]; then\n"
          "        case \"${words[0]}\" in\n",
          f);
    for (size_t g = 0; g < ngroup; g++) {
        fprintf(f, "        %s) COMPREPLY=($(compgen -W \"", groups[g].name);
        for (size_t i = 0; i < ncmd; i++) {
            if (commands[i].group != NULL && strcmp(commands[i].group, groups[g].name) == 0)
                fprintf(f, " %s", commands[i].name);
        }
        fputs("\" -- \"$cur\")); return ;;\n", f);
    }
    fputs("        esac\n"
          "        key=${words[0]}\n"
          "    else\n"
          "        key=\"${words[0]} ${words[1]}\"\n"
          "        case \"${words[0]}\" in\n",
          f);
    for (size_t i = 0; i < ncmd; i++) {
        if (commands[i].group == NULL)
            fprintf(f, "        %s) key=%s ;;\n", commands[i].name, commands[i].name);
    }
    fputs("        esac\n"
          "    fi\n"
          "    case \"$cur\" in\n"
          "    -*) ;;\n"
          "    *) return ;;\n"
          "    esac\n"
          "    case \"$key\" in\n",
          f);
    for (size_t i = 0; i < ncmd; i++) {
        char name[64];
        full_name(&commands[i], name, sizeof(name));
        fprintf(f, "    \"%s\") COMPREPLY=($(compgen -W \"", name);
        print_opts_words(f, commands[i].spec.opts, commands[i].spec.nopts);
        fputs("\" -- \"$cur\")) ;;\n", f);
    }
    fputs("    esac\n"
          "}\n"
          "complete -o default -F _mentorctl mentorctl\n",
          f);
}

int md_cli_main(int argc, char *argv[])
{
    md_args_t global;
    md_args_t args;
    md_ctx_t ctx;
    char name[64];
    if (argc < 1)
        return MD_EXIT_USAGE;
    if (md_args_parse(&global, &global_spec, argc - 1, argv + 1, MD_ARGS_STOP_AT_POSITIONAL) !=
        MD_OK)
        return usage_error(NULL, global.err, NULL);
    if (global.help) {
        print_main_help(stdout);
        return MD_EXIT_OK;
    }
    if (md_args_has(&global, "version")) {
        printf("mentorctl %s\n", MENTORD_VERSION);
        return MD_EXIT_OK;
    }
    int rest = 1 + global.next;
    if (rest >= argc)
        return usage_error(NULL, "missing command", NULL);
    const char *word = argv[rest++];
    if (strcmp(word, "help") == 0)
        return help_command(argc - rest, argv + rest);
    if (strcmp(word, "completion") == 0) {
        if (rest + 1 != argc || strcmp(argv[rest], "bash") != 0)
            return usage_error(NULL, "usage: mentorctl completion bash", NULL);
        print_bash_completion(stdout);
        return MD_EXIT_OK;
    }

    const command_t *cmd = find_command(NULL, word);
    if (cmd == NULL) {
        const group_t *g = find_group(word);
        if (g == NULL)
            return unknown_command(NULL, word);
        if (rest >= argc) {
            char msg[64];
            snprintf(msg, sizeof(msg), "'%s' needs a command", g->name);
            return usage_error(g->name, msg, NULL);
        }
        const char *sub = argv[rest++];
        if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
            print_group_help(stdout, g);
            return MD_EXIT_OK;
        }
        cmd = find_command(g->name, sub);
        if (cmd == NULL)
            return unknown_command(g->name, sub);
    }
    full_name(cmd, name, sizeof(name));
    if (md_args_parse(&args, &cmd->spec, argc - rest, argv + rest, 0) != MD_OK) {
        const md_opt_t *g = args.bad >= 0 ? global_option(argv[rest + args.bad]) : NULL;
        if (g != NULL) {
            fprintf(stderr,
                    "mentorctl: --%s is a global option and goes before the command: "
                    "mentorctl --%s%s%s %s ...\nsee 'mentorctl --help'\n",
                    g->name, g->name, g->metavar != NULL ? " " : "",
                    g->metavar != NULL ? g->metavar : "", name);
            return MD_EXIT_USAGE;
        }
        return usage_error(name, args.err, NULL);
    }
    if (args.help) {
        print_command_help(stdout, cmd);
        return MD_EXIT_OK;
    }

    memset(&ctx, 0, sizeof(ctx));
    ctx.command = name;
    ctx.json = md_args_has(&global, "json") || md_args_has(&args, "json");
    int rc = resolve_settings(&ctx, &global);
    if (rc == MD_EXIT_OK)
        rc = cmd->fn(&ctx, &args);
    md_ctx_close(&ctx);
    if (fflush(stdout) != 0 && rc == MD_EXIT_OK) {
        perror("mentorctl: writing the output");
        rc = MD_EXIT_REFUSED;
    }
    return rc;
}
