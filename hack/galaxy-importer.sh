#!/usr/bin/env bash
# Run galaxy-importer, the checks Galaxy and Automation Hub run on an upload, on the built tarball, offline:
# ansible-doc, ansible-lint (offline) and the changelog check; no ansible-test (it needs a container engine)
# and no flake8 (ansible-test sanity runs pep8 and pylint with ansible's settings instead).
# Any WARNING or ERROR in its log fails the check: Galaxy shows them to every user of the collection.
# Usage: hack/galaxy-importer.sh TARBALL
set -euo pipefail

tarball=$(realpath "${1:?usage: $0 TARBALL}")
repo=$(cd "$(dirname "$0")/.." && pwd)
venv=$("$repo/hack/venv.sh" tools 3.12 "$repo/tests/requirements-tools.txt")
PATH=$venv/bin:$PATH   # galaxy-importer runs the ansible-doc and ansible-lint it finds on PATH

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/galaxy-importer.cfg" <<EOF
[galaxy-importer]
LOG_LEVEL_MAIN = INFO
RUN_ANSIBLE_DOC = True
RUN_ANSIBLE_LINT = True
OFFLINE_ANSIBLE_LINT = True
RUN_ANSIBLE_TEST = False
RUN_FLAKE8 = False
CHECK_CHANGELOG = True
TMP_ROOT_DIR = $work
EOF
export GALAXY_IMPORTER_CONFIG=$work/galaxy-importer.cfg

echo "== galaxy-importer $tarball"
cd "$work"
python -m galaxy_importer.main "$tarball" | tee "$work/import.log"
if grep -E '^(WARNING|ERROR)' "$work/import.log"; then
    echo "galaxy-importer: the import above has warnings or errors" >&2
    exit 1
fi
