# facexpr: `make demo` runs the main job, `make test` runs the tests. Both build .venv from the project's own files:
# demo the light runtime (LiteRT, no TensorFlow), test everything (training, server, Ray, dev tools).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The data setting: $FACEXPR_DATA, else ../shared/data beside the checkout when present, else ./data.
DATA ?= $(or $(FACEXPR_DATA),$(if $(wildcard ../shared/data),../shared/data,data))
OUT ?= outputs

.PHONY: install demo test notebook bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(BIN)/.installed-runtime: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(BIN)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[train,serve,ray,dev]"
	touch $@ $(BIN)/.installed-runtime

install: $(BIN)/.installed

demo: $(BIN)/.installed-runtime
	$(BIN)/facexpr demo --out $(OUT)/demo

test: install
	FACEXPR_DATA=$(DATA) $(BIN)/python -m pytest -q

notebook: install
	FACEXPR_DATA=$(DATA) $(BIN)/python notebooks/run_notebook.py

bench: install
	$(BIN)/facexpr bench

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
