# The README names these targets: `make demo` runs the demo, `make test` runs the tests.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
PLUGINS := transfer ruralvia paypal prestaimport_license tickets verifactu vies sepa

.PHONY: install demo test test-postgres coverage lint format browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel

# An editable install leaves the core and the plugins as source (pip compiles only what it
# copies), and where the environment turns bytecode off (PYTHONDONTWRITEBYTECODE=1) every
# `facturo` command would compile them again: they are byte-compiled here, once.
$(VENV)/.installed: $(BIN)/python pyproject.toml $(foreach p,$(PLUGINS),plugins/$(p)/pyproject.toml)
	$(BIN)/python -m pip install --quiet -e ".[test]" $(foreach p,$(PLUGINS),-e plugins/$(p))
	$(BIN)/python -m compileall -q -j 0 core/facturo $(foreach p,$(PLUGINS),plugins/$(p))
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/facturo demo

# The browser suite drives Debian's Chromium: its headless shell (lighter) or the full
# browser. The shell is installed when neither is there (needs root or sudo).
browser:
	@command -v chromium-headless-shell >/dev/null 2>&1 || command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium-headless-shell; }

# The suite runs in parallel (pytest-xdist): one worker per CPU core plus one, at most 4 (the
# tests also wait on servers, browsers and subprocesses: on 2 cores, 3 workers finished in
# 118-125 s where 2 took 136-137 s). Each worker has its own SQLite files and, on PostgreSQL,
# its own databases (<database>_gw0, _gw1...). `make test XDIST=` runs it in one process. The
# 15 slowest tests are listed at the end.
WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); echo $$(( n < 4 ? n + 1 : 4 )))
XDIST ?= -n $(WORKERS) --dist loadfile
# Bytecode is cached even where the environment turns it off (PYTHONDONTWRITEBYTECODE=1):
# otherwise every worker and every subprocess a test starts compiles the core, the plugins
# and the assertion-rewritten tests from source again.
PYTEST := PYTHONDONTWRITEBYTECODE= $(BIN)/pytest

# A fresh checkout has no assertion-rewritten test modules, and every xdist worker would rewrite
# and compile all of them (65 s of CPU with 3 workers on 2 cores): one collection in one process
# does it once first. Skipped when the cache is there.
WARM_UP := find tests -name '*-pytest-*.pyc' -print -quit | grep -q . || \
	$(PYTEST) -q --collect-only -p no:xdist -p no:cacheprovider > /dev/null

test: install browser
	@$(WARM_UP)
	$(PYTEST) -q $(XDIST)

test-postgres: install browser
	@$(WARM_UP)
	FACTURO_TEST_DATABASE_URL=$${FACTURO_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/facturo_test} $(PYTEST) -q $(XDIST)

# The suite with a coverage report of the core and the plugins (lines not run are listed).
coverage: install browser
	$(PYTEST) -q $(XDIST) --cov=facturo --cov=facturo_transfer --cov=facturo_ruralvia --cov=facturo_paypal \
	  --cov=facturo_prestaimport_license --cov=facturo_tickets --cov=facturo_verifactu --cov=facturo_vies --cov=facturo_sepa \
	  --cov-report=term-missing:skip-covered

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
