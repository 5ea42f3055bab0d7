#!/bin/sh
# Creates mentord's runtime role on first start of the database container.
set -eu
psql -v ON_ERROR_STOP=1 -v pw="${MENTORD_APP_PASSWORD:-change-me-app}" \
     --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE mentord_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD :'pw';
SQL
