# The two commands a new machine needs: `make demo` and `make test`.
# Each builds .venv when missing and installs the project into it.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint bench sysdeps clean

demo: sysdeps $(STAMP)
	$(VENV)/bin/ipkiosk demo

# In parallel (pytest-xdist): each worker starts its own PostgreSQL cluster and Secret Service.
# Four workers even on two cores: the UI tests spend much of their time waiting for the screen to
# settle (a worker used about a third of a core), so 2 workers took about 9-11 min and 4 about 7.
TEST_WORKERS ?= 4
test: sysdeps $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy tests
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(PY) bench/startup.py
	$(PY) bench/directory.py --rows 200000
	$(PY) bench/scan.py

# System packages the tests and the camera need. As root on Debian they are
# installed; elsewhere the script prints the one command to run.
sysdeps:
	@sh .ci/sysdeps.sh

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,postgres]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) build *.egg-info
