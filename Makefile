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

test: $(STAMP) lint
	$(PY) -m pytest test
	PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/lit -v test/filecheck

lint: $(STAMP)
	$(VENV)/bin/ruff check willump_mlir dialects passes tools test bench

bench: $(STAMP)
	$(VENV)/bin/willump bench

clean:
	rm -rf $(VENV) build *.egg-info
