# Set-up and everyday commands. Every target creates .venv and installs the
# project on first use, so a fresh clone needs nothing but Python 3.11+.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
BENCH_INSTALLED := $(VENV)/.bench-installed

# `make run` is for trying Keyturn out on this machine; production sets APP_ENV itself.
APP_ENV ?= development
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test upgrade bench clean

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(INSTALLED)

install: $(INSTALLED)

upgrade: install
	APP_ENV=$(APP_ENV) $(BIN)/keyturn db upgrade

run: upgrade
	APP_ENV=$(APP_ENV) $(BIN)/keyturn serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/pytest

$(BENCH_INSTALLED): $(INSTALLED) pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	touch $(BENCH_INSTALLED)

# Takes several minutes and needs wrk, taskset, PostgreSQL and Redis (see bench/README.md).
# Pass options through BENCH_ARGS, e.g. `make bench BENCH_ARGS=--quick`.
bench: $(BENCH_INSTALLED)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
