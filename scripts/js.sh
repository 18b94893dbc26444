#!/usr/bin/env bash
# The website widget's JavaScript checks: installs the pinned npm tools (package.json,
# package-lock.json: Biome and esbuild) when node_modules/ is missing or the lock
# changed, then lints the modules (biome.json) and runs the Node tests (tests/js/),
# which include the check that the committed widget.js bundle is up to date.
# Nothing is downloaded when node_modules/ matches the lock.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in node npm; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "error: $tool is missing; install Debian's nodejs and npm (bash scripts/services.sh)" >&2
    exit 1
  }
done

# The lock's hash, kept inside node_modules/ so that removing the folder resets it.
stamp=node_modules/.package-lock.sha256
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -d node_modules ] || [ "$(cat "$stamp" 2>/dev/null)" != "$lock_hash" ]; then
  echo "==> npm ci (package-lock.json changed or node_modules/ missing)"
  # --ignore-scripts: the tools need no install scripts (esbuild's binary comes as a
  # package of its own), and no dependency gets to run code at install time.
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > "$stamp"
fi

node_modules/.bin/biome lint --error-on-warnings
node --test tests/js/*.test.mjs
