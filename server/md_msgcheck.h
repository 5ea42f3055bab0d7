/* md_msgcheck.h (private to mentord): checks that apply to every request
 * whatever its kind, walking the message through its protobuf-c
 * descriptor. */
#ifndef MD_MSGCHECK_H
#define MD_MSGCHECK_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

/* 0 when every string field of m (nested messages, repeated fields and
 * the set member of each oneof included) is well-formed UTF-8; otherwise -1
 * with the dotted path of the first bad field in path (e.g.
 * "participant_import.rows.email"). protobuf-c does not check this, and
 * PostgreSQL would refuse such text later with a less helpful error. */
int md_msg_check_utf8(const ProtobufCMessage *m, char *path, size_t pathlen);

#endif
