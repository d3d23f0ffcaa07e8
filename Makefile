# Two commands do all set-up: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: run test install lint migrations-check check-deploy bench clean vendor

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
## axe-core is a devDependency, copied to tests/browser/vendor/ for the browser tests only (never served).
vendor:
	npm ci --no-audit --no-fund
	mkdir -p static/vendor/echarts
	cp node_modules/echarts/dist/echarts.min.js node_modules/echarts/LICENSE static/vendor/echarts/
	mkdir -p static/vendor/bootstrap-icons
	$(PY) -m core.icons node_modules/bootstrap-icons/icons static/vendor/bootstrap-icons/icons.svg
	cp node_modules/bootstrap-icons/LICENSE static/vendor/bootstrap-icons/
	mkdir -p tests/browser/vendor
	cp node_modules/axe-core/axe.min.js tests/browser/vendor/
	cp node_modules/axe-core/LICENSE tests/browser/vendor/axe-core.LICENSE
