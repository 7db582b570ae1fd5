#!/usr/bin/env bash
# Run make targets one after the other, stop at the first failure, and print how long each took.
# Usage: hack/stages.sh TARGET...   (make is ${MAKE:-make}; command-line variables reach it via MAKEFLAGS)
set -euo pipefail

SENDGRID_SKIPPED=$(mktemp)
export SENDGRID_SKIPPED
trap 'rm -f "$SENDGRID_SKIPPED"' EXIT

summary=()
passed=0 failed=0 skipped=0
for stage in "$@"; do
    start=$SECONDS
    skips_before=$(wc -l <"$SENDGRID_SKIPPED")
    if ! "${MAKE:-make}" --no-print-directory "$stage"; then
        summary+=("$(printf '%-12s FAILED  %5d s' "$stage" $((SECONDS - start)))")
        failed=$((failed + 1))
        break
    fi
    if [[ $(wc -l <"$SENDGRID_SKIPPED") -gt $skips_before ]]; then
        result=skipped skipped=$((skipped + 1))
    else
        result=passed passed=$((passed + 1))
    fi
    summary+=("$(printf '%-12s %-7s %5d s' "$stage" "$result" $((SECONDS - start)))")
done

echo
echo "== stage durations"
printf '%s\n' "${summary[@]}"
if [[ -s $SENDGRID_SKIPPED ]]; then
    echo "== skipped (nothing to test yet)"
    cat "$SENDGRID_SKIPPED"
fi
echo "stages: $passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 ]]
