# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m bot run

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Benchmarks print figures; they read the corpus from ../shared/corpus (bench/search.py takes minutes).
bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/crash.py
	$(BIN)/python bench/alignment.py
	$(BIN)/python bench/relevance.py
	$(BIN)/python bench/slack.py
	$(BIN)/python bench/instants.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/search.py

clean:
	rm -rf $(VENV) data/*.db data/*.db-wal data/*.db-shm
