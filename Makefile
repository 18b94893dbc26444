# The README's commands. Every target sets up .venv/ first when needed.
.PHONY: run test test-fast setup train shell lint types bench bench-quick soak nlu-eval services clean

run:            ## set up, train when needed, start the Rasa and action servers
	bash scripts/run.sh

test:           ## set up and run every test (what CI runs)
	bash scripts/test.sh

test-fast: setup  ## lint, types and the unit tests: no services, no root, about a minute
	.venv/bin/ruff check bot actions tests bench
	bash scripts/js.sh
	.venv/bin/mypy
	.venv/bin/pytest -q -p no:cacheprovider tests/unit

setup:          ## create .venv/ with Python 3.10 and the pinned dependencies
	bash scripts/setup.sh

train: setup    ## train the model when the training data changed
	bash scripts/train.sh

shell: setup    ## chat in the terminal (uses the action server of `make run`)
	ACTION_SERVER_URL="$$(.venv/bin/python -c 'from bot.settings import load_settings; print(load_settings().action_server_url())')" \
	  .venv/bin/rasa shell --model "$$(bash scripts/train.sh | tail -n 1)" --port 5006 \
	  --endpoints endpoints.yml

lint: setup     ## ruff; Biome and the Node tests for the widget script (scripts/js.sh)
	.venv/bin/ruff check bot actions tests bench
	bash scripts/js.sh

types: setup    ## mypy
	.venv/bin/mypy

bench: setup    ## benchmark ours against the stock rasa init configuration
	.venv/bin/python -m bench.run

bench-quick: setup  ## a shorter benchmark run (fewer requests)
	.venv/bin/python -m bench.run --quick

nlu-eval: train ## understanding of real questions: topics and specific answers, per set
	.venv/bin/python -m bench.nlu_eval --model "$$(bash scripts/train.sh | tail -n 1)"

soak: setup     ## ten minutes at a steady rate: memory and errors over time
	.venv/bin/python -m bench.run --soak 600

services:       ## install and start PostgreSQL, Redis and Chromium (Debian packages)
	bash scripts/services.sh

clean:          ## remove trained models and local data (keeps .venv/)
	rm -rf models var results
