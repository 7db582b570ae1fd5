#!/usr/bin/env bash
# The fault soak (tests/soak/soak.py): onboard customers with the playbook sendgrid.partners.onboard against the
# simulator under random faults, rerun until converged, and check that nothing was bought twice, every failure is
# reported, and the API key leaked nowhere. Runs in the venv of one ansible-core and Python, the one that make units
# and make integration use (hack/core-venv.sh), with its ansible-playbook first on PATH.
# Usage: hack/soak.sh CORE PYTHON [SOAK_ARGS...]   e.g. hack/soak.sh 2.19 3.12 --customers 12 --seed 5
set -euo pipefail

core=${1:?usage: $0 CORE PYTHON [SOAK_ARGS...]}
python_version=${2:?python version, e.g. 3.12}
shift 2
repo=$(cd "$(dirname "$0")/.." && pwd)

venv=$("$repo/hack/core-venv.sh" "$core" "$python_version")
PATH=$venv/bin:$PATH
echo "== soak $* (ansible-core $core, Python $python_version)"
start=$SECONDS
"$venv/bin/python" "$repo/tests/soak/soak.py" "$@"
echo "== soak on ansible-core $core / Python $python_version: OK in $((SECONDS - start)) s"
