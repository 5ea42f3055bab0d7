/* fuzz_client_json.c: libFuzzer target for the parsers mentorctl runs on
 * what the user gives it: the strict JSON parser (client/json.c), the
 * profile built from a parsed JSON document, and the availability and
 * "SKILL:LEVEL" notations (client/profile.c). Besides not crashing, each
 * must keep its documented promises: JSON strings hold no NUL and know their
 * length, object keys are unique, an accepted profile packs as a valid
 * Profile message and renders as JSON the parser accepts again, and
 * availability slots come out ascending within the week. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "md_err.h"
#include "md_json.h"
#include "md_output.h"
#include "md_profile.h"
#include "mentor.pb-c.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static void check_tree(const md_json_value_t *v, int depth)
{
    CHECK(depth <= MD_JSON_PARSE_MAX_DEPTH + 1);
    switch (v->kind) {
    case MD_JSON_NULL:
        break;
    case MD_JSON_BOOL:
        CHECK(v->boolean == 0 || v->boolean == 1);
        break;
    case MD_JSON_NUMBER:
    case MD_JSON_STRING:
        CHECK(v->text != NULL);
        CHECK(strlen(v->text) == v->len);
        if (v->kind == MD_JSON_NUMBER) {
            uint64_t u;
            CHECK(v->len > 0);
            (void)md_json_get_u64(v, &u);
        }
        break;
    case MD_JSON_ARRAY:
        CHECK(v->n == 0 || v->items != NULL);
        for (size_t i = 0; i < v->n; i++)
            check_tree(&v->items[i], depth + 1);
        break;
    case MD_JSON_OBJECT:
        CHECK(v->n == 0 || (v->items != NULL && v->keys != NULL));
        for (size_t i = 0; i < v->n; i++) {
            CHECK(v->keys[i] != NULL);
            /* Duplicate keys are refused; the first member with a key is the
             * one md_json_member finds. */
            CHECK(md_json_member(v, v->keys[i]) == &v->items[i]);
            check_tree(&v->items[i], depth + 1);
        }
        break;
    default:
        CHECK(0);
    }
}

/* Render the profile and read it back: the writer's output must be JSON the
 * strict parser accepts, and the message must pack to its announced size. */
static void check_profile(const md_profile_edit_t *e)
{
    size_t size = mentor__v1__profile__get_packed_size(&e->pb);
    uint8_t *buf = malloc(size > 0 ? size : 1);
    CHECK(buf != NULL);
    CHECK(mentor__v1__profile__pack(&e->pb, buf) == size);
    Mentor__V1__Profile *back = mentor__v1__profile__unpack(NULL, size, buf);
    CHECK(back != NULL);
    CHECK(back->n_availability == e->pb.n_availability);
    mentor__v1__profile__free_unpacked(back, NULL);
    free(buf);

    md_json_t j;
    md_json_init(&j);
    md_json_profile(&j, NULL, &e->pb);
    const char *doc = md_json_finish(&j);
    CHECK(doc != NULL);
    md_json_value_t *v = NULL;
    char err[128];
    CHECK(md_json_parse(doc, strlen(doc), &v, err, sizeof(err)) == MD_OK);
    CHECK(v->kind == MD_JSON_OBJECT);
    md_json_value_free(v);
    md_json_free(&j);

    const char *mask[MD_PF_COUNT];
    size_t nmask = md_profile_edit_mask(e, mask);
    CHECK(nmask <= MD_PF_COUNT);
    for (size_t i = 0; i < nmask; i++)
        CHECK(md_profile_field_by_name(mask[i]) >= 0);
}

static void fuzz_json(const uint8_t *data, size_t size)
{
    md_json_value_t *doc = NULL;
    char err[256];
    err[0] = '\0';
    int rc = md_json_parse((const char *)data, size, &doc, err, sizeof(err));
    if (rc != MD_OK) {
        CHECK(rc == MD_EINVAL || rc == MD_ENOMEM);
        CHECK(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');
        return;
    }
    CHECK(doc != NULL);
    check_tree(doc, 0);

    md_profile_edit_t e;
    md_profile_edit_init(&e);
    if (md_profile_edit_json(&e, doc) == MD_OK)
        check_profile(&e);
    else
        CHECK(e.err[0] != '\0');
    md_profile_edit_free(&e);
    md_json_value_free(doc);
}

/* The command-line notations take C strings: the input up to its first NUL. */
static void fuzz_notations(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    CHECK(s != NULL);
    memcpy(s, data, size);
    s[size] = '\0';

    uint32_t slots[MD_WEEK_HOURS];
    size_t n = 0;
    char err[256];
    if (md_availability_parse(s, slots, &n, err, sizeof(err)) == MD_OK) {
        CHECK(n <= MD_WEEK_HOURS);
        for (size_t i = 0; i < n; i++) {
            CHECK(slots[i] < MD_WEEK_HOURS);
            CHECK(i == 0 || slots[i - 1] < slots[i]);
        }
        md_str_t text;
        md_str_init(&text);
        md_availability_text(slots, n, &text);
        CHECK(md_str_get(&text) != NULL);
        md_str_free(&text);
    }

    size_t namelen = 0;
    uint32_t level = 0;
    if (md_skill_parse(s, &namelen, &level) == MD_OK)
        CHECK(namelen > 0 && namelen < strlen(s) && s[namelen] == ':');
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_json(data, size);
    fuzz_notations(data, size);
    return 0;
}
