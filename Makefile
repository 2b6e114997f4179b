# The two commands a newcomer needs: `make serve` and `make test`. Both install first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
NODE_STAMP := tests/compat/node/node_modules/.installed-stamp
CHROMIUM_STAMP := $(VENV)/.chromium-stamp
BROWSER_PACKAGES := chromium fonts-thai-tlwg
export PAYLINKS_TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: install serve test lint typecheck pytest bench clean

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

bench: $(STAMP)
	$(BIN)/python bench/api_bench.py

clean:
	rm -rf $(VENV) tests/compat/node/node_modules var .pytest_cache .mypy_cache .ruff_cache
