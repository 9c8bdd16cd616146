# reclaim — quick start: `make demo`, then `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test check lint typecheck imports bench install clean catalogues compare-exports

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# A realistic estate: 20,000 claims across the jurisdictions and FTX classes, 4,000 holders.
demo: $(STAMP)
	$(BIN)/reclaim demo --claims 20000 --creditors 4000

test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

imports: $(STAMP)
	$(BIN)/lint-imports

check: lint typecheck imports test

# The demo's exported public log at OLD (a commit) and in the working tree, byte for byte.
compare-exports: $(STAMP)
	scripts/compare-demo-exports $(OLD)

bench: $(STAMP)
	@for script in benchmarks/bench_*.py; do \
		echo "== $$script"; $(BIN)/python $$script || exit 1; \
	done

# The portal's messages: extract from the templates and Python into messages.pot, then merge
# into each language's .po (translate the new entries; tests/web/test_i18n_catalogues.py checks).
WEB := src/reclaim/entrypoints/web
catalogues: $(STAMP)
	cd $(WEB) && ../../../../$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location \
		--sort-output --project reclaim --copyright-holder "reclaim contributors" \
		-o locale/messages.pot .
	$(BIN)/pybabel update -i $(WEB)/locale/messages.pot -d $(WEB)/locale --no-fuzzy-matching \
		--ignore-obsolete

clean:
	rm -rf $(VENV) .reclaim-demo .pytest_cache .mypy_cache .ruff_cache
