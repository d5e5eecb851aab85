# The two commands a user needs: `make run` and `make test`. Both set everything up.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
ARGS ?=

.PHONY: run test test-fast bench install install-dev clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch first, exactly 2.13.0: a looser spec resolved by pip would pull the CUDA build.
$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(VENV)/bin/edgeprune run $(ARGS)

test: install-dev
	$(PY) -m pytest $(ARGS)

test-fast: install-dev
	$(PY) -m pytest -m "not slow" $(ARGS)

bench: install-dev
	$(PY) -m bench.run_all $(ARGS)

clean:
	rm -rf runs .edgeprune-cache
