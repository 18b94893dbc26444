#!/usr/bin/env bash
# Sets up exactly as the run command does, then runs every test: lint and types, the
# training-data checks, unit and integration tests, the conversation tests, the NLU test
# on a held-out file, and the end-to-end tests against the real servers and a browser.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
step() { echo; echo "==> [$(( $(date +%s) - started ))s] $*"; }

step "setup"
bash scripts/setup.sh
bash scripts/services.sh

step "lint and types"
.venv/bin/ruff check bot actions tests bench
.venv/bin/mypy

step "rasa data validate"
.venv/bin/rasa data validate --fail-on-warnings --domain domain.yml --data data --config config.yml

step "train (only when the training data changed)"
MODEL=$(bash scripts/train.sh | tail -n 1)
export TEST_MODEL="$PWD/$MODEL"

step "unit and integration tests"
.venv/bin/pytest -q tests/unit tests/integration

step "conversation tests (rasa test stories, failing on any prediction error)"
results=$(mktemp -d)
actions_port=5065
sed "s|127.0.0.1:5055|127.0.0.1:$actions_port|" endpoints.yml | sed "s|var/tracker.db|$results/tracker.db|" > "$results/endpoints.yml"
APP_DATA_DIR="$results" .venv/bin/python -m bot.action_server --port "$actions_port" > "$results/actions.log" 2>&1 &
actions_pid=$!
trap 'kill $actions_pid 2>/dev/null || true' EXIT
until curl -fs "http://127.0.0.1:$actions_port/health" >/dev/null 2>&1; do
  kill -0 $actions_pid 2>/dev/null || { cat "$results/actions.log"; exit 1; }
  sleep 1
done
.venv/bin/rasa test core --model "$MODEL" --stories tests/conversations \
  --endpoints "$results/endpoints.yml" --fail-on-prediction-errors --out "$results/core"
kill $actions_pid; trap - EXIT

step "NLU test on the held-out file"
.venv/bin/rasa test nlu --model "$MODEL" --nlu tests/nlu/heldout.yml --out "$results/nlu"
.venv/bin/python -m bot nlu-report "$results/nlu/intent_report.json" --min-accuracy 0.85

step "end-to-end tests (real servers, PostgreSQL, Redis, a browser)"
.venv/bin/pytest -q tests/e2e

step "all tests passed in $(( $(date +%s) - started ))s"
