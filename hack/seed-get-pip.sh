#!/usr/bin/env bash
# Seed ansible-test's get-pip cache with an offline stand-in.
# ansible-test bootstraps pip in every venv it builds (also with --local) by downloading
# get-pip-<version>.py from a host this machine cannot reach; it first looks for
# ~/.ansible/test/cache/get_pip_<version with _>.py. The stand-in runs ensurepip and then
# installs the pinned pip (and setuptools/wheel) that ansible-test asks for from PyPI.
# Usage: hack/seed-get-pip.sh PYTHON   (the python of a venv with ansible-core installed)
set -euo pipefail

python=${1:?usage: $0 PYTHON}
cache=$HOME/.ansible/test/cache
marker='# sendgrid.partners offline get-pip stand-in'
source_file=$("$python" -c 'import ansible_test, os; print(os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py"))')

# Every pip version ansible-test may ask for, e.g. pip='25.2' in get_venv_packages().
mapfile -t versions < <(grep -oE "pip='[0-9.]+'" "$source_file" | grep -oE '[0-9.]+' | sort -u)
[[ ${#versions[@]} -gt 0 ]] || { echo "no pip version found in $source_file" >&2; exit 1; }

mkdir -p "$cache"
for version in "${versions[@]}"; do
    script=$cache/get_pip_${version//./_}.py
    if [[ -f $script ]] && ! grep -qF "$marker" "$script"; then
        continue   # a real get-pip.py is there: keep it
    fi
    cat >"$script" <<PY
$marker
"""Run ensurepip, then pip install the packages ansible-test passes (pip==$version, ...)."""
import subprocess
import sys

args = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
subprocess.run([sys.executable, '-m', 'ensurepip', '--default-pip'], check=True, stdout=subprocess.DEVNULL)
sys.exit(subprocess.run([sys.executable, '-m', 'pip', 'install', *args], check=False).returncode)
PY
done
