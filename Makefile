# fusionbench: set-up, the main job on the embedded sample, and the test suite.
# The PyTorch CPU wheel is installed explicitly first: an unpinned `torch` would pull a CUDA build.
VENV ?= .venv
PY := $(VENV)/bin/python
FB := $(VENV)/bin/fusionbench
TORCH ?= torch==2.13.0

.PHONY: setup demo test lint browser-deps regress

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet -e '.[test]'
	$(PY) -m fusionbench.metrics.warmup
	touch $@

demo: setup
	$(FB) run --method average,maximum,laplacian,gff,clfnet --dataset sample --out results/demo

lint: setup
	$(VENV)/bin/ruff check .

browser-deps:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) || \
	  echo "warning: could not install chromium/chromium-driver (the browser test needs them)"

regress: setup
	bash scripts/ci_regression.sh

test: setup browser-deps lint
	$(PY) -m pytest -q
	$(MAKE) regress
