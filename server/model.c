/* model.c: result rows to protocol messages, and shared input checks. */
#include "md_model.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "md_utf8.h"

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
    u->employee_id = md_res_str(req, r, row, col + 8);
    u->department = md_res_str(req, r, row, col + 9);
    u->title = md_res_str(req, r, row, col + 10);
    u->manager_id = md_res_u64(r, row, col + 11);
    u->employment = (Mentor__V1__EmploymentStatus)md_res_i64(r, row, col + 12);
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
    if (n < 1 || md_utf8_len(s) > 200)
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

int md_model_text(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (md_utf8_len(s) > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\n' && c != '\t' && c != '\r') || c == 0x7f)
            return 0;
    }
    return 1;
}

int md_model_date(const char *s, int allow_empty)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (s[0] == '\0')
        return allow_empty;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return 0;
    for (int i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
            return 0;
    }
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    if (y < 1900 || y > 9999 || m < 1 || m > 12 || d < 1)
        return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    int max = days[m - 1] + (m == 2 && leap);
    return d <= max;
}

size_t md_model_normalize_name(char *s)
{
    size_t o = 0;
    int space = 0;
    for (size_t i = 0; s[i] != '\0'; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            space = o > 0;
            continue;
        }
        if (space) {
            s[o++] = ' ';
            space = 0;
        }
        s[o++] = (char)tolower(c);
    }
    s[o] = '\0';
    return o;
}

const char *md_model_text_array(md_req_t *req, char *const *items, size_t n)
{
    size_t len = 3;
    for (size_t i = 0; i < n; i++)
        len += 3 + 2 * strlen(items[i]);
    char *out = md_req_alloc(req, len);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    out[o++] = '{';
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            out[o++] = ',';
        out[o++] = '"';
        for (const char *p = items[i]; *p != '\0'; p++) {
            if (*p == '"' || *p == '\\')
                out[o++] = '\\';
            out[o++] = *p;
        }
        out[o++] = '"';
    }
    out[o++] = '}';
    out[o] = '\0';
    return out;
}

int md_model_parse_text_array(md_req_t *req, const char *s, char ***out, size_t *n)
{
    size_t len = strlen(s);
    *out = NULL;
    *n = 0;
    if (len < 2 || s[0] != '{' || s[len - 1] != '}')
        return -1;
    size_t cap = 1;
    for (size_t i = 0; i < len; i++)
        cap += s[i] == ',';
    char **items = md_req_alloc(req, cap * sizeof(char *));
    char *buf = md_req_alloc(req, len + 1);
    if (items == NULL || buf == NULL)
        return -1;
    size_t i = 1, count = 0, b = 0;
    if (len == 2) {
        *out = items;
        return 0;
    }
    while (i < len - 1) {
        char *start = buf + b;
        if (s[i] == '"') {
            i++;
            while (i < len - 1 && s[i] != '"') {
                if (s[i] == '\\' && i + 1 < len - 1)
                    i++;
                buf[b++] = s[i++];
            }
            if (s[i] != '"')
                return -1;
            i++;
        } else {
            while (i < len - 1 && s[i] != ',')
                buf[b++] = s[i++];
        }
        buf[b++] = '\0';
        if (count == cap)
            return -1;
        items[count++] = start;
        if (i < len - 1) {
            if (s[i] != ',')
                return -1;
            i++;
        }
    }
    *out = items;
    *n = count;
    return 0;
}

const char *md_model_bytea(md_req_t *req, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *out = md_req_alloc(req, 2 * n + 3);
    if (out == NULL)
        return NULL;
    out[0] = '\\';
    out[1] = 'x';
    for (size_t i = 0; i < n; i++) {
        out[2 + 2 * i] = digits[p[i] >> 4];
        out[3 + 2 * i] = digits[p[i] & 15];
    }
    out[2 + 2 * n] = '\0';
    return out;
}

static void *arena_alloc(void *data, size_t size)
{
    return md_req_alloc(data, size ? size : 1);
}

static void arena_free(void *data, void *p)
{
    (void)data;
    (void)p;
}

void md_model_arena_allocator(md_req_t *req, ProtobufCAllocator *a)
{
    a->alloc = arena_alloc;
    a->free = arena_free;
    a->allocator_data = req;
}
