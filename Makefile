# Two commands on a fresh machine with only Python: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# The console tests drive a real headless Chromium: Debian's, installed when missing
# (Playwright's own browser download cannot work on a machine without internet).
CHROMIUM := /usr/bin/chromium
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint bench schema clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# The first start of an empty database loads demo customers (CDP_DEMO=0 make run: empty).
run: $(STAMP)
	CDP_DEMO=$${CDP_DEMO:-1} $(BIN)/cdp serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "The console tests need Chromium at $(CHROMIUM): install it with your package manager."; exit 1; }
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null

# Two workers, a whole test file each at a time (a file's service or browser starts
# once); each worker starts its own embedded database. Half the wall time on 2 cores:
# much of the suite waits on processes starting and stopping.
TEST_WORKERS ?= 2

test: lint $(CHROMIUM)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

# Every benchmark, one table row each (BENCHMARKS.md says what each measures and how long
# the whole run took); run one with `.venv/bin/python -m bench.<name>`.
bench: $(STAMP)
	$(BIN)/python -m bench.track_throughput
	$(BIN)/python -m bench.read_latency
	$(BIN)/python -m bench.concurrent_writers
	$(BIN)/python -m bench.live_beside_import
	$(BIN)/python -m bench.bulk_stitching
	$(BIN)/python -m bench.offer_evaluation
	$(BIN)/python -m bench.offer_policy_evaluation
	$(BIN)/python -m bench.offer_latency
	$(BIN)/python -m bench.campaign
	$(BIN)/python -m bench.import_throughput
	$(BIN)/python -m bench.demo_load
	$(BIN)/python -m bench.segment_refresh
	$(BIN)/python -m bench.long_history
	$(BIN)/python -m bench.bulk_recompute

schema: $(STAMP)
	$(BIN)/cdp schema > schema/schema.graphql

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
