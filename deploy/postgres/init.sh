#!/bin/sh
# First start of the postgresql service: Temporal's two databases and the
# application's own role and database. Schemas come later: Temporal's from
# the temporal-schema job, the application's from the migrate job.
set -eu
# Passwords go in as psql variables, quoted by psql (:'name'), so any
# character in them is safe.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_pw="$PATHWAYS_DB_PASSWORD" -v app_pw="$PATHWAYS_APP_DB_PASSWORD" <<'SQL'
CREATE DATABASE temporal;
CREATE DATABASE temporal_visibility;
CREATE ROLE pathways LOGIN PASSWORD :'owner_pw';
CREATE ROLE pathways_app LOGIN PASSWORD :'app_pw';
CREATE DATABASE pathways OWNER pathways;
SQL
