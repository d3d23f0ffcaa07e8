# Two commands do all set-up: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
# Test processes (pytest-xdist); PYTEST_WORKERS=0 runs the suite in this one process.
PYTEST_WORKERS ?= auto

.PHONY: run test install lint migrations-check check-deploy bench clean vendor openapi wheelhouse install-offline

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
	-$(PY) manage.py dashboard_verify --verbosity 0
	$(PY) manage.py runall --port $(PORT)

## The whole test suite (DATABASE_URL / CELERY_BROKER_URL select PostgreSQL / Redis).
test: $(STAMP)
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

migrations-check: $(STAMP)
	$(PY) manage.py makemigrations --check --dry-run

## Regenerate the committed OpenAPI schema (tests/core/test_openapi_schema.py fails when it is stale).
openapi: $(STAMP)
	$(PY) manage.py spectacular --settings=config.settings.test --file docs/openapi.yaml

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
	mkdir -p static/vendor/noto-serif-sc
	cp node_modules/@expo-google-fonts/noto-serif-sc/400Regular/NotoSerifSC_400Regular.ttf static/vendor/noto-serif-sc/NotoSerifSC-Regular.ttf
	cp node_modules/@expo-google-fonts/noto-serif-sc/LICENSE_FONT static/vendor/noto-serif-sc/OFL.txt
	$(PY) scripts/subset_font.py node_modules/@expo-google-fonts/noto-serif-sc/700Bold/NotoSerifSC_700Bold.ttf \
		static/vendor/noto-serif-sc/NotoSerifSC-Bold-GB2312.ttf
	mkdir -p static/vendor/bootstrap-icons
	$(PY) -m core.icons node_modules/bootstrap-icons/icons static/vendor/bootstrap-icons/icons.svg
	cp node_modules/bootstrap-icons/LICENSE static/vendor/bootstrap-icons/
	mkdir -p tests/browser/vendor
	cp node_modules/axe-core/axe.min.js tests/browser/vendor/
	cp node_modules/axe-core/LICENSE tests/browser/vendor/axe-core.LICENSE

## Offline install for intranets: build wheels of the pinned requirements on a machine with PyPI
## access (same OS and Python as the server), copy wheelhouse/ over, then `make install-offline`.
wheelhouse:
	$(PYTHON) -m pip wheel --quiet -r requirements/base.txt -w wheelhouse

install-offline:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --no-index --find-links wheelhouse -r requirements/base.txt
