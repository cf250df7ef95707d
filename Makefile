# make run   - install what is missing and start omniroute in one process (LocalBus + SQLite)
# make test  - install what is missing, start Apache Kafka and PostgreSQL, run lint and all tests
# make lint  - ruff and mypy
# make bench - every benchmark; writes bench/results.md
# make chaos - the chaos test at full size (10,000 messages; make test runs 1,500)

VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
# The routing core compiled with mypyc (shared/compiled.py): rebuilt when its sources change.
CORE := .build/compiled/services/router/core/sources.sha256

.PHONY: run test check lint pytest schema bench chaos clean

$(INSTALLED): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $@

$(CORE): $(INSTALLED) $(wildcard services/router/core/*.py) shared/compiled.py deploy/local/compile_core.py
	$(PY) deploy/local/compile_core.py

run: $(INSTALLED) $(CORE)
	$(VENV)/bin/omniroute run

test: $(INSTALLED) $(CORE)
	bash deploy/local/with-deps.sh $(MAKE) --no-print-directory check

check: lint pytest

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

pytest: $(INSTALLED) $(CORE)
	$(VENV)/bin/pytest
	@echo "The routing core's tests once more, interpreted (as it runs without a C compiler):"
	OMNIROUTE_INTERPRETED=1 $(VENV)/bin/pytest -q tests/unit/router tests/property/test_routing_invariants.py tests/property/test_indexed_selection.py tests/property/test_lexicon_matcher.py

schema: $(INSTALLED)
	$(VENV)/bin/omniroute schema --out docs/events

clean:
	rm -rf $(VENV) .build .cache .omniroute .mypy_cache .ruff_cache .pytest_cache

bench: $(INSTALLED) $(CORE)
	bash deploy/local/with-deps.sh $(VENV)/bin/python -m bench

chaos: $(INSTALLED) $(CORE)
	OMNIROUTE_CHAOS_MESSAGES=10000 $(VENV)/bin/pytest -s tests/integration/test_chaos.py
