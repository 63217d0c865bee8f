# The README's commands. `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run demo test install lint check infra-check bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

SAMPLE := tests/data/legacy_sample

run: demo
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# Everything `make run` does before it serves (CI runs it on a fresh SQLite database).
demo: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py import_legacy --core $(SAMPLE)/csv/core --portal $(SAMPLE)/csv/portal \
		--cognito $(SAMPLE)/cognito-users.json --report var/import-report.json
	$(BIN)/python manage.py demo_setup

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

check: install
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py check

# Steps this machine cannot run (a sandbox where podman builds images but cannot
# start containers); any other step that cannot run fails the check.
INFRA_CHECK_MAY_NOT_RUN ?= image-run

infra-check:
	INFRA_CHECK_MAY_NOT_RUN="$(INFRA_CHECK_MAY_NOT_RUN)" bash infra/check.sh

clean:
	rm -rf var staticfiles .pytest_cache
