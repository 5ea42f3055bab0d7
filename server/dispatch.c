/* dispatch.c: the request table and the checks every request passes before
 * its handler: Hello first, a known kind, logged in unless the kind allows
 * otherwise, and a role at least the table's (re-checked in the database by
 * the handler's transaction). */
#include "md_dispatch.h"
#include "md_msgcheck.h"

#include "md_log.h"

#define ROW(k, name, fn, role, flags)                                                              \
    {                                                                                              \
        MENTOR__V1__REQUEST__KIND_##k, name, fn, role, flags                                       \
    }

const md_dispatch_entry_t md_dispatch_table[] = {
    ROW(HELLO, "hello", md_h_hello, 0, MD_F_PREAUTH),
    ROW(LOGIN, "login", md_h_login, 0, MD_F_PREAUTH),
    ROW(INVITE_ACCEPT, "invite_accept", md_h_invite_accept, 0, MD_F_PREAUTH),
    ROW(LOGOUT, "logout", md_h_logout, MENTOR__V1__ROLE__MEMBER, MD_F_READ),
    ROW(WHOAMI, "whoami", md_h_whoami, MENTOR__V1__ROLE__MEMBER, MD_F_READ),
    ROW(ORG_SHOW, "org_show", md_h_org_show, MENTOR__V1__ROLE__MEMBER, MD_F_READ),
    ROW(ORG_CREATE, "org_create", md_h_org_create, MENTOR__V1__ROLE__ADMIN, MD_F_OPERATOR),
    ROW(ORG_LIST, "org_list", md_h_org_list, MENTOR__V1__ROLE__ADMIN, MD_F_OPERATOR | MD_F_READ),
    ROW(USER_INVITE, "user_invite", md_h_user_invite, MENTOR__V1__ROLE__ADMIN, 0),
    ROW(USER_LIST, "user_list", md_h_user_list, MENTOR__V1__ROLE__COORDINATOR, MD_F_READ),
    ROW(USER_SHOW, "user_show", md_h_user_show, MENTOR__V1__ROLE__MEMBER, MD_F_READ),
    ROW(USER_UPDATE, "user_update", md_h_user_update, MENTOR__V1__ROLE__ADMIN, 0),
    ROW(USER_DEACTIVATE, "user_deactivate", md_h_user_deactivate, MENTOR__V1__ROLE__ADMIN, 0),
    /* Program and participant rights beyond the role are decided per
     * program in SQL (md_program_access). */
    ROW(PROGRAM_CREATE, "program_create", md_h_program_create, MENTOR__V1__ROLE__ADMIN, 0),
    ROW(PROGRAM_LIST, "program_list", md_h_program_list, MENTOR__V1__ROLE__MEMBER, MD_F_READ),
    ROW(PROGRAM_SHOW, "program_show", md_h_program_show, MENTOR__V1__ROLE__MEMBER, MD_F_READ),
    ROW(PROGRAM_UPDATE, "program_update", md_h_program_update, MENTOR__V1__ROLE__COORDINATOR, 0),
    ROW(PROGRAM_TRANSITION, "program_transition", md_h_program_transition,
        MENTOR__V1__ROLE__COORDINATOR, 0),
    ROW(PROGRAM_ASSIGN_COORDINATOR, "program_assign_coordinator", md_h_program_assign_coordinator,
        MENTOR__V1__ROLE__ADMIN, 0),
    ROW(PARTICIPANT_ENROLL, "participant_enroll", md_h_participant_enroll, MENTOR__V1__ROLE__MEMBER,
        0),
    ROW(PARTICIPANT_LIST, "participant_list", md_h_participant_list, MENTOR__V1__ROLE__COORDINATOR,
        MD_F_READ),
    ROW(PARTICIPANT_SHOW, "participant_show", md_h_participant_show, MENTOR__V1__ROLE__MEMBER,
        MD_F_READ),
    ROW(PARTICIPANT_WITHDRAW, "participant_withdraw", md_h_participant_withdraw,
        MENTOR__V1__ROLE__MEMBER, 0),
    ROW(PROFILE_UPDATE, "profile_update", md_h_profile_update, MENTOR__V1__ROLE__MEMBER, 0),
    ROW(PARTICIPANT_IMPORT, "participant_import", md_h_participant_import,
        MENTOR__V1__ROLE__COORDINATOR, 0),
    ROW(USER_IMPORT, "user_import", md_h_user_import, MENTOR__V1__ROLE__ADMIN, 0),
    ROW(USER_RESET_PASSWORD, "user_reset_password", md_h_user_reset_password,
        MENTOR__V1__ROLE__ADMIN, 0),
    ROW(PASSWORD_CHANGE, "password_change", md_h_password_change, MENTOR__V1__ROLE__MEMBER, 0),
    ROW(TOKEN_CREATE, "token_create", md_h_token_create, MENTOR__V1__ROLE__MEMBER, 0),
    ROW(TOKEN_LIST, "token_list", md_h_token_list, MENTOR__V1__ROLE__MEMBER, MD_F_READ),
    ROW(TOKEN_REVOKE, "token_revoke", md_h_token_revoke, MENTOR__V1__ROLE__MEMBER, 0),
    ROW(AUDIT_LIST, "audit_list", md_h_audit_list, MENTOR__V1__ROLE__ADMIN, MD_F_READ),
    ROW(ADMIN_STATUS, "admin_status", md_h_admin_status, MENTOR__V1__ROLE__ADMIN,
        MD_F_OPERATOR | MD_F_READ),
    ROW(PARTICIPANT_TRAINING, "participant_training", md_h_participant_training,
        MENTOR__V1__ROLE__COORDINATOR, 0),
    /* Matching: who may act on which program, proposal or pair is decided
     * in SQL as for programs (sql/009_matching.sql). */
    ROW(MATCH_RUN, "match_run", md_h_match_run, MENTOR__V1__ROLE__COORDINATOR, 0),
    ROW(MATCH_LIST, "match_list", md_h_match_list, MENTOR__V1__ROLE__MEMBER, MD_F_READ),
    ROW(MATCH_EXPLAIN, "match_explain", md_h_match_explain, MENTOR__V1__ROLE__MEMBER, MD_F_READ),
    ROW(MATCH_DECIDE, "match_decide", md_h_match_decide, MENTOR__V1__ROLE__MEMBER, 0),
    ROW(MATCH_PIN, "match_pin", md_h_match_pin, MENTOR__V1__ROLE__COORDINATOR, 0),
    ROW(MATCH_EXCLUDE, "match_exclude", md_h_match_exclude, MENTOR__V1__ROLE__COORDINATOR, 0),
    ROW(MATCH_REASSIGN, "match_reassign", md_h_match_reassign, MENTOR__V1__ROLE__COORDINATOR, 0),
    ROW(MATCH_PREFERENCE_SET, "match_preference_set", md_h_match_preference_set,
        MENTOR__V1__ROLE__MEMBER, 0),
    ROW(MATCH_PREFERENCE_LIST, "match_preference_list", md_h_match_preference_list,
        MENTOR__V1__ROLE__MEMBER, MD_F_READ),
    ROW(MATCH_SUGGEST, "match_suggest", md_h_match_suggest, MENTOR__V1__ROLE__MEMBER, MD_F_READ),
    ROW(MATCH_REQUEST, "match_request", md_h_match_request, MENTOR__V1__ROLE__MEMBER, 0),
    ROW(MATCH_RUN_LIST, "match_run_list", md_h_match_run_list, MENTOR__V1__ROLE__COORDINATOR,
        MD_F_READ),
    ROW(REMATCH_REQUEST, "rematch_request", md_h_rematch_request, MENTOR__V1__ROLE__MEMBER, 0),
    ROW(PAIR_LIST, "pair_list", md_h_pair_list, MENTOR__V1__ROLE__MEMBER, MD_F_READ),
    /* The inbox: each user's own notifications only. */
    ROW(INBOX_LIST, "inbox_list", md_h_inbox_list, MENTOR__V1__ROLE__MEMBER, MD_F_READ),
    ROW(INBOX_READ, "inbox_read", md_h_inbox_read, MENTOR__V1__ROLE__MEMBER, 0),
};

