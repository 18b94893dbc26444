#!/bin/sh
# Runs once, when the PostgreSQL volume is first created: the image creates the tracker
# database (POSTGRES_DB); this adds the lead database next to it.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -c "CREATE DATABASE \"${LEADS_DB_NAME:-leads}\""
