# billingdash: two commands on a fresh machine.
#   make demo   install into .venv, migrate, start web + worker + beat + GitHub simulator
#   make test   install into .venv, lint, run the whole suite (PostgreSQL + Redis)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
# The test suite runs against this machine's services unless told otherwise.
TEST_DATABASE_URL ?= $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/test)
TEST_REDIS_URL ?= $(or $(REDIS_URL),redis://127.0.0.1:6379/0)
PYTEST_ARGS ?=

.PHONY: install demo test lint format audit bench load clean reference-check

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==25.3"
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $(STAMP)

demo: install
	$(BIN)/python scripts/demo.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Known vulnerabilities of every pinned dependency (pip-audit; scripts/audit_deps.py):
# exit 1 for one with a fix available, 3 when no vulnerability database answered.
audit: install
	$(BIN)/python scripts/audit_deps.py

test: lint
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m pip install --quiet -r requirements-load.txt -c constraints.txt
	$(BIN)/python -m bench

load: install
	$(BIN)/python -m pip install --quiet -r requirements-load.txt -c constraints.txt
	$(BIN)/python -m bench.load

reference-check: install
	$(BIN)/python scripts/check_reference.py

clean:
	rm -rf $(VENV) staticfiles .demo .pytest_cache .ruff_cache
