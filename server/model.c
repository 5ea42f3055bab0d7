/* model.c: result rows to protocol messages, and shared input checks. */
#include "md_model.h"

#include <ctype.h>
#include <string.h>

const char md_sql_self_user[] =
    "SELECT " MD_USER_COLS " FROM users u WHERE u.org_id = $1::bigint AND u.id = $2::bigint";
const char md_sql_self_org[] = "SELECT " MD_ORG_COLS " FROM orgs o WHERE o.id = $1::bigint";

Mentor__V1__User *md_model_user(md_req_t *req, const PGresult *r, int row, int col)
{
    Mentor__V1__User *u = md_req_alloc(req, sizeof(*u));
    if (u == NULL)
        return NULL;
    mentor__v1__user__init(u);
    u->id = md_res_u64(r, row, col);
    u->email = md_res_str(req, r, row, col + 1);
    u->display_name = md_res_str(req, r, row, col + 2);
    u->role = (Mentor__V1__Role)md_res_i64(r, row, col + 3);
    u->active = md_res_bool(r, row, col + 4);
    u->operator_ = md_res_bool(r, row, col + 5);
    u->created_at = md_res_i64(r, row, col + 6);
    u->invite_pending = md_res_bool(r, row, col + 7);
    return u;
}

Mentor__V1__Org *md_model_org(md_req_t *req, const PGresult *r, int row, int col)
{
    Mentor__V1__Org *o = md_req_alloc(req, sizeof(*o));
    if (o == NULL)
        return NULL;
    mentor__v1__org__init(o);
    o->id = md_res_u64(r, row, col);
    o->slug = md_res_str(req, r, row, col + 1);
    o->name = md_res_str(req, r, row, col + 2);
    o->created_at = md_res_i64(r, row, col + 3);
    o->user_count = (uint32_t)md_res_i64(r, row, col + 4);
    return o;
}

int md_model_email(const char *in, char *out, size_t outlen)
{
    size_t n = strlen(in);
    if (n < 3 || n > 254 || n >= outlen)
        return 0;
    const char *at = strchr(in, '@');
    if (at == NULL || at == in || at[1] == '\0' || strchr(at + 1, '@') != NULL)
        return 0;
    if (strchr(at + 1, '.') == NULL)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c <= 0x20 || c == 0x7f || c == ',' || c == ';' || c == '<' || c == '>')
            return 0;
        out[i] = (char)tolower(c);
    }
    out[n] = '\0';
    return 1;
}

int md_model_slug(const char *s)
{
    size_t n = strlen(s);
    if (n < 2 || n > 40 || !(s[0] >= 'a' && s[0] <= 'z'))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return 0;
    }
    return 1;
}

int md_model_name(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 200)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return 0;
    }
    return 1;
}

const char *md_model_role_name(int role)
{
    switch (role) {
    case MENTOR__V1__ROLE__MEMBER:
        return "member";
    case MENTOR__V1__ROLE__COORDINATOR:
        return "coordinator";
    case MENTOR__V1__ROLE__ADMIN:
        return "admin";
    default:
        return "unspecified";
    }
}
