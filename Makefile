# Two commands do all set-up: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: run test install lint migrations-check check-deploy bench clean vendor wheelhouse install-offline

$(STAMP): requirements/base.txt requirements/test.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/test.txt
	touch $(STAMP)

install: $(STAMP)

## Web + Celery worker + beat on embedded defaults (SQLite, filesystem broker), with demo data.
run: $(STAMP)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --if-empty
	$(PY) manage.py runall --port $(PORT)

## The whole test suite (DATABASE_URL / CELERY_BROKER_URL select PostgreSQL / Redis).
test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

migrations-check: $(STAMP)
	$(PY) manage.py makemigrations --check --dry-run

bench: $(STAMP)
	$(PY) manage.py bench $(BENCH_ARGS)

clean:
	rm -rf var .pytest_cache

## Re-copy the front-end assets from npm (package.json pins them) into static/vendor/ (committed).
vendor:
	npm ci --no-audit --no-fund
	mkdir -p static/vendor/echarts
	cp node_modules/echarts/dist/echarts.min.js node_modules/echarts/LICENSE static/vendor/echarts/

## Offline install for intranets: build wheels of the pinned requirements on a machine with PyPI
## access (same OS and Python as the server), copy wheelhouse/ over, then `make install-offline`.
wheelhouse:
	$(PYTHON) -m pip wheel --quiet -r requirements/base.txt -w wheelhouse

install-offline:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --no-index --find-links wheelhouse -r requirements/base.txt
