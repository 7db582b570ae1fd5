#!/usr/bin/env bash
# Check the execution-environment metadata: ansible-builder introspect --sanitize must read exactly
# requirements.txt (and bindep.txt, if there is one) from the installed collection's meta/execution-environment.yml,
# and ansible-builder create must turn the documented EE definition (docs/ee/) into a build context in build/ee.
# Only the context: no container engine is needed or used.
# Usage: hack/ee.sh INSTALLED_COLLECTIONS_DIR   (the directory holding ansible_collections/, see make install)
set -euo pipefail

installed=$(realpath "${1:?usage: $0 INSTALLED_COLLECTIONS_DIR}")
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
venv=$(hack/venv.sh tools 3.12 tests/requirements-tools.txt)
PATH=$venv/bin:$PATH

echo "== ansible-builder introspect --sanitize $installed"
introspect=$(ansible-builder introspect --sanitize "$installed")
echo "$introspect"
# What ansible-builder should find: each requirement line of requirements.txt and bindep.txt, from this collection.
python - "$introspect" requirements.txt bindep.txt <<'PY'
import os
import sys

import yaml

found = yaml.safe_load(sys.argv[1].split("\n", 1)[1])
problems = []
for key, path in (("python", sys.argv[2]), ("system", sys.argv[3])):
    lines = open(path).read().splitlines() if os.path.exists(path) else []
    wanted = ["%s  # from collection sendgrid.partners" % line.split("#")[0].strip()
              for line in lines if line.split("#")[0].strip()]
    if sorted(found.get(key) or []) != sorted(wanted):
        problems.append("%s: ansible-builder found %r, expected %r (from %s)" % (key, found.get(key), wanted, path))
print("\n".join(problems) or "introspect: requirements.txt and bindep.txt as expected")
sys.exit(1 if problems else 0)
PY

echo "== ansible-builder create -f docs/ee/execution-environment.yml --context build/ee"
rm -rf build/ee
ansible-builder create -f docs/ee/execution-environment.yml --context build/ee --output-filename Containerfile
grep -q '^ARG ANSIBLE_INSTALL_REFS=.*ansible-core==' build/ee/Containerfile
grep -q 'name: sendgrid.partners' build/ee/_build/requirements.yml
echo "build/ee: Containerfile and _build/ ready (build it with: podman build -f build/ee/Containerfile build/ee)"
