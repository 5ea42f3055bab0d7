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

int md_crypto_token(char *out, size_t outlen, size_t nbytes)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint8_t raw[64];
    if (nbytes > sizeof(raw) || outlen < (nbytes * 4 + 2) / 3 + 1)
        return MD_EINVAL;
    if (RAND_bytes(raw, (int)nbytes) != 1)
        return MD_EINTERNAL;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < nbytes; i++) {
        acc = (acc << 8) | raw[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = alphabet[(acc >> bits) & 63];
        }
    }
    if (bits > 0)
        out[o++] = alphabet[(acc << (6 - bits)) & 63];
    out[o] = '\0';
    OPENSSL_cleanse(raw, sizeof(raw));
    return MD_OK;
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
    static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
    uint8_t raw[64];
    if (nbytes > sizeof(raw) || outlen < (nbytes * 8 + 4) / 5 + 1)
        return MD_EINVAL;
    if (RAND_bytes(raw, (int)nbytes) != 1)
        return MD_EINTERNAL;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < nbytes; i++) {
        acc = (acc << 8) | raw[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[o++] = alphabet[(acc >> bits) & 31];
        }
    }
    if (bits > 0)
        out[o++] = alphabet[(acc << (5 - bits)) & 31];
    out[o] = '\0';
    OPENSSL_cleanse(raw, sizeof(raw));
    return MD_OK;
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
