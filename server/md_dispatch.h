/* md_dispatch.h (private to mentord): the request table. One row per
 * request kind: its name, handler, the least role that may call it and
 * flags. Hello-first, authentication and role checks are made here, before
 * any handler runs; the authorization tests read this same table. */
#ifndef MD_DISPATCH_H
#define MD_DISPATCH_H

#include "md_req.h"
#include "md_server.h"

enum {
    MD_F_PREAUTH = 1 << 0,  /* allowed before Login */
    MD_F_OPERATOR = 1 << 1, /* server operator only */
    MD_F_READ = 1 << 2,     /* changes nothing: allowed to read-only API tokens */
};

typedef void (*md_handler_fn)(md_req_t *req);

struct md_dispatch_entry {
    int kind;         /* Mentor__V1__Request__KindCase */
    const char *name; /* e.g. "user_invite" */
    md_handler_fn handler;
    int min_role; /* Mentor__V1__Role; 0 for none */
    int flags;
};

extern const md_dispatch_entry_t md_dispatch_table[];
extern const size_t md_dispatch_table_size;

const md_dispatch_entry_t *md_dispatch_find(int kind);
/* Takes ownership of msg. */
void md_dispatch(md_conn_t *c, Mentor__V1__Request *msg);

/* Handlers, by domain file. */
void md_h_hello(md_req_t *req);
void md_h_login(md_req_t *req);
void md_h_logout(md_req_t *req);
void md_h_whoami(md_req_t *req);
void md_h_invite_accept(md_req_t *req);
void md_h_org_show(md_req_t *req);
void md_h_org_create(md_req_t *req);
void md_h_org_list(md_req_t *req);
void md_h_user_invite(md_req_t *req);
void md_h_user_list(md_req_t *req);
void md_h_user_show(md_req_t *req);
void md_h_user_update(md_req_t *req);
void md_h_user_deactivate(md_req_t *req);
void md_h_user_reset_password(md_req_t *req);
void md_h_password_change(md_req_t *req);
void md_h_token_create(md_req_t *req);
void md_h_token_list(md_req_t *req);
void md_h_token_revoke(md_req_t *req);
void md_h_audit_list(md_req_t *req);
void md_h_admin_status(md_req_t *req);
void md_h_program_create(md_req_t *req);
void md_h_program_list(md_req_t *req);
void md_h_program_show(md_req_t *req);
void md_h_program_update(md_req_t *req);
void md_h_program_transition(md_req_t *req);
void md_h_program_assign_coordinator(md_req_t *req);
void md_h_participant_enroll(md_req_t *req);
void md_h_participant_list(md_req_t *req);
void md_h_participant_show(md_req_t *req);
void md_h_participant_withdraw(md_req_t *req);
void md_h_profile_update(md_req_t *req);
void md_h_participant_import(md_req_t *req);
void md_h_user_import(md_req_t *req);
void md_h_participant_training(md_req_t *req);
void md_h_match_run(md_req_t *req);
void md_h_match_list(md_req_t *req);
void md_h_match_explain(md_req_t *req);
void md_h_match_decide(md_req_t *req);
void md_h_match_pin(md_req_t *req);
void md_h_match_exclude(md_req_t *req);
void md_h_match_reassign(md_req_t *req);
void md_h_match_preference_set(md_req_t *req);
void md_h_match_preference_list(md_req_t *req);
void md_h_match_suggest(md_req_t *req);
void md_h_match_request(md_req_t *req);
void md_h_match_run_list(md_req_t *req);
void md_h_rematch_request(md_req_t *req);
void md_h_pair_list(md_req_t *req);
void md_h_inbox_list(md_req_t *req);
void md_h_inbox_read(md_req_t *req);

/* Shared by handlers of different files (h_participant.c): appends the
 * statement reading one participant to txn, and the md_req_submit callback
 * that answers with the participant read by the transaction's last
 * statement (NOT_FOUND when there is none). */
MD_WUR int md_participant_add_read(md_req_t *req, md_db_txn_t *txn, uint64_t program_id,
                                   uint64_t user_id);
void md_participant_reply_db(md_req_t *req, md_db_txn_t *txn, int err);

#endif
