# The two README commands: `make run` (site with demo data on SQLite) and `make test` (whole suite on
# SQLite and PostgreSQL, browser tests in Debian's Chromium). Both install what they need.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi.py
# Development keys live in instance/dev.env (git-ignored), created on first run.
WITH_ENV := set -a && . instance/dev.env && set +a &&

.PHONY: run setup test bench system-deps clean

run: setup instance/dev.env
	$(WITH_ENV) $(BIN)/flask db upgrade
	$(WITH_ENV) $(BIN)/flask seed-demo
	$(WITH_ENV) $(BIN)/flask run --host 127.0.0.1 --port 5000

setup: $(VENV)/.installed static/vendor/htmx.min.js

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

static/vendor/htmx.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@

instance/dev.env:
	mkdir -p instance
	$(BIN)/python -c 'import base64, secrets; \
	print("SECRET_KEY=" + secrets.token_urlsafe(48)); \
	print("DATA_KEY=" + base64.b64encode(secrets.token_bytes(32)).decode())' > $@
	chmod 600 $@

# Chromium and a CJK font for the browser tests, wrk for the benchmark (Debian packages).
system-deps:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	fc-list 2>/dev/null | grep -qi 'wenquanyi\|noto sans cjk' || missing="$$missing fonts-wqy-microhei"; \
	command -v wrk >/dev/null || missing="$$missing wrk"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

test: setup system-deps
	bash tests/run.sh

bench: setup system-deps
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) node_modules static/vendor .pytest_cache
