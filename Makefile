# backprop-course: one command per job. Each target creates .venv if needed and installs into it.
#   make demo    train a network on bundled data and print what it learned
#   make test    lint, then every test (unit, property, torch oracle when installed)
#   make bench   benchmarks against micrograd and PyTorch (prints ratios measured in the same run)
#
# EXTRAS picks the optional dependencies: the default "dev" needs no PyTorch; CI uses
# EXTRAS=dev,torch so that gradients are also compared with torch.autograd.

PYTHON ?= python3
VENV   ?= .venv
EXTRAS ?= dev
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))
comma  := ,
PYTEST_WORKERS ?= 2

.PHONY: install demo test lint format bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	@touch $@

demo: $(STAMP)
	$(BIN)/python -m course.demo

lint: $(STAMP)
	$(BIN)/ruff check course tests benchmarks
	$(BIN)/ruff format --check course tests benchmarks

test: $(STAMP) lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

format: $(STAMP)
	$(BIN)/ruff format course tests benchmarks
	$(BIN)/ruff check --fix course tests benchmarks

bench:
	$(MAKE) install EXTRAS=dev,torch
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .hypothesis
