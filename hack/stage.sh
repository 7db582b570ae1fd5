#!/usr/bin/env bash
# Copy the work tree (uncommitted changes included) to DIR/ansible_collections/sendgrid/partners,
# where ansible-test needs it, and print that path. Venvs, build output, test output, make bench's results and
# every log stay behind.
# Usage: hack/stage.sh DIR
set -euo pipefail

root=${1:?usage: $0 DIR}
repo=$(cd "$(dirname "$0")/.." && pwd)
dest=$root/ansible_collections/sendgrid/partners

rm -rf "$dest"
mkdir -p "$dest"
tar -C "$repo" -c \
    --exclude=./.venv --exclude='./.venv-*' --exclude=./build --exclude=./tests/output \
    --exclude='*.tar.gz' --exclude=__pycache__ --exclude=.pytest_cache --exclude=.benchmarks \
    --exclude=./bench/results --exclude='*.log' . \
  | tar -C "$dest" -x
echo "$dest"
