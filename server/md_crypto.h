/* md_crypto.h (private to mentord): secrets. Tokens and codes come from the
 * OpenSSL CSPRNG and are stored only as SHA-256 digests; passwords are
 * hashed with argon2id. The argon2 calls are slow on purpose and must run
 * on the thread pool, never on the loop thread. */
#ifndef MD_CRYPTO_H
#define MD_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "md_err.h"

#define MD_TOKEN_BYTES  32  /* session tokens: 256 bits */
#define MD_INVITE_BYTES 16  /* invitation codes: 128 bits */
#define MD_PWHASH_MAX   160 /* encoded argon2id hash, with room to spare */
#define MD_ARGON2_T     2
#define MD_ARGON2_M_KIB 19456 /* 19 MiB: the OWASP floor */
#define MD_ARGON2_P     1

/* A random secret of nbytes, base64url without padding, into out. */
MD_WUR int md_crypto_token(char *out, size_t outlen, size_t nbytes);
/* A random one-time code of nbytes for people to type (invitations):
 * base32 over lowercase letters and digits. */
MD_WUR int md_crypto_code(char *out, size_t outlen, size_t nbytes);
/* SHA-256 of s as a PostgreSQL bytea literal ("\x" + 64 hex digits). */
void md_crypto_sha256_bytea(const char *s, char out[67]);
/* argon2id; blocking. */
MD_WUR int md_crypto_hash_password(const char *pw, char *out, size_t outlen);
/* 1 when pw matches the encoded hash; blocking. A NULL or empty hash is
 * checked against a dummy so the time taken does not reveal it. */
int md_crypto_verify_password(const char *encoded, const char *pw);
/* Prepare the dummy hash (call once at start, off the loop). */
MD_WUR int md_crypto_init(void);

#endif
