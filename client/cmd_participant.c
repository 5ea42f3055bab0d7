/* cmd_participant.c: the "participant" command group: enroll users in a
 * program (with an optional initial profile), list a program's
 * participants, show one, withdraw one, record a mentor's training.
 * Without --user a command is about the caller (user id 0 on the wire),
 * which is how members enroll and withdraw themselves. An email given to
 * enroll (or to training's --user) is turned into an id with UserShow
 * first, so the server's rules about who may see whom apply. */
#include "md_cmd.h"

#include <stdio.h>
#include <string.h>

/* Print one participant with the profile fields that are set. */
static int print_participant(md_ctx_t *c, const Mentor__V1__Participant *p)
{
    int rc;
    if (c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_participant(&j, "participant", p);
        md_json_end_object(&j);
        rc = md_ctx_print_json(c, &j);
        md_json_free(&j);
        return rc;
    }
    md_table_t t;
    md_table_init(&t, NULL, 2);
    md_kv_participant(&t, p);
    if (p != NULL)
        md_kv_profile(&t, p->profile, p->role, 0);
    rc = md_ctx_print_kv(c, &t);
    md_table_free(&t);
    return rc;
}

int md_cmd_participant_enroll(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    md_profile_edit_t e;
    const char *email = md_args_get(a, "email");
    const char *role_s = md_args_get(a, "role");
    uint64_t program = 0;
    uint64_t user = 0;
    int role = 0;
    md_profile_edit_init(&e);
    int rc = md_ctx_program_user(c, a, &program, &user);
    if (rc != MD_EXIT_OK)
        goto cleanup;
    if (user != 0 && email != NULL) {
        rc = md_ctx_usage(c, "give either --user or --email, not both");
        goto cleanup;
    }
    if (md_participant_role_parse(role_s, &role) != MD_OK) {
        rc = md_ctx_usage(c, "invalid role '%s' (expected mentor or mentee)", role_s);
        goto cleanup;
    }
    rc = md_ctx_profile_from_args(c, a, &e);
    if (rc != MD_EXIT_OK)
        goto cleanup;
    rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        goto cleanup;
    if (email != NULL) {
        md_user_ref_t ref = {0, email};
        rc = md_ctx_user_resolve(c, &ref);
        if (rc != MD_EXIT_OK)
            goto cleanup;
        user = ref.id;
    }
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__ParticipantEnroll enroll = MENTOR__V1__PARTICIPANT_ENROLL__INIT;
    enroll.program_id = program;
    enroll.user_id = user;
    enroll.role = (Mentor__V1__ParticipantRole)role;
    /* The initial profile is sent only when something was given, so that
     * enrolling again (which reactivates) does not wipe a profile. */
    if (e.set != 0)
        enroll.profile = &e.pb;
    req.kind_case = MENTOR__V1__REQUEST__KIND_PARTICIPANT_ENROLL;
    req.participant_enroll = &enroll;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_PARTICIPANT, &msg);
    if (rc != MD_EXIT_OK)
        goto cleanup;
    rc = print_participant(c, msg->response->participant);
    mentor__v1__server_message__free_unpacked(msg, NULL);
cleanup:
    md_profile_edit_free(&e);
    return rc;
}

