#!/usr/bin/env bash
# Copy the work tree (uncommitted changes included) to DIR/ansible_collections/sendgrid/partners,
# where ansible-test needs it, and print that path. Venvs, build output and test output stay behind.
# Usage: hack/stage.sh DIR
set -euo pipefail

root=${1:?usage: $0 DIR}
repo=$(cd "$(dirname "$0")/.." && pwd)
dest=$root/ansible_collections/sendgrid/partners

rm -rf "$dest"
mkdir -p "$dest"
tar -C "$repo" -c \
    --exclude=./.venv --exclude='./.venv-*' --exclude=./build --exclude=./tests/output \
    --exclude='*.tar.gz' --exclude=__pycache__ --exclude=.pytest_cache --exclude=.benchmarks . \
  | tar -C "$dest" -x
echo "$dest"
