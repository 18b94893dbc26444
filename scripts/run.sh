#!/usr/bin/env bash
# Sets up, trains when needed, and runs the Rasa server and the action server together.
# Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
MODEL=$(bash scripts/train.sh | tail -n 1)
mkdir -p var

# Fails here, with the name of the missing variable, when a configured channel or CRM
# lacks its secret; writes the effective credentials (Slack only when configured).
.venv/bin/python -m bot check
.venv/bin/python -m bot.channels.credentials --out var/credentials.yml

# The launcher (bot/launcher.py) takes the rest from the settings (bot/settings.py), one
# source for everything: the ports (RASA_PORT, ACTIONS_PORT), the URL the Rasa server
# calls actions at (ACTION_SERVER_URL, derived from ACTIONS_PORT unless set; endpoints.yml
# reads ${ACTION_SERVER_URL}), RASA_INTERFACE, the CORS origins (ALLOWED_ORIGINS) and the
# HTTP API, which stays off unless RASA_API_TOKEN protects it. It prints the addresses
# once both servers answer; Ctrl-C stops both.
exec .venv/bin/python -m bot.launcher run --model "$MODEL" \
  --endpoints "${RASA_ENDPOINTS:-endpoints.yml}" --credentials var/credentials.yml
