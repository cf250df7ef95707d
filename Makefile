# make run   - install what is missing and start omniroute in one process (LocalBus + SQLite)
# make test  - install what is missing, start Apache Kafka and PostgreSQL, run lint and all tests
# make lint  - ruff and mypy
# make bench - every benchmark; writes bench/results.md
# make chaos - the chaos test at full size (10,000 messages; make test runs 1,500)

VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: run test check lint pytest schema bench chaos clean

$(INSTALLED): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $@

run: $(INSTALLED)
	$(VENV)/bin/omniroute run

test: $(INSTALLED)
	bash deploy/local/with-deps.sh $(MAKE) --no-print-directory check

check: lint pytest

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

pytest: $(INSTALLED)
	$(VENV)/bin/pytest

schema: $(INSTALLED)
	$(VENV)/bin/omniroute schema --out docs/events

clean:
	rm -rf $(VENV) .cache .omniroute .mypy_cache .ruff_cache .pytest_cache

bench: $(INSTALLED)
	bash deploy/local/with-deps.sh $(VENV)/bin/python -m bench

chaos: $(INSTALLED)
	OMNIROUTE_CHAOS_MESSAGES=10000 $(VENV)/bin/pytest -s tests/integration/test_chaos.py
