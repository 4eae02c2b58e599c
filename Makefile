# The README's commands. Everything runs from .venv, which is created on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test install serve worker lint format messages bench bench-investment bench-wechat bench-matching bench-cockpit ci clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Yimatong needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) --version 2>&1)."; exit 1; }
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
		rm -rf $(VENV); \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "Installing python3-venv (Debian keeps venv in a separate package)..."; \
			apt-get install -y -q python3-venv >/dev/null && $(PYTHON) -m venv $(VENV); \
		else \
			echo "Cannot create a virtual environment: on Debian/Ubuntu run 'sudo apt-get install python3-venv'."; exit 1; \
		fi; }

$(STAMP): $(BIN)/python pyproject.toml requirements/base.txt requirements/dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

# The demo talks to a fake WeChat on loopback (API, OAuth sign-in, pushes, investor simulator).
WECHAT_PORT ?= 8001
DEMO_ENV = WECHAT_API_BASE_URL=http://$(HOST):$(WECHAT_PORT) WECHAT_OPEN_BASE_URL=http://$(HOST):$(WECHAT_PORT) \
	WECHAT_PUBLIC_URL=http://$(HOST):$(PORT) WECHAT_SIMULATOR_URL=http://$(HOST):$(WECHAT_PORT)/simulator/

demo: install
	$(BIN)/yimatong migrate --noinput
	$(DEMO_ENV) $(BIN)/yimatong load_demo
	@echo ""
	@echo "一码通 demo park: http://$(HOST):$(PORT)  (sign in with one of the accounts above; Ctrl-C stops)"
	@echo "Fake WeChat + investor simulator: http://$(HOST):$(WECHAT_PORT)/simulator/"
	@export $(DEMO_ENV); \
		$(BIN)/yimatong fake_wechat --host $(HOST) --port $(WECHAT_PORT) >/dev/null & fake=$$!; \
		$(BIN)/yimatong db_worker & worker=$$!; \
		$(BIN)/yimatong investment_sweep --every 3600 >/dev/null & sweeper=$$!; \
		$(BIN)/yimatong services_sweep --every 3600 >/dev/null & ladder=$$!; \
		$(BIN)/yimatong stats_sweep --every 3600 >/dev/null & stats=$$!; \
		trap "kill $$fake $$worker $$sweeper $$ladder $$stats 2>/dev/null" EXIT INT TERM; \
		$(BIN)/yimatong runserver $(HOST):$(PORT)

# For developers: debug pages on, no demo data loaded.
serve: install
	$(BIN)/yimatong migrate --noinput
	DEBUG=1 $(BIN)/yimatong runserver $(HOST):$(PORT)

worker: install
	$(BIN)/yimatong db_worker

test: install
	DJANGO_SETTINGS_MODULE=yimatong.settings_test $(BIN)/yimatong makemigrations --check --dry-run
	$(BIN)/pytest -n auto $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Refresh the English catalogue after changing UI text (needs GNU gettext).
messages: install
	cd yimatong && ../$(BIN)/django-admin makemessages --locale en --no-obsolete --no-location \
		--ignore 'static/vendor/*' --settings yimatong.settings_test --pythonpath ..
	cd yimatong && ../$(BIN)/django-admin compilemessages --locale en --settings yimatong.settings_test --pythonpath ..

# Benchmarks print their figures and the ratio to bench/baseline.json (set DATABASE_URL for PostgreSQL).
bench: install
	$(BIN)/python bench/directory_search.py
	$(BIN)/python bench/ledger_import.py

# The investment pipeline over HTTP (gunicorn on loopback): 100k projects, ~1M events by default;
# e.g. make bench-investment BENCH_ARGS="--projects 10000" for a quick run, "--save" for a baseline.
bench-investment: install
	$(BIN)/python bench/investment_load.py $(BENCH_ARGS)

# The WeChat callback over HTTP (gunicorn with yimatong/gunicorn_conf.py on loopback, 16 connections, 4x
# redelivery): ratio to the bare view, p50/p95/p99, CPU per request, the first push after a start and the
# workers' memory; on SQLite, then on PostgreSQL (BENCH_DATABASE_URL, default postgres@127.0.0.1:5432);
# BENCH_ARGS="--quick" or "--save".
bench-wechat: install
	env -u DATABASE_URL $(BIN)/python bench/wechat_callback.py $(BENCH_ARGS)
	DATABASE_URL="$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}" \
		$(BIN)/python bench/wechat_callback.py $(BENCH_ARGS)

# Policy matching, 20,000 enterprises x 500 policies: the full recompute (measured on 5,000 and
# extrapolated when the evaluation alone would take over 10 minutes; BENCH_ARGS="--full" to run it all),
# a profile change, a policy edit; on SQLite, then on PostgreSQL (BENCH_DATABASE_URL, default
# postgres@127.0.0.1:5432; BENCH_DB_NAME names its database, default ymt_bench_matching);
# BENCH_ARGS="--quick", "--cprofile" or "--save".
bench-matching: install
	env -u DATABASE_URL $(BIN)/python bench/policy_matching.py $(BENCH_ARGS)
	DATABASE_URL="$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}" \
		$(BIN)/python bench/policy_matching.py $(BENCH_ARGS)

