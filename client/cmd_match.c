/* cmd_matching.c: the "match" command group: run the matching, list and
 * explain proposals, decide on them (approve, reject, accept, decline),
 * steer them (pin, exclude, reassign), keep one's preferences, and in
 * self-match programs get suggestions and request a mentor. Users are
 * named by id or e-mail address; addresses are turned into ids with
 * UserShow after connecting, so the server's rules about who may see whom
 * apply. Who may do what, and every range the server owns, is its call;
 * mentorctl checks only what it must to build the request. */
#include "md_cmd.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "md_matching.h"

/* A (mentee, mentor) pair of a program as --program, --mentee and
 * --mentor name it. */
typedef struct {
    uint64_t program;
    md_user_ref_t mentee;
    md_user_ref_t mentor;
} pair_args_t;

static int read_pair_args(md_ctx_t *c, const md_args_t *a, pair_args_t *p)
{
    int rc = md_ctx_parse_id(c, md_args_get(a, "program"), "program", &p->program);
    if (rc == MD_EXIT_OK)
        rc = md_ctx_user_arg(c, a, "mentee", &p->mentee);
    if (rc == MD_EXIT_OK)
        rc = md_ctx_user_arg(c, a, "mentor", &p->mentor);
    return rc;
}

static int resolve_pair_args(md_ctx_t *c, pair_args_t *p)
{
    int rc = md_ctx_user_resolve(c, &p->mentee);
    if (rc == MD_EXIT_OK)
        rc = md_ctx_user_resolve(c, &p->mentor);
    return rc;
}

/* Read a --limit of at most max; 0 (the server's default) when absent. */
static int read_limit(md_ctx_t *c, const md_args_t *a, uint32_t max, uint32_t *limit)
{
    const char *s = md_args_get(a, "limit");
    uint64_t v = 0;
    *limit = 0;
    if (s == NULL)
        return MD_EXIT_OK;
    if (md_parse_id(s, &v) != MD_OK || v > max)
        return md_ctx_usage(c, "--limit takes 1 to %u", max);
    *limit = (uint32_t)v;
    return MD_EXIT_OK;
}

static int print_table(md_table_t *t)
{
    int rc = md_table_print(t, stdout) == MD_OK ? MD_EXIT_OK : MD_EXIT_REFUSED;
    md_table_free(t);
    return rc;
}

static int print_json(md_ctx_t *c, md_json_t *j)
{
    int rc = md_ctx_print_json(c, j);
    md_json_free(j);
    return rc;
}

/* {"proposals": [...]} or the proposals table. */
static int print_proposals(md_ctx_t *c, Mentor__V1__MatchProposal *const *p, size_t n)
{
    if (c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_begin_array(&j, "proposals");
        for (size_t i = 0; i < n; i++)
            md_json_proposal(&j, NULL, p[i]);
        md_json_end_array(&j);
        md_json_end_object(&j);
        return print_json(c, &j);
    }
    md_table_t t;
    md_proposal_table_init(&t);
    for (size_t i = 0; i < n; i++)
        md_proposal_table_add(&t, p[i]);
    return print_table(&t);
}

/* {"proposal": {...}} or a key/value block. */
static int print_proposal(md_ctx_t *c, const Mentor__V1__MatchProposal *p)
{
    int rc;
    if (c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_proposal(&j, "proposal", p);
        md_json_end_object(&j);
        return print_json(c, &j);
    }
    md_table_t t;
    md_table_init(&t, NULL, 2);
    md_kv_proposal(&t, p);
    rc = md_ctx_print_kv(c, &t);
    md_table_free(&t);
    return rc;
}

/* The answer of a request that changed or made one proposal: a MatchList
 * holding it, or (for requests that may leave no proposal behind) Empty,
 * reported with done_text. */
static int print_changed(md_ctx_t *c, const Mentor__V1__Response *r, const char *done_text)
{
    if (r->result_case == MENTOR__V1__RESPONSE__RESULT_MATCH_LIST) {
        const Mentor__V1__MatchListReply *l = r->match_list;
        if (l->n_proposals == 1)
            return print_proposal(c, l->proposals[0]);
        if (l->n_proposals > 1)
            return print_proposals(c, l->proposals, l->n_proposals);
    }
    return md_ctx_print_done(c, 0, done_text);
}

