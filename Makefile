VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
export DEBUG ?= 1

.PHONY: run test lint format bench bench-smoke demo venv migrate worker messages

$(VENV)/.installed: requirements.txt
	test -d $(VENV) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

venv: $(VENV)/.installed

migrate: venv
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo

# Serves HTTP + websockets on $(HOST):$(PORT). With DATABASE_URL and REDIS_URL set, also runs a
# Celery worker per queue group and one beat (Procfile.dev), restarted when they exit. Demo mode
# (the local outbox's "play the customer" forms, for supervisors) is on unless DEMO_MODE=0.
run: export DEMO_MODE ?= 1
run: demo
	@if [ -n "$$REDIS_URL" ]; then \
	  HOST=$(HOST) PORT=$(PORT) PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m contactcenter.supervise Procfile.dev; \
	else \
	  $(VENV)/bin/uvicorn contactcenter.asgi:application --host $(HOST) --port $(PORT) --log-level info; \
	fi

# A worker for every queue and the beat, restarted when they exit (services mode, no web).
worker: venv
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) -m contactcenter.supervise Procfile.dev worker-realtime worker-outbound beat

test: venv
	$(VENV)/bin/pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Refresh the message catalogue (locale/<lang>/LC_MESSAGES/django.po) from the code and templates,
# then compile it. Needs gettext (msgfmt). The compiled .mo files are committed, so `make run`
# works without gettext. Translate new msgids (no fuzzy entries) and run `make messages` again.
messages: venv
	$(PY) manage.py makemessages -l es --ignore=.venv --ignore=staticfiles --ignore=tests --no-obsolete --add-location=file
	$(PY) manage.py compilemessages --ignore=.venv

# Benchmarks against bare baselines on a stack of their own (README "Performance"); needs
# PostgreSQL and Redis (DATABASE_URL/REDIS_URL name the servers). BENCH_SCALE, BENCH_ROUNDS.
bench: venv
	$(VENV)/bin/pytest tests/bench -p no:cacheprovider -s

# The same, tiny and one short round each, no target judged: CI runs it so the suite cannot rot.
bench-smoke: venv
	BENCH_SMOKE=1 $(VENV)/bin/pytest tests/bench -p no:cacheprovider -s -q
