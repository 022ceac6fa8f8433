# One-command set-up: `make run` and `make test` create .venv and install everything first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export TOKENIZERS_PARALLELISM := false

CORPUS_DIR ?= data/articles
INDEX_DIR ?= var/index
export CORPUS_DIR INDEX_DIR

.PHONY: install run index test lint format eval train bench clean

install: $(STAMP)

# torch first, pinned, so pip takes the CPU build on local disk instead of a multi-GB CUDA one.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

index: $(STAMP)
	$(PY) -m scripts.build_index --corpus $(CORPUS_DIR) --index $(INDEX_DIR)

# Builds the index when it is missing, then starts the bot (a terminal chat without a token).
run: $(STAMP)
	@test -e $(INDEX_DIR)/CURRENT || $(PY) -m scripts.build_index --corpus $(CORPUS_DIR) --index $(INDEX_DIR) </dev/null
	$(PY) -m bot

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: lint
	$(PY) -m pytest

EVAL_DATA ?= data/eval

eval: $(STAMP)
	$(PY) -m scripts.evaluate --gold $(EVAL_DATA)/seed_questions.jsonl --corpus $(CORPUS_DIR)
	$(PY) -m scripts.evaluate --squad $(EVAL_DATA)/squad2_dev_subset.json

train: $(STAMP)
	$(PY) -m scripts.train_ranker --squad $(EVAL_DATA)/squad2_train_subset.json --dev $(EVAL_DATA)/squad2_dev_subset.json

bench: $(STAMP)
	$(PY) -m scripts.bench_index
	$(PY) -m scripts.bench_answer
	$(PY) -m scripts.bench_load

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
