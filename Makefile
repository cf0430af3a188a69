# make run: venv, install, migrate, demo hall, serve on http://127.0.0.1:8080
# make test: venv, install (with test tools), run the whole suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test install install-dev bench clean

run: install
	$(PY) run.py serve

test: install-dev
	$(PY) -m pytest -q $(PYTEST_ARGS)

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

bench: install
	$(PY) run.py bench --windows 130 --displays 1000 --duration 30

clean:
	rm -rf $(VENV) var