const size_t md_dispatch_table_size = sizeof(md_dispatch_table) / sizeof(md_dispatch_table[0]);

const md_dispatch_entry_t *md_dispatch_find(int kind)
{
    for (size_t i = 0; i < md_dispatch_table_size; i++) {
        if (md_dispatch_table[i].kind == kind)
            return &md_dispatch_table[i];
    }
    return NULL;
}

void md_dispatch(md_conn_t *c, Mentor__V1__Request *msg)
{
    md_req_t *req = md_req_new(c, msg);
    if (req == NULL) {
        mentor__v1__request__free_unpacked(msg, NULL);
        md_conn_request_done(c);
        return;
    }
    const md_dispatch_entry_t *e = md_dispatch_find((int)msg->kind_case);
    req->entry = e;
    if (e != NULL && (size_t)(e - md_dispatch_table) < MD_STATS_KINDS)
        md_conn_server(c)->stats.by_kind[e - md_dispatch_table]++;
    if (e == NULL) {
        md_req_fail(req, MD_EUNKNOWNKIND, "kind", "unknown request kind (field %d)",
                    (int)msg->kind_case);
        return;
    }
    if (md_conn_state(c) == MD_CONN_HELLO && e->kind != MENTOR__V1__REQUEST__KIND_HELLO) {
        md_req_fail(req, MD_ESTATE, "kind", "the first request on a connection must be Hello");
        return;
    }
    md_auth_t *auth = md_conn_auth(c);
    if (!(e->flags & MD_F_PREAUTH)) {
        if (!auth->authed) {
            md_req_fail(req, MD_EAUTH, NULL, "log in first");
            return;
        }
        if ((e->flags & MD_F_OPERATOR) && !auth->is_operator) {
            md_req_fail(req, MD_EPERM, NULL, "only the server operator may do this");
            return;
        }
        if (auth->role < e->min_role) {
            md_req_fail(req, MD_EPERM, NULL, "your role may not do this");
            return;
        }
        if (auth->read_only && !(e->flags & MD_F_READ)) {
            md_req_fail(req, MD_EPERM, NULL, "this API token may only read");
            return;
        }
    }
    char path[160];
    if (md_msg_check_utf8(&msg->base, path, sizeof(path)) != 0) {
        md_req_fail(req, MD_EINVAL, path, "%s is not valid UTF-8", path);
        return;
    }
    e->handler(req);
}
