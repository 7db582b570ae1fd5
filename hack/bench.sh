#!/usr/bin/env bash
# make bench (not part of make test): how fast `sendgrid.partners.onboard` gives many customers their IPs, against
# the one-uri-task-per-host playbook users write today and plain Python thread pools (the blind-POST floor and the
# idempotent GET-then-POST limit), on the bundled simulator with a given latency. See bench/README.md.
# Builds and installs the collection into build/bench/collections (the installed copy is what runs), then runs
# bench/bench.py with the venv's Python; every argument is passed on, e.g.
#   hack/bench.sh                                               # sizes 1000,10000, 3 rounds, variants a,a10,b,c,d
#   hack/bench.sh --sizes 100 --rounds 1 --variants a,a10,c,d   # a quick look
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
work=build/bench
mkdir -p "$work"

# ansible-core 2.19 and requests, as pinned for the 2.19 tests.
venv=$(hack/venv.sh bench 3.12 tests/requirements-core-2.19.txt)

# The installed tarball, not the work tree, is what the playbooks run (a fresh copy each time).
rm -rf "$work/collections" "$work"/sendgrid-partners-*.tar.gz
"$venv/bin/ansible-galaxy" collection build --force --output-path "$work" . >/dev/null
tarball=$(echo "$work"/sendgrid-partners-*.tar.gz)
ANSIBLE_COLLECTIONS_PATH=$repo/$work/collections \
    "$venv/bin/ansible-galaxy" collection install --force -p "$repo/$work/collections" "$tarball" >/dev/null

"$venv/bin/python" bench/bench.py --collections-path "$repo/$work/collections" \
    --collection-tarball "$repo/$tarball" --work-dir "$repo/$work" "$@"
# make bench (no arguments) also times the inventory plugin against a thread pool making the same requests.
if [[ $# -eq 0 ]]; then
    "$venv/bin/python" bench/inventory.py --collections-path "$repo/$work/collections" --sizes 1000,10000 --rounds 3 \
        --latency 0.05 --concurrency 20
fi
