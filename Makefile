# nbunify: `make lab` opens the tour in JupyterLab, `make test` runs every suite.
# Both set everything up first (virtual environment, pinned packages, the built Lab extension,
# Debian chromium for the browser tests) and are quick when it is already done.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(CURDIR)/$(VENV)/bin
PY := $(BIN)/python
PIP := $(PY) -m pip
JLPM := $(BIN)/jlpm
export PATH := $(BIN):$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

LAB_NOTEBOOK ?= notebooks/00-tour.ipynb
# Open a browser only where there is a screen; otherwise JupyterLab just prints its URL.
# Containers often run as root, which Jupyter refuses without --allow-root.
LAB_FLAGS ?= $(if $(DISPLAY)$(WAYLAND_DISPLAY),,--no-browser) $(if $(filter 0,$(shell id -u)),--allow-root,)
LAB_PORT ?= 8888
ifndef LAB_TOKEN
LAB_TOKEN := $(shell $(PYTHON) -c 'import secrets; print(secrets.token_hex(24))')
endif
PYTEST_FLAGS ?=
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
YARN_INSTALL_FLAGS := $(if $(CI),--immutable,)

EXTENSION_SOURCES := $(shell find labextension -type f 2>/dev/null) package.json tsconfig.json webpack.config.js yarn.lock install.json
BUILT_EXTENSION := nbunify/labextension/package.json

.PHONY: help setup lab test test-python test-js browser node lock clean

help:
	@echo "make lab    set up, then open JupyterLab on $(LAB_NOTEBOOK)"
	@echo "make test   set up, then run every suite (jest, pytest incl. notebooks and the browser)"
	@echo "make lock   rewrite constraints.txt from the current .venv"
	@echo "make clean  remove build output (keeps .venv)"

setup: $(VENV)/.installed

lab: setup
	@echo "nbunify tour: http://127.0.0.1:$(LAB_PORT)/lab/tree/$(LAB_NOTEBOOK)?token=$(LAB_TOKEN)"
	$(BIN)/jupyter lab --ServerApp.default_url=/lab/tree/$(LAB_NOTEBOOK) --port=$(LAB_PORT) \
		--ServerApp.port_retries=0 --IdentityProvider.token=$(LAB_TOKEN) $(LAB_FLAGS)

test: setup browser
	$(MAKE) --no-print-directory test-js
	$(MAKE) --no-print-directory test-python

test-js: setup
	$(JLPM) test

test-python: setup browser
	$(PY) -m pytest $(PYTEST_FLAGS)

$(PY):
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "nbunify needs Python 3.10 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Build tools first: jlpm (bundled with jupyterlab) builds the extension before pip installs nbunify.
$(VENV)/.build-tools: $(PY) constraints.txt
	$(PIP) install --quiet -c constraints.txt hatchling hatch-jupyter-builder jupyter-builder jupyterlab editables
	@touch $@

node:
	@command -v node >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq nodejs npm; }

node_modules/.installed: package.json yarn.lock .yarnrc.yml $(VENV)/.build-tools | node
	$(JLPM) install $(YARN_INSTALL_FLAGS)
	@touch $@

$(BUILT_EXTENSION): $(EXTENSION_SOURCES) node_modules/.installed
	$(JLPM) build:prod
	@touch $@

$(VENV)/.installed: $(VENV)/.build-tools $(BUILT_EXTENSION) pyproject.toml constraints.txt
	$(PIP) install --quiet -c constraints.txt --no-build-isolation -e ".[all,test]"
	$(BIN)/jupyter-builder develop --overwrite . >/dev/null
	@touch $@

# Debian's chromium for the Playwright tests (browser downloads are impossible here).
browser:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

lock: setup
	{ sed -n '/^# /p' constraints.txt; $(PIP) freeze --exclude-editable | grep -viE '^(nbunify|-e )'; } > constraints.tmp
	mv constraints.tmp constraints.txt

clean:
	rm -rf lib nbunify/labextension tsconfig.tsbuildinfo node_modules/.installed $(VENV)/.installed
