#!/bin/sh
# First start of the postgresql service: Temporal's two databases and the
# application's own role and database. Schemas come later: Temporal's from
# the temporal-schema job, the application's from the migrate job.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
CREATE DATABASE temporal;
CREATE DATABASE temporal_visibility;
CREATE ROLE pathways LOGIN PASSWORD '${PATHWAYS_DB_PASSWORD}';
CREATE ROLE pathways_app LOGIN PASSWORD '${PATHWAYS_APP_DB_PASSWORD}';
CREATE DATABASE pathways OWNER pathways;
SQL
