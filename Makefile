# make run: venv, install, migrate, demo hall, serve on http://127.0.0.1:8080
# make test: venv, install (with test tools), run the whole suite
# make check: ruff (lint and format) and mypy; .ci/run runs it before make test
# make lock: regenerate requirements.lock / requirements-dev.lock from requirements*.txt
# Installs come from the lock files only, so every machine gets the same versions, transitive
# ones included; requirements*.txt are the hand-edited top-level lists (run make lock after).
# install also puts the browser's socket.io client and Apache ECharts (the charts of /reports)
# into frontend/node_modules (npm ci, pinned by frontend/package-lock.json); without npm the
# Python parts still install and run
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP_VERSION := 26.3
PIP_TOOLS_VERSION := 7.6.2
# No index URL or find-links in the lock files: they name packages, not where this machine got them.
COMPILE_FLAGS := -q --strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links \
	--no-emit-trusted-host $(LOCK_FLAGS)

.PHONY: run test check lock-check install install-dev lock bench clean

run: install
	$(PY) run.py serve

test: install-dev
	$(PY) -m pytest -q $(PYTEST_ARGS)

install: $(VENV)/.installed frontend/node_modules/.installed
install-dev: $(VENV)/.installed-dev frontend/node_modules/.installed

$(VENV)/.installed: requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q pip==$(PIP_VERSION)
	$(PY) -m pip install -q -r requirements.lock
	touch $@

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix frontend --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "npm not found: the screens need frontend/node_modules (socket.io client, echarts); install Node.js + npm, then make install"; \
	fi

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.lock
	$(PY) -m pip install -q -r requirements-dev.lock
	touch $@

check: install-dev lock-check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy server realtime db

# A top-level pin changed in requirements*.txt without `make lock` leaves the lock stale.
lock-check:
	@stale=0; for pair in requirements.txt:requirements.lock requirements-dev.txt:requirements-dev.lock; do \
		src=$${pair%%:*}; lock=$${pair#*:}; \
		for pin in $$(grep -E '^[A-Za-z0-9]' $$src | sed 's/\[[^]]*\]//'); do \
			grep -qix "$$pin" $$lock || { echo "$$lock lacks $$pin from $$src: run make lock"; stale=1; }; \
		done; \
	done; exit $$stale

# Regenerate the lock files with pip-tools from a throwaway venv (existing pins are kept unless
# requirements*.txt asks otherwise; LOCK_FLAGS=--upgrade moves everything to the newest).
# The dev lock is constrained by the runtime lock, so both install the same shared versions.
lock:
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(PYTHON) -m venv "$$tmp" && \
	"$$tmp/bin/python" -m pip install -q pip==$(PIP_VERSION) pip-tools==$(PIP_TOOLS_VERSION) && \
	export CUSTOM_COMPILE_COMMAND="make lock" && \
	"$$tmp/bin/pip-compile" $(COMPILE_FLAGS) -o requirements.lock requirements.txt && \
	"$$tmp/bin/pip-compile" $(COMPILE_FLAGS) -c requirements.lock -o requirements-dev.lock requirements-dev.txt

bench: install
	$(PY) run.py bench --windows 130 --displays 1000 --duration 30

clean:
	rm -rf $(VENV) var frontend/node_modules
