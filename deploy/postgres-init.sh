#!/bin/sh
# Runs once, when the PostgreSQL volume is first created (the image creates the tracker
# database, POSTGRES_DB, owned by the superuser POSTGRES_USER). On a managed PostgreSQL,
# run it once by hand with the same variables (see deploy/README.md).
#
# Neither server connects as the superuser. Each gets a role of its own that can do only
# what it needs:
# - RASA_DB_USER owns the tracker database (Rasa creates its `events` table there) and
#   cannot connect to the lead database;
# - ACTIONS_DB_USER owns the lead database and may read and delete conversation events
#   in the tracker database ("forget me"), nothing more there.
set -eu
: "${RASA_DB_USER:=advisor_rasa}" "${ACTIONS_DB_USER:=advisor_actions}"
: "${RASA_DB_PASSWORD:?set RASA_DB_PASSWORD}" "${ACTIONS_DB_PASSWORD:?set ACTIONS_DB_PASSWORD}"
LEADS_DB_NAME=${LEADS_DB_NAME:-leads}

# Values go in as psql variables (:'x' quotes a literal, :"x" an identifier), never
# spliced into the SQL text.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v rasa_user="$RASA_DB_USER" -v rasa_password="$RASA_DB_PASSWORD" \
  -v actions_user="$ACTIONS_DB_USER" -v actions_password="$ACTIONS_DB_PASSWORD" \
  -v tracker_db="$POSTGRES_DB" -v leads_db="$LEADS_DB_NAME" <<'SQL'
CREATE ROLE :"rasa_user" LOGIN PASSWORD :'rasa_password'
  NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE ROLE :"actions_user" LOGIN PASSWORD :'actions_password'
  NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;

ALTER DATABASE :"tracker_db" OWNER TO :"rasa_user";
REVOKE ALL ON DATABASE :"tracker_db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"tracker_db" TO :"actions_user";

CREATE DATABASE :"leads_db" OWNER :"actions_user";
REVOKE ALL ON DATABASE :"leads_db" FROM PUBLIC;

-- In the tracker database: the schema belongs to its owner, and every table Rasa's role
-- creates is readable and deletable (never writable) by the action servers' role.
ALTER SCHEMA public OWNER TO :"rasa_user";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"actions_user";
ALTER DEFAULT PRIVILEGES FOR ROLE :"rasa_user" IN SCHEMA public
  GRANT SELECT, DELETE ON TABLES TO :"actions_user";
SQL
