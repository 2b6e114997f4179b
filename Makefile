# The two commands a newcomer needs: `make serve` and `make test`. Both install first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
NODE_STAMP := tests/compat/node/node_modules/.installed-stamp
CHROMIUM_STAMP := $(VENV)/.chromium-stamp
BROWSER_PACKAGES := chromium fonts-thai-tlwg
export PAYLINKS_TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: install serve test lint typecheck pytest bench fuzz mutate clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(NODE_STAMP): tests/compat/node/package.json tests/compat/node/package-lock.json
	cd tests/compat/node && npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# The browser tests drive Debian's Chromium (Playwright never downloads one), with a Thai font so
# the Thai pages render. Installed here when we may (root, as in CI); otherwise say how: the
# browser tests then skip, except under PAYLINKS_REQUIRE_BROWSER=1.
$(CHROMIUM_STAMP):
	@if ! dpkg -s $(BROWSER_PACKAGES) >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(BROWSER_PACKAGES); \
		else \
			echo "Chromium is missing; the browser tests will skip." \
				"Install it with: sudo apt-get install $(BROWSER_PACKAGES)"; \
		fi; \
	fi
	@if [ -x /usr/bin/chromium ]; then mkdir -p $(@D) && touch $@; fi

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/paylinks serve

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) $(NODE_STAMP) $(CHROMIUM_STAMP)
	$(BIN)/pytest -n auto --dist loadscope $(PYTEST_ARGS)

test: lint typecheck pytest

# SQLite (bench/api_bench.py), then PostgreSQL on 127.0.0.1:5432 with 1 and 2 processes and the
# bare-driver anchor (bench/postgres_bench.py), then webhook delivery on both (bench/webhook_bench.py);
# docs/benchmarks.md says what each measures.
bench: $(STAMP)
	$(BIN)/python bench/api_bench.py
	$(BIN)/python bench/postgres_bench.py
	$(BIN)/python bench/webhook_bench.py
	$(BIN)/python bench/report.py

# Deeper than the fixed fuzz set `make test` runs: a random seed (printed; replay a failure with
# PAYLINKS_FUZZ_SEED=N make fuzz) and PAYLINKS_FUZZ_EXAMPLES examples per operation and route.
fuzz: $(STAMP)
	@seed=$${PAYLINKS_FUZZ_SEED:-$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}; \
	echo "make fuzz: PAYLINKS_FUZZ_SEED=$$seed (replay: PAYLINKS_FUZZ_SEED=$$seed make fuzz)"; \
	PAYLINKS_FUZZ_SEED=$$seed PAYLINKS_FUZZ_EXAMPLES=$${PAYLINKS_FUZZ_EXAMPLES:-100} \
		$(BIN)/pytest -n auto -p no:randomly \
			tests/invariants/test_fuzz.py tests/invariants/test_fuzz_html.py $(PYTEST_ARGS)

# Mutation testing of the rules that hold money and security (about 15 minutes here; a
# measurement, not part of CI): writes docs/mutation.md.
mutate: $(STAMP)
	$(BIN)/python bench/mutation.py

clean:
	rm -rf $(VENV) tests/compat/node/node_modules var .pytest_cache .mypy_cache .ruff_cache mutants
