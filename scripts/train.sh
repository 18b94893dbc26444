#!/usr/bin/env bash
# Trains the model only when the training data, domain or config changed since the last
# model: the model's file name carries a hash of those inputs. Prints the model's path
# as the last line of standard output.
set -euo pipefail
cd "$(dirname "$0")/.."

CONFIG=${1:-config.yml}
OUT=${2:-models}
name=$(basename "$CONFIG" .yml)
# The NLU components' code (bot/rasa/nlu/, bot/encoder/) counts too: a change there changes the model.
hash=$( { cat "$CONFIG" domain.yml; find data bot/rasa/nlu bot/encoder bot/advisor/answer_options.yml -name '*.yml' -o -name '*.py' | sort | tr '\n' '\0' | xargs -0 cat; } | sha256sum | cut -c1-12)
model="$OUT/$name-$hash.tar.gz"

if [ -f "$model" ]; then
  echo "==> model is up to date: $model" >&2
else
  echo "==> training a model from $CONFIG (training data changed since the last model)" >&2
  mkdir -p "$OUT"
  start=$(date +%s)
  .venv/bin/rasa train --config "$CONFIG" --domain domain.yml --data data \
    --out "$OUT" --fixed-model-name "$name-$hash" >&2
  echo "==> trained in $(( $(date +%s) - start ))s: $model" >&2
fi
echo "$model"
