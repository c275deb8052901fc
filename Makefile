# keel: the two commands a new user needs are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The real mlflow client, in a venv of its own, for the MLflow-compatibility tests
# (tests/api/mlflow); never a dependency of keel.
MLFLOW_PEER := .peers/mlflow

.PHONY: demo test lint bench clean mlflow-peer

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-demo: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[demo]"
	touch $@

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed-demo

$(MLFLOW_PEER)/.installed:
	$(PYTHON) -m venv $(MLFLOW_PEER)
	$(MLFLOW_PEER)/bin/python -m pip install --quiet --upgrade pip
	$(MLFLOW_PEER)/bin/pip install --quiet "mlflow>=3,<4" scikit-learn pandas
	touch $@

mlflow-peer: $(MLFLOW_PEER)/.installed

demo: $(VENV)/.installed-demo
	$(BIN)/python examples/demo.py

test: $(VENV)/.installed $(MLFLOW_PEER)/.installed
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(VENV)/.installed
	$(BIN)/ruff check keel tests bench examples
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(VENV)/.installed
	$(BIN)/python bench/bench_tracking.py --quick
	$(BIN)/python bench/bench_server.py --quick

clean:
	rm -rf $(VENV) .peers .keel
