#!/usr/bin/env bash
# Installs (from Debian's packages) and starts what the scale-out and browser tests need:
# PostgreSQL, Redis and Chromium, and Node.js with npm for the widget script's checks
# (scripts/js.sh). Does nothing for a part that is already there.
# The test PostgreSQL user is postgres/postgres on 127.0.0.1:5432 (a local test cluster,
# never a production database).
set -euo pipefail

need=()
command -v pg_ctlcluster >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "error: missing ${need[*]}; install them with: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
  echo "==> installing ${need[*]} from Debian's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# PostgreSQL: start the first cluster if it is down.
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  read -r ver name _ < <(pg_lsclusters --no-header | head -1)
  echo "==> starting PostgreSQL $ver/$name"
  pg_ctlcluster "$ver" "$name" start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null

# Redis: start a daemon if nothing answers.
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "==> starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 1 20); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done
fi
echo "==> services ready: PostgreSQL 127.0.0.1:5432, Redis 127.0.0.1:6379, $(/usr/bin/chromium --version 2>/dev/null | head -1)"
