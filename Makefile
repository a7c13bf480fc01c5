# journeykit — every target installs what it needs; none assumes another ran.
# `make` (or `make help`) lists the targets.

.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
JK := $(VENV)/bin/journeykit
STAMP := $(VENV)/.installed
LAB_VENV := .venv-lab
LAB_SPEC := jupyterlab>=4.3,<4.7
CLIENT ?=
PERIOD ?=
APT_PACKAGES := chromium fonts-noto-cjk poppler-utils default-jre-headless

.PHONY: help demo test report monthly lab lab-env bench clean sysdeps venv hooks

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "journeykit needs Python >= 3.11 (set PYTHON=python3.11)")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP) ## create .venv and install journeykit with its pinned dependencies

sysdeps: ## install Chromium (PDF), Korean fonts and Java (the Spark engine) from Debian if missing
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	fc-list 2>/dev/null | grep -q "Noto Sans CJK" || missing="$$missing fonts-noto-cjk"; \
	command -v pdftoppm >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	command -v java >/dev/null 2>&1 || missing="$$missing default-jre-headless"; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; \
	  else echo "need root to install:$$missing (apt-get install$$missing)"; exit 1; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	  rm -f $$HOME/.cache/matplotlib/fontlist-*.json; \
	fi

demo: ## generate the demo data (~20,000 customers) and render its full report
	@$(MAKE) --no-print-directory -j2 venv sysdeps
	$(JK) demo

test: ## run the test-suite (unit, contract, calibration, shapes, notebooks, JupyterLab, end-to-end) on tiny data
	@# the two environments and the system packages install at the same time (a new machine: minutes each)
	@$(MAKE) --no-print-directory -j3 venv sysdeps lab-env
	@# two halves at once, one per core (both keep their core busy: about equal CPU each)
	@$(JK) demo-data --size tiny --if-needed >/dev/null
	@# each half its own temporary folder: the fault tests look for what runs leave there
	@log=$$(mktemp); a=$$(mktemp -d); b=$$(mktemp -d); \
	 TMPDIR=$$a $(PY) -m pytest tests/unit tests/contracts tests/calibration >$$log 2>&1 & units=$$!; \
	 TMPDIR=$$b $(PY) -m pytest tests/e2e tests/faults tests/shapes notebooks; ends=$$?; \
	 wait $$units; rest=$$?; \
	 echo; echo "== unit, contract and calibration tests (run beside the ones above)"; cat $$log; rm -rf $$log $$a $$b; \
	 test $$ends -eq 0 -a $$rest -eq 0

report: venv sysdeps ## render one report: make report CLIENT=acme PERIOD=2026-10 [JOBS=2]
	@test -n "$(CLIENT)" -a -n "$(PERIOD)" || { echo "usage: make report CLIENT=<client> PERIOD=YYYY-MM [JOBS=n]"; exit 2; }
	$(JK) run --client $(CLIENT) --period $(PERIOD) $(if $(JOBS),--jobs $(JOBS))

monthly: venv sysdeps ## render every client whose file says `schedule: monthly`, for last month in its time zone (PERIOD= to choose, JOBS= clients at once)
	@$(JK) batch $(if $(PERIOD),--period $(PERIOD)) $(if $(JOBS),--jobs $(JOBS)) || { code=$$?; echo "journeykit batch exited $$code (1: a client or section failed; 2: a configuration or data error; 3: a bug); make reports any failure as its own error 2: for the exact code (cron), call .venv/bin/journeykit batch directly."; exit $$code; }

LAB_STAMP := $(LAB_VENV)/.installed-lab

LAB_PIP_STAMP := $(LAB_VENV)/.installed-jupyterlab

# JupyterLab's own environment installs beside the project's (make -j); only registering the kernel needs both
$(LAB_PIP_STAMP):
	@test -x $(LAB_VENV)/bin/python || $(PYTHON) -m venv $(LAB_VENV)
	$(LAB_VENV)/bin/python -m pip install --quiet '$(LAB_SPEC)'
	@touch $(LAB_PIP_STAMP)

$(LAB_STAMP): $(STAMP) $(LAB_PIP_STAMP)
	$(PY) -m ipykernel install --prefix "$(abspath $(LAB_VENV))" --name journeykit --display-name "Python (journeykit)" >/dev/null
	@mkdir -p $(LAB_VENV)/etc/jupyter
	@echo '{"MultiKernelManager": {"default_kernel_name": "journeykit"}}' > $(LAB_VENV)/etc/jupyter/jupyter_server_config.json
	@touch $(LAB_STAMP)

lab-env: $(LAB_STAMP) ## create .venv-lab: JupyterLab, with the project's environment as its "journeykit" kernel

lab: lab-env ## open JupyterLab on notebooks/ (the "journeykit" kernel; tiny demo data)
	@$(JK) demo-data --size tiny --if-needed
	$(LAB_VENV)/bin/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

bench: venv sysdeps ## time the full report on the demo and large data (large on Spark too), and the naive paths beside it (prints figures)
	$(PY) -m journeykit.bench $(if $(SIZES),--sizes $(SIZES)) $(if $(ENGINES),--engines $(ENGINES))

hooks: venv ## strip notebook outputs at every `git add` (nbstripout as a git filter; keeps cell tags and ids)
	git config filter.nbstripout.clean '"$(abspath $(PY))" -m nbstripout --keep-id'
	git config filter.nbstripout.smudge cat
	git config diff.ipynb.textconv '"$(abspath $(PY))" -m nbstripout -t'
	@echo "notebooks are now stripped of outputs when staged (.gitattributes names them)"

clean: ## remove rendered reports, caches and generated data (keeps .venv)
	rm -rf reports/*/ data/.cache data/tiny data/demo data/large .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
