# make run: venv, install, migrate, demo hall, serve on http://127.0.0.1:8080
# make test: venv, install (with test tools), run the whole suite
# install also puts the browser's socket.io client into frontend/node_modules (npm ci, pinned
# by frontend/package-lock.json); without npm the Python parts still install and run
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test install install-dev bench clean

run: install
	$(PY) run.py serve

test: install-dev
	$(PY) -m pytest -q $(PYTEST_ARGS)

install: $(VENV)/.installed frontend/node_modules/.installed
install-dev: $(VENV)/.installed-dev frontend/node_modules/.installed

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix frontend --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "npm not found: the screens need frontend/node_modules (socket.io client); install Node.js + npm, then make install"; \
	fi

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

bench: install
	$(PY) run.py bench --windows 130 --displays 1000 --duration 30

clean:
	rm -rf $(VENV) var frontend/node_modules
