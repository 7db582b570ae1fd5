#!/usr/bin/env bash
# Create (or reuse) a virtualenv with pinned requirements and print its path.
# The venv is rebuilt when a requirements file, a file one includes with -r/-c,
# or the interpreter changes (a stamp file records their hash).
# Usage: hack/venv.sh NAME PYTHON_VERSION REQUIREMENTS_FILE...
set -euo pipefail

name=${1:?usage: $0 NAME PYTHON_VERSION REQUIREMENTS_FILE...}
python_version=${2:?python version, e.g. 3.12}
shift 2
[[ $# -gt 0 ]] || { echo "usage: $0 NAME PYTHON_VERSION REQUIREMENTS_FILE..." >&2; exit 2; }

repo=$(cd "$(dirname "$0")/.." && pwd)
venv_root=${SENDGRID_VENV_DIR:-$repo/.venv}
venv=$venv_root/$name
pythons=$("$repo/hack/python-links.sh" "$venv_root/pythons")
# The real binary, so that the venv does not depend on the links directory.
python=$(readlink -f "$pythons/python$python_version")
[[ -x $python ]] || { echo "python$python_version not found (looked in pyenv and PATH)" >&2; exit 1; }

# Hash the requirements files, the files they include, and the interpreter.
stamp=$(
    for requirements in "$@"; do
        cat "$requirements"
        sed -n 's/^-[rc][[:space:]]*//p' "$requirements" | while read -r included; do
            cat "$(dirname "$requirements")/$included"
        done
    done | { cat; echo "$python"; } | sha256sum | cut -d' ' -f1
)
pip_args=()
for requirements in "$@"; do
    pip_args+=(-r "$requirements")
done

mkdir -p "$venv_root"
exec 9>"$venv.lock"
flock 9   # another make in the same tree may be building this venv right now
if [[ $(cat "$venv/.stamp" 2>/dev/null) != "$stamp" ]]; then
    echo "venv: building $venv from $*" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install -qq "${pip_args[@]}" >&2
    echo "$stamp" >"$venv/.stamp"
fi
echo "$venv"
