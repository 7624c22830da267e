VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
export DEBUG ?= 1

.PHONY: run test lint format bench demo venv migrate worker messages

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

# Serves HTTP + websockets on $(HOST):$(PORT). With DATABASE_URL and REDIS_URL set, also starts a
# Celery worker and beat next to the server (stopped with it).
run: demo
	@if [ -n "$$REDIS_URL" ]; then \
	  $(VENV)/bin/celery -A contactcenter worker -B -Q realtime,outbound,maintenance --loglevel=INFO & \
	  trap "kill $$! 2>/dev/null" EXIT INT TERM; \
	  $(VENV)/bin/uvicorn contactcenter.asgi:application --host $(HOST) --port $(PORT) --log-level info; \
	else \
	  $(VENV)/bin/uvicorn contactcenter.asgi:application --host $(HOST) --port $(PORT) --log-level info; \
	fi

worker: venv
	$(VENV)/bin/celery -A contactcenter worker -B -Q realtime,outbound,maintenance --loglevel=INFO

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

bench: venv
	$(VENV)/bin/pytest tests/bench -p no:cacheprovider -s
