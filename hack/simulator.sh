#!/usr/bin/env bash
# Run the SendGrid simulator's own tests and its contract test (tests/simulator/test_*.py)
# in a venv made from tests/simulator/requirements.txt.
# Usage: hack/simulator.sh [PYTEST_ARGS...]
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
if ! compgen -G 'tests/simulator/test_*.py' >/dev/null; then
    exec hack/skip.sh simulator "no tests/simulator/test_*.py yet"
fi
venv=$(hack/venv.sh simulator 3.12 tests/simulator/requirements.txt)
# pytest exits 5 when it collected no test: that fails the stage too.
"$venv/bin/python" -m pytest -p no:cacheprovider tests/simulator "$@"
