/* cmd_pair.c: the "pair" and "rematch" command groups: list the pairs a
 * match made, and ask for another match. A pair is what a proposal becomes
 * once approved and accepted; it is shown with the names and score of its
 * proposal, and a rematch request only flags it for the program's
 * coordinators, so the pair printed afterwards is still active. */
#include "md_cmd.h"

#include <stdio.h>

#include "md_matching.h"

int md_cmd_pair_list(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    Mentor__V1__PairList list = MENTOR__V1__PAIR_LIST__INIT;
    const char *program = md_args_get(a, "program");
    int rc = MD_EXIT_OK;
    if (program != NULL)
        rc = md_ctx_parse_id(c, program, "program", &list.program_id);
    if (rc == MD_EXIT_OK)
        rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    list.include_ended = md_args_has(a, "ended");
    list.mine = md_args_has(a, "mine");
    req.kind_case = MENTOR__V1__REQUEST__KIND_PAIR_LIST;
    req.pair_list = &list;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_PAIR_LIST, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    const Mentor__V1__PairListReply *r = msg->response->pair_list;
    if (c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_begin_array(&j, "pairs");
        for (size_t i = 0; i < r->n_pairs; i++)
            md_json_pair(&j, NULL, r->pairs[i]);
        md_json_end_array(&j);
        md_json_end_object(&j);
        rc = md_ctx_print_json(c, &j);
        md_json_free(&j);
    } else {
        md_table_t t;
        md_pair_table_init(&t);
        for (size_t i = 0; i < r->n_pairs; i++)
            md_pair_table_add(&t, r->pairs[i]);
        rc = md_table_print(&t, stdout) == MD_OK ? MD_EXIT_OK : MD_EXIT_REFUSED;
        md_table_free(&t);
    }
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

int md_cmd_rematch_request(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    Mentor__V1__RematchRequest rr = MENTOR__V1__REMATCH_REQUEST__INIT;
    int rc = md_ctx_parse_id(c, md_args_get(a, "pair"), "pair", &rr.pair_id);
    if (rc == MD_EXIT_OK)
        rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    rr.reason = (char *)md_args_get(a, "reason");
    req.kind_case = MENTOR__V1__REQUEST__KIND_REMATCH_REQUEST;
    req.rematch_request = &rr;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_PAIR_LIST, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    const Mentor__V1__PairListReply *r = msg->response->pair_list;
    const Mentor__V1__Pair *p = r->n_pairs > 0 ? r->pairs[0] : NULL;
    if (p == NULL) {
        rc = md_ctx_print_done(c, rr.pair_id, "Rematch requested.");
    } else if (c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_pair(&j, "pair", p);
        md_json_end_object(&j);
        rc = md_ctx_print_json(c, &j);
        md_json_free(&j);
    } else {
        md_table_t t;
        md_table_init(&t, NULL, 2);
        md_kv_pair(&t, p);
        rc = md_ctx_print_kv(c, &t);
        md_table_free(&t);
    }
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}
