#!/usr/bin/env bash
# ansible-test integration on one ansible-core and Python, on this machine (--local).
# Fails when every target was skipped (e.g. all marked unsupported): a target must really run.
# Usage: hack/integration.sh CORE PYTHON [ANSIBLE_TEST_ARGS...]
set -euo pipefail

core=${1:?usage: $0 CORE PYTHON [ANSIBLE_TEST_ARGS...]}
python_version=${2:?python version}
shift 2
repo=$(cd "$(dirname "$0")/.." && pwd)

if ! compgen -G "$repo/tests/integration/targets/*/" >/dev/null; then
    exec "$repo/hack/skip.sh" "integration $core" "no tests/integration/targets/* yet"
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$repo/hack/ansible-test.sh" "$core" "$python_version" integration --local --python "$python_version" "$@" | tee "$log"
if ! grep -qE '^Running .* integration test (role|script)' "$log"; then
    echo "integration: no target ran on ansible-core $core / Python $python_version" >&2
    exit 1
fi
