# The interface of the project: install, demo, test, lint, bench.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SHARED ?= ../shared
# Extras of the runtime (what `make demo` needs) and of the full developer install.
RUNTIME_EXTRAS := edge,central
FULL_EXTRAS := edge,central,train,dev

.PHONY: install runtime demo test lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Stamps make both installs idempotent and fast when pyproject.toml has not changed.
$(VENV)/.runtime-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[$(RUNTIME_EXTRAS)]"
	touch $@

$(VENV)/.full-installed: pyproject.toml $(VENV)/.runtime-installed
	$(BIN)/pip install -q -e ".[$(FULL_EXTRAS)]"
	# ultralytics pulls the GUI opencv-python beside the headless build; make headless win
	# (no libGL needed) by reinstalling it over the shared cv2 folder.
	$(BIN)/pip install -q --force-reinstall --no-deps \
		"opencv-python-headless==$$($(BIN)/python -c 'import importlib.metadata as m; print(m.version("opencv-python-headless"))')"
	touch $@

runtime: $(VENV)/.runtime-installed

install: $(VENV)/.full-installed

demo: runtime
	deploy/install-system-deps.sh
	$(BIN)/vigifeu demo

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/vigifeu bench all --shared $(SHARED) --out runs/bench --results benchmarks/RESULTS.md

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
