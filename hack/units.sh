#!/usr/bin/env bash
# ansible-test units on one ansible-core and Python. Fails when pytest passed no test at all
# (ansible-test itself accepts pytest's "no tests ran").
# Usage: hack/units.sh CORE PYTHON [ANSIBLE_TEST_ARGS...]
set -euo pipefail

core=${1:?usage: $0 CORE PYTHON [ANSIBLE_TEST_ARGS...]}
python_version=${2:?python version}
shift 2
repo=$(cd "$(dirname "$0")/.." && pwd)

if ! find "$repo/tests/unit" -name 'test_*.py' 2>/dev/null | grep -q .; then
    exec "$repo/hack/skip.sh" "units $core" "no tests/unit/**/test_*.py yet"
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$repo/hack/ansible-test.sh" "$core" "$python_version" units --local --python "$python_version" "$@" | tee "$log"
if ! grep -qE '^=+ .*\b[0-9]+ passed\b.* in [0-9.]+s.* =+$' "$log"; then
    echo "units: pytest passed no test on ansible-core $core / Python $python_version" >&2
    exit 1
fi
