# One place that knows how to set the project up, run it and test it.
VENV ?= .venv
PY := $(VENV)/bin/python
BIND ?= 127.0.0.1:8000

.PHONY: install run test lint format bench bench-smoke soak wheel-smoke clean

$(VENV)/.installed: pyproject.toml examples/hello-plugin/pyproject.toml scripts/install-chromium.sh tests/browser/package-lock.json
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	# The example plugin package is part of the test run (its own tests use personalizer.testing).
	$(PY) -m pip install --quiet -e examples/hello-plugin
	# The browser tests (tests/test_browser.py) drive Debian's chromium; the Redis fault and
	# cluster tests start private redis-server nodes and use redis-cli.
	sh scripts/install-chromium.sh
	command -v redis-server >/dev/null && command -v redis-cli >/dev/null || \
		(apt-get update && apt-get install -y --no-install-recommends redis-server redis-tools)
	# tests/test_proxy.py runs Debian's nginx (deploy/nginx.conf) in front of gunicorn.
	command -v nginx >/dev/null || test -x /usr/sbin/nginx || \
		(apt-get update && apt-get install -y --no-install-recommends nginx-light)
	touch $@

install: $(VENV)/.installed

run: install
	$(VENV)/bin/gunicorn --config gunicorn.conf.py --bind $(BIND) wsgi:app

test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/pytest -q
	$(VENV)/bin/pytest -q examples/hello-plugin/tests

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install
	command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
	# py-spy (PyPI) profiles a worker under load for docs/performance.md; the bench runs without it.
	test -x $(VENV)/bin/py-spy || $(PY) -m pip install --quiet py-spy || true
	cd bench && ../$(PY) bench.py

# CI's quick run of the benchmark and the soak: seconds, never asserting timings.
bench-smoke: install
	command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
	cd bench && ../$(PY) bench.py --quick
	$(PY) bench/soak.py --quick

soak: install
	$(PY) bench/soak.py

# A wheel built from the repository serves a page from a fresh virtualenv elsewhere.
wheel-smoke: install
	PYTHON=$(PY) sh scripts/wheel_smoke.sh

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info tests/browser/node_modules
