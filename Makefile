# pyweb: one-command setup, tests and demo for a fresh machine.
#   make demo   sets up, then runs the end-to-end demo
#   make test   sets up, then runs the whole test suite
# `make setup` is idempotent: it redoes a step only when its inputs changed.

VENV    := .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
PIP     := $(VENV)/bin/pip

.PHONY: setup test demo bench clean

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	command -v node >/dev/null && command -v npm >/dev/null || { echo "Node.js 20 and npm are needed (apt-get install nodejs npm)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: setup
	$(VENV)/bin/pytest

demo: setup
	$(PY) demo/cpython_demo.py

bench: setup
	$(PY) bench/bench_file.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache
