# The two README commands: `make run` (site with demo data on SQLite) and `make test` (whole suite on
# SQLite and PostgreSQL, browser tests in Debian's Chromium). Both install what they need.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi.py
# Development keys live in instance/dev.env (git-ignored), created on first run.
WITH_ENV := set -a && . instance/dev.env && set +a &&
# `make run PORT=8000`: QR codes and payment notifications follow (SITE_URL, unless given).
PORT ?= 5000

.PHONY: run setup test bench system-deps pdf-deps apt-missing clean

# The web server and, beside it, a job consumer (app/jobs: the periodic jobs, messages). When either ends (Ctrl-C
# reaches both; a port in use ends the server) or make is stopped, the EXIT trap stops the other.
run: setup pdf-deps instance/dev.env
	$(WITH_ENV) $(BIN)/flask db upgrade
	$(WITH_ENV) $(BIN)/flask seed-demo
	$(WITH_ENV) export SITE_URL="$${SITE_URL:-http://127.0.0.1:$(PORT)}" && { $(BIN)/flask jobs consume & \
	  $(BIN)/flask run --host 127.0.0.1 --port $(PORT) & trap 'kill $$(jobs -p) 2>/dev/null' EXIT; wait -n; }

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

# Debian packages. The e-policy PDF (and `make run`) needs a CJK font and Pango (WeasyPrint's); the tests add
# Chromium for the browser tests and redis-server for the rate limits shared by processes, and the benchmark wrk.
pdf-deps:
	@$(MAKE) --no-print-directory apt-missing PACKAGES="$$( \
	  fc-list 2>/dev/null | grep -qi 'wenquanyi\|noto sans cjk' || printf 'fonts-wqy-microhei '; \
	  ldconfig -p | grep -q libpangoft2-1.0 || printf 'libpangoft2-1.0-0 ')"

system-deps: pdf-deps
	@$(MAKE) --no-print-directory apt-missing PACKAGES="$$( \
	  command -v chromium >/dev/null || printf 'chromium '; \
	  command -v redis-server >/dev/null || printf 'redis-server '; \
	  command -v wrk >/dev/null || printf 'wrk ')"

apt-missing:
	@packages="$$(echo $(PACKAGES))"; \
	if [ -n "$$packages" ]; then \
	  echo "Installing: $$packages"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$packages >/dev/null; \
	fi

test: setup system-deps
	bash tests/run.sh

bench: setup system-deps
	$(BIN)/python bench/run.py
	$(BIN)/python bench/assistant_bench.py

clean:
	rm -rf $(VENV) node_modules static/vendor .pytest_cache
