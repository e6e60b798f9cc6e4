# Two commands on a fresh machine: `make demo` (set up, sample new routes with the shipped models, show them)
# and `make test` (set up, run the tests). Both create .venv on first use.
PY := .venv/bin/python
STAMP := .venv/.installed

$(STAMP): pyproject.toml
	python3 -m venv .venv
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	WANDB_MODE=offline bash scripts/demo.sh

train-demo: $(STAMP)
	WANDB_MODE=offline bash scripts/train_demo.sh

models: $(STAMP)
	bash scripts/make_models.sh

test: $(STAMP)
	$(PY) -m pytest -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

studio: $(STAMP)
	$(PY) -m routegen.cli studio

bench: $(STAMP)
	$(PY) bench/bench_graders.py

.PHONY: setup demo train-demo models test test-slow studio bench
