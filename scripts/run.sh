#!/usr/bin/env bash
# Sets up, trains when needed, and runs the Rasa server and the action server together.
# Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
MODEL=$(bash scripts/train.sh | tail -n 1)

RASA_PORT=${RASA_PORT:-5005}
# One source for the action server's port and URL (bot/settings.py): the action server
# listens on ACTIONS_PORT, and endpoints.yml's ${ACTION_SERVER_URL} points Rasa at it.
ACTIONS_PORT=$(.venv/bin/python -c 'from bot.settings import load_settings; print(load_settings().actions_port)')
ACTION_SERVER_URL=$(.venv/bin/python -c 'from bot.settings import load_settings; print(load_settings().action_server_url())')
export ACTIONS_PORT ACTION_SERVER_URL
mkdir -p var

# Fails here, with the name of the missing variable, when a configured channel or CRM
# lacks its secret; writes the effective credentials (Slack only when configured).
.venv/bin/python -m bot check
.venv/bin/python -m bot.channels.credentials --out var/credentials.yml

pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "==> stopping the servers"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

echo "==> starting the action server on port $ACTIONS_PORT (Rasa calls $ACTION_SERVER_URL)"
.venv/bin/python -m bot.action_server --port "$ACTIONS_PORT" &
pids+=($!)

echo "==> starting the Rasa server on port $RASA_PORT with $MODEL (loading takes a few seconds)"
# The HTTP API (/model, /conversations) stays off unless RASA_API_TOKEN protects it.
api_args=()
if [ -n "${RASA_API_TOKEN:-}" ]; then
  api_args=(--enable-api --auth-token "$RASA_API_TOKEN")
  echo "    HTTP API enabled, protected by RASA_API_TOKEN"
fi
cors=$(.venv/bin/python -c 'from bot.settings import load_settings; print(" ".join(load_settings().allowed_origins))')
# shellcheck disable=SC2086
.venv/bin/rasa run --model "$MODEL" --interface "${RASA_INTERFACE:-127.0.0.1}" --port "$RASA_PORT" --endpoints "${RASA_ENDPOINTS:-endpoints.yml}" \
  --credentials var/credentials.yml --cors $cors "${api_args[@]}" &
pids+=($!)

until curl -fs "http://127.0.0.1:$RASA_PORT/" >/dev/null 2>&1; do
  if ! kill -0 "${pids[1]}" 2>/dev/null; then echo "error: the Rasa server stopped; see above" >&2; exit 1; fi
  sleep 1
done
cat <<MSG

The assistant is running. Talk to it:
  - website widget demo:  http://127.0.0.1:$RASA_PORT/webhooks/widget/demo
  - REST webhook:         (on when REST_CHANNEL_TOKEN is set)
                          curl -s -XPOST http://127.0.0.1:$RASA_PORT/webhooks/rest/webhook \\
                            -H "Authorization: Bearer \$REST_CHANNEL_TOKEN" \\
                            -d '{"sender": "me", "message": "what is a container?"}'
  - insight page:         http://127.0.0.1:$RASA_PORT/admin/insights   (on when ADMIN_TOKEN is set)
  - terminal:             make shell   (in another terminal; a second Rasa server on port 5006 that uses this action server)
Press Ctrl-C to stop both servers.
MSG
wait -n "${pids[@]}"