/* {"preferences": [...]} or the preferences table. */
static int print_preferences(md_ctx_t *c, const Mentor__V1__MatchPreferenceListReply *l)
{
    if (c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_begin_array(&j, "preferences");
        for (size_t i = 0; i < l->n_preferences; i++)
            md_json_preference(&j, NULL, l->preferences[i]);
        md_json_end_array(&j);
        md_json_end_object(&j);
        return print_json(c, &j);
    }
    md_table_t t;
    md_preference_table_init(&t);
    for (size_t i = 0; i < l->n_preferences; i++)
        md_preference_table_add(&t, l->preferences[i]);
    return print_table(&t);
}

int md_cmd_match_run(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    const char *solver_s = md_args_get(a, "solver");
    uint64_t program = 0;
    int solver = MENTOR__V1__MATCH_SOLVER__MATCH_SOLVER_UNSPECIFIED;
    int rc = md_ctx_parse_id(c, md_args_get(a, "program"), "program", &program);
    if (rc != MD_EXIT_OK)
        return rc;
    if (solver_s != NULL && md_solver_parse(solver_s, &solver) != MD_OK)
        return md_ctx_usage(c, "invalid --solver '%s' (expected optimal or stable)", solver_s);
    rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__MatchRun run = MENTOR__V1__MATCH_RUN__INIT;
    run.program_id = program;
    run.solver = (Mentor__V1__MatchSolver)solver;
    run.dry_run = md_args_has(a, "dry-run");
    req.kind_case = MENTOR__V1__REQUEST__KIND_MATCH_RUN;
    req.match_run = &run;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_MATCH_RUN, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    const Mentor__V1__MatchRunReply *r = msg->response->match_run;
    if (c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_run(&j, "run", r->run);
        md_json_begin_array(&j, "proposals");
        for (size_t i = 0; i < r->n_proposals; i++)
            md_json_proposal(&j, NULL, r->proposals[i]);
        md_json_end_array(&j);
        md_json_end_object(&j);
        rc = print_json(c, &j);
    } else {
        md_table_t t;
        md_table_init(&t, NULL, 2);
        md_kv_run(&t, r->run);
        rc = md_ctx_print_kv(c, &t);
        md_table_free(&t);
        /* A real run's proposals are what 'match list' shows; a dry run
         * leaves nothing behind, so its proposals are shown here. */
        if (rc == MD_EXIT_OK && (run.dry_run || r->n_proposals > 0)) {
            fputc('\n', stdout);
            rc = print_proposals(c, r->proposals, r->n_proposals);
        }
    }
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

int md_cmd_match_list(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    const char *status_s = md_args_get(a, "status");
    uint64_t program = 0;
    int status = MENTOR__V1__PROPOSAL_STATUS__PROPOSAL_STATUS_UNSPECIFIED;
    int rc = md_ctx_parse_id(c, md_args_get(a, "program"), "program", &program);
    if (rc != MD_EXIT_OK)
        return rc;
    if (status_s != NULL && md_args_has(a, "all"))
        return md_ctx_usage(c, "give --status or --all, not both");
    if (status_s != NULL && md_proposal_status_parse(status_s, &status) != MD_OK)
        return md_ctx_usage(c,
                            "invalid status '%s' (expected proposed, paired, declined, rejected, "
                            "superseded, expired or withdrawn)",
                            status_s);
    rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__MatchList list = MENTOR__V1__MATCH_LIST__INIT;
    list.program_id = program;
    list.status = (Mentor__V1__ProposalStatus)status;
    list.all = md_args_has(a, "all");
    list.mine = md_args_has(a, "mine");
    req.kind_case = MENTOR__V1__REQUEST__KIND_MATCH_LIST;
    req.match_list = &list;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_MATCH_LIST, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    const Mentor__V1__MatchListReply *l = msg->response->match_list;
    rc = print_proposals(c, l->proposals, l->n_proposals);
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

int md_cmd_match_explain(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    Mentor__V1__MatchExplain ex = MENTOR__V1__MATCH_EXPLAIN__INIT;
    const char *id_s = md_args_get(a, "id");
    int by_pair = md_args_has(a, "program") || md_args_has(a, "mentee") || md_args_has(a, "mentor");
    pair_args_t pair = {0};
    int rc;
    if (id_s != NULL && a->npos > 0)
        return md_ctx_usage(c, "give the proposal once: ID or --id ID");
    if (a->npos > 0)
        id_s = a->pos[0];
    if (id_s != NULL && by_pair)
        return md_ctx_usage(c, "give either a proposal ID or --program, --mentee and --mentor, "
                               "not both");
    if (id_s != NULL) {
        rc = md_ctx_parse_id(c, id_s, "proposal", &ex.proposal_id);
        if (rc != MD_EXIT_OK)
            return rc;
    } else {
        if (!md_args_has(a, "program") || !md_args_has(a, "mentee") || !md_args_has(a, "mentor"))
            return md_ctx_usage(c, "give a proposal ID, or --program, --mentee and --mentor");
        rc = read_pair_args(c, a, &pair);
        if (rc != MD_EXIT_OK)
            return rc;
    }
    rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    if (id_s == NULL) {
        rc = resolve_pair_args(c, &pair);
        if (rc != MD_EXIT_OK)
            return rc;
        ex.program_id = pair.program;
        ex.mentee_id = pair.mentee.id;
        ex.mentor_id = pair.mentor.id;
    }
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    req.kind_case = MENTOR__V1__REQUEST__KIND_MATCH_EXPLAIN;
    req.match_explain = &ex;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_MATCH_EXPLAIN, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    const Mentor__V1__MatchExplainReply *e = msg->response->match_explain;
    if (c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_explanation(&j, "explanation", e);
        md_json_end_object(&j);
        rc = print_json(c, &j);
    } else {
        md_table_t t;
        md_table_init(&t, NULL, 2);
        md_kv_explanation(&t, e);
        rc = md_ctx_print_kv(c, &t);
        md_table_free(&t);
        if (rc == MD_EXIT_OK) {
            fputc('\n', stdout);
            md_factor_table_init(&t);
            for (size_t i = 0; i < e->n_factors; i++)
                md_factor_table_add(&t, e->factors[i]);
            rc = print_table(&t);
        }
    }
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

/* MatchDecide on the proposal ID, with --note where the command has it. */
static int decide(md_ctx_t *c, const md_args_t *a, Mentor__V1__MatchDecision decision)
{
    Mentor__V1__ServerMessage *msg = NULL;
    Mentor__V1__MatchDecide d = MENTOR__V1__MATCH_DECIDE__INIT;
    int rc = md_ctx_parse_id(c, a->pos[0], "proposal", &d.proposal_id);
    if (rc != MD_EXIT_OK)
        return rc;
    const char *note = md_args_get(a, "note");
    if (note != NULL)
        d.note = (char *)note;
    rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    d.decision = decision;
    req.kind_case = MENTOR__V1__REQUEST__KIND_MATCH_DECIDE;
    req.match_decide = &d;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_MATCH_LIST, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    char text[64];
    snprintf(text, sizeof(text), "Proposal %" PRIu64 " updated.", d.proposal_id);
    rc = print_changed(c, msg->response, text);
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

int md_cmd_match_approve(md_ctx_t *c, const md_args_t *a)
{
    return decide(c, a, MENTOR__V1__MATCH_DECISION__APPROVE);
}

int md_cmd_match_reject(md_ctx_t *c, const md_args_t *a)
{
    return decide(c, a, MENTOR__V1__MATCH_DECISION__REJECT);
}

int md_cmd_match_accept(md_ctx_t *c, const md_args_t *a)
{
    return decide(c, a, MENTOR__V1__MATCH_DECISION__ACCEPT);
}

int md_cmd_match_decline(md_ctx_t *c, const md_args_t *a)
{
    return decide(c, a, MENTOR__V1__MATCH_DECISION__DECLINE);
}

/* The protocol documents MatchPin's answer (the proposal) but not
 * MatchExclude's, and taking a pin or an exclusion away may leave no
 * proposal to show, so these take either answer. */
static const Mentor__V1__Response__ResultCase proposal_or_empty[] = {
    MENTOR__V1__RESPONSE__RESULT_MATCH_LIST,
    MENTOR__V1__RESPONSE__RESULT_EMPTY,
};

static int pin(md_ctx_t *c, const md_args_t *a, int remove)
{
    Mentor__V1__ServerMessage *msg = NULL;
    pair_args_t pair = {0};
    int rc = read_pair_args(c, a, &pair);
    if (rc != MD_EXIT_OK)
        return rc;
    rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    rc = resolve_pair_args(c, &pair);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__MatchPin p = MENTOR__V1__MATCH_PIN__INIT;
    p.program_id = pair.program;
    p.mentee_id = pair.mentee.id;
    p.mentor_id = pair.mentor.id;
    p.remove = remove;
    req.kind_case = MENTOR__V1__REQUEST__KIND_MATCH_PIN;
    req.match_pin = &p;
    rc = md_ctx_call_any(c, &req, proposal_or_empty, 2, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    char text[160];
    snprintf(text, sizeof(text), "Mentee %" PRIu64 " %s mentor %" PRIu64 " in program %" PRIu64 ".",
             p.mentee_id, remove ? "is no longer pinned to" : "pinned to", p.mentor_id,
             p.program_id);
    rc = print_changed(c, msg->response, text);
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

int md_cmd_match_pin(md_ctx_t *c, const md_args_t *a)
{
    return pin(c, a, 0);
}

int md_cmd_match_unpin(md_ctx_t *c, const md_args_t *a)
{
    return pin(c, a, 1);
}

static int exclude(md_ctx_t *c, const md_args_t *a, int remove)
{
    Mentor__V1__ServerMessage *msg = NULL;
    pair_args_t pair = {0};
    int rc = read_pair_args(c, a, &pair);
    if (rc != MD_EXIT_OK)
        return rc;
    rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    rc = resolve_pair_args(c, &pair);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__MatchExclude ex = MENTOR__V1__MATCH_EXCLUDE__INIT;
    const char *reason = md_args_get(a, "reason");
    ex.program_id = pair.program;
    ex.mentee_id = pair.mentee.id;
    ex.mentor_id = pair.mentor.id;
    ex.remove = remove;
    if (reason != NULL)
        ex.reason = (char *)reason;
    req.kind_case = MENTOR__V1__REQUEST__KIND_MATCH_EXCLUDE;
    req.match_exclude = &ex;
    rc = md_ctx_call_any(c, &req, proposal_or_empty, 2, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    char text[160];
    snprintf(text, sizeof(text),
             "Mentee %" PRIu64 " and mentor %" PRIu64 " %s in program %" PRIu64 ".", ex.mentee_id,
             ex.mentor_id, remove ? "may be proposed again" : "are never proposed", ex.program_id);
    rc = print_changed(c, msg->response, text);
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

int md_cmd_match_exclude(md_ctx_t *c, const md_args_t *a)
{
    return exclude(c, a, 0);
}

int md_cmd_match_unexclude(md_ctx_t *c, const md_args_t *a)
{
    return exclude(c, a, 1);
}

int md_cmd_match_reassign(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    Mentor__V1__MatchReassign re = MENTOR__V1__MATCH_REASSIGN__INIT;
    md_user_ref_t mentor = {0, NULL};
    int rc = md_ctx_parse_id(c, a->pos[0], "proposal", &re.proposal_id);
    if (rc == MD_EXIT_OK)
        rc = md_ctx_user_arg(c, a, "mentor", &mentor);
    if (rc == MD_EXIT_OK)
        rc = md_ctx_connect(c, 1);
    if (rc == MD_EXIT_OK)
        rc = md_ctx_user_resolve(c, &mentor);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    re.mentor_id = mentor.id;
    req.kind_case = MENTOR__V1__REQUEST__KIND_MATCH_REASSIGN;
    req.match_reassign = &re;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_MATCH_LIST, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    char text[64];
    snprintf(text, sizeof(text), "Proposal %" PRIu64 " reassigned.", re.proposal_id);
    rc = print_changed(c, msg->response, text);
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

/* MatchPreferenceSet about the user named by flag, then the caller's
 * preferences as they now are. */
static int set_preference(md_ctx_t *c, const md_args_t *a, const char *flag, uint32_t rank,
                          int avoid)
{
    Mentor__V1__ServerMessage *msg = NULL;
    Mentor__V1__MatchPreferenceSet set = MENTOR__V1__MATCH_PREFERENCE_SET__INIT;
    md_user_ref_t other = {0, NULL};
    int rc = md_ctx_parse_id(c, md_args_get(a, "program"), "program", &set.program_id);
    if (rc == MD_EXIT_OK)
        rc = md_ctx_user_arg(c, a, flag, &other);
    if (rc == MD_EXIT_OK)
        rc = md_ctx_connect(c, 1);
    if (rc == MD_EXIT_OK)
        rc = md_ctx_user_resolve(c, &other);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    set.other_id = other.id;
    set.rank = rank;
    set.avoid = avoid;
    req.kind_case = MENTOR__V1__REQUEST__KIND_MATCH_PREFERENCE_SET;
    req.match_preference_set = &set;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_MATCH_PREFERENCE_LIST, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    rc = print_preferences(c, msg->response->match_preference_list);
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

int md_cmd_match_prefer(md_ctx_t *c, const md_args_t *a)
{
    const char *s = md_args_get(a, "rank");
    uint64_t rank = 0;
    if (md_parse_id(s, &rank) != MD_OK || rank > 100)
        return md_ctx_usage(c, "--rank takes 1 (most wanted) to 100, not '%s'", s);
    return set_preference(c, a, "mentor", (uint32_t)rank, 0);
}

int md_cmd_match_avoid(md_ctx_t *c, const md_args_t *a)
{
    return set_preference(c, a, "user", 0, 1);
}

int md_cmd_match_clear_preference(md_ctx_t *c, const md_args_t *a)
{
    return set_preference(c, a, "user", 0, 0);
}

int md_cmd_match_preferences(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    Mentor__V1__MatchPreferenceList list = MENTOR__V1__MATCH_PREFERENCE_LIST__INIT;
    int rc = md_ctx_parse_id(c, md_args_get(a, "program"), "program", &list.program_id);
    if (rc == MD_EXIT_OK)
        rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    req.kind_case = MENTOR__V1__REQUEST__KIND_MATCH_PREFERENCE_LIST;
    req.match_preference_list = &list;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_MATCH_PREFERENCE_LIST, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    rc = print_preferences(c, msg->response->match_preference_list);
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

int md_cmd_match_suggest(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    Mentor__V1__MatchSuggest sg = MENTOR__V1__MATCH_SUGGEST__INIT;
    int rc = md_ctx_parse_id(c, md_args_get(a, "program"), "program", &sg.program_id);
    if (rc == MD_EXIT_OK)
        rc = read_limit(c, a, 50, &sg.limit);
    if (rc == MD_EXIT_OK)
        rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    req.kind_case = MENTOR__V1__REQUEST__KIND_MATCH_SUGGEST;
    req.match_suggest = &sg;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_MATCH_SUGGEST, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    const Mentor__V1__MatchSuggestReply *r = msg->response->match_suggest;
    if (c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_begin_array(&j, "suggestions");
        for (size_t i = 0; i < r->n_suggestions; i++)
            md_json_suggestion(&j, NULL, r->suggestions[i]);
        md_json_end_array(&j);
        md_json_end_object(&j);
        rc = print_json(c, &j);
    } else {
        md_table_t t;
        md_suggestion_table_init(&t);
        for (size_t i = 0; i < r->n_suggestions; i++)
            md_suggestion_table_add(&t, r->suggestions[i]);
        rc = print_table(&t);
    }
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

int md_cmd_match_request(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    Mentor__V1__MatchRequest mr = MENTOR__V1__MATCH_REQUEST__INIT;
    md_user_ref_t mentor = {0, NULL};
    int rc = md_ctx_parse_id(c, md_args_get(a, "program"), "program", &mr.program_id);
    if (rc == MD_EXIT_OK)
        rc = md_ctx_user_arg(c, a, "mentor", &mentor);
    if (rc == MD_EXIT_OK)
        rc = md_ctx_connect(c, 1);
    if (rc == MD_EXIT_OK)
        rc = md_ctx_user_resolve(c, &mentor);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    const char *message = md_args_get(a, "message");
    mr.mentor_id = mentor.id;
    if (message != NULL)
        mr.message = (char *)message;
    req.kind_case = MENTOR__V1__REQUEST__KIND_MATCH_REQUEST;
    req.match_request = &mr;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_MATCH_LIST, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    rc = print_changed(c, msg->response, "Request sent.");
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

int md_cmd_match_runs(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    Mentor__V1__MatchRunList list = MENTOR__V1__MATCH_RUN_LIST__INIT;
    int rc = md_ctx_parse_id(c, md_args_get(a, "program"), "program", &list.program_id);
    if (rc == MD_EXIT_OK)
        rc = read_limit(c, a, 200, &list.limit);
    if (rc == MD_EXIT_OK)
        rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        return rc;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    req.kind_case = MENTOR__V1__REQUEST__KIND_MATCH_RUN_LIST;
    req.match_run_list = &list;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_MATCH_RUN_LIST, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    const Mentor__V1__MatchRunListReply *r = msg->response->match_run_list;
    if (c->json) {
        md_json_t j;
        md_json_init(&j);
        md_json_begin_object(&j, NULL);
        md_json_begin_array(&j, "runs");
        for (size_t i = 0; i < r->n_runs; i++)
            md_json_run(&j, NULL, r->runs[i]);
        md_json_end_array(&j);
        md_json_end_object(&j);
        rc = print_json(c, &j);
    } else {
        md_table_t t;
        md_run_table_init(&t);
        for (size_t i = 0; i < r->n_runs; i++)
            md_run_table_add(&t, r->runs[i]);
        rc = print_table(&t);
    }
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}
