# Everything sets up its own environment in .venv/ (python3 and the package
# registries are all a fresh machine needs).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: demo test bench venv clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m lfm_tf.demo

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --durations=15

# About 40 minutes on 2 cores (the LOSO recipes are 17 of them); rewrites BENCHMARKS.md (benchmarks/run.py).
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
