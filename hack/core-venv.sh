#!/usr/bin/env bash
# Create (or reuse) the venv of one ansible-core on one Python and print its path: ansible-core and the test tooling
# (tests/requirements-core-CORE.txt) plus what the collection's tests need, in ansible-test's own file names. One
# place, so that ansible-test (hack/ansible-test.sh) and the soak (hack/soak.sh) share the venv instead of each
# rebuilding it with a different stamp.
# Usage: hack/core-venv.sh CORE PYTHON   e.g. hack/core-venv.sh 2.19 3.12
set -euo pipefail

core=${1:?usage: $0 CORE PYTHON}
python_version=${2:?python version, e.g. 3.12}
repo=$(cd "$(dirname "$0")/.." && pwd)

requirements=("$repo/tests/requirements-core-$core.txt")
for extra in tests/unit/requirements.txt tests/integration/requirements.txt; do
    if [[ -f $repo/$extra ]]; then
        requirements+=("$repo/$extra")
    fi
done
exec "$repo/hack/venv.sh" "core-$core-py$python_version" "$python_version" "${requirements[@]}"
