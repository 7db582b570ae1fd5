#!/usr/bin/env bash
# Run ansible-test from the venv of one ansible-core on one Python, in a fresh staged copy of the
# work tree. tests/output is copied back to the repo so junit and logs can be read after a failure.
# Usage: hack/ansible-test.sh CORE PYTHON ANSIBLE_TEST_ARGS...   e.g. hack/ansible-test.sh 2.19 3.12 units --local
set -euo pipefail

core=${1:?usage: $0 CORE PYTHON ANSIBLE_TEST_ARGS...}
python_version=${2:?python version, e.g. 3.12}
shift 2

repo=$(cd "$(dirname "$0")/.." && pwd)
# ansible-core and test tooling, plus what the collection's tests need (the same venv as hack/soak.sh).
venv=$("$repo/hack/core-venv.sh" "$core" "$python_version")
"$repo/hack/seed-get-pip.sh" "$venv/bin/python"

work=$(mktemp -d "${TMPDIR:-/tmp}/sendgrid-partners.XXXXXX")
collection=$work/ansible_collections/sendgrid/partners
save_output() {
    if [[ -d $collection/tests/output ]]; then
        mkdir -p "$repo/tests/output"
        cp -a "$collection/tests/output/." "$repo/tests/output/"
    fi
    rm -rf "$work"
}
trap save_output EXIT
"$repo/hack/stage.sh" "$work" >/dev/null

# The venv first (ansible-test, python$python_version), then real interpreters instead of pyenv shims.
PATH=$venv/bin:$(dirname "$venv")/pythons:$PATH
cd "$collection"
echo "== ansible-test $* (ansible-core $core, Python $python_version)"
start=$SECONDS
ansible-test "$@"
echo "== ansible-test $1 on ansible-core $core / Python $python_version: OK in $((SECONDS - start)) s"
