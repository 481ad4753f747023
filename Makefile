# ShopAssist — `make run` serves the demo, `make test` is what CI runs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install run setup serve test lint typecheck pytest test-scale browser bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

## run: install, ingest the demo catalog, train what is missing, serve on http://127.0.0.1:8000
run: install
	$(BIN)/shopassist setup
	$(BIN)/shopassist serve

setup: install
	$(BIN)/shopassist setup

serve: install
	$(BIN)/shopassist serve

## test: ruff, mypy and pytest (what CI runs)
test: install lint typecheck pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

## pytest: the whole suite; tests/scale runs on PostgreSQL + Redis + a Chroma server that
## scripts/scale_services.sh installs and starts (root + apt), in the same session (one NLU training).
## SCALE=0 skips those services (tests/scale then skips, saying why); CI never sets it.
SCALE ?= 1
pytest: install browser
	@if [ "$(SCALE)" = 0 ]; then \
	  echo "SCALE=0: no PostgreSQL/Redis/Chroma server; tests/scale is skipped"; \
	  bash scripts/run_pytest.sh $(BIN)/python; \
	else \
	  CHROMA=$(BIN)/chroma bash scripts/scale_services.sh run bash scripts/run_pytest.sh $(BIN)/python; \
	fi

## test-scale: only the scale-out suite (tests/scale) against those services
test-scale: install
	@CHROMA=$(BIN)/chroma bash scripts/scale_services.sh run bash scripts/run_pytest.sh $(BIN)/python tests/scale

## browser: the system Chromium + chromedriver the widget tests drive (installed with apt as root)
browser:
	@bash scripts/ensure_browser.sh

## bench: long quality and speed measurements (writes benchmarks/RESULTS.md)
bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf var .mypy_cache .ruff_cache .pytest_cache
