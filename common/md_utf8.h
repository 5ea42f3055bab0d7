/* md_utf8.h: UTF-8 as RFC 3629 defines it, shared by mentord and mentorctl:
 * no overlong forms, no surrogates, nothing past U+10FFFF. */
#ifndef MD_UTF8_H
#define MD_UTF8_H

#include <stddef.h>

/* Length of the well-formed sequence at p (n bytes left, n >= 1), or 0. */
size_t md_utf8_seq(const unsigned char *p, size_t n);
/* 1 when the n bytes at s are well-formed UTF-8; *bad (when not NULL)
 * gets the offset of the first malformed byte otherwise. */
int md_utf8_valid(const char *s, size_t n, size_t *bad);
/* Code points in the NUL-terminated well-formed string s. */
size_t md_utf8_len(const char *s);

#endif