# The demand queues over HTTP (gunicorn on loopback) at 100k demands: each role's tabs, a search, the KPIs,
# with query counts; on SQLite, then on PostgreSQL (BENCH_DATABASE_URL, default postgres@127.0.0.1:5432);
# BENCH_ARGS="--quick" or "--save".
.PHONY: bench-demands
bench-demands: install
	env -u DATABASE_URL $(BIN)/python bench/demand_queue.py $(BENCH_ARGS)
	DATABASE_URL="$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}" \
		$(BIN)/python bench/demand_queue.py $(BENCH_ARGS)

# The API's lists and searches (Chinese, pinyin initials, English, code and USCC prefixes) at
# 100,000 projects, 40,000 leads and 20,000 contacts, 50 a page, in-process: p50/p95, queries and
# the ratio to a bare view; PostgreSQL when DATABASE_URL says so (database BENCH_DB_NAME, default
# h_search_api). BENCH_ARGS="--projects 10000", "--keep", "--reuse" (see docs/search.md).
.PHONY: bench-search
bench-search: install
	$(BIN)/python bench/api_search.py $(BENCH_ARGS)

# The leaders' cockpit in-process at 100k projects (~1M events) and 5 years x 500 enterprises of monthly
# reports: each panel's Excel, the page, the bulletin, the indicators API, the weekly feed and the project
# list, with p50/p95 and query counts; on SQLite, then on PostgreSQL (BENCH_DATABASE_URL, default
# postgres@127.0.0.1:5432); BENCH_ARGS="--quick" or "--save".
.PHONY: bench-cockpit
bench-cockpit: install
	env -u DATABASE_URL $(BIN)/python bench/cockpit.py $(BENCH_ARGS)
	DATABASE_URL="$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}" \
		$(BIN)/python bench/cockpit.py $(BENCH_ARGS)

# The city (issue 11): the pages and calls people open first (every role's home, project list and
# board, lead pool, project page, supervision, major projects, demand queues, cockpit and bulletin,
# numbers, search, every API list 50 a page, create and stage move) at 100,000 projects / ~1M events,
# 500 enterprises x 5 years of monthly reports, 100,000 demands and 40,000 leads, through gunicorn
# (2 sync workers) one request at a time and 8 at once: p50/p95/p99, queries per request, the ratio
# to a bare view in the same run, the issue's budgets (PASS/FAIL) and the workers' RSS; on SQLite,
# then on PostgreSQL (BENCH_DATABASE_URL, default postgres@127.0.0.1:5432; BENCH_DB_NAME names its
# databases, default ymt_city_*). The data is generated once per database and kept (var/bench-cache/,
# PostgreSQL <BENCH_DB_NAME>_cache_*): ~32 min each on the shared 2-core machine (both at once, load
# ~11); a later run copies it (5 s) and measures for ~65 min per database while the pages are as slow
# as before issue 11's fixes (most of it spent on the items that take seconds; far less once they
# meet the budgets).
# BENCH_ARGS="--quick" (10,000 projects), "--only board", "--json out.json", "--save", "--regenerate".
.PHONY: bench-city bench-city-pages bench-ledger
bench-city-pages: install
	@status=0; \
	env -u DATABASE_URL $(BIN)/python bench/city.py $(BENCH_ARGS) || status=1; \
	DATABASE_URL="$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}" \
		$(BIN)/python bench/city.py $(BENCH_ARGS) || status=1; \
	exit $$status

# The Excel ledger at the issue's size: 50,000 rows checked, imported and exported, once each; on
# SQLite, then on PostgreSQL. LEDGER_ARGS="--save" for a baseline.
bench-ledger: install
	env -u DATABASE_URL $(BIN)/python bench/ledger_import.py --rows 50000 --repeat 1 $(LEDGER_ARGS)
	DATABASE_URL="$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}" \
		$(BIN)/python bench/ledger_import.py --rows 50000 --repeat 1 $(LEDGER_ARGS)

# The whole set for issue 11: the city's pages (above), then the WeChat callback (16 connections, each
# push 4x; a few minutes per database), policy matching 20,000 x 500 (the full size since the
# column-wise matcher: ~10 min on SQLite and ~17 min on PostgreSQL with the shared host's load
# average at 10-13, most of it the cold recompute's 2.8M inserts) and the 50,000-row ledger (today ~6 min on SQLite, ~11 min on
# PostgreSQL, scaled from the 5,000-row baseline), each on SQLite then PostgreSQL. BENCH_ARGS go to the
# city only; the others run at the issue's sizes. A failing part does not stop the rest; the status
# is kept.
bench-city: install
	@status=0; \
	$(MAKE) --no-print-directory bench-city-pages || status=1; \
	$(MAKE) --no-print-directory bench-wechat BENCH_ARGS= || status=1; \
	$(MAKE) --no-print-directory bench-matching BENCH_ARGS= || status=1; \
	$(MAKE) --no-print-directory bench-ledger || status=1; \
	exit $$status

ci:
	.ci/run

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
