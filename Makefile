# Quick start:  make demo   |   make test
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lit pytest lint bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,bench]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/willump demo

# The suite runs in TEST_WORKERS processes (pytest-xdist). A crashed worker fails the run
# instead of re-queuing its module onto the next worker, and a test that runs past
# TEST_WATCHDOG seconds dumps every thread's stack (faulthandler) so a hang says where it is.
TEST_WORKERS ?= 2
TEST_WATCHDOG ?= 600

test: $(STAMP) lint
	$(PY) -m pytest -n $(TEST_WORKERS) --max-worker-restart=0 -o faulthandler_timeout=$(TEST_WATCHDOG) test
	PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/lit -v test/filecheck

lint: $(STAMP)
	$(VENV)/bin/ruff check willump_mlir dialects passes tools test bench

bench: $(STAMP)
	$(VENV)/bin/willump bench

clean:
	rm -rf $(VENV) build *.egg-info
