/* md_migrate.h: private to mentord (not an installed interface).
 *
 * Schema migrations. The build compiles every sql/NNN_name.sql into the
 * binary (cmake/embed_sql.cmake generates md_migrations[], sorted by file
 * name), so an installed mentord carries the schema it needs. At start
 * mentord applies, in order, each migration its database has not recorded in
 * schema_migrations, each in its own transaction, while holding a
 * session-level advisory lock so that several instances starting at once on
 * one database migrate it exactly once. An applied migration is never edited:
 * a change is a new file. */
#ifndef MD_MIGRATE_H
#define MD_MIGRATE_H

#include <stddef.h>

#include "md_err.h"

/* Key of the advisory lock held while migrating ("mentordM" in ASCII). Other
 * advisory locks taken by mentord must use the two-key form or other values. */
#define MD_MIGRATE_LOCK_KEY 0x6d656e746f72644dLL

/* One embedded migration: name is the file name without ".sql" (e.g.
 * "001_init"), sql the file's text. Defined in the generated
 * migrations_data.c; the strings are static. */
struct md_migration {
    const char *name;
    const char *sql;
};
extern const struct md_migration md_migrations[];
extern const size_t md_migrations_count;

/* Blocking; runs before mentord serves. Connects with owner_conninfo (a role
 * allowed to create the schema), checks the server is PostgreSQL 15 or newer,
 * makes sure role mentord_app exists (created NOLOGIN, or LOGIN when
 * create_app_role_login is non-zero; an existing role is used as it is, so
 * the owner needs CREATEROLE only when the role is missing), applies the
 * pending migrations, and checks that mentord_app is neither SUPERUSER nor
 * BYPASSRLS, without which row-level security would not separate tenants.
 * Returns MD_OK, MD_EDBDOWN when it cannot connect, or MD_EDB with a message
 * in err such as "migration 001_init failed: <PostgreSQL's message>". */
MD_WUR int md_migrate_run(const char *owner_conninfo, int create_app_role_login, char *err,
                          size_t errlen);

#endif
