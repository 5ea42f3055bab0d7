/* crypto.c: random tokens, SHA-256 digests for storage, argon2id password
 * hashing. */
#include "md_crypto.h"

#include <stdio.h>
#include <string.h>

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

static char dummy_hash[MD_PWHASH_MAX];

/* nbytes of randomness written as text, `bits` bits per character taken
 * from alphabet (which has 2^bits characters). */
static int random_text(char *out, size_t outlen, size_t nbytes, const char *alphabet, int bits)
{
    uint8_t raw[64];
    size_t chars = (nbytes * 8 + (size_t)bits - 1) / (size_t)bits;
    if (nbytes > sizeof(raw) || outlen < chars + 1)
        return MD_EINVAL;
    if (RAND_bytes(raw, (int)nbytes) != 1)
        return MD_EINTERNAL;
    uint32_t mask = (1u << bits) - 1;
    size_t o = 0;
    uint32_t acc = 0;
    int have = 0;
    for (size_t i = 0; i < nbytes; i++) {
        acc = (acc << 8) | raw[i];
        have += 8;
        while (have >= bits) {
            have -= bits;
            out[o++] = alphabet[(acc >> have) & mask];
        }
    }
    if (have > 0)
        out[o++] = alphabet[(acc << (bits - have)) & mask];
    out[o] = '\0';
    OPENSSL_cleanse(raw, sizeof(raw));
    return MD_OK;
}

int md_crypto_token(char *out, size_t outlen, size_t nbytes)
{
    /* base64url without padding: compact, safe in files and URLs. */
    return random_text(out, outlen, nbytes,
                       "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", 6);
}

void md_crypto_sha256_bytea(const char *s, char out[67])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int len = 0;
    EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL);
    out[0] = '\\';
    out[1] = 'x';
    for (int i = 0; i < 32; i++) {
        out[2 + 2 * i] = digits[md[i] >> 4];
        out[3 + 2 * i] = digits[md[i] & 15];
    }
    out[66] = '\0';
}

int md_crypto_code(char *out, size_t outlen, size_t nbytes)
{
    /* Lowercase letters and digits without look-alikes (0/o, 1/l): easy to
     * read aloud or type, and never mistaken for a command-line option. */
    return random_text(out, outlen, nbytes, "abcdefghijkmnpqrstuvwxyz23456789", 5);
}

int md_crypto_hash_password(const char *pw, char *out, size_t outlen)
{
    uint8_t salt[16];
    if (RAND_bytes(salt, sizeof(salt)) != 1)
        return MD_EINTERNAL;
    int r = argon2id_hash_encoded(MD_ARGON2_T, MD_ARGON2_M_KIB, MD_ARGON2_P, pw, strlen(pw), salt,
                                  sizeof(salt), 32, out, outlen);
    return r == ARGON2_OK ? MD_OK : MD_EINTERNAL;
}

int md_crypto_verify_password(const char *encoded, const char *pw)
{
    int real = encoded != NULL && encoded[0] != '\0';
    int r = argon2id_verify(real ? encoded : dummy_hash, pw, strlen(pw));
    return real && r == ARGON2_OK;
}

int md_crypto_init(void)
{
    char pw[48];
    int rc = md_crypto_token(pw, sizeof(pw), 24);
    if (rc != MD_OK)
        return rc;
    rc = md_crypto_hash_password(pw, dummy_hash, sizeof(dummy_hash));
    OPENSSL_cleanse(pw, sizeof(pw));
    return rc;
}
