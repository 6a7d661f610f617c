# s3portal: `make run` starts the whole portal locally, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint venv clean manage shell

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	touch $(STAMP)

venv: $(STAMP)

## Run: web + Celery worker + beat + a local S3 emulator (moto_server) with demo data. Ctrl-C stops all.
run: $(STAMP)
	$(BIN)/python scripts/demo.py

## Test: the whole suite (unit, integration with real worker + moto_server, browser tests).
test: $(STAMP)
	$(BIN)/python -m pytest $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=true $(BIN)/python manage.py makemigrations --check --dry-run
	DEBUG=true $(BIN)/mypy

clean:
	rm -rf $(VENV) var

## manage / shell: manage.py (`make manage ARGS="scan --format json"`) or an interactive shell
## with the demo's settings (var/demo.env, written by the first `make run`) and .venv on PATH.
DEMO_ENV = $${S3PORTAL_VAR_DIR:-var}/demo.env
WITH_DEMO_ENV = test -f "$(DEMO_ENV)" || { echo "error: $(DEMO_ENV) is missing: run 'make run' once to create the demo" >&2; exit 1; }; \
	set -a; . "$(DEMO_ENV)"; set +a; export DEBUG=$${DEBUG:-true} AWS_EC2_METADATA_DISABLED=true S3PORTAL_DEMO_ENV_LOADED=1 PATH="$(abspath $(BIN)):$$PATH";
manage: $(STAMP)
	@$(WITH_DEMO_ENV) exec $(BIN)/python manage.py $(ARGS)

shell: $(STAMP)
	@$(WITH_DEMO_ENV) echo "demo settings loaded from $(DEMO_ENV); try: python manage.py scan (exit leaves)"; \
	PS1='(s3portal demo) \w$$ ' exec bash --norc -i
