/* cmd_profile.c: the "profile" command group: show and edit a participant's
 * profile in one program, and the assembly of a profile from --from-file
 * and flags that "participant enroll" shares. ProfileUpdate carries an
 * update mask, so an edit touches exactly the fields the user named (a
 * flag, a key of the file, or --clear) and leaves the rest as they are. */
#include "md_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md_json.h"

/* Read all of path ("-": standard input) into a fresh buffer, refusing
 * anything larger than the JSON parser accepts. */
static int read_file(md_ctx_t *c, const char *path, char **out, size_t *len)
{
    const size_t max = MD_JSON_PARSE_MAX_BYTES;
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0;
    int rc = MD_EXIT_OK;
    if (f == NULL)
        return md_ctx_usage(c, "cannot read %s: %s", path, strerror(errno));
    /* One byte more than allowed tells "exactly the limit" from "over". */
    buf = malloc(max + 1);
    if (buf == NULL) {
        rc = md_ctx_usage(c, "out of memory reading %s", path);
        goto cleanup;
    }
    while (n < max + 1) {
        size_t got = fread(buf + n, 1, max + 1 - n, f);
        if (got == 0)
            break;
        n += got;
    }
    if (ferror(f)) {
        rc = md_ctx_usage(c, "cannot read %s: %s", path, strerror(errno));
        goto cleanup;
    }
    if (n > max) {
        rc = md_ctx_usage(c, "%s is larger than %zu bytes", path, max);
        goto cleanup;
    }
    *out = buf;
    *len = n;
    buf = NULL;
cleanup:
    free(buf);
    if (f != stdin)
        fclose(f);
    return rc;
}

int md_ctx_profile_from_args(md_ctx_t *c, const md_args_t *a, md_profile_edit_t *e)
{
    const char *path = md_args_get(a, "from-file");
    if (path != NULL) {
        char *text = NULL;
        size_t len = 0;
        md_json_value_t *doc = NULL;
        char err[256];
        int rc = read_file(c, path, &text, &len);
        if (rc != MD_EXIT_OK)
            return rc;
        if (md_json_parse(text, len, &doc, err, sizeof(err)) != MD_OK)
            rc = md_ctx_usage(c, "%s: %s", path, err);
        else if (md_profile_edit_json(e, doc) != MD_OK)
            rc = md_ctx_usage(c, "%s: %s", path, e->err);
        md_json_value_free(doc);
        free(text);
        if (rc != MD_EXIT_OK)
            return rc;
    }
    if (md_profile_edit_args(e, a) != MD_OK)
        return md_ctx_usage(c, "%s", e->err);
    return MD_EXIT_OK;
}

/* Print the profile of p: who it belongs to, then every field. */
static int print_profile(md_ctx_t *c, const Mentor__V1__Participant *p)
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
    md_str_t who;
    md_table_init(&t, NULL, 2);
    md_str_init(&who);
    if (p != NULL) {
        md_str_add(&who, "%s <%s>, user %llu, %s in program %llu", p->display_name, p->email,
                   (unsigned long long)p->user_id, md_participant_role_name(p->role),
                   (unsigned long long)p->program_id);
        if (strcmp(p->status, "active") != 0 && p->status[0] != '\0')
            md_str_add(&who, " (%s)", p->status);
        md_table_add(&t, "participant", md_str_get(&who));
        md_kv_profile(&t, p->profile, p->role, 1);
    }
    rc = md_ctx_print_kv(c, &t);
    md_str_free(&who);
    md_table_free(&t);
    return rc;
}

int md_cmd_profile_show(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    int rc = md_participant_fetch(c, a, &msg);
    if (rc != MD_EXIT_OK)
        return rc;
    rc = print_profile(c, msg->response->participant);
    mentor__v1__server_message__free_unpacked(msg, NULL);
    return rc;
}

int md_cmd_profile_edit(md_ctx_t *c, const md_args_t *a)
{
    Mentor__V1__ServerMessage *msg = NULL;
    const char *mask[MD_PF_COUNT];
    md_profile_edit_t e;
    uint64_t program = 0;
    uint64_t user = 0;
    md_profile_edit_init(&e);
    int rc = md_ctx_program_user(c, a, &program, &user);
    if (rc != MD_EXIT_OK)
        goto cleanup;
    rc = md_ctx_profile_from_args(c, a, &e);
    if (rc != MD_EXIT_OK)
        goto cleanup;
    size_t nmask = md_profile_edit_mask(&e, mask);
    if (nmask == 0) {
        rc = md_ctx_usage(c, "nothing to change: give a profile flag, --clear FIELD or "
                             "--from-file FILE");
        goto cleanup;
    }
    rc = md_ctx_connect(c, 1);
    if (rc != MD_EXIT_OK)
        goto cleanup;
    Mentor__V1__Request req = MENTOR__V1__REQUEST__INIT;
    Mentor__V1__ProfileUpdate update = MENTOR__V1__PROFILE_UPDATE__INIT;
    update.program_id = program;
    update.user_id = user;
    update.profile = &e.pb;
    update.n_update_mask = nmask;
    update.update_mask = (char **)mask;
    req.kind_case = MENTOR__V1__REQUEST__KIND_PROFILE_UPDATE;
    req.profile_update = &update;
    rc = md_ctx_call(c, &req, MENTOR__V1__RESPONSE__RESULT_PARTICIPANT, &msg);
    if (rc != MD_EXIT_OK)
        goto cleanup;
    rc = print_profile(c, msg->response->participant);
    mentor__v1__server_message__free_unpacked(msg, NULL);
cleanup:
    md_profile_edit_free(&e);
    return rc;
}
