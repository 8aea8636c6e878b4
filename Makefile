# zerollm: `make run` (whole pipeline on the embedded default) and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
WORKDIR ?= work
CONFIG ?= configs/tiny.yaml
STAMP := $(VENV)/.installed
SDIST_DIR := $(VENV)/share/zerollm

.PHONY: setup run test test-fast test-faults ui bench clean

setup: $(STAMP)

# torch first (the CPU wheel on this machine; any other request pulls a CUDA build), then the project.
# llama-cpp-python has no wheel on the registry: it is built (~5 min) from its sdist, downloaded once and
# checked against the hash in infra/; the same file gives quantize llama.cpp's own GGUF converter. Its
# multimodal library (mtmd) is left out: nothing here loads images, and skipping it cut set-up on 2 cores
# from 9.3 to 7.5 minutes.
$(STAMP): pyproject.toml infra/llama-cpp-sdist.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip download -q --no-deps --no-binary :all: --require-hashes -r infra/llama-cpp-sdist.txt -d $(SDIST_DIR)
	CMAKE_ARGS="-DLLAVA_BUILD=OFF" $(BIN)/python -m pip install -q $(SDIST_DIR)/llama_cpp_python-*.tar.gz
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

run: setup
	HF_HUB_OFFLINE=1 $(BIN)/zerollm run --config $(CONFIG) --workdir $(WORKDIR)

test: setup
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -ra --durations=15

test-fast: setup
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -m "not slow and not faults"

# real kills, full disks, tracking outages, concurrent runs: minutes each, so apart from `make test` (CI runs both)
test-faults: setup
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -ra --durations=10 -m faults

ui: setup
	$(BIN)/zerollm ui --workdir $(WORKDIR)

bench: setup
	$(BIN)/python bench/dedup.py

clean:
	rm -rf $(WORKDIR)