int md_cmd_participant_list(md_ctx_t *c, const md_args_t *a)
{
    static const char *const headers[] = {"USER", "EMAIL", "NAME", "ROLE", "STATUS", "DEPARTMENT"};
    Mentor__V1__ServerMessage *msg = NULL;
    const char *role_s = md_args_get(a, "role");
    uint64_t program = 0;
    int role = 0;
    int rc = md_ctx_parse_id(c, md_args_get(a, "program"), "program", &program);
    if (rc != MD_EXIT_OK)
        return rc;
    if (role_s != NULL && md_participant_role_parse(role_s, &role) != MD_OK)
        return md_ctx_usage(c, "invalid role '%s' (expected mentor or mentee)", role_s);
    rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__ParticipantList list = MENTOR__V1__PARTICIPANT_LIST__INIT;
    list.program_id = program;
    list.role = (Mentor__V1__ParticipantRole)role;
    list.include_withdrawn = md_args_has(a, "all");
    req.kind_case = MENTOR__V1__REQUEST__KIND_PARTICIPANT_LIST;
    req.participant_list = &list;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_PARTICIPANT_LIST, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    const Mentor__V1__ParticipantListReply *l = msg->response->participant_list;
    if (c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_begin_array(&j, "participants");
        for (size_t i = 0; i < l->n_participants; i++)
            md_json_participant(&j, NULL, l->participants[i]);
        md_json_end_array(&j);
        md_json_end_object(&j);
        rc = md_ctx_print_json(c, &j);
        md_json_free(&j);
    } else {
        md_table_t t;
        md_table_init(&t, headers, sizeof(headers) / sizeof(headers[0]));
        for (size_t i = 0; i < l->n_participants; i++) {
            const Mentor__V1__Participant *p = l->participants[i];
            const char *dept = p->profile != NULL ? p->profile->department : "";
            char id[24];
            snprintf(id, sizeof(id), "%llu", (unsigned long long)p->user_id);
            md_table_add(&t, id, p->email, p->display_name, md_participant_role_name(p->role),
                         p->status, dept[0] != '\0' ? dept : "-");
        }
        rc = md_table_print(&t, stdout) == MD_OK ? MD_EXIT_OK : MD_EXIT_REFUSED;
        md_table_free(&t);
    }
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

int md_participant_fetch(md_ctx_t *c, const md_args_t *a, Mentor__V1__ServerMessage **msg)
{
    uint64_t program = 0;
    uint64_t user = 0;
    int rc = md_ctx_program_user(c, a, &program, &user);
    if (rc != MD_EXIT_OK)
        return rc;
    rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__ParticipantShow show = MENTOR__V1__PARTICIPANT_SHOW__INIT;
    show.program_id = program;
    show.user_id = user;
    req.kind_case = MENTOR__V1__REQUEST__KIND_PARTICIPANT_SHOW;
    req.participant_show = &show;
    return md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_PARTICIPANT, msg);
}

int md_cmd_participant_show(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    int rc = md_participant_fetch(c, a, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    rc = print_participant(c, msg->response->participant);
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

int md_cmd_participant_withdraw(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    uint64_t program = 0;
    uint64_t user = 0;
    int rc = md_ctx_program_user(c, a, &program, &user);
    if (rc != MD_EXIT_OK)
        return rc;
    rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__ParticipantWithdraw withdraw = MENTOR__V1__PARTICIPANT_WITHDRAW__INIT;
    withdraw.program_id = program;
    withdraw.user_id = user;
    req.kind_case = MENTOR__V1__REQUEST__KIND_PARTICIPANT_WITHDRAW;
    req.participant_withdraw = &withdraw;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_PARTICIPANT, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    rc = print_participant(c, msg->response->participant);
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

int md_cmd_participant_training(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    md_user_ref_t user;
    uint64_t program = 0;
    int rc = md_ctx_parse_id(c, md_args_get(a, "program"), "program", &program);
    if (rc != MD_EXIT_OK)
        return rc;
    rc = md_ctx_user_arg(c, a, "user", &user);
    if (rc != MD_EXIT_OK)
        return rc;
    rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    rc = md_ctx_user_resolve(c, &user);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__ParticipantTraining training = MENTOR__V1__PARTICIPANT_TRAINING__INIT;
    training.program_id = program;
    training.user_id = user.id;
    training.done = !md_args_has(a, "not-done");
    req.kind_case = MENTOR__V1__REQUEST__KIND_PARTICIPANT_TRAINING;
    req.participant_training = &training;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_PARTICIPANT, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    rc = print_participant(c, msg->response->participant);
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}
