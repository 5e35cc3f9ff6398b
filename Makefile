# Developer and CI entry points. `make test` is the test command (README, .ci/run).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
PYTHON ?= $(shell scripts/find_python.sh)
LOCK_SUFFIX = $(shell $(PYTHON) -c 'import sys; print("" if sys.version_info >= (3, 12) else "-py311")')
REQUIREMENTS = requirements/dev$(LOCK_SUFFIX).txt
# galaxy-importer (the checker Galaxy runs on upload) and ansible-builder in a venv of their own: galaxy-importer pins
# versions (attrs<24) the development tools' lock does not meet.
IMPORTER_VENV := $(CURDIR)/.venv-importer
# One test file is one unit of work (a module-scoped testbed is deployed once), taken in the order of testpaths: the
# molecule cases, one file each, first. (pytest-xdist 3.8's loadgroup does not group under pytest 9.)
PYTEST_ARGS ?= -n 2 --dist loadfile --no-loadscope-reorder

export PATH := $(VENV)/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(VENV)/collections
export ANSIBLE_FORCE_COLOR := 0
export PY_COLORS := 0

.PHONY: help demo setup test lint sanity build changelog docs docsite pytest unit clean testbed-up testbed-down bench bench-deploy faults mutation mutation-sample

help:
	@echo "make demo    - start the testbed and run site.yml on inventories/seed-example; prints where the report is"
	@echo "make setup   - create .venv with the pinned tools, helm 3/4, kubectl and collections (offline from Galaxy)"
	@echo "make test    - everything CI runs: lint, sanity, build, changelog lint, docs and the docs site, all pytest suites"
	@echo "make docsite - the docs site (antsibull-docs + Sphinx, warnings are errors) in build/docsite/index.html"
	@echo "make unit    - filter unit tests only"
	@echo "make mutation        - mutmut over plugins/plugin_utils and the read, wait and helm actions: score per file, surviving mutants (MUTATION_ARGS=...)"
	@echo "make mutation-sample - the sample the test command runs (fails below its threshold)"
	@echo "make testbed-up   - API emulator + IOMesh twin + chart repo (TESTBED_HOSTS=1: podman hosts; TESTBED_NODES=...)"
	@echo "make testbed-down - stop everything testbed-up started"
	@echo "make bench   - print the API emulator's benchmark figures"
	@echo "make bench-deploy - time deploys, re-runs and --check on the testbed (seed, 2/4/8 clusters, 6 hosts) against a floor; prints targets PASS/MISS (BENCH_ARGS=--quick ...)"
	@echo "make faults  - the fault-injection matrix on the testbed; prints fault x stage -> outcome, writes build/fault-table.md (FAULTS=all: every cell)"
	@echo "make clean   - remove .venv, build output and test caches"

setup: $(VENV)/.setup-done

demo: setup
	scripts/demo.sh

$(VENV)/.setup-done: requirements/dev.txt requirements/dev-py311.txt requirements/importer.txt requirements/importer-py311.txt testbed/pyproject.toml scripts/bootstrap_tools.py scripts/get_pip_standin.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r $(REQUIREMENTS)
	$(PY) -m pip install --quiet --editable testbed
	$(PY) scripts/bootstrap_tools.py --bin-dir $(VENV)/bin --collections-dir $(VENV)/collections
	mkdir -p $(VENV)/collections/ansible_collections/iomesh
	ln -sfn ../../../.. $(VENV)/collections/ansible_collections/iomesh/multicluster
	$(PY) scripts/install_get_pip_standin.py
	rm -rf $(IMPORTER_VENV)
	$(PYTHON) -m venv $(IMPORTER_VENV)
	$(IMPORTER_VENV)/bin/python -m pip install --quiet -r requirements/importer$(LOCK_SUFFIX).txt
	touch $@

test: setup lint sanity build changelog docs pytest

lint: setup
	yamllint -s .
	ansible-lint --nocolor

sanity: setup
	scripts/run_sanity.sh

build: setup
	rm -rf build && mkdir -p build
	ansible-galaxy collection build --force --output-path build .
	$(PY) scripts/check_build.py build/iomesh-multicluster-*.tar.gz

changelog: setup
	antsibull-changelog lint

docs: docsite
	@for f in plugins/filter/*.yml; do \
	  name=$$(basename $$f .yml); \
	  ansible-doc -t filter iomesh.multicluster.$$name > /dev/null || { echo "ansible-doc failed for $$name"; exit 1; }; \
	done; \
	for f in plugins/modules/*.py; do \
	  name=$$(basename $$f .py); \
	  ansible-doc -t module iomesh.multicluster.$$name > /dev/null || { echo "ansible-doc failed for $$name"; exit 1; }; \
	done; echo "ansible-doc renders every filter and module"

docsite: setup
	scripts/build_docsite.sh

pytest: setup
	$(PY) -m pytest $(PYTEST_ARGS)

unit: setup
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

# Not part of `make test` (the sample is, through tests/mutation): one mutant at a time, nice'd.
mutation: setup
	nice -n 19 $(PY) scripts/mutation.py $(MUTATION_ARGS)

mutation-sample: setup
	nice -n 19 $(PY) scripts/mutation.py --sample

testbed-up: setup
	$(PY) -m iomesh_testbed up

testbed-down:
	$(PY) -m iomesh_testbed down

bench: setup
	$(PY) testbed/bench_emulator.py

# Not part of `make test`: a benchmark (tens of minutes for the default set); exits non-zero only when a run fails.
bench-deploy: setup
	$(PY) scripts/bench_deploy.py $(BENCH_ARGS)

faults: setup
	$(PY) scripts/fault_matrix.py

clean:
	rm -rf $(VENV) $(IMPORTER_VENV) build .pytest_cache tests/output
