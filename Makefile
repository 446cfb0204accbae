# Two commands: `make run` (app on the embedded sandbox unless NOMAD_ADDR is set) and `make test`.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501

.PHONY: run test lint typecheck bench deps dev-deps browser postgresql oidc-provider clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.deps: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-deps: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.deps $@

deps: $(VENV)/.deps
dev-deps: $(VENV)/.dev-deps

# Debian's Chromium for the browser tests (never a downloaded browser build).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Debian's PostgreSQL server binaries: the store tests start a throwaway cluster on loopback with them.
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }

# A certified third-party OpenID provider (npm oidc-provider) for the login tests.
oidc-provider:
	@test -d tests/oidc/node_modules/oidc-provider || npm ci --prefix tests/oidc --silent --no-audit --no-fund

run: deps
	$(PY) launcher.py --port $(PORT)

# Lint and format check first: they cost a second and name the file.
lint: dev-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Type check of connectors/, snapshot/, views/, auth/, common/ (settings in pyproject.toml).
typecheck: dev-deps
	$(VENV)/bin/mypy

# The suite waits on servers and browsers more than it computes: two workers (pytest-xdist), each
# test file on one worker so its module fixtures (sandboxes, pages' snapshots) are built once.
TEST_WORKERS ?= 2

test: lint typecheck browser postgresql oidc-provider
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

bench: dev-deps
	$(PY) -m bench

clean:
	rm -rf $(VENV) .run test-output tests/oidc/node_modules
