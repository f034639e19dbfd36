# Quick start:  make demo   |   make test
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
CONSTRAINTS_VENV ?= /tmp/willump-constraints-venv

.PHONY: demo test lit pytest lint bench clean constraints

# Installs the versions in constraints.txt (the ones the suite last passed with), so a fresh
# machine tests what was tested: an unpinned numpy/pandas/scikit-learn release once changed
# results between two CI runs of the same commit.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[test,bench]'
	touch $(STAMP)

# The newest releases pyproject.toml allows, resolved in a scratch venv, written to
# constraints.txt; then `make test` installs and tests them (review the diff before committing).
constraints:
	rm -rf $(CONSTRAINTS_VENV)
	python3 -m venv $(CONSTRAINTS_VENV)
	$(CONSTRAINTS_VENV)/bin/python -m pip install -q --upgrade pip
	$(CONSTRAINTS_VENV)/bin/python -m pip install -q -e '.[test,bench]'
	head -3 constraints.txt > constraints.new
	$(CONSTRAINTS_VENV)/bin/python -m pip freeze --exclude-editable >> constraints.new
	mv constraints.new constraints.txt
	rm -rf $(CONSTRAINTS_VENV)

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
