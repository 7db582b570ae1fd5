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
# make release-check runs make test, then units, integration and sanity on the rest of the supported matrix
# (README.md, "Supported versions"): the other cores, and Python 3.10 where a core supports it.
RELEASE_CORES ?= 2.16/3.10 2.17/3.10 2.18/3.13 2.20/3.12
RELEASE_SANITY_CORES ?= 2.17/3.10 2.18/3.13 2.19/3.12 2.20/3.12
# The fault soak (tests/soak/soak.py) runs on one pair, in the venv make units/integration make for it: make soak at
# full size (300 customers), and soak-small, a few customers, inside make test.
SOAK_CORE ?= 2.19/3.12
SOAK_CUSTOMERS ?= 300
SOAK_SMALL_ARGS ?= --customers 12 --seed 5
ARGS ?=

VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
TARBALL := build/sendgrid-partners-$(VERSION).tar.gz
TOOLS_VENV := hack/venv.sh tools 3.12 tests/requirements-tools.txt

# Run $(2) once for each CORE/PYTHON pair in $(1), with $$core and $$py set.
for_each_core = for pair in $(1); do core=$${pair%/*} py=$${pair\#*/}; $(2); done

TEST_STAGES := simulator units integration soak-small sanity lint docs ee galaxy changelog
RELEASE_STAGES := $(TEST_STAGES) release-units release-integration release-sanity

.PHONY: help test check simulator units integration soak-small soak bench sanity lint docs ee galaxy changelog \
	release-check release-units release-integration release-sanity release build install demo clean

help:
	@echo "make test           everything CI runs, stopping at the first failure: $(TEST_STAGES)"
	@echo "make check          fast loop: simulator, units and integration on $(CHECK_CORES)"
	@echo "make simulator      the SendGrid simulator's tests and contract test"
	@echo "make units          ansible-test units on CORES=\"$(CORES)\""
	@echo "make integration    ansible-test integration (against the simulator) on CORES"
	@echo "make soak-small     the fault soak at a small size ($(SOAK_SMALL_ARGS)) on SOAK_CORE=$(SOAK_CORE)"
	@echo "make soak           the fault soak at full size (--customers $(SOAK_CUSTOMERS)); not in make test"
	@echo "make bench          hack/bench.sh: onboard speed against a uri playbook and a thread pool; not in make test"
	@echo "make sanity         ansible-test sanity on SANITY_CORES=\"$(SANITY_CORES)\""
	@echo "make lint           shellcheck, antsibull-changelog lint, ansible-lint --profile production on the repo"
	@echo "make docs           antsibull-docs lint-collection-docs --plugin-docs, ansible-doc of each module and role, Markdown links"
	@echo "make ee             ansible-builder introspect --sanitize and create (context in build/ee, no container engine)"
	@echo "make galaxy         galaxy-importer on $(TARBALL), offline"
	@echo "make changelog      preview this version's CHANGELOG.md in build/changelog (fragments stay)"
	@echo "make release-check  make test, then units/integration on RELEASE_CORES=\"$(RELEASE_CORES)\""
	@echo "                    and sanity on RELEASE_SANITY_CORES=\"$(RELEASE_SANITY_CORES)\""
	@echo "make release        release-check, then antsibull-changelog release: consumes the fragments (docs/releasing.md)"
	@echo "make build          $(TARBALL)"
	@echo "make install        install the tarball into build/collections"
	@echo "make demo           the main job, on the bundled simulator"
	@echo "make clean          remove venvs, build and test output"

test:
	@MAKE="$(MAKE)" hack/stages.sh $(TEST_STAGES)

release-check:
	@MAKE="$(MAKE)" hack/stages.sh $(RELEASE_STAGES)

check:
	@CORES="$(CHECK_CORES)" MAKE="$(MAKE)" hack/stages.sh simulator units integration

simulator:
	hack/simulator.sh $(ARGS)

units:
	$(call for_each_core,$(CORES),hack/units.sh $$core $$py $(ARGS))

integration:
	$(call for_each_core,$(CORES),hack/integration.sh $$core $$py $(ARGS))

soak-small:
	$(call for_each_core,$(SOAK_CORE),hack/soak.sh $$core $$py $(SOAK_SMALL_ARGS) $(ARGS))

soak:
	$(call for_each_core,$(SOAK_CORE),hack/soak.sh $$core $$py --customers $(SOAK_CUSTOMERS) $(ARGS))

bench:
	hack/bench.sh $(ARGS)

sanity:
	$(call for_each_core,$(SANITY_CORES),hack/ansible-test.sh $$core $$py sanity --venv --python $$py $(ARGS))

release-units:
	$(call for_each_core,$(RELEASE_CORES),hack/units.sh $$core $$py $(ARGS))

release-integration:
	$(call for_each_core,$(RELEASE_CORES),hack/integration.sh $$core $$py $(ARGS))

release-sanity:
	$(call for_each_core,$(RELEASE_SANITY_CORES),hack/ansible-test.sh $$core $$py sanity --venv --python $$py $(ARGS))

lint: install
	hack/lint.sh build/collections

docs: install
	hack/docs.sh build/collections

ee: install
	hack/ee.sh build/collections

galaxy: build
	hack/galaxy-importer.sh $(TARBALL)

changelog:
	hack/changelog.sh build/changelog

# The one target that changes the work tree: CHANGELOG.md and changelogs/changelog.yaml get the release, the
# fragments are removed. Commit the result and tag it (docs/releasing.md).
release: release-check
	venv=$$($(TOOLS_VENV)); \
	PATH=$$venv/bin:$$PATH antsibull-changelog release; \
	"$$venv/bin/antsibull-changelog" lint-changelog-yaml changelogs/changelog.yaml
	$(MAKE) --no-print-directory build

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
