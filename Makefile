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

.PHONY: install run index fetch test test-fast lint format eval train train-reader train-fusion bench clean

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

# Fetches the feeds and pages listed in FEEDS_FILE into the corpus, then updates the index.
FEEDS_FILE ?= feeds.txt
fetch: $(STAMP)
	$(PY) -m scripts.fetch --feeds $(FEEDS_FILE) --corpus $(CORPUS_DIR) --index $(INDEX_DIR)

# Builds the index when it is missing, then starts the bot (a terminal chat without a token).
run: $(STAMP)
	@test -e $(INDEX_DIR)/CURRENT || $(PY) -m scripts.build_index --corpus $(CORPUS_DIR) --index $(INDEX_DIR) </dev/null
	$(PY) -m bot

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The tests run in WORKERS processes (pytest-xdist), a test file each at a time, so a file's
# fixtures are made once and its process-killing tests stay together; WORKERS=0: one process.
# Much of a test's time is child processes starting and waits, so two help even on 2 cores.
# On the shared 2-core development machine under other load (a load average of about 5), the
# whole suite took 15.5 min against 18.5 in one process, `make test-fast`'s tests 5.5 min
# (2.5 min of CPU); a quiet machine is faster. A fresh clone adds about a minute of lint.
WORKERS ?= 2
PYTEST_WORKERS = $(if $(filter-out 0,$(WORKERS)),-n $(WORKERS) --dist loadfile)

# The whole suite, as CI runs it (.ci/run), with the 25 slowest tests at the end.
test: lint
	$(PY) -m pytest $(PYTEST_WORKERS) --durations=25

# The loop while you work: lint and every test not marked slow (no real embedding model, no
# killed or loaded processes).
test-fast: lint
	$(PY) -m pytest -m "not slow" $(PYTEST_WORKERS)

EVAL_DATA ?= data/eval
SQUAD_TRAIN ?= ../shared/eval/squad1_train.json
SQUAD_DEV_OPEN ?= ../shared/eval/squad2_dev_open.json

# Every figure of the README's "Answers" table, each beside the ranker alone (the bot before the
# reader) with a sign test: the seed files, the gold conversations, the multi-outlet news
# corpus, and the open SQuAD 2.0 dev articles (an hour or more on two cores).
eval: $(STAMP)
	$(PY) -m scripts.evaluate --gold $(EVAL_DATA)/seed_questions.jsonl --corpus $(CORPUS_DIR)
	$(PY) -m scripts.evaluate --gold $(EVAL_DATA)/seed_questions_paraphrased.jsonl --corpus $(CORPUS_DIR)
	$(PY) -m scripts.evaluate --gold $(EVAL_DATA)/seed_unanswerable.jsonl --corpus $(CORPUS_DIR)
	$(PY) -m scripts.evaluate --gold $(EVAL_DATA)/seed_questions_journalist.jsonl --corpus $(CORPUS_DIR)
	$(PY) -m scripts.evaluate --gold $(EVAL_DATA)/seed_questions_misspelled.jsonl --corpus $(CORPUS_DIR)
	$(PY) -m scripts.evaluate --gold $(EVAL_DATA)/conversations.jsonl --corpus $(CORPUS_DIR)
	$(PY) -m scripts.evaluate --gold $(EVAL_DATA)/news_questions.jsonl --corpus $(EVAL_DATA)/news
	$(PY) -m scripts.evaluate --squad $(SQUAD_DEV_OPEN)
	$(PY) -m scripts.eval_speakers

# Refits the feature ranker into var/ranker_weights.json (never over the shipped weights unless
# OUT=index/rank/ranker_weights.json), at the shipped threshold, and says whether it beats them.
train: $(STAMP)
	$(PY) -m scripts.train_ranker --squad $(EVAL_DATA)/squad2_train_subset.json --dev $(EVAL_DATA)/squad2_dev_subset.json $(if $(OUT),--out $(OUT))

# Trains the reader (a MiniLM cross-encoder) on the SQuAD v1.0 training set: hours on two CPU
# cores, minutes on a GPU; resumable (run it again after an interruption). READER_ARGS adds
# arguments, e.g. READER_ARGS="--max-questions 2000" for a quick run; the default is how the
# shipped reader was trained. It writes var/reader/; copy var/reader/export/reader.onnx and
# reader-tokenizer.json to index/rank/models/ to ship, then run make train-fusion.
READER_ARGS ?= --negatives 3 --max-questions 55000
train-reader: $(STAMP)
	$(PY) -m scripts.train_reader --train $(SQUAD_TRAIN) --dev $(SQUAD_DEV_OPEN) $(READER_ARGS)

# Fits the fusion of the ranker and the shipped reader (index/rank/models/fusion.json) on the
# ten training articles the reader never saw; reports every k against the ranker alone on dev.
train-fusion: $(STAMP)
	$(PY) -m scripts.train_fusion --train $(EVAL_DATA)/squad2_train_subset.json --dev $(SQUAD_DEV_OPEN)

# Every benchmark the README quotes. bench_scale runs the two sizes with the real model (some
# minutes); all of its sizes: `make bench BENCH_SCALE_SIZES=1e3,1e4,1e5,1e6` (1-1.5 hours).
BENCH_SCALE_SIZES ?= 1e3,1e4

bench: $(STAMP)
	$(PY) -m benchmarks.bench_index
	$(PY) -m benchmarks.bench_answer
	$(PY) -m benchmarks.bench_load
	$(PY) -m benchmarks.bench_fetch
	$(PY) -m benchmarks.bench_first_answer
	$(PY) -m benchmarks.bench_scale --sizes $(BENCH_SCALE_SIZES)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
