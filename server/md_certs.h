/* md_certs.h: private to mentord (not an installed interface).
 *
 * The TLS default: with no certificate configured, mentord serves with a
 * certificate from its own private CA, kept in DATA_DIR/tls (mode 0700):
 *
 *   ca.key, ca.crt          the CA: ECDSA P-256, self-signed, 10 years
 *   server.key, server.crt  the server: ECDSA P-256, issued by the CA,
 *                           825 days, for localhost, 127.0.0.1, ::1 and the
 *                           machine's host name
 *
 * Keys are written mode 0600 and never leave the directory. Clients trust
 * ca.crt (mentorctl --ca) or pin the server certificate's fingerprint; both
 * fingerprints are logged at start. The CA outlives server certificates: a
 * server certificate near its end is reissued from the same CA, so clients
 * that trust the CA keep working. */
#ifndef MD_CERTS_H
#define MD_CERTS_H

#include <stddef.h>

#include "md_err.h"

/* A server certificate with less than this left is reissued at start. */
#define MD_CERTS_RENEW_DAYS 30

/* Creates what is missing in DATA_DIR/tls (creating DATA_DIR too if needed)
 * and reuses what is there, then writes the paths of server.crt, server.key
 * and ca.crt into cert, key and ca, each a buffer of pathlen bytes. Fails if
 * the existing files do not belong together (server.crt not issued by ca.crt,
 * or server.key not its key). Returns MD_OK, MD_EINVAL (path too long), MD_EIO
 * or MD_ETLS, with a message in err. */
MD_WUR int md_certs_ensure(const char *data_dir, char *cert, char *key, char *ca, size_t pathlen,
                           char *err, size_t errlen);

#endif
