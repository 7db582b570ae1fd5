#!/usr/bin/env bash
# Preview the changelog of the version in galaxy.yml: antsibull-changelog release in a staged copy of the work
# tree, so the fragments in changelogs/fragments stay where they are (make release consumes them, see
# docs/releasing.md). Writes OUTDIR/CHANGELOG.md and OUTDIR/changelog.yaml, both linted.
# Usage: hack/changelog.sh OUTDIR
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:?usage: $0 OUTDIR}" && realpath "$1")
venv=$("$repo/hack/venv.sh" tools 3.12 "$repo/tests/requirements-tools.txt")
PATH=$venv/bin:$PATH   # antsibull-changelog asks ansible-doc which modules and roles are new

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
collection=$("$repo/hack/stage.sh" "$work")
cd "$collection"
version=$(sed -n 's/^version: *//p' galaxy.yml)
echo "== antsibull-changelog release (version $version, in a copy of the work tree)"
antsibull-changelog lint
antsibull-changelog release
antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
grep -qF "## v${version//./\\.}" CHANGELOG.md || { echo "CHANGELOG.md has no section v$version" >&2; exit 1; }
cp CHANGELOG.md changelogs/changelog.yaml "$out/"
echo "== $out/CHANGELOG.md"
cat "$out/CHANGELOG.md"
