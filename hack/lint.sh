#!/usr/bin/env bash
# Lint what ansible-test sanity does not: shell scripts, roles and playbooks (ansible-lint, production
# profile), the changelog, and the execution-environment metadata of the installed collection as
# ansible-builder reads it.
# Usage: hack/lint.sh INSTALLED_COLLECTIONS_DIR   (the directory holding ansible_collections/, see make install)
set -euo pipefail

installed=$(realpath "${1:?usage: $0 INSTALLED_COLLECTIONS_DIR}")
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
venv=$(hack/venv.sh tools 3.12 tests/requirements-tools.txt)
PATH=$venv/bin:$PATH

echo "== shellcheck"
shellcheck hack/*.sh .ci/run

echo "== antsibull-changelog lint"
antsibull-changelog lint
antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml

echo "== ansible-lint --profile production"
targets=()
for dir in roles playbooks; do
    if [[ -n $(find "$dir" -type f -print -quit 2>/dev/null) ]]; then
        targets+=("$dir")
    fi
done
if [[ ${#targets[@]} -gt 0 ]]; then
    # The roles and playbooks call the collection's modules by FQCN: lint against the installed build.
    ANSIBLE_COLLECTIONS_PATH=$installed ansible-lint --profile production "${targets[@]}"
else
    echo "roles/ and playbooks/ are empty: nothing for ansible-lint yet"
fi

echo "== ansible-builder introspect (execution environment dependencies)"
introspect=$(ansible-builder introspect --sanitize "$installed")
echo "$introspect"
if ! grep -qE 'requests.*from collection sendgrid\.partners' <<<"$introspect"; then
    echo "ansible-builder does not see requests as a Python dependency of sendgrid.partners" >&2
    exit 1
fi
