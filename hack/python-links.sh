#!/usr/bin/env bash
# Make a directory of links to the real python3.10-3.13 binaries and print its path.
# pyenv shims exit 127 for versions that are not "global", and under ansible-test,
# so ansible-test and venvs must see real interpreters first on PATH.
# Links are replaced atomically, and only when they change: running tests may be using them.
# Usage: hack/python-links.sh DIR
set -euo pipefail

dir=${1:?usage: $0 DIR}
mkdir -p "$dir"
pyenv_root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")

for version in 3.10 3.11 3.12 3.13; do
    for candidate in "$pyenv_root"/versions/"$version".*/bin/python"$version" "$(command -v "python$version")"; do
        if real=$("$candidate" -c 'import sys; print(sys.executable)' 2>/dev/null); then
            if [[ $(readlink "$dir/python$version") != "$real" ]]; then
                ln -sfn "$real" "$dir/.python$version.$$"
                mv -fT "$dir/.python$version.$$" "$dir/python$version"
            fi
            break
        fi
    done
done
echo "$dir"
