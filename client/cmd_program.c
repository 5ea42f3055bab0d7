/* cmd_program.c: the "program" command group: create, list, show, update,
 * transition and assign coordinators. Weights and rules travel as whole
 * messages, so an update that names one weight or one rule first reads the
 * program and sends the others unchanged; between that read and the
 * update another client could change them, a window a human at a terminal
 * can live with. Who may do what, and every range, is the server's call. */
#include "md_cmd.h"

#include <stdio.h>
#include <string.h>

#include "md_program.h"

/* Print one program: {"program": {...}} or a key/value block. */
static int print_program(md_ctx_t *c, const Mentor__V1__Program *p)
{
    int rc;
    if (c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_program(&j, "program", p);
        md_json_end_object(&j);
        rc = md_ctx_print_json(c, &j);
        md_json_free(&j);
        return rc;
    }
    md_table_t t;
    md_table_init(&t, NULL, 2);
    md_kv_program(&t, p);
    rc = md_ctx_print_kv(c, &t);
    md_table_free(&t);
    return rc;
}

/* Send req, expect a Program back and print it. */
static int call_and_print(md_ctx_t *c, Mentor__V1__Request *req)
{
    Mentor__V1__ServerMessage *msg = NULL;
    int rc = md_ctx_call(c, req, MENTOR__V1__RESPONSE__RESULT_PROGRAM, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    rc = print_program(c, msg->response->program);
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

static int program_show(md_ctx_t *c, uint64_t id, Mentor__V1__ServerMessage **msg)
{
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__ProgramShow show = MENTOR__V1__PROGRAM_SHOW__INIT;
    show.id = id;
    req.kind_case = MENTOR__V1__REQUEST__KIND_PROGRAM_SHOW;
    req.program_show = &show;
    return md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_PROGRAM, msg);
}

int md_cmd_program_create(md_ctx_t *c, const md_args_t *a)
{
    md_program_edit_t e;
    md_program_edit_init(&e);
    int rc = MD_EXIT_OK;
    if (md_program_edit_args(&e, a) != MD_OK) {
        rc = md_ctx_usage(c, "%s", e.err);
        goto cleanup;
    }
    /* A new program has no current values: what --weight leaves out gets
     * the documented defaults, what the rule flags leave out gets "any",
     * 0 and no. */
    md_program_edit_merge(&e, NULL);
    rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        goto cleanup;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__ProgramCreate create = MENTOR__V1__PROGRAM_CREATE__INIT;
    create.program = &e.pb;
    req.kind_case = MENTOR__V1__REQUEST__KIND_PROGRAM_CREATE;
    req.program_create = &create;
    rc = call_and_print(c, &req);
cleanup:
    md_program_edit_free(&e);
    return rc;
}

int md_cmd_program_list(md_ctx_t *c, const md_args_t *a)
{
    static const char *const headers[] = {"ID",      "NAME",  "STATE", "MENTORS",
                                          "MENTEES", "START", "END"};
    Mentor__V1__ServerMessage *msg = NULL;
    const char *state_s = md_args_get(a, "state");
    int state = MENTOR__V1__PROGRAM_STATE__PROGRAM_STATE_UNSPECIFIED;
    if (state_s != NULL && md_program_state_parse(state_s, &state) != MD_OK)
        return md_ctx_usage(c,
                            "invalid state '%s' (expected draft, enrolling, matching, active "
                            "or closed)",
                            state_s);
    int rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__ProgramList list = MENTOR__V1__PROGRAM_LIST__INIT;
    list.state = (Mentor__V1__ProgramState)state;
    req.kind_case = MENTOR__V1__REQUEST__KIND_PROGRAM_LIST;
    req.program_list = &list;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_PROGRAM_LIST, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    const Mentor__V1__ProgramListReply *l = msg->response->program_list;
    if (c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_begin_array(&j, "programs");
        for (size_t i = 0; i < l->n_programs; i++)
            md_json_program(&j, NULL, l->programs[i]);
        md_json_end_array(&j);
        md_json_end_object(&j);
        rc = md_ctx_print_json(c, &j);
        md_json_free(&j);
    } else {
        md_table_t t;
        md_table_init(&t, headers, sizeof(headers) / sizeof(headers[0]));
        for (size_t i = 0; i < l->n_programs; i++) {
            const Mentor__V1__Program *p = l->programs[i];
            char id[24];
            char mentors[16];
            char mentees[16];
            snprintf(id, sizeof(id), "%llu", (unsigned long long)p->id);
            snprintf(mentors, sizeof(mentors), "%u", p->mentor_count);
            snprintf(mentees, sizeof(mentees), "%u", p->mentee_count);
            md_table_add(&t, id, p->name, md_program_state_name(p->state), mentors, mentees,
                         p->start_date[0] != '\0' ? p->start_date : "-",
                         p->end_date[0] != '\0' ? p->end_date : "-");
        }
        rc = md_table_print(&t, stdout) == MD_OK ? MD_EXIT_OK : MD_EXIT_REFUSED;
        md_table_free(&t);
    }
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

int md_cmd_program_show(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    uint64_t id = 0;
    int rc = md_ctx_parse_id(c, a->pos[0], "program", &id);
    if (rc != MD_EXIT_OK)
        return rc;
    rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    rc = program_show(c, id, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    rc = print_program(c, msg->response->program);
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

int md_cmd_program_update(md_ctx_t *c, const md_args_t *a)
{
    const char *mask[MD_PG_COUNT];
    md_program_edit_t e;
    uint64_t id = 0;
    md_program_edit_init(&e);
    int rc = md_ctx_parse_id(c, a->pos[0], "program", &id);
    if (rc != MD_EXIT_OK)
        goto cleanup;
    if (md_program_edit_args(&e, a) != MD_OK) {
        rc = md_ctx_usage(c, "%s", e.err);
        goto cleanup;
    }
    size_t nmask = md_program_edit_mask(&e, mask);
    if (nmask == 0) {
        rc = md_ctx_usage(c, "nothing to change: give at least one field to set or --clear");
        goto cleanup;
    }
    rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        goto cleanup;
    if (md_program_edit_needs_base(&e)) {
        Mentor__V1__ServerMessage *current = NULL;
        rc = program_show(c, id, &current);
        if (rc != MD_EXIT_OK)
            goto cleanup;
        /* The merge copies values, so the reply can go at once. */
        md_program_edit_merge(&e, current->response->program);
        mentor__v1__server_message__free_unpacked(current, NULL);
    }
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__ProgramUpdate update = MENTOR__V1__PROGRAM_UPDATE__INIT;
    update.id = id;
    update.program = &e.pb;
    update.n_update_mask = nmask;
    update.update_mask = (char **)mask;
    req.kind_case = MENTOR__V1__REQUEST__KIND_PROGRAM_UPDATE;
    req.program_update = &update;
    rc = call_and_print(c, &req);
cleanup:
    md_program_edit_free(&e);
    return rc;
}

int md_cmd_program_transition(md_ctx_t *c, const md_args_t *a)
{
    uint64_t id = 0;
    int state = 0;
    int rc = md_ctx_parse_id(c, a->pos[0], "program", &id);
    if (rc != MD_EXIT_OK)
        return rc;
    if (md_program_state_parse(a->pos[1], &state) != MD_OK)
        return md_ctx_usage(c,
                            "invalid state '%s' (expected draft, enrolling, matching, active "
                            "or closed)",
                            a->pos[1]);
    rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__ProgramTransition tr = MENTOR__V1__PROGRAM_TRANSITION__INIT;
    tr.id = id;
    tr.to = (Mentor__V1__ProgramState)state;
    req.kind_case = MENTOR__V1__REQUEST__KIND_PROGRAM_TRANSITION;
    req.program_transition = &tr;
    return call_and_print(c, &req);
}

int md_cmd_program_assign_coordinator(md_ctx_t *c, const md_args_t *a)
{
    uint64_t id = 0;
    uint64_t user = 0;
    int rc = md_ctx_parse_id(c, a->pos[0], "program", &id);
    if (rc != MD_EXIT_OK)
        return rc;
    rc = md_ctx_parse_id(c, md_args_get(a, "user"), "user", &user);
    if (rc != MD_EXIT_OK)
        return rc;
    rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__ProgramAssignCoordinator assign = MENTOR__V1__PROGRAM_ASSIGN_COORDINATOR__INIT;
    assign.program_id = id;
    assign.user_id = user;
    assign.remove = md_args_has(a, "remove");
    req.kind_case = MENTOR__V1__REQUEST__KIND_PROGRAM_ASSIGN_COORDINATOR;
    req.program_assign_coordinator = &assign;
    return call_and_print(c, &req);
}
