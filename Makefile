# Two commands on a fresh Debian/Ubuntu or CentOS machine:
#   make up    install what is missing, then bring up a single-node cluster
#   make test  install test dependencies, then run the whole suite
# and what CI runs before `make test`:
#   make lint         ruff, mypy and the import contracts (installs the tools itself)
#   make bench-smoke  every benchmark at a tiny size, and nothing left behind
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
LINT_STAMP := $(VENV)/.installed-lint

.PHONY: up down test unit integration e2e deps test-deps bench bench-smoke lint clean vagrant-test vagrant-box vagrant-smoke vagrant-ha vm-deps

deps:
	@sudo_cmd=""; [ "$$(id -u)" = 0 ] || sudo_cmd=sudo; $$sudo_cmd ./scripts/install-deps.sh

test-deps:
	@sudo_cmd=""; [ "$$(id -u)" = 0 ] || sudo_cmd=sudo; $$sudo_cmd ./scripts/install-deps.sh --test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

$(TEST_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install -q -e '.[test]'
	touch $@

$(LINT_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install -q -e '.[lint]'
	touch $@

up: deps $(STAMP)
	$(VENV)/bin/minik8s up

down:
	$(VENV)/bin/minik8s down

test: test-deps $(TEST_STAMP)
	$(PY) -m pytest -q -ra

unit: $(TEST_STAMP)
	$(PY) -m pytest -q tests/unit

integration: $(TEST_STAMP)
	$(PY) -m pytest -q tests/integration

e2e: $(TEST_STAMP)
	$(PY) -m pytest -q tests/e2e

# Configuration in pyproject.toml: [tool.ruff], [tool.mypy] (strict on api, client,
# controllers) and [tool.importlinter] (the layering in docs/architecture.md).
lint: $(LINT_STAMP)
	$(VENV)/bin/ruff check minik8s tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(PY) bench/api.py
	$(PY) bench/pod_startup.py
	$(PY) bench/scheduler.py
	$(PY) bench/rollout.py
	$(PY) bench/node_failure.py
	$(PY) bench/ha.py
	$(PY) bench/proxy.py
	$(PY) bench/hpa.py

# Seconds per benchmark: a refactor that breaks one fails CI instead of the next measurement.
bench-smoke: deps $(TEST_STAMP)
	$(PY) bench/smoke.py

# Real VMs (docs/deploy.md): a Debian 12 box built here, libvirt in a network namespace,
# one master and two nodes provisioned by deploy/install.sh, the e2e suite against them.
vm-deps:
	@sudo_cmd=""; [ "$$(id -u)" = 0 ] || sudo_cmd=sudo; $$sudo_cmd ./scripts/install-deps.sh --vm

vagrant-box: vm-deps $(STAMP)
	PYTHON=$(PY) ./deploy/vagrant/build-box.sh

vagrant-test: vm-deps $(TEST_STAMP)
	./deploy/vagrant-test.sh

# One master, one node: boot, provision, Ready, the vdata-imp NodePort answered, destroy clean.
vagrant-smoke: vm-deps $(TEST_STAMP)
	./deploy/vagrant-test.sh --smoke

# Three masters (docs/deploy.md "Three masters"), no node: each API server ready, etcd's three
# members, objects through every master, master1 powered off and the others carry on.
vagrant-ha: vm-deps $(TEST_STAMP)
	./deploy/vagrant-test.sh --ha

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
