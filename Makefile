# Two commands for a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install services bench lint clean screenshots

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/medbro demo

services:
	bash scripts/services.sh

# The test command README.md gives: pytest over tests/ with the loopback services up.
test: $(STAMP) services
	$(BIN)/python -m pytest

bench: $(STAMP) services
	$(BIN)/python bench/edifact_bench.py
	$(BIN)/python bench/sla_bench.py

# The console's pictures in docs/console.md: the browser tests save them (pngquant makes them small).
screenshots: $(STAMP)
	MEDBRO_SCREENSHOTS=docs/console $(BIN)/python -m pytest -q tests/console/test_browser.py
	if command -v pngquant >/dev/null; then pngquant --force --skip-if-larger --ext .png --quality 60-85 docs/console/*.png; fi

lint: $(STAMP)
	$(BIN)/ruff check gateway adapters tests bench

clean:
	rm -rf $(VENV) var .pytest_cache
