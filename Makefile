# Build and test sendgrid.partners. Every target makes what it needs (venvs under .venv/, pinned in
# tests/requirements-*.txt), so each one works on a fresh machine. See `make help`.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# ansible-core/Python pairs. Units and integration run on each of CORES; sanity on SANITY_CORES
# (one Python each to keep the time down); make check on CHECK_CORES. Override on the command line,
# e.g. make units CORES=2.21/3.13 ARGS='-v tests/unit/plugins/modules/test_add_ips.py'.
CORES ?= 2.16/3.11 2.19/3.12 2.21/3.13
SANITY_CORES ?= 2.21/3.12 2.16/3.11
CHECK_CORES ?= 2.19/3.12
ARGS ?=

VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
TARBALL := build/sendgrid-partners-$(VERSION).tar.gz
TOOLS_VENV := hack/venv.sh tools 3.12 tests/requirements-tools.txt

# Run $(2) once for each CORE/PYTHON pair in $(1), with $$core and $$py set.
for_each_core = for pair in $(1); do core=$${pair%/*} py=$${pair\#*/}; $(2); done

.PHONY: help test check simulator units integration sanity lint build install demo clean

help:
	@echo "make test         everything CI runs: simulator, units, integration, sanity, lint (stops at the first failure)"
	@echo "make check        fast loop: simulator, units and integration on $(CHECK_CORES)"
	@echo "make simulator    the SendGrid simulator's tests and contract test"
	@echo "make units        ansible-test units on CORES=\"$(CORES)\""
	@echo "make integration  ansible-test integration (against the simulator) on CORES"
	@echo "make sanity       ansible-test sanity on SANITY_CORES=\"$(SANITY_CORES)\""
	@echo "make lint         shellcheck, antsibull-changelog, ansible-lint, ansible-builder introspect"
	@echo "make build        $(TARBALL)"
	@echo "make install      install the tarball into build/collections"
	@echo "make demo         the main job, on the bundled simulator"
	@echo "make clean        remove venvs, build and test output"

test:
	@MAKE="$(MAKE)" hack/stages.sh simulator units integration sanity lint

check:
	@CORES="$(CHECK_CORES)" MAKE="$(MAKE)" hack/stages.sh simulator units integration

simulator:
	hack/simulator.sh $(ARGS)

units:
	$(call for_each_core,$(CORES),hack/units.sh $$core $$py $(ARGS))

integration:
	$(call for_each_core,$(CORES),hack/integration.sh $$core $$py $(ARGS))

sanity:
	$(call for_each_core,$(SANITY_CORES),hack/ansible-test.sh $$core $$py sanity --venv --python $$py $(ARGS))

lint: install
	hack/lint.sh build/collections

build:
	venv=$$($(TOOLS_VENV)); \
	"$$venv/bin/ansible-galaxy" collection build --force --output-path build .

install: build
	venv=$$($(TOOLS_VENV)); \
	export ANSIBLE_COLLECTIONS_PATH=build/collections; \
	"$$venv/bin/ansible-galaxy" collection install --force $(TARBALL); \
	"$$venv/bin/ansible-galaxy" collection list sendgrid.partners

demo:
	hack/demo.sh

clean:
	rm -rf .venv build tests/output
