#!/usr/bin/env bash
# Lint what ansible-test sanity does not: shell scripts, the version, the changelog fragments, and the whole repository
# with ansible-lint's production profile (roles, playbooks, tests, galaxy.yml, meta/, changelogs/).
# Usage: hack/lint.sh INSTALLED_COLLECTIONS_DIR   (the directory holding ansible_collections/, see make install)
set -euo pipefail

installed=$(realpath "${1:?usage: $0 INSTALLED_COLLECTIONS_DIR}")
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
venv=$(hack/venv.sh tools 3.12 tests/requirements-tools.txt)
PATH=$venv/bin:$PATH

echo "== shellcheck"
shellcheck hack/*.sh .ci/run

echo "== the version in galaxy.yml is the one the client sends (User-Agent)"
version=$(sed -n 's/^version: *//p' galaxy.yml)
grep -qx "COLLECTION_VERSION = \"$version\"" plugins/module_utils/_client.py \
    || { echo "plugins/module_utils/_client.py: COLLECTION_VERSION is not \"$version\" (galaxy.yml)" >&2; exit 1; }

echo "== antsibull-changelog lint"
antsibull-changelog lint
antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml

echo "== ansible-lint --profile production (whole repository, .ansible-lint)"
# The roles and playbooks call the collection's modules by FQCN: lint against the installed build.
ANSIBLE_COLLECTIONS_PATH=$installed ansible-lint --profile production
