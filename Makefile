# Two commands: `make run` opens the explorer, `make test` runs every check offscreen.
# Both create .venv on first use and reinstall when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test test-fast lint bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	$(PY) main.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# pytest exits 5 when it collects nothing; say so loudly rather than pass silently
test: lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; fi; exit $$rc

# the inner loop: the same checks without the tests marked slow (over ~5 s each); `make test` runs them all
test-fast: lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -m "not slow"; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; fi; exit $$rc

# speed and memory figures, written to benchmarks/results/ (benchmarks/soak.py and the GPU ones apart: long)
bench: $(STAMP)
	$(PY) benchmarks/startup.py
	$(PY) benchmarks/live_gui.py
	$(PY) benchmarks/saddle_gui.py
	$(PY) benchmarks/surface_grid.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
