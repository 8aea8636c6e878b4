# zerollm: `make run` (whole pipeline on the embedded default) and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
WORKDIR ?= work
CONFIG ?= configs/tiny.yaml
STAMP := $(VENV)/.installed

.PHONY: setup run test test-fast ui bench clean

setup: $(STAMP)

# torch first (the CPU wheel on this machine; any other request pulls a CUDA build), then the project.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

run: setup
	HF_HUB_OFFLINE=1 $(BIN)/zerollm run --config $(CONFIG) --workdir $(WORKDIR)

test: setup
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -ra

test-fast: setup
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -m "not slow"

ui: setup
	$(BIN)/zerollm ui --workdir $(WORKDIR)

bench: setup
	$(BIN)/python bench/dedup.py

clean:
	rm -rf $(WORKDIR)
