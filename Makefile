# s3portal: `make run` starts the whole portal locally, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint venv clean

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
