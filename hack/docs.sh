#!/usr/bin/env bash
# Check the documentation of the installed collection: antsibull-docs' linter (module, doc fragment and role
# argument-spec docs as docs.ansible.com renders them), ansible-doc of every module and role without a warning,
# and every relative link of the Markdown pages (README.md, docs/, roles/*/README.md, tests/**/README.md).
# Usage: hack/docs.sh INSTALLED_COLLECTIONS_DIR   (the directory holding ansible_collections/, see make install)
set -euo pipefail

installed=$(realpath "${1:?usage: $0 INSTALLED_COLLECTIONS_DIR}")
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
venv=$(hack/venv.sh tools 3.12 tests/requirements-tools.txt)
PATH=$venv/bin:$PATH
export ANSIBLE_COLLECTIONS_PATH=$installed

echo "== antsibull-docs lint-collection-docs --plugin-docs"
antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs all --disallow-unknown-collection-refs \
    "$installed/ansible_collections/sendgrid/partners"

echo "== ansible-doc of every module and role"
# ansible-core 2.21 warns about its own internal _protomatter collection: not ours, filtered out.
noise='ansible/_internal/ansible_collections/ansible/_protomatter'
log=$(mktemp)
trap 'rm -f "$log"' EXIT
mapfile -t modules < <(ansible-doc -l sendgrid.partners -j 2>/dev/null | python -c 'import json, sys; print("\n".join(json.load(sys.stdin)))')
mapfile -t roles < <(ansible-doc -t role -l sendgrid.partners -j 2>/dev/null | python -c 'import json, sys; print("\n".join(json.load(sys.stdin)))')
[[ ${#modules[@]} -gt 0 && ${#roles[@]} -gt 0 ]] || { echo "ansible-doc found no module or no role in $installed" >&2; exit 1; }
check_doc() {   # TYPE NAME
    if ! ansible-doc -t "$1" "$2" >/dev/null 2>"$log" || grep -v "$noise" "$log" | grep -q .; then
        echo "ansible-doc -t $1 $2:" >&2
        cat "$log" >&2
        exit 1
    fi
    echo "$1 $2: OK"
}
for name in "${modules[@]}"; do check_doc module "$name"; done
for name in "${roles[@]}"; do check_doc role "$name"; done

echo "== relative links in the Markdown pages"
shopt -s nullglob
python - README.md docs/*.md roles/*/README.md tests/*/README.md <<'PY'
import os
import re
import sys

broken = []
for page in sys.argv[1:]:
    text = re.sub(r"```.*?```", "", open(page, encoding="utf-8").read(), flags=re.S)  # no links in code blocks
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        path = target.split("#")[0]
        if path and not re.match(r"[a-z]+:", path) and not os.path.exists(os.path.join(os.path.dirname(page), path)):
            broken.append("%s: %s" % (page, target))
print("\n".join(broken) or "%d pages, no broken relative link" % len(sys.argv[1:]))
sys.exit(1 if broken else 0)
PY
