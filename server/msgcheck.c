/* msgcheck.c: see md_msgcheck.h. */
#include "md_msgcheck.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "md_utf8.h"

#define MAX_DEPTH 16

static int walk(const ProtobufCMessage *m, char *path, size_t pathlen, size_t used, int depth);

/* Appends ".name" (or "name" at the top) to path at used; returns the new
 * length, capped so the path stays terminated. */
static size_t push(char *path, size_t pathlen, size_t used, const char *name)
{
    int n = snprintf(path + used, pathlen - used, "%s%s", used ? "." : "", name);
    if (n < 0 || (size_t)n >= pathlen - used)
        return pathlen - 1;
    return used + (size_t)n;
}

static int check_value(const ProtobufCFieldDescriptor *f, const void *value, char *path,
                       size_t pathlen, size_t used, int depth)
{
    if (f->type == PROTOBUF_C_TYPE_STRING) {
        const char *s = *(const char *const *)value;
        if (s != NULL && !md_utf8_valid(s, strlen(s), NULL)) {
            push(path, pathlen, used, f->name);
            return -1;
        }
    } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
        const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)value;
        if (sub != NULL && walk(sub, path, pathlen, push(path, pathlen, used, f->name), depth + 1))
            return -1;
        path[used] = '\0';
    }
    return 0;
}

static int walk(const ProtobufCMessage *m, char *path, size_t pathlen, size_t used, int depth)
{
    if (depth > MAX_DEPTH)
        return 0; /* the schema nests far less deeply than this */
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *base = (const char *)m;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t set = *(const uint32_t *)(base + f->quantifier_offset);
            if (set != f->id)
                continue;
        }
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            const char *const *items = *(const char *const *const *)(base + f->offset);
            for (size_t k = 0; k < n; k++) {
                if (check_value(f, &items[k], path, pathlen, used, depth) != 0)
                    return -1;
            }
        } else if (check_value(f, base + f->offset, path, pathlen, used, depth) != 0) {
            return -1;
        }
    }
    return 0;
}

int md_msg_check_utf8(const ProtobufCMessage *m, char *path, size_t pathlen)
{
    path[0] = '\0';
    return walk(m, path, pathlen, 0, 0);
}
